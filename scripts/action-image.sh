#!/usr/bin/env bash
# Build the action's container image here the way the GitHub runner builds it, on a stand-in
# for the Dockerfile's default base (python:3.12-slim-trixie cannot be pulled: no Docker Hub).
#
#   scripts/action-image.sh [--measure] [TAG]   # prints the tag of the built image on stdout
#
# --measure also prints, on stderr, the image size and the median of 5 starts (docker run
# --rm IMAGE --help, and an import of the engine and the Prefect client in the image).
# Needs a running engine (scripts/stack.sh up); concurrent calls wait for each other.
#
# Idempotent: the slimmed trixie root filesystem (debootstrap, about 70 s) is cached under
# ${PFD_STACK_DIR:-/var/tmp/pfd-stack} and the stand-in base is imported only when
# `docker image inspect` does not find it. The action image itself is rebuilt every time
# (Docker's layer cache makes an unchanged rebuild take a second or two).
#
# Environment: PFD_ACTION_TAG (default localhost:5000/prefect-flow-deploy/action:dev),
#              PFD_ACTION_BASE (default localhost:5000/stand-in/python:3-trixie-slim),
#              PFD_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${PFD_STACK_DIR:-/var/tmp/pfd-stack}"
MEASURE=0
if [ "${1:-}" = "--measure" ]; then MEASURE=1; shift; fi
TAG="${1:-${PFD_ACTION_TAG:-localhost:5000/prefect-flow-deploy/action:dev}}"
BASE="${PFD_ACTION_BASE:-localhost:5000/stand-in/python:3-trixie-slim}"
MIRROR="${PFD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKER=/usr/bin/docker   # Debian's client: BuildKit built in (the one first on PATH lacks buildx)

log() { printf '[action-image] %s\n' "$*" >&2; }

# Debian's slim images, which python:*-slim builds on, are made by debuerreotype-slimify with
# these lists (github.com/debuerreotype/debuerreotype scripts/.slimify-excludes and
# .slimify-includes, unchanged since fe6f344, 2020; read at 7de510f): the files are deleted
# and /etc/dpkg/dpkg.cfg.d/docker keeps later `apt-get install`s from adding them back.
SLIM_EXCLUDES=('/usr/share/doc/*' '/usr/share/doc/kde/HTML/*/*' '/usr/share/gnome/help/*/*'
  '/usr/share/info/*' '/usr/share/linda/*' '/usr/share/lintian/overrides/*' '/usr/share/locale/*'
  '/usr/share/man/*' '/usr/share/omf/*/*-*.emf')
SLIM_INCLUDES=('/usr/share/doc/*/copyright' '/usr/share/doc/kde/HTML/C/*'
  '/usr/share/gnome/help/*/C/*' '/usr/share/locale/all_languages' '/usr/share/locale/currency/*'
  '/usr/share/locale/l10n/*' '/usr/share/locale/languages' '/usr/share/locale/locale.alias'
  '/usr/share/omf/*/*-C.emf')

slimify() {  # slimify ROOTFS: what debuerreotype-slimify does to a root filesystem
  local root="$1" pattern dir keep=(-false) mandirs cfg="$1/etc/dpkg/dpkg.cfg.d/docker"
  for pattern in "${SLIM_INCLUDES[@]}"; do keep+=(-o -path "$pattern"); done
  mandirs=$(cd "$root" && find usr/share/man -maxdepth 1 -type d -name 'man[0-9]' 2>/dev/null || true)
  mkdir -p "$(dirname "$cfg")"
  echo '# The "slim" variant, as debuerreotype-slimify writes it.' >"$cfg"
  for pattern in "${SLIM_EXCLUDES[@]}"; do
    echo "path-exclude $pattern" >>"$cfg"
    dir="$(dirname "$pattern")"
    [ -d "$root$dir" ] || continue
    # Files first (what the includes match stays), then dangling links and empty folders
    # until none is left; in a chroot, as upstream, so that absolute links resolve there.
    chroot "$root" find "$dir" -depth -mindepth 1 -not \( -type d -o -type l \) \
      -not \( "${keep[@]}" \) -exec rm -f {} +
    while [ -n "$(chroot "$root" find "$dir" -depth -mindepth 1 \( -empty -o -xtype l \) \
      -exec rm -rf {} + -printf .)" ]; do :; done
  done
  for pattern in "${SLIM_INCLUDES[@]}"; do echo "path-include $pattern" >>"$cfg"; done
  # Upstream recreates the man/manN folders (debuerreotype issue 10: some postinst need them).
  [ -z "$mandirs" ] || (cd "$root" && xargs mkdir -p <<<"$mandirs")
}

build_base() {
  $DOCKER image inspect "$BASE" >/dev/null 2>&1 && return 0
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local rootfs="$STACK_DIR/rootfs-trixie-slim"
  mkdir -p "$STACK_DIR"
  if [ ! -x "$rootfs/usr/bin/python3" ] || [ ! -f "$rootfs/.pfd-complete" ]; then
    log "debootstrap trixie (about 70 s)"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      trixie "$rootfs" "$MIRROR" >"$STACK_DIR/debootstrap-trixie-slim.log" 2>&1 \
      || { log "debootstrap failed: see $STACK_DIR/debootstrap-trixie-slim.log"; exit 1; }
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    slimify "$rootfs"
    touch "$rootfs/.pfd-complete"
  fi
  # The host's CA bundle lets pip inside the build reach the package index from here.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  # The official python images have no EXTERNALLY-MANAGED marker; neither does the stand-in.
  rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
  log "importing $BASE"
  tar -C "$rootfs" --exclude=./.pfd-complete -c . | $DOCKER import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    -c 'CMD ["python3"]' - "$BASE" >/dev/null
}

build_action() {
  log "building $TAG from $HERE/Dockerfile on $BASE"
  local build_log="$STACK_DIR/action-image-build.log"
  # As the runner does (docker build -t TAG -f ABS/Dockerfile DIR), plus the stand-in base.
  DOCKER_BUILDKIT=1 $DOCKER build --progress=plain --build-arg "BASE_IMAGE=$BASE" -t "$TAG" \
    -f "$HERE/Dockerfile" "$HERE" >"$build_log" 2>&1 \
    || { tail -40 "$build_log" >&2; log "build failed: see $build_log"; exit 1; }
}

median_ms() {  # median_ms CMD...: median wall time of 5 runs, in milliseconds
  local times=() start end
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}

measure() {
  local size
  size=$($DOCKER image inspect --format '{{.Size}}' "$TAG")
  log "size: $size bytes ($(( size / 1000000 )) MB; base $(( $($DOCKER image inspect --format '{{.Size}}' "$BASE") / 1000000 )) MB)"
  log "start, median of 5 (an empty container: docker run --rm --entrypoint true IMAGE): $(median_ms $DOCKER run --rm --entrypoint true "$TAG") ms"
  log "start, median of 5 (the entrypoint, docker run --rm IMAGE --help): $(median_ms $DOCKER run --rm "$TAG" --help) ms"
  log "start, median of 5 (import the engine and Prefect's client, as a run that writes does): $(median_ms $DOCKER run --rm \
    --entrypoint python3 "$TAG" -c 'import prefect_flow_deploy.run.engine, prefect_flow_deploy.cli, prefect_flow_deploy.clients.registration') ms"
}

$DOCKER version >/dev/null 2>&1 || { log "no Docker engine answers: run scripts/stack.sh up"; exit 1; }
mkdir -p "$STACK_DIR"
exec 9>"$STACK_DIR/action-image.lock"
flock 9
build_base
build_action
[ "$MEASURE" = 1 ] && measure
echo "$TAG"
