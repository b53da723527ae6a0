#!/usr/bin/env bash
# Runs docker-compose.yml on this machine's Docker engine.
# Usage: scripts/compose.sh <docker-compose arguments>      e.g.  up -d | ps | logs -f load-balancer | down
#
# On first use it writes .local/compose.env (kept; .local is not committed): free loopback ports for
# the load balancer and for PostgreSQL and Redis (the workers, on the host's network, use those), the
# database password, the credentials key, the Docker socket's group and the executions' data directory;
# and .local/compose/tokens.json, a bearer token for local use. The images are those
# scripts/build-images.sh listed in .local/images.env, else docker-compose.yml's defaults.
# After `up -d` it waits until the load balancer is ready and prints the base URL and the token.
#
# Environment: EB_COMPOSE_ENV (another settings file: a second stack, tests), EB_IMAGES_ENV,
#   COMPOSE_PROJECT_NAME (default execution-broker), EB_HTTP_PORT (default 8080 when free),
#   EB_PLATFORM=simulated (nothing really runs; every execution says so).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[compose] %s\n' "$*" >&2; }
SETTINGS="${EB_COMPOSE_ENV:-$ROOT/.local/compose.env}"
IMAGES="${EB_IMAGES_ENV:-$ROOT/.local/images.env}"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
random_b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

if [ ! -f "$SETTINGS" ]; then
  mkdir -p "$(dirname "$SETTINGS")"
  secrets="$(dirname "$SETTINGS")/compose"
  mkdir -p "$secrets/data"
  chmod 700 "$secrets"
  http_port="${EB_HTTP_PORT:-8080}"
  port_free "$http_port" || http_port="$(free_port)"
  # The token file: readable inside the containers (uid 1000) because it is bind-mounted by itself;
  # on this host, the 0700 directory keeps it private.
  if [ -f .local/tokens.json ]; then cp .local/tokens.json "$secrets/tokens.json"
  else printf '{"%s": {"subject": "local-user", "roles": ["eb-admin"]}}\n' "$(random_b64 24 | tr -d '/+=')" > "$secrets/tokens.json"; fi
  chmod 444 "$secrets/tokens.json"
  cat > "$SETTINGS" <<ENV
# Written by scripts/compose.sh; edit freely. Secrets: keep this file out of version control.
POSTGRES_PASSWORD=$(random_b64 18 | tr -d '/+=')
EB_CREDENTIALS_KEY=$(random_b64 32)
EB_TOKENS_FILE=$secrets/tokens.json
EB_HTTP_PORT=$http_port
EB_LB_ADMIN_PORT=$(free_port)
EB_POSTGRES_PORT=$(free_port)
EB_REDIS_PORT=$(free_port)
EB_WORKER_1_PORT=$(free_port)
EB_WORKER_2_PORT=$(free_port)
EB_DOCKER_SOCKET=/var/run/docker.sock
EB_DOCKER_DATA_DIR=$secrets/data
# What the Docker platform may promise: this machine's cores and memory.
EB_CAPACITY_CORES=$(nproc)
EB_CAPACITY_MEMORY_GIB=$(awk '/^MemTotal:/ { print int($2 / 1048576) }' /proc/meminfo)
ENV
  chmod 600 "$SETTINGS"
  log "wrote $SETTINGS"
fi

# Settings, then images; what the caller's environment already sets wins (e.g. EB_PLATFORM=simulated).
preset="$(export -p)"
set -a
# shellcheck disable=SC1090
. "$SETTINGS"
# shellcheck disable=SC1090
[ -f "$IMAGES" ] && . "$IMAGES"
set +a
eval "$preset"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-execution-broker}"
# CA certificates `build` passes to the images' package installs (as scripts/build-images.sh does).
if [ -z "${EB_EXTRA_CA_CERTS:-}" ]; then
  EB_EXTRA_CA_CERTS="$(cat "${EB_EXTRA_CA_FILE:-/dev/null}" /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)"
fi
export EB_EXTRA_CA_CERTS
export EB_DOCKER_SOCKET="${EB_DOCKER_SOCKET:-/var/run/docker.sock}"
EB_DOCKER_GID="$(stat -c %g "$EB_DOCKER_SOCKET")"
export EB_DOCKER_GID
# The workers run as uid 1000 and write the executions' storage under the data directory.
mkdir -p "$EB_DOCKER_DATA_DIR"
if [ "$(id -u)" = 0 ]; then chown 1000:1000 "$EB_DOCKER_DATA_DIR"; fi

if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose)
else log "neither 'docker compose' nor docker-compose is installed (apt-get install docker-compose)"; exit 1; fi

"${compose[@]}" -f "$ROOT/docker-compose.yml" "$@"

if [ "${1:-}" = up ] && [[ " $* " == *" -d "* || " $* " == *" --detach "* ]]; then
  url="http://127.0.0.1:$EB_HTTP_PORT"
  # Ready when both APIs answer through the load balancer (it counts replicas up until checked).
  code() { curl -s -o /dev/null -w '%{http_code}' "$url$1" || true; }
  answers() { [ "$(code /openapi.json)" = 200 ] && [ "$(code /executions/00000000-0000-0000-0000-000000000000)" -lt 500 ]; }
  for _ in $(seq 1 "${EB_COMPOSE_WAIT:-300}"); do answers && break; sleep 1; done
  answers || { log "the broker at $url does not answer; see: scripts/compose.sh ps, scripts/compose.sh logs"; exit 1; }
  [ "${EB_PLATFORM:-docker}" = simulated ] && log "EB_PLATFORM=simulated: executions run nothing for real"
  echo "Execution Broker ready at $url (compose project $COMPOSE_PROJECT_NAME, platform ${EB_PLATFORM:-docker})"
  echo "Local bearer token: export EB_TOKEN=$(node -e 'console.log(Object.keys(require(process.argv[1]))[0])' "$EB_TOKENS_FILE")"
fi
