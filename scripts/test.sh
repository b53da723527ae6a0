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
# The images the compose test runs, built before the tests start rather than while they run (a
# second build with unchanged sources takes seconds). Only for the whole suite, where an engine answers.
if [ $# -eq 0 ] && [ "${EB_SKIP_DOCKER:-}" != 1 ] && docker info >/dev/null 2>&1; then
  started=$SECONDS
  if bash scripts/build-images.sh >/dev/null; then echo "[test] images ready in $((SECONDS - started)) s" >&2
  else echo "[test] building the images failed; tests/e2e/compose.test.ts will show why" >&2; fi
fi
status=0
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --ci \
  --json --outputFile=.local/jest-results.json "$@" || status=$?
# A plain closing line that any CI log reader understands.
node -e 'const r=require("./.local/jest-results.json");console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`)' || true
exit $status
