#!/usr/bin/env bash
# Benchmarks, against the real PostgreSQL, Redis and Docker engine (in a fresh database), each beside a
# baseline measured in the same run. Usage: scripts/bench.sh [all|offers|lifecycle|docker]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-services.sh
# shellcheck disable=SC1091
. .local/env
export DATABASE_URL="${TEST_DATABASE_URL%/*}/eb_bench" REDIS_URL
# Each benchmark runs in a database made afresh for it: its figures never depend on what earlier runs,
# the other benchmarks or the tests left in the tables.
run() { # script
  psql -q "$TEST_DATABASE_URL" -c 'drop database if exists eb_bench' -c 'create database eb_bench' >/dev/null
  node "$1"
}
what="${1:-all}"
if [ "$what" = offers ] || [ "$what" = all ]; then run services/offerset-api/dist/bench/offers.js; fi
if [ "$what" = lifecycle ] || [ "$what" = all ]; then run services/platform-worker/dist/bench/lifecycle.js; fi
if [ "$what" = docker ] || [ "$what" = all ]; then run services/platform-worker/dist/bench/docker.js; fi
