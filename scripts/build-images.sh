#!/usr/bin/env bash
# Builds every image the compose stack runs, on a machine where no image registry is reachable:
#   eb-local/debian    Debian minbase + ca-certificates, made by mmdebstrap and `docker import`
#   eb-local/node      on it: this host's Node.js (or Debian's nodejs), user `node` (uid 1000)
#   eb-local/postgres  on it: postgresql-15, started as the official image (POSTGRES_USER/_PASSWORD/_DB)
#   eb-local/redis     on it: redis-server
#   eb-local/haproxy   on it: haproxy, the load balancer (configuration: deploy/haproxy/haproxy.cfg)
#   execution-broker/{offerset-api,execution-api,platform-worker}: services/*/Dockerfile on eb-local/node
# (recipes in deploy/images/; packages come from the Debian mirror, inside the builds too). Builds use
# the classic builder, which needs no BuildKit frontend from a registry.
# Every image is tagged with a hash of its inputs and skipped when that tag exists, so a second run
# takes seconds. The references are written to .local/images.env (scripts/compose.sh reads it).
#
# Usage: scripts/build-images.sh [--base-only]
# Environment:
#   EB_IMAGES_ENV       where to write the references (default .local/images.env)
#   EB_DEBIAN_MIRROR    Debian mirror (default http://deb.debian.org/debian; security updates from -security)
#   EB_NODE_FROM        host (default where this host has Node.js 20+) or debian (Debian's nodejs package)
#   EB_EXTRA_CA_FILE    PEM certificates the builds trust, e.g. a TLS-inspecting proxy's CA
#                       (default: this host's /usr/local/share/ca-certificates/*.crt)
#   EB_IMAGES_REBUILD=1 rebuild even when the tags exist
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[images] %s\n' "$*" >&2; }
SUITE=bookworm
MIRROR="${EB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${EB_DEBIAN_SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}"
OUT="${EB_IMAGES_ENV:-$ROOT/.local/images.env}"
mkdir -p "$(dirname "$OUT")" .local/logs
# What this script writes under .local is the owner's only, as everything there (the rootfs it builds
# keeps its own modes: no umask here).
close_local() { find .local -maxdepth 2 -type f \( -name 'images.env' -o -name 'build-*.log' \) -perm /077 -exec chmod go= {} + 2>/dev/null || true; }

docker info >/dev/null 2>&1 || { log "no Docker engine answers (docker info failed)"; exit 1; }
if ! command -v mmdebstrap >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "mmdebstrap is missing: apt-get install mmdebstrap"; exit 1; }
  log "installing mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

# Several checkouts may share one engine: builds take turns; the second then finds the images made.
exec 9>/tmp/eb-build-images.lock
flock 9

# The extra CA certificates, if any: trusted by the package installs (and by the Node base image).
CA_FILE="$(mktemp)"
trap 'rm -f "$CA_FILE"; close_local' EXIT
if [ -n "${EB_EXTRA_CA_FILE:-}" ]; then cat "$EB_EXTRA_CA_FILE" > "$CA_FILE"
else cat /usr/local/share/ca-certificates/*.crt > "$CA_FILE" 2>/dev/null || true; fi

exists() { [ "${EB_IMAGES_REBUILD:-}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
short_hash() { sha256sum | cut -c1-16; }

# The Debian base: minbase and ca-certificates (plus the extra CAs), made by mmdebstrap and imported.
# Documentation and translations are left out (in this and every image built on it).
debian_base() { # tag
  log "building $1 (mmdebstrap $SUITE minbase)"
  local started=$SECONDS
  mmdebstrap --quiet --variant=minbase --include=ca-certificates \
    --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Retries "3"' \
    --dpkgopt=force-unsafe-io --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="mkdir -p \"\$1/usr/local/share/ca-certificates\" && awk -v dir=\"\$1/usr/local/share/ca-certificates\" '/BEGIN CERT/{n++} n{print > (dir \"/eb-extra-\" n \".crt\")}' '$CA_FILE' && chroot \"\$1\" update-ca-certificates >/dev/null" \
    "$SUITE" - "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY_MIRROR $SUITE-security main" \
    | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' - "$1" >/dev/null
  log "built $1 in $((SECONDS - started)) s"
}

# An image from deploy/images/<name>/Dockerfile on the Debian base (apt installs inside the build).
derived() { # tag name [context]
  local tag=$1 name=$2 context=${3:-deploy/images/$2}
  log "building $tag"
  local started=$SECONDS
  if ! DOCKER_BUILDKIT=0 docker build -f "deploy/images/$name/Dockerfile" --build-arg "DEBIAN_IMAGE=$DEBIAN_TAG" \
      -t "$tag" "$context" >".local/logs/build-$name.log" 2>&1; then
    tail -n 30 ".local/logs/build-$name.log" >&2
    log "building $tag failed (whole log: .local/logs/build-$name.log)"
    exit 1
  fi
  log "built $tag in $((SECONDS - started)) s"
}

# Inputs of the Debian base: its recipe (this script down to the end marker below), the mirrors and
# the extra CAs. Each image on it: the base and its deploy/images/<name>/ directory.
RECIPE_HASH="$( { sed '/^# ---- end of the base images/q' scripts/build-images.sh; echo "$MIRROR $SECURITY_MIRROR"; cat "$CA_FILE"; } | short_hash)"
DEBIAN_TAG="eb-local/debian:$SUITE-$RECIPE_HASH"
on_base() { { echo "$RECIPE_HASH"; cat "deploy/images/$1"/*; } | short_hash; }
exists "$DEBIAN_TAG" || debian_base "$DEBIAN_TAG"

# Node.js: this host's (the binary, and npm beside it), or else Debian's nodejs package.
NODE_CONTEXT="$(mktemp -d)"
trap 'rm -rf "$CA_FILE" "$NODE_CONTEXT"; close_local' EXIT
cp deploy/images/node/Dockerfile "$NODE_CONTEXT/"
mkdir -p "$NODE_CONTEXT/rootfs"
NODE_FROM="${EB_NODE_FROM:-}"
if [ -z "$NODE_FROM" ]; then
  if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then NODE_FROM=host; else NODE_FROM=debian; fi
fi
if [ "$NODE_FROM" = host ]; then
  node_real="$(readlink -f "$(command -v node)")"
  node_prefix="$(dirname "$(dirname "$node_real")")"
  tar -C / -cf - "${node_real#/}" "${node_prefix#/}/lib/node_modules/npm" | tar -C "$NODE_CONTEXT/rootfs" -xf -
  mkdir -p "$NODE_CONTEXT/rootfs/usr/bin"
  [ "$node_real" = /usr/bin/node ] || ln -s "$node_real" "$NODE_CONTEXT/rootfs/usr/bin/node"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$NODE_CONTEXT/rootfs$node_prefix/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$NODE_CONTEXT/rootfs$node_prefix/bin/npx"
  NODE_VERSION="$(node -p process.versions.node)"
else
  NODE_VERSION=debian
fi
NODE_TAG="eb-local/node:$NODE_VERSION-$( { on_base node; cd "$NODE_CONTEXT/rootfs" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum; } | short_hash)"
exists "$NODE_TAG" || derived "$NODE_TAG" node "$NODE_CONTEXT"

POSTGRES_TAG="eb-local/postgres:15-$(on_base postgres)"
exists "$POSTGRES_TAG" || derived "$POSTGRES_TAG" postgres
REDIS_TAG="eb-local/redis:7-$(on_base redis)"
exists "$REDIS_TAG" || derived "$REDIS_TAG" redis
HAPROXY_TAG="eb-local/haproxy:2.6-$(on_base haproxy)"
exists "$HAPROXY_TAG" || derived "$HAPROXY_TAG" haproxy

# ---- end of the base images' recipes ----

write_env() {
  {
    echo "# Written by scripts/build-images.sh: the images scripts/compose.sh runs."
    for v in "$@"; do echo "$v"; done
  } > "$OUT.tmp"
  mv "$OUT.tmp" "$OUT"
}
BASE_ENV=("EB_NODE_IMAGE=$NODE_TAG" "EB_POSTGRES_IMAGE=$POSTGRES_TAG" "EB_REDIS_IMAGE=$REDIS_TAG" "EB_HAPROXY_IMAGE=$HAPROXY_TAG")
if [ "${1:-}" = --base-only ]; then write_env "${BASE_ENV[@]}"; cat "$OUT"; exit 0; fi

# The broker's images: one hash over what their build context holds (as .dockerignore filters it),
# the base image and the build arguments.
PNPM_VERSION="${EB_PNPM_VERSION:-10}"
SOURCES_HASH="$( {
  git ls-files -z -co --exclude-standard -- .dockerignore pnpm-lock.yaml pnpm-workspace.yaml package.json tsconfig.base.json \
    packages services tests/package.json | grep -z -v -E '(^|/)(test|bench)/' | sort -z | xargs -0 -r sha256sum 2>/dev/null || true
  docker image inspect --format '{{.Id}}' "$NODE_TAG"; echo "$PNPM_VERSION"; cat "$CA_FILE"
} | short_hash)"
SERVICE_ENV=()
for svc in offerset-api execution-api platform-worker; do
  tag="execution-broker/$svc:$SOURCES_HASH"
  var="EB_$(echo "$svc" | tr 'a-z-' 'A-Z_')_IMAGE"
  SERVICE_ENV+=("$var=$tag")
  exists "$tag" && continue
  log "building $tag"
  started=$SECONDS
  if ! DOCKER_BUILDKIT=0 docker build -f "services/$svc/Dockerfile" --build-arg "NODE_IMAGE=$NODE_TAG" \
      --build-arg "PNPM_VERSION=$PNPM_VERSION" --build-arg "EXTRA_CA_CERTS=$(cat "$CA_FILE")" \
      --label "eb.inputs=$SOURCES_HASH" -t "$tag" -t "execution-broker/$svc:latest" . >".local/logs/build-$svc.log" 2>&1; then
    tail -n 40 ".local/logs/build-$svc.log" >&2
    log "building $tag failed (whole log: .local/logs/build-$svc.log)"
    exit 1
  fi
  log "built $tag in $((SECONDS - started)) s"
done
write_env "${BASE_ENV[@]}" "${SERVICE_ENV[@]}"

# Older builds (kept: the current and the two newest others of each repository) and build stages
# left over from builds more than two days old would otherwise fill the disk. Images in use stay.
prune_old() { # repository current-tag
  docker images --format '{{.Tag}}' "$1" | { grep -v -x -e latest -e "$2" || true; } | tail -n +3 \
    | while read -r old; do docker image rm "$1:$old" >/dev/null 2>&1 || true; done
}
for ref in "${BASE_ENV[@]}" "${SERVICE_ENV[@]}" "EB_DEBIAN_IMAGE=$DEBIAN_TAG"; do
  image="${ref#*=}"
  prune_old "${image%:*}" "${image##*:}"
done
docker image prune -f --filter label=eb.stage=build --filter until=48h >/dev/null 2>&1 || true
cat "$OUT"
