#!/bin/bash
# Builds the image's base on a machine that reaches no container registry: a Debian
# bookworm root filesystem made by debootstrap from the machine's own apt mirror (the
# first bookworm deb.debian.org-style URI in /etc/apt/sources.list*), with Python 3.11
# and what the Dockerfile's stages use, imported into podman (or docker) as
#   localhost/docspasta-base:bookworm
# Pass it to the build as BASE_IMAGE (scripts/image.sh does when PULL_BASE is not set).
# Where a registry is reachable, skip this: the Dockerfile's default base is
# docker.io/library/python:3.11-slim.
#
#   scripts/base-image.sh            # build it unless it exists
#   FORCE=1 scripts/base-image.sh    # rebuild
#   MIRROR=http://deb.debian.org/debian scripts/base-image.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${BASE_IMAGE:-localhost/docspasta-base:bookworm}
SUITE=${SUITE:-bookworm}
engine=$("$here/scripts/image.sh" --engine)
conf="$here/build/containers/containers.conf"
[ -f "$conf" ] && export CONTAINERS_CONF="$conf"

if [ -z "${FORCE:-}" ] && "$engine" image exists "$IMAGE" 2>/dev/null; then
  echo "base-image: $IMAGE exists (FORCE=1 rebuilds)"; exit 0
fi
if [ "$engine" = docker ] && [ -z "${FORCE:-}" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base-image: $IMAGE exists (FORCE=1 rebuilds)"; exit 0
fi

if [ -z "${MIRROR:-}" ]; then
  # deb822 (URIs:) or one-line (deb URI suite ...) sources, the main archive only.
  MIRROR=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
               2>/dev/null || true; } \
    | sed -n -e 's/^URIs:[[:space:]]*\(\S*\/debian\)\/\?[[:space:]]*$/\1/p' \
             -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\(\S*\/debian\)\/\?[[:space:]]\+bookworm[[:space:]].*/\2/p' \
    | head -n1)
fi
MIRROR=${MIRROR:-http://deb.debian.org/debian}
command -v debootstrap >/dev/null || { echo "base-image: debootstrap missing (scripts/image-deps.sh)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/docspasta-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
echo "base-image: debootstrap $SUITE from $MIRROR (a few minutes)" >&2
# minbase: essential packages + apt; then what both Dockerfile stages need: Python with
# venv, CA certificates (pip, HTTPS crawls), passwd (useradd in the runtime stage).
debootstrap --variant=minbase \
  --include=python3,python3-venv,ca-certificates,passwd,tzdata \
  "$SUITE" "$root" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
# The Dockerfile calls `python` (as in the python:3.11-slim images).
ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
cat > "$root/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
SRC
# No caches or package lists in the base; the build stage runs apt-get update itself.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
tar --numeric-owner --xattrs -C "$root" -c . \
  | "$engine" import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
echo "base-image: $IMAGE ($(du -sh "$root" | cut -f1))"
