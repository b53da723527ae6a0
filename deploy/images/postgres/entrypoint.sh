#!/bin/sh
# PostgreSQL from Debian's packages, started as the official image is: on first start (an empty
# $PGDATA) it makes the cluster with POSTGRES_USER (superuser, password POSTGRES_PASSWORD) and the
# database POSTGRES_DB; then it runs the server in the foreground, listening on every address of the
# container. Extra arguments go to `postgres` (e.g. `-c max_connections=300`).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  # Connections from other containers need the password.
  echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "entrypoint: made the cluster in $PGDATA (user $user, database $db)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
