#!/usr/bin/env bash
# Reconnect storm (issue #13): N stock socket.io-client clients of ringcast node A (streams mode,
# recovery on, one redis-server) lose A at once and recover on node B; prints recoveries/s and
# p50/p99 time to `recovered` (benches/recovery-storm.js). The lead runs it at scale
# (--clients 10000 on an otherwise idle machine); a smoke run: --clients 200.
#
#   benches/recovery-storm.sh [--clients N] [--missed M] [--kill]
#
# Needs redis-server, node, tests/clients/js-redis installed (scripts/install-test-deps) and a
# release build (built here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

clients=200
missed=5
signal=SIGTERM
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --missed) missed="$2"; shift 2 ;;
    --kill) signal=SIGKILL; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

bin=target/release/ringcast
[ -x "$bin" ] || cargo build --release
# 10 000 clients need 10 000 descriptors in each node and in the generator, plus the proxy's.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port="$(free_port)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no > "$tmp/redis.log" 2>&1 &
pids+=($!)
until redis-cli -p "$redis_port" ping > /dev/null 2>&1; do sleep 0.1; done

export RINGCAST_JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
export RINGCAST_API_KEYS="$(head -c 32 /dev/urandom | base64 | tr -d '+/=')"
token="$("$bin" token --sub storm --ttl 1h)"

start_node() { # port log
  "$bin" --listen "127.0.0.1:$1" --workers 1 --redis-url "redis://127.0.0.1:$redis_port/" \
    --cluster-mode streams --recovery true --max-connections-per-ip 100000 \
    --log-summary-interval-secs 0 > "$2" 2>&1 &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$1/readyz" > /dev/null; do sleep 0.1; done
}
port_a="$(free_port)"
port_b="$(free_port)"
start_node "$port_a" "$tmp/a.log"
pid_a="${pids[-1]}"
start_node "$port_b" "$tmp/b.log"
pid_b="${pids[-1]}"

node benches/recovery-storm.js --a "$port_a" --b "$port_b" --a-pid "$pid_a" --b-pid "$pid_b" --signal "$signal" \
  --clients "$clients" --missed "$missed" --token "$token" --api-key "$RINGCAST_API_KEYS"
