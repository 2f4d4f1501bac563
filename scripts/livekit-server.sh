#!/usr/bin/env bash
# A local LiveKit server for the room and worker tests, and for developers.
#
# WebRTC ignores loopback adapters, and test traffic may only go to loopback or to hosts the tests create. So the
# server runs in a network namespace of its own, joined to this one by a veth pair: the server listens on
# $NS_IP (10.99.0.1) and 127.0.0.1 inside the namespace; clients in this namespace reach it through the veth end
# $HOST_IP (10.99.0.2). No STUN server and no external IP: every ICE candidate is on that /24.
#
#   scripts/livekit-server.sh build   # build the pinned server into the cache (skipped when it is there)
#   scripts/livekit-server.sh up      # build, create the namespace, start the server, wait until it answers
#   scripts/livekit-server.sh env     # print the LIVEKIT_* variables for clients (eval "$(... env)")
#   scripts/livekit-server.sh down    # stop the server, remove the namespace
#   scripts/livekit-server.sh status  # exit 0 when the server answers
#   scripts/livekit-server.sh stop-server / start-server   # stop or start only the server (a restart, for tests)
# Needs root (ip netns). Variables: VC_LK_NS, VC_LK_SUBNET (the first three octets), VC_LK_PORT, VC_LK_CACHE.
set -euo pipefail

VERSION=v1.13.5
NS=${VC_LK_NS:-voicechart-lk}
SUBNET=${VC_LK_SUBNET:-10.99.0}
NS_IP=$SUBNET.1
HOST_IP=$SUBNET.2
PORT=${VC_LK_PORT:-7880}
RTC_PORT=$((PORT + 1))
UDP_START=$((PORT + 2000))
# ICE takes a UDP port per peer connection (1.5–2 per participant measured): room for the rooms bench beyond 100 rooms.
UDP_END=$((UDP_START + 999))
CACHE=${VC_LK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/voicechart/livekit-$VERSION}
BIN=$CACHE/server
RUN=${VC_LK_RUN:-/tmp/voicechart-lk-$NS}
# Interface names hold 15 characters: a checksum of the namespace name keeps two instances' veth pairs apart
# (a truncated name made `voicechart-lk2`'s `up` delete the default instance's veth).
VETH_ID=$(printf %s "$NS" | cksum | cut -d' ' -f1)
VETH_HOST=vclk${VETH_ID:0:9}h
VETH_NS=vclk${VETH_ID:0:9}n

log() { printf 'livekit-server: %s\n' "$*" >&2; }

build() {
  if [ -x "$BIN" ]; then return 0; fi
  command -v go >/dev/null || { log "Go is needed to build the server (go install github.com/livekit/livekit-server/cmd/server@$VERSION)"; exit 1; }
  mkdir -p "$CACHE"
  log "building livekit-server $VERSION into $CACHE (once; a few minutes)"
  if ! CGO_ENABLED=0 GOBIN="$CACHE" GOFLAGS=-mod=mod go install "github.com/livekit/livekit-server/cmd/server@$VERSION" 2>"$CACHE/build.log"; then
    # A tag with `replace` lines refuses `go install pkg@version`: build from a writable copy of the module instead.
    log "go install refused ($(tail -n 1 "$CACHE/build.log")); building from the module source"
    local dir src
    dir=$(go mod download -json "github.com/livekit/livekit-server@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    src=$(mktemp -d)
    cp -r "$dir/." "$src" && chmod -R u+w "$src"
    (cd "$src" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/server)
    rm -rf "$src"
  fi
  [ -x "$BIN" ] || { log "the build left no binary at $BIN"; exit 1; }
}

up() {
  build
  [ "$(id -u)" = 0 ] || { log "creating a network namespace needs root"; exit 1; }
  down quiet
  mkdir -p "$RUN"
  ip netns add "$NS"
  ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
  ip link set "$VETH_NS" netns "$NS"
  ip addr add "$HOST_IP/24" dev "$VETH_HOST"
  ip link set "$VETH_HOST" up
  ip netns exec "$NS" ip addr add "$NS_IP/24" dev "$VETH_NS"
  ip netns exec "$NS" ip link set "$VETH_NS" up
  ip netns exec "$NS" ip link set lo up
  cat >"$RUN/livekit.yaml" <<EOF
port: $PORT
bind_addresses: ["127.0.0.1", "$NS_IP"]
rtc:
  tcp_port: $RTC_PORT
  port_range_start: $UDP_START
  port_range_end: $UDP_END
  node_ip: $NS_IP
  use_external_ip: false
  stun_servers: ["$NS_IP:3478"]
keys:
  devkey: secret
room:
  empty_timeout: 20
  departure_timeout: 5
logging:
  level: info
EOF
  serve
}

# Starts the server in the existing namespace and waits until it answers (`up`, and `start-server` after `stop-server`).
serve() {
  # Proxy variables are cleared: the Rust SDK behind rtc-node ignores NO_PROXY.
  ip netns exec "$NS" env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u all_proxy \
    setsid "$BIN" --config "$RUN/livekit.yaml" >"$RUN/server.log" 2>&1 &
  echo $! >"$RUN/server.pid"
  for _ in $(seq 1 100); do
    if curl -fsS --noproxy '*' -m 1 "http://$NS_IP:$PORT/" >/dev/null 2>&1; then
      log "up at ws://$NS_IP:$PORT (namespace $NS, log $RUN/server.log)"
      return 0
    fi
    if ! kill -0 "$(cat "$RUN/server.pid")" 2>/dev/null; then log "the server exited:"; tail -n 20 "$RUN/server.log" >&2; exit 1; fi
    sleep 0.1
  done
  log "the server did not answer within 10 s:"; tail -n 20 "$RUN/server.log" >&2; exit 1
}

# Stops only the server process: the namespace and veth stay, so clients see refused connections (a server
# restart), not a vanished network.
stop_server() {
  if [ -f "$RUN/server.pid" ]; then
    local pid; pid=$(cat "$RUN/server.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$RUN/server.pid"
  fi
}

down() {
  stop_server
  ip link del "$VETH_HOST" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  [ "${1:-}" = quiet ] || log "down"
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  env) printf 'export LIVEKIT_URL=ws://%s:%s\nexport LIVEKIT_API_KEY=devkey\nexport LIVEKIT_API_SECRET=secret\n' "$NS_IP" "$PORT" ;;
  stop-server) stop_server ;;
  start-server) serve ;;
  status) curl -fsS --noproxy '*' -m 2 "http://$NS_IP:$PORT/" >/dev/null ;;
  *) echo "usage: $0 build|up|env|status|stop-server|start-server|down" >&2; exit 2 ;;
esac
