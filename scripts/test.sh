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
  # The notebook image (Debian's nbclient and Jupyter Notebook) for the notebook tests, likewise.
  started=$SECONDS
  if bash scripts/build-notebook-image.sh >/dev/null; then echo "[test] notebook image ready in $((SECONDS - started)) s" >&2
  else echo "[test] building the notebook image failed; the notebook tests will show why" >&2; fi
fi
status=0
jest() { node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --ci "$@"; }
rm -f .local/jest-results*.json
if [ $# -eq 0 ]; then
  # The compose test starts a whole stack (nine containers): it runs alone, after the others, so that
  # its load does not slow their services down.
  jest --json --outputFile=.local/jest-results.json --testPathIgnorePatterns /node_modules/ '/compose\.test\.js$' || status=$?
  jest --json --outputFile=.local/jest-results-compose.json tests/dist/e2e/compose.test.js || status=$?
else
  jest --json --outputFile=.local/jest-results.json "$@" || status=$?
fi

# --- Python client (clients/python): pytest in its own virtualenv, against the real services. ---
# A targeted run (jest arguments given) leaves it out unless EB_PYTEST=1.
rm -f .local/pytest-results.xml
if [ $# -eq 0 ] || [ "${EB_PYTEST:-}" = 1 ]; then
  bash scripts/test-python.sh || status=$?
fi
# Results under .local are for this user only, like the rest of it (tests/e2e/secrets.test.ts checks).
chmod 600 .local/jest-results*.json .local/pytest-results.xml 2>/dev/null || true
# A plain closing line that any CI log reader understands: jest (every run) and pytest together.
node -e '
const fs = require("fs");
const runs = fs.readdirSync(".local").filter((f) => /^jest-results.*\.json$/.test(f)).map((f) => require(`./.local/${f}`));
const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
let [passed, failed, skipped] = [sum("numPassedTests"), sum("numFailedTests"), sum("numPendingTests")];
if (fs.existsSync(".local/pytest-results.xml")) {
  const suite = fs.readFileSync(".local/pytest-results.xml", "utf8").match(/<testsuite [^>]*>/)?.[0] ?? "";
  const n = (k) => Number(suite.match(new RegExp(` ${k}="(\\d+)"`))?.[1] ?? 0);
  passed += n("tests") - n("failures") - n("errors") - n("skipped");
  failed += n("failures") + n("errors");
  skipped += n("skipped");
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);' || true
exit $status
