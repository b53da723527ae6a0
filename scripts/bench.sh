#!/usr/bin/env bash
# Benchmarks, against the real PostgreSQL, Redis and Docker engine (in the test database), each beside a
# baseline measured in the same run. Usage: scripts/bench.sh [all|offers|lifecycle|docker]
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
if [ "$what" = docker ] || [ "$what" = all ]; then node services/platform-worker/dist/bench/docker.js; fi
