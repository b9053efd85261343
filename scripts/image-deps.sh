#!/bin/bash
# Installs what `make image` / `make image-test` need when no container engine works yet:
# podman and buildah from Debian (plus runc, and debootstrap for scripts/base-image.sh),
# and writes the containers.conf they run with (build/containers/containers.conf, used
# through CONTAINERS_CONF by scripts/image.sh): runtime runc (crun is not in bookworm's
# podman defaults everywhere, and runc works inside an unprivileged sandbox), and a
# default nofile/nproc ulimits no higher than this machine's hard limits (podman's
# defaults fail to start any container where `ulimit -Hn`/`-Hu` are lower). Idempotent.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
# A working Docker engine is enough: nothing to install.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then exit 0; fi
missing=""
for tool in podman buildah runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "image-deps: missing:$missing (run as root or install them)" >&2
    exit 1
  fi
  echo "image-deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends podman buildah runc debootstrap \
    uidmap slirp4netns netavark aardvark-dns fuse-overlayfs >/dev/null
fi
conf="$here/build/containers/containers.conf"
mkdir -p "$(dirname "$conf")"
# podman raises nofile to 1048576 and nproc to its own default unless told: both fail
# with "error setting rlimit" where the sandbox's hard limits are lower.
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=1048576
# conmon and runc get nproc no higher than kernel.pid_max: cap it there too.
procs=$(ulimit -Hu); [ "$procs" = unlimited ] && procs=4194304
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo "$procs")
[ "$pid_max" -lt "$procs" ] && procs=$pid_max
cat > "$conf.tmp" <<CONF
# Written by scripts/image-deps.sh for this machine; not committed.
[containers]
default_ulimits = ["nofile=$hard:$hard", "nproc=$procs:$procs"]

[engine]
runtime = "runc"
CONF
mv "$conf.tmp" "$conf"
