#!/usr/bin/env bash
# ringcast against its peers, one command: builds ringcast and the load generator (release),
# installs the peers from their lockfiles, runs every scenario against every server (restarted
# per scenario, pinned to CPU 0; the generator pinned to CPU 1), prints one table with ratios
# and writes docs/BENCHMARKS.md.
#
#   benches/compare.sh                                   # everything (~10 minutes)
#   benches/compare.sh --scenarios fanout-1k,reqresp --targets ringcast,node --duration 2
#   benches/compare.sh --quick                           # smoke: short, small, no doc
#   benches/compare.sh --workers2                        # ringcast 2 workers vs 1 worker
#
# Options:
#   --scenarios LIST   fanout-1k,fanout-5k,latency,connect-storm,reqresp,polling (default: all)
#   --targets LIST     ringcast,socketioxide,node,python (default: all)
#   --duration SECS    override each scenario's measured duration
#   --clients N        override each scenario's client count
#   --quick            --duration 2 --clients 200, and no docs/BENCHMARKS.md
#   --workers2         ringcast alone: --workers 2 on CPUs 0-1 (the generator shares them: a
#                      2-core machine has no core left) against --workers 1 on CPU 0 with the
#                      generator on CPU 1
#   --busy-poll        the generator spins instead of sleeping in epoll_wait (no wake-up latency
#                      on its side; its CPU figure then reads 100 %)
#   --no-build         use the binaries and peers already built
#   --no-doc           do not write docs/BENCHMARKS.md
#   --out DIR          where results go (default: bench-results/<timestamp>)
# Loopback only. Do not run while other heavy work shares the machine: the numbers would be noise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scenarios=fanout-1k,fanout-5k,latency,connect-storm,reqresp,polling
targets=ringcast,socketioxide,node,python
duration="" clients="" build=1 doc=1 workers2=0 out="" busy_poll=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) scenarios=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --quick) duration=${duration:-2}; clients=${clients:-200}; doc=0; shift ;;
    --workers2) workers2=1; shift ;;
    --busy-poll) busy_poll=1; shift ;;
    --no-build) build=0; shift ;;
    --no-doc) doc=0; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$workers2" = 1 ] && targets=ringcast,ringcast-w2
out=${out:-bench-results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"

# Shared by every target: HS256 needs a 32-byte secret in ringcast (RFC 7518 §3.2), and its API
# keys 16+ characters.
SECRET=ringcast-bench-jwt-secret-0123456789abcdef
API_KEY=ringcast-bench-api-key-0123456789
LOADGEN=$root/target/release/loadgen
RINGCAST=$root/target/release/ringcast
SIOX=$root/benches/peers/socketioxide/target/release/ringcast-peer-socketioxide
ncpu=$(nproc)
if [ "$ncpu" -lt 2 ]; then
  echo "compare.sh: needs 2 CPUs (server on CPU 0, generator on CPU 1); this machine has $ncpu" >&2
  exit 1
fi

say() { printf '\n==> %s\n' "$*" >&2; }

if [ "$build" = 1 ]; then
  say "build ringcast and the load generator (release)"
  cargo build --release --locked -p ringcast -p ringcast-loadgen
  peers=()
  for t in ${targets//,/ }; do
    case "$t" in node|python|socketioxide) peers+=("$t") ;; esac
  done
  if [ ${#peers[@]} -gt 0 ]; then
    say "install peers: ${peers[*]}"
    bash benches/peers/install.sh "${peers[@]}"
  fi
fi

# The server command for a target; $1 target, $2 port.
server_cmd() {
  local listen=127.0.0.1:$2
  case "$1" in
    ringcast|ringcast-w2)
      local workers=1
      [ "$1" = ringcast-w2 ] && workers=2
      # The per-IP connection cap (1 000) and the per-socket event rate limit (100/s) protect a
      # deployment from one client; every benchmark client comes from 127.0.0.1 and the
      # heartbeat loop is the load, so both are lifted (the peers have neither).
      echo "$RINGCAST --listen $listen --workers $workers --path /ws/ --jwt-secret $SECRET --api-key $API_KEY \
        --max-connections-per-ip 100000 --event-rate-per-sec 1000000 --event-rate-burst 1000000 \
        --log-level warn --metrics false"
      ;;
    socketioxide) echo "$SIOX --listen $listen --path /ws/ --jwt-secret $SECRET --api-key $API_KEY" ;;
    node) echo "node $root/benches/peers/node/server.js --listen $listen --path /ws/ --jwt-secret $SECRET --api-key $API_KEY" ;;
    python) echo "$root/benches/peers/python/.venv/bin/python $root/benches/peers/python/server.py --listen $listen --path /ws/ --jwt-secret $SECRET --api-key $API_KEY" ;;
    *) echo "compare.sh: unknown target $1" >&2; return 1 ;;
  esac
}

# CPUs for the server and the generator.
server_cpus() { [ "$1" = ringcast-w2 ] && echo 0,1 || echo 0; }
gen_cpus() { [ "$1" = ringcast-w2 ] && echo 0,1 || echo 1; }

server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT

commands=()
# Below the ephemeral range (32768+): the generator leaves thousands of client ports in
# TIME_WAIT, and a listener cannot bind a port one of them holds.
port=$((20000 + RANDOM % 8000))
for sc in ${scenarios//,/ }; do
  for t in ${targets//,/ }; do
    port=$((port + 1))
    cmd=$(server_cmd "$t" "$port")
    log="$out/$sc.$t.server.log"
    say "$sc against $t (port $port)"
    # shellcheck disable=SC2086 # the command is a word list by construction
    taskset -c "$(server_cpus "$t")" $cmd > "$log" 2>&1 &
    server_pid=$!
    ready=0
    for _ in $(seq 300); do
      if grep -q "listening on http://" "$log" 2>/dev/null; then ready=1; break; fi
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if [ "$ready" != 1 ]; then
      echo "compare.sh: $t did not start; its log:" >&2
      tail -5 "$log" >&2
      stop_server
      continue
    fi
    gen=(taskset -c "$(gen_cpus "$t")" "$LOADGEN" --addr "127.0.0.1:$port" --path /ws/
      --jwt-secret "$SECRET" --api-key "$API_KEY" --server-pid "$server_pid"
      --target-name "$t" --scenario "$sc" --json "$results")
    [ -n "$duration" ] && gen+=(--duration "$duration")
    [ -n "$clients" ] && gen+=(--clients "$clients")
    [ "$busy_poll" = 1 ] && gen+=(--busy-poll)
    "${gen[@]}" || echo "compare.sh: the generator reported a failure for $sc / $t" >&2
    commands+=("taskset -c $(server_cpus "$t") ${cmd//$root\//} &" "${gen[*]//$root\//}")
    stop_server
  done
done

base=ringcast
[ "$workers2" = 1 ] && base=ringcast-w2
meta="$out/meta.json"
placement="server pinned to CPU 0 (taskset -c 0), generator to CPU 1 (taskset -c 1)"
[ "$workers2" = 1 ] && placement="ringcast --workers 2 on CPUs 0-1 with the generator sharing CPUs 0-1 (no free core on a 2-core machine); ringcast --workers 1 on CPU 0 with the generator on CPU 1"
lock_version() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$2"; }
python3 - "$meta" "$placement" "${commands[@]}" <<PY
import json, subprocess, sys, datetime
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return "?"
meta = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "placement": sys.argv[2],
    "machine": {
        "nproc": sh("nproc"),
        "cpu_model": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
        "kernel": sh("uname -r"),
    },
    "versions": {
        "ringcast": sh("git -C '$root' describe --always --dirty") + " (release profile: thin LTO)",
        "rustc": sh("rustc --version"),
        "socketioxide": "$(lock_version socketioxide benches/peers/socketioxide/Cargo.lock) (axum $(lock_version axum benches/peers/socketioxide/Cargo.lock), tokio $(lock_version tokio benches/peers/socketioxide/Cargo.lock))",
        "node": sh("node --version") + ", socket.io " + sh("node -p \"require('$root/benches/peers/node/package-lock.json').packages['node_modules/socket.io'].version\""),
        "python": sh("'$root/benches/peers/python/.venv/bin/python' --version") + ", " + sh("grep -iE '^(python-socketio|uvicorn|uvloop)==' '$root/benches/peers/python/requirements.txt' | tr '\\\\n' ' '"),
    },
    "commands": sys.argv[3:],
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY

say "results ($results)"
doc_args=()
if [ "$doc" = 1 ]; then
  mkdir -p docs
  doc_args=(--meta "$meta" --doc docs/BENCHMARKS.md)
fi
python3 benches/report.py "$results" --base "$base" --targets "$targets" "${doc_args[@]}"
[ "$doc" = 1 ] && say "wrote docs/BENCHMARKS.md"
exit 0
