#!/usr/bin/env bash
# Starts the whole broker on this machine: installs and starts PostgreSQL, Redis (and Docker where it
# can), migrates, then runs the offer-set API, the execution API, a platform worker and a gateway that
# gives them one base URL. Ctrl-C stops everything it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-services.sh
# shellcheck disable=SC1091
. .local/env
export DATABASE_URL REDIS_URL EB_CREDENTIALS_KEY
export EB_STATIC_TOKENS_FILE="${EB_STATIC_TOKENS_FILE:-$ROOT/.local/tokens.json}"
# The Docker platform when an engine answers, else the simulated one; EB_PLATFORM overrides.
if [ -z "${EB_PLATFORM:-}" ]; then
  if docker info >/dev/null 2>&1; then EB_PLATFORM=docker; else EB_PLATFORM=simulated; fi
fi
export EB_PLATFORM
BASE_PORT="${EB_PORT:-8080}"
mkdir -p -m 700 .local/logs
node packages/db/dist/src/migrate-cli.js

pids=()
start() { # name port [extra env...]
  local name=$1 port=$2; shift 2
  # Logs are the owner's only (made 0600 before the first write; appending keeps the mode).
  [ -f ".local/logs/$name.log" ] || install -m 600 /dev/null ".local/logs/$name.log"
  env "$@" PORT="$port" EB_MIGRATE_ON_START=false node "services/$name/dist/src/main.js" >>".local/logs/$name.log" 2>&1 &
  pids+=($!)
}
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

start offerset-api $((BASE_PORT + 1))
start execution-api $((BASE_PORT + 2))
start platform-worker $((BASE_PORT + 3))
start gateway "$BASE_PORT" EB_OFFERSET_API_URL="http://127.0.0.1:$((BASE_PORT + 1))" EB_EXECUTION_API_URL="http://127.0.0.1:$((BASE_PORT + 2))"

for port in $((BASE_PORT + 1)) $((BASE_PORT + 2)) $((BASE_PORT + 3)); do
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "a service on port $port did not start; see .local/logs/" >&2; exit 1; }
done
echo "Execution Broker ready at http://127.0.0.1:$BASE_PORT (platform: $EB_PLATFORM; logs in .local/logs/)"
echo "Local bearer token: export EB_TOKEN=$(node -e 'console.log(Object.keys(require(process.argv[1]))[0])' "$EB_STATIC_TOKENS_FILE")"
wait
