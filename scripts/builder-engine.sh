#!/usr/bin/env bash
# A second Docker engine on loopback TCP with TLS: the shared remote builder the tests (and
# the benchmark) build on, beside the stack's own engine and never instead of it.
#
#   scripts/builder-engine.sh up     # start it (idempotent: reused while it answers)
#   scripts/builder-engine.sh down   # stop it by its pid file and remove its bridge
#   scripts/builder-engine.sh env    # the variables a test or a run needs to use it
#   scripts/builder-engine.sh reset  # down, then remove its data root (an empty build cache)
#   scripts/builder-engine.sh bridge # only its bridge with its address (what `up` makes first)
#
# It has its own roots (data, exec, pid file, unix socket) under $PFD_BUILDER_DIR, and its
# own bridge with its own subnet ($PFD_BUILDER_BRIDGE, $PFD_BUILDER_SUBNET). Never
# `--bridge=none`: such an engine takes the host's docker0 for itself and deletes it at
# start-up, and every later build of the first engine fails ("could not find bridge
# docker0"). `--iptables=false --ip-masq=false`: it leaves the host's firewall alone, so its
# containers (RUN steps) reach the host (the loopback registry, through the daemon) but not
# the internet. TLS: a CA, a server certificate for 127.0.0.1 and a client certificate, made
# with openssl under $PFD_BUILDER_DIR/tls (ca.pem, cert.pem, key.pem: Docker's names).
#
# Defaults: /var/tmp/pfd-builder, 127.0.0.1:23727, bridge pfd-b27 on 172.29.27.1/24. The
# benchmark starts several with other values (one fresh engine per "runner").
set -euo pipefail

DIR="${PFD_BUILDER_DIR:-/var/tmp/pfd-builder}"
PORT="${PFD_BUILDER_PORT:-23727}"
BRIDGE="${PFD_BUILDER_BRIDGE:-pfd-b27}"
SUBNET="${PFD_BUILDER_SUBNET:-172.29.27.1/24}"
TLS="$DIR/tls"
DOCKER=/usr/bin/docker   # Debian's client (the one first on PATH lacks buildx)

log() { printf '[builder-engine %s] %s\n' "$PORT" "$*" >&2; }

# A dockerd runs with the pid file's pid: on a machine restored with its disk but not its
# processes, the pid may now be another program's (then the file is stale, and dockerd would
# refuse to start: "pid file found, ensure docker is not running").
alive() {
  [ -f "$DIR/docker.pid" ] && [ "$(cat "/proc/$(cat "$DIR/docker.pid")/comm" 2>/dev/null)" = dockerd ]
}

answers() {
  $DOCKER -H "tcp://127.0.0.1:$PORT" --tlsverify --tlscacert "$TLS/ca.pem" \
    --tlscert "$TLS/cert.pem" --tlskey "$TLS/key.pem" version >/dev/null 2>&1
}

make_certificates() {
  [ -s "$TLS/key.pem" ] && [ -s "$TLS/server-key.pem" ] && return 0
  log "making a CA, a server and a client certificate with openssl"
  rm -rf "$TLS" && mkdir -p "$TLS" && chmod 700 "$TLS"
  (
    cd "$TLS"
    for key in ca-key server-key key; do
      openssl ecparam -genkey -name prime256v1 -noout -out "$key.pem" 2>/dev/null
    done
    openssl req -new -x509 -days 3650 -key ca-key.pem -subj "/CN=pfd builder test CA" -out ca.pem
    openssl req -new -key server-key.pem -subj "/CN=127.0.0.1" -out server.csr
    printf 'subjectAltName = IP:127.0.0.1,DNS:localhost\nextendedKeyUsage = serverAuth\n' >server.ext
    openssl x509 -req -days 3650 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -extfile server.ext -out server-cert.pem 2>/dev/null
    openssl req -new -key key.pem -subj "/CN=pfd builder client" -out client.csr
    printf 'extendedKeyUsage = clientAuth\n' >client.ext
    openssl x509 -req -days 3650 -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -extfile client.ext -out cert.pem 2>/dev/null
    rm -f server.csr client.csr server.ext client.ext
    chmod 600 ./*-key.pem key.pem
  )
}

# Idempotent without a look first: a bridge another `up` made meanwhile is fine, and `ip addr
# replace` never fails with "Address already assigned" (a CI run of `make test` stopped on
# that: `ip addr show | grep -q` then `ip addr add` is a race, and under pipefail a grep that
# stops reading early fails the pipe).
make_bridge() {
  ip link add "$BRIDGE" type bridge 2>/dev/null || ip link show "$BRIDGE" >/dev/null
  ip addr replace "$SUBNET" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

up() {
  if alive && answers; then return 0; fi
  make_certificates
  if [ -f "$DIR/docker.pid" ] && ! alive; then  # killed, not stopped: clear its pid files
    rm -f "$DIR/docker.pid" "$DIR/exec/containerd/containerd.pid"
  fi
  mkdir -p "$DIR/data" "$DIR/exec"
  make_bridge
  log "starting dockerd (data root $DIR/data, bridge $BRIDGE $SUBNET)"
  setsid dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$DIR/docker.pid" \
    -H "unix://$DIR/docker.sock" -H "tcp://127.0.0.1:$PORT" \
    --tlsverify --tlscacert "$TLS/ca.pem" --tlscert "$TLS/server-cert.pem" \
    --tlskey "$TLS/server-key.pem" \
    --bridge="$BRIDGE" --iptables=false --ip-masq=false \
    >"$DIR/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 240); do answers && { log "up"; return 0; }; sleep 0.25; done
  log "dockerd did not answer within 60 s: see $DIR/dockerd.log"
  return 1
}

down() {
  if alive; then
    local pid; pid="$(cat "$DIR/docker.pid")"
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then log "dockerd $pid still runs after 30 s"; return 1; fi
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
}

print_env() {
  cat <<ENV
export PFD_BUILDER_HOST=tcp://127.0.0.1:$PORT
export PFD_BUILDER_TLS_DIR=$TLS
export PFD_BUILDER_SOCKET=unix://$DIR/docker.sock
ENV
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  env) print_env ;;
  reset) down && rm -rf "$DIR/data" "$DIR/exec" ;;
  bridge) make_bridge ;;
  *) echo "usage: $0 up|down|env|reset|bridge" >&2; exit 2 ;;
esac
