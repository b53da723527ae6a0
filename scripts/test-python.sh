#!/usr/bin/env bash
# The Python client's tests (clients/python): a virtualenv in .local/pyenv, made once and refreshed
# when the package changes, then pytest against the real broker the tests start themselves.
# Usage: scripts/test-python.sh [pytest args]. Expects the services of scripts/ensure-services.sh and a
# built workspace; writes .local/pytest-results.xml (JUnit) for scripts/test.sh's closing line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV=.local/pyenv
PYTHON="${EB_PYTHON:-$(command -v python3.11 || command -v python3)}"
# Packages come from the machine's configured index only; the default one is unreachable, so no retries.
export PIP_RETRIES=0 PIP_DISABLE_PIP_VERSION_CHECK=1
quiet_pip() { "$VENV/bin/pip" install -q "$@" 2>&1 | grep -v -e 'Retrying' -e 'NewConnectionError' -e 'is ignored' || true; }

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV" || { apt-get install -y -q python3-venv >/dev/null && "$PYTHON" -m venv "$VENV"; }
fi
stamp="$(find clients/python \( -name tests -o -name build -o -name '*.egg-info' \) -prune -o -type f \( -name '*.py' -o -name '*.toml' -o -name '*.md' -o -name py.typed \) -print \
  | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.client-stamp" 2>/dev/null || true)" != "$stamp" ]; then
  quiet_pip "./clients/python[test]"
  # The same version number with new code: replace the installed copy.
  quiet_pip --no-deps --force-reinstall ./clients/python
  "$VENV/bin/python" -c 'import execution_broker, pytest, yaml'
  echo "$stamp" > "$VENV/.client-stamp"
fi

# shellcheck disable=SC1091
. .local/env
export TEST_DATABASE_URL REDIS_URL
cd clients/python
exec "../../$VENV/bin/python" -m pytest -q -p no:cacheprovider --junitxml="$ROOT/.local/pytest-results.xml" "$@"
