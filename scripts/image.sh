#!/bin/bash
# The container image: build it with whichever engine works here (a Docker engine, else
# podman), and smoke-test it.
#
#   scripts/image.sh --engine   # print the engine: docker or podman
#   scripts/image.sh build      # build $IMAGE (default docspasta:dev) from the Dockerfile, and
#                               # $RENDERER_IMAGE (docspasta-renderer:dev) from Dockerfile.renderer
#   scripts/image.sh test       # run every service from $IMAGE read-only, as non-root,
#                               # all capabilities dropped; wait for gRPC health / /healthz
#
# Without a registry (PULL_BASE unset and the default base not present), the base is
# built first by scripts/base-image.sh (debootstrap) and passed as BASE_IMAGE.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-docspasta:dev}
# The renderer's image (Dockerfile.renderer: $IMAGE plus Debian's Chromium and Playwright).
RENDERER_IMAGE=${RENDERER_IMAGE:-docspasta-renderer:dev}
conf="$here/build/containers/containers.conf"
[ -f "$conf" ] && export CONTAINERS_CONF="$conf"

engine() {
  if [ -n "${ENGINE:-}" ]; then echo "$ENGINE"; return; fi
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; return; fi
  if command -v podman >/dev/null 2>&1; then echo podman; return; fi
  echo "image: neither a Docker engine nor podman (make image-deps)" >&2
  exit 1
}

build() {
  local eng base args=()
  eng=$(engine)
  if [ -n "${BASE_IMAGE:-}" ]; then
    base=$BASE_IMAGE
  elif [ -n "${PULL_BASE:-}" ]; then
    base=""   # the Dockerfile's default, pulled from its registry
  else
    base=localhost/docspasta-base:bookworm
    "$here/scripts/base-image.sh"
  fi
  [ -n "$base" ] && args+=(--build-arg "BASE_IMAGE=$base")
  # pip inside the build trusts what this machine trusts (an inspecting proxy's CA).
  local ca=${CA_BUNDLE:-$(pip3 config get global.cert 2>/dev/null || true)}
  [ -n "$ca" ] || ca=/etc/ssl/certs/ca-certificates.crt
  [ -s "$ca" ] && args+=(--secret "id=ca_bundle,src=$ca")
  # Host network: the build stage's apt-get and pip reach the package mirrors the way
  # this machine does (no bridge networking needed in a sandbox).
  echo "image: $eng build -t $IMAGE ${args[*]:-}" >&2
  "$eng" build --network=host "${args[@]}" -t "$IMAGE" -f "$here/Dockerfile" "$here"
  "$eng" image inspect "$IMAGE" --format '{{.Id}} {{.Size}}' >&2 || true
  if [ -f "$here/Dockerfile.renderer" ] && [ -z "${SKIP_RENDERER:-}" ]; then
    local extra=()
    [ -s "$ca" ] && extra+=(--secret "id=ca_bundle,src=$ca")
    echo "image: $eng build -t $RENDERER_IMAGE -f Dockerfile.renderer" >&2
    "$eng" build --network=host "${extra[@]}" --build-arg "IMAGE=$IMAGE" -t "$RENDERER_IMAGE" \
      -f "$here/Dockerfile.renderer" "$here"
    "$eng" image inspect "$RENDERER_IMAGE" --format '{{.Id}} {{.Size}}' >&2 || true
  fi
}

case "${1:-}" in
  --engine) engine ;;
  build) build ;;
  test) shift; PYTHON=${PYTHON:-$here/.venv/bin/python}; ENGINE=$(engine) IMAGE=$IMAGE RENDERER_IMAGE=$RENDERER_IMAGE \
        exec "$PYTHON" "$here/scripts/image_smoke.py" "$@" ;;
  *) echo "usage: $0 --engine | build | test" >&2; exit 2 ;;
esac
