#!/usr/bin/env bash
# Installs (when missing) and starts, on loopback, what the broker needs: PostgreSQL 15, Redis 7,
# HAProxy (the load balancer), the Docker engine (optional) with mmdebstrap and docker-compose (to
# build and run the images), Node packages; builds the workspace; writes .local/env.
# Safe to run again: every step checks before it acts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# .local holds the database password, the key for owners' tokens, local bearer tokens and logs:
# readable by this user only, whatever the umask of whoever runs this.
umask 077
mkdir -p .local
chmod 700 .local
log() { printf '[setup] %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

need_pkgs=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_pkgs+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1 || need_pkgs+=(haproxy)
if [ "${EB_SKIP_DOCKER:-}" != 1 ]; then
  command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
  [ -x /bin/busybox ] || need_pkgs+=(busybox-static)
  command -v mmdebstrap >/dev/null 2>&1 || need_pkgs+=(mmdebstrap)
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# Secrets for the local database are made on first use and kept out of git (.local is ignored).
if [ ! -f .local/env ]; then
  pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  cat > .local/env <<ENV
export EB_DB_PASSWORD='$pw'
export DATABASE_URL='postgres://eb:$pw@127.0.0.1:5432/eb'
export TEST_DATABASE_URL='postgres://eb:$pw@127.0.0.1:5432/eb_test'
export REDIS_URL='redis://127.0.0.1:6379'
ENV
fi
# The key that encrypts owners' tokens at rest, and a token for local use; made once, kept out of git.
if ! grep -q EB_CREDENTIALS_KEY .local/env; then
  echo "export EB_CREDENTIALS_KEY='$(head -c 32 /dev/urandom | base64)'" >> .local/env
fi
if [ ! -f .local/tokens.json ]; then
  token="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  printf '{"%s": {"subject": "local-user", "roles": ["eb-admin"]}}\n' "$token" > .local/tokens.json
  chmod 600 .local/tokens.json
fi
# Back to the usual mask: packages and build output must stay readable (images copy them for other users).
umask 022
# shellcheck disable=SC1091
. .local/env

# PostgreSQL: the Debian cluster, on loopback only.
PGVER="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$PGVER main"; then
  $SUDO pg_createcluster "$PGVER" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^$PGVER main .* online"; then
  log "starting PostgreSQL $PGVER"
  $SUDO pg_ctlcluster "$PGVER" main start -o "-c listen_addresses=127.0.0.1 -c max_connections=300"
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -q && break; sleep 0.5; done
psql_admin() { if [ -z "$SUDO" ]; then runuser -u postgres -- psql -qtAX "$@"; else sudo -u postgres psql -qtAX "$@"; fi; }
cd /tmp
if [ "$(psql_admin -c "select 1 from pg_roles where rolname='eb'")" != 1 ]; then
  psql_admin -c "create role eb login password '$EB_DB_PASSWORD'"
else
  psql_admin -c "alter role eb password '$EB_DB_PASSWORD'"
fi
# Tests make throw-away databases (e.g. to run migrations from several processes at once).
psql_admin -c "alter role eb createdb"
for db in eb eb_test; do
  [ "$(psql_admin -c "select 1 from pg_database where datname='$db'")" = 1 ] || psql_admin -c "create database $db owner eb"
done
cd "$ROOT"

# Redis, configured as BullMQ's production guide asks: no eviction, append-only file.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /var/lib/eb-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir /var/lib/eb-redis \
    --appendonly yes --maxmemory-policy noeviction --save '' --logfile /var/lib/eb-redis/redis.log
  for _ in $(seq 1 30); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
redis-cli -p 6379 config set maxmemory-policy noeviction >/dev/null
redis-cli -p 6379 config set appendonly yes >/dev/null

# Docker engine: optional. The broker falls back to the simulated platform where none answers.
if [ "${EB_SKIP_DOCKER:-}" != 1 ] && command -v dockerd >/dev/null 2>&1; then
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    (nohup dockerd >/var/log/eb-dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  docker info >/dev/null 2>&1 || log "dockerd did not start (see /var/log/eb-dockerd.log); the simulated platform will be used"
fi

# Node packages and the build.
if ! command -v pnpm >/dev/null 2>&1; then
  log "installing pnpm"
  npm i -g pnpm@10 >/dev/null 2>&1
fi
pnpm install --frozen-lockfile --config.manage-package-manager-versions=false >/dev/null
pnpm run -s build
# Files made by earlier versions of this script, or by hand, are closed too.
find .local -path .local/pyenv -prune -o -type f -perm /077 -exec chmod go= {} +
