#!/usr/bin/env bash
# Runs every test against real PostgreSQL, Redis (and Docker, where the engine starts), after
# installing and starting them. Usage: scripts/test.sh [jest args...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-services.sh
# shellcheck disable=SC1091
. .local/env
export TEST_DATABASE_URL REDIS_URL
status=0
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --ci \
  --json --outputFile=.local/jest-results.json "$@" || status=$?
# A plain closing line that any CI log reader understands.
node -e 'const r=require("./.local/jest-results.json");console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`)' || true
exit $status
