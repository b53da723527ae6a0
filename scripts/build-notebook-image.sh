#!/usr/bin/env bash
# Builds the image JupyterNotebook executables run in, where no image registry is reachable: a Debian
# root filesystem made by mmdebstrap with Python, nbclient (headless runs), ipykernel and the classic
# Jupyter Notebook server (interactive runs), imported with `docker import`. Nothing else goes in: no
# shell tools the notebook would not need, no documentation.
#
# The image is tagged with a hash of its recipe (see "recipe" below), and the build is skipped
# when that tag exists, so CI and repeated test runs build it once per machine. Prints the tag.
#
# Usage: scripts/build-notebook-image.sh            (prints e.g. eb-local/notebook:bookworm-1a2b3c4d5e6f7a8b)
#        scripts/build-notebook-image.sh --if-built (prints the tag if it is built, else fails: builds nothing)
# Environment:
#   EB_DEBIAN_MIRROR          Debian mirror (default http://deb.debian.org/debian)
#   EB_NOTEBOOK_IMAGE_REPO    repository of the tag (default eb-local/notebook)
#   EB_NOTEBOOK_REBUILD=1     build even when the tag exists
set -euo pipefail
SUITE=bookworm
MIRROR="${EB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REPO="${EB_NOTEBOOK_IMAGE_REPO:-eb-local/notebook}"
PACKAGES=python3-nbclient,python3-ipykernel,jupyter-notebook
log() { printf '[notebook-image] %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 || { log "no Docker engine answers (docker info failed)"; exit 1; }
# The tag is a hash of the recipe (what follows the "recipe" line below, with the suite, packages and
# mirror), so changing anything else here (usage, options) does not make a new image.
recipe() { sed -n '/^# --- recipe ---$/,$p' "${BASH_SOURCE[0]}"; echo "$SUITE $PACKAGES $MIRROR"; }
TAG="$REPO:$SUITE-$(recipe | sha256sum | cut -c1-16)"
exists() { [ "${EB_NOTEBOOK_REBUILD:-}" != 1 ] && docker image inspect "$TAG" >/dev/null 2>&1; }
if exists; then echo "$TAG"; exit 0; fi
[ "${1:-}" = --if-built ] && exit 1

if ! command -v mmdebstrap >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "mmdebstrap is missing: apt-get install mmdebstrap"; exit 1; }
  log "installing mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

# Test files and checkouts may build at once on one engine: they take turns, the second finds the tag.
exec 9>/tmp/eb-build-notebook-image.lock
flock 9
if exists; then echo "$TAG"; exit 0; fi

# --- recipe ---
log "building $TAG (mmdebstrap $SUITE minbase + $PACKAGES)"
started=$SECONDS
# Containers run with a read-only root: HOME and Jupyter's own directories point at /tmp (a tmpfs);
# the broker sets them again per run. PYTHONDONTWRITEBYTECODE keeps Python from trying to write .pyc files.
mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
  --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Retries "3"' \
  --dpkgopt=force-unsafe-io --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  "$SUITE" - "deb $MIRROR $SUITE main" \
  | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV HOME=/tmp' --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
      --change 'ENV JUPYTER_RUNTIME_DIR=/tmp/jupyter/runtime' --change 'ENV JUPYTER_DATA_DIR=/tmp/jupyter/data' \
      --change 'ENV JUPYTER_CONFIG_DIR=/tmp/jupyter/config' --change 'ENV IPYTHONDIR=/tmp/ipython' \
      --change 'CMD ["python3"]' - "$TAG" >/dev/null
log "built $TAG in $((SECONDS - started)) s"
echo "$TAG"
