#!/usr/bin/env bash
# Starts the whole broker on this machine: installs and starts PostgreSQL, Redis, HAProxy (and Docker
# where it can), migrates, then runs the offer-set API, the execution API and a platform worker behind
# HAProxy, configured by the same file compose uses (deploy/haproxy/haproxy.cfg), all on loopback.
# Every process is supervised: one that exits is started again (at once if it had run a while, else
# after a pause that doubles up to 30 s), and logged in the state directory's logs/. Ctrl-C (or
# SIGTERM) stops everything it started.
#
# Ports: EB_PORT (default 8080) is the base URL; the offer-set API, execution API, worker and the
# load balancer's /metrics and /stats take the next four.
# Environment: EB_PLATFORM (docker where an engine answers, else simulated), DATABASE_URL, REDIS_URL,
#   EB_STATIC_TOKENS_FILE (defaults from .local/), EB_LOCAL_STATE (logs/ and run/, default .local),
#   EB_SKIP_SETUP=1 (skip scripts/ensure-services.sh: PostgreSQL, Redis, HAProxy and the build are ready).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ "${EB_SKIP_SETUP:-}" = 1 ] || bash scripts/ensure-services.sh
# .local/env's connections and key, unless the caller set its own.
preset="$(export -p)"
# shellcheck disable=SC1091
. .local/env
eval "$preset"
export DATABASE_URL REDIS_URL EB_CREDENTIALS_KEY
export EB_STATIC_TOKENS_FILE="${EB_STATIC_TOKENS_FILE:-$ROOT/.local/tokens.json}"
# The Docker platform when an engine answers, else the simulated one (which runs nothing for real).
if [ -z "${EB_PLATFORM:-}" ]; then
  if docker info >/dev/null 2>&1; then EB_PLATFORM=docker; else EB_PLATFORM=simulated; fi
fi
export EB_PLATFORM
# Notebooks run on the Docker platform in the notebook image, once it is built (scripts/test.sh builds
# it; building takes minutes, so starting does not): EB_NOTEBOOK_IMAGE names another.
if [ "$EB_PLATFORM" = docker ] && [ -z "${EB_NOTEBOOK_IMAGE:-}" ]; then
  EB_NOTEBOOK_IMAGE="$(bash scripts/build-notebook-image.sh --if-built 2>/dev/null || true)"
  [ -n "$EB_NOTEBOOK_IMAGE" ] && export EB_NOTEBOOK_IMAGE || unset EB_NOTEBOOK_IMAGE
fi
STATE="${EB_LOCAL_STATE:-$ROOT/.local}"
LOGS="$STATE/logs" RUN="$STATE/run"
mkdir -p -m 700 "$LOGS" "$RUN"
rm -f "$RUN/stopping"
BASE_PORT="${EB_PORT:-8080}"
OFFERSET_PORT=$((BASE_PORT + 1)) EXECUTION_PORT=$((BASE_PORT + 2)) WORKER_PORT=$((BASE_PORT + 3)) ADMIN_PORT=$((BASE_PORT + 4))
node packages/db/dist/src/migrate-cli.js

# Runs `command` as `name` for as long as this script runs, again whenever it exits; its pid is in $RUN/name.pid.
supervise() { # name command...
  local name=$1 pause=1 started code
  shift
  while [ ! -f "$RUN/stopping" ]; do
    started=$SECONDS
    # Logs are the owner's only (made 0600 before the first write; appending keeps the mode).
    [ -f "$LOGS/$name.log" ] || install -m 600 /dev/null "$LOGS/$name.log"
    "$@" >>"$LOGS/$name.log" 2>&1 &
    echo $! > "$RUN/$name.pid"
    code=0; wait $! || code=$?
    [ -f "$RUN/stopping" ] && return 0
    if (( SECONDS - started >= 30 )); then pause=1; fi
    echo "$(date -Is) [supervisor] $name exited with status $code; starting it again in ${pause}s" | tee -a "$LOGS/$name.log" >&2
    sleep "$pause"
    pause=$(( pause * 2 > 30 ? 30 : pause * 2 ))
  done
}

supervisors=()
stop() {
  trap - EXIT INT TERM
  touch "$RUN/stopping"
  for f in "$RUN"/*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true; done
  wait "${supervisors[@]}" 2>/dev/null || true
  rm -f "$RUN"/*.pid
}
trap stop EXIT
trap 'stop; exit 0' INT TERM

service() { # name port
  supervise "$1" env PORT="$2" HOST=127.0.0.1 EB_MIGRATE_ON_START=false node "services/$1/dist/src/main.js" &
  supervisors+=($!)
}
service offerset-api "$OFFERSET_PORT"
service execution-api "$EXECUTION_PORT"
service platform-worker "$WORKER_PORT"
supervise load-balancer env EB_LB_BIND="127.0.0.1:$BASE_PORT" EB_LB_ADMIN_BIND="127.0.0.1:$ADMIN_PORT" \
  EB_OFFERSET_API_1="127.0.0.1:$OFFERSET_PORT" EB_EXECUTION_API_1="127.0.0.1:$EXECUTION_PORT" \
  "$(command -v haproxy || echo /usr/sbin/haproxy)" -W -db -f deploy/haproxy/haproxy.cfg &
supervisors+=($!)

for port in "$OFFERSET_PORT" "$EXECUTION_PORT" "$WORKER_PORT" "$BASE_PORT"; do
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "the service on port $port did not start; see $LOGS/" >&2; exit 1; }
done
[ "$EB_PLATFORM" = simulated ] && echo "EB_PLATFORM=simulated: executions run nothing for real (each one says so in its messages)"
[ "$EB_PLATFORM" = docker ] && [ -z "${EB_NOTEBOOK_IMAGE:-}" ] && echo "JupyterNotebook: not on offer until the notebook image is built (bash scripts/build-notebook-image.sh, a few minutes, once), then start again"
echo "Execution Broker ready at http://127.0.0.1:$BASE_PORT (platform: $EB_PLATFORM; logs in $LOGS/; supervised)"
echo "Local bearer token: export EB_TOKEN=$(node -e 'console.log(Object.keys(require(process.argv[1]))[0])' "$EB_STATIC_TOKENS_FILE")"
wait
