#!/usr/bin/env bash
# Benchmarks, against the real PostgreSQL and Redis (in the test database). Usage: scripts/bench.sh [offers]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-services.sh
# shellcheck disable=SC1091
. .local/env
export DATABASE_URL="$TEST_DATABASE_URL" REDIS_URL
what="${1:-all}"
if [ "$what" = offers ] || [ "$what" = all ]; then node services/offerset-api/dist/bench/offers.js; fi
if [ "$what" = lifecycle ] || [ "$what" = all ]; then node services/platform-worker/dist/bench/lifecycle.js; fi
