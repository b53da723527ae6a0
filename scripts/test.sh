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

# --- Python client (clients/python): pytest in its own virtualenv, against the real services. ---
# A targeted run (jest arguments given) leaves it out unless EB_PYTEST=1.
rm -f .local/pytest-results.xml
if [ $# -eq 0 ] || [ "${EB_PYTEST:-}" = 1 ]; then
  bash scripts/test-python.sh || status=$?
fi
# A plain closing line that any CI log reader understands: jest and pytest together.
node -e '
const fs = require("fs");
const r = require("./.local/jest-results.json");
let [passed, failed, skipped] = [r.numPassedTests, r.numFailedTests, r.numPendingTests];
if (fs.existsSync(".local/pytest-results.xml")) {
  const suite = fs.readFileSync(".local/pytest-results.xml", "utf8").match(/<testsuite [^>]*>/)?.[0] ?? "";
  const n = (k) => Number(suite.match(new RegExp(` ${k}="(\\d+)"`))?.[1] ?? 0);
  passed += n("tests") - n("failures") - n("errors") - n("skipped");
  failed += n("failures") + n("errors");
  skipped += n("skipped");
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);' || true
exit $status
