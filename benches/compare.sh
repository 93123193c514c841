#!/usr/bin/env bash
# ringcast against its peers, one command: builds ringcast and the load generator (release),
# installs the peers from their lockfiles, runs every scenario against every server (restarted
# per scenario, pinned to CPU 0; the generator pinned to CPU 1), prints one table with ratios
# and writes docs/BENCHMARKS.md.
#
#   benches/compare.sh                                   # everything (~20 minutes)
#   benches/compare.sh --scenarios fanout-1k,reqresp --targets ringcast,node --duration 2
#   benches/compare.sh --scenarios fanout-2node          # two nodes over Redis, alone
#   benches/compare.sh --quick                           # smoke: short, small, no doc
#   benches/compare.sh --workers2                        # ringcast 2 workers vs 1 worker
#   benches/compare.sh --recovery --scenarios fanout-1k  # connection state recovery on vs off
#   benches/compare.sh --sharded                         # fanout-2node: classic vs sharded pub/sub
#   benches/compare.sh --readers tokio --scenarios fanout-1k   # one reader personality only
#
# fanout-2node runs two nodes of one target clustered over a fresh redis-server (needs
# redis-server and redis-cli): receivers on node A (CPU 0), the publisher on node B (CPU 1,
# with redis-server and the generator). ringcast, socketioxide (socketioxide-redis) and node
# (@socket.io/redis-adapter) only; python is skipped.
#
# The fan-out and latency scenarios (fanout-1k, fanout-5k, fanout-19k, latency, fanout-2node) run
# once per reader personality of the generator: epoll (thousands of sessions per thread, 64 KiB
# reads) and tokio (one tokio-tungstenite task per connection on a work-stealing runtime, one
# message per read: what ordinary client code costs). The others run with epoll only.
#
# Options:
#   --scenarios LIST   fanout-1k,fanout-5k,fanout-19k,latency,connect-storm,reqresp,polling,
#                      fanout-2node (default: all)
#   --targets LIST     ringcast,socketioxide,node,python (default: all)
#   --readers LIST     epoll,tokio (default: both)
#   --repeat-latency N run the latency scenario N times per target and reader (default 1); the
#                      report shows each run's p99 and the median
#   --duration SECS    override each scenario's measured duration
#   --clients N        override each scenario's client count
#   --quick            --duration 2 --clients 200, and no docs/BENCHMARKS.md
#   --workers2         ringcast alone: --workers 2 on CPUs 0-1 (the generator shares them: a
#                      2-core machine has no core left) against --workers 1 on CPU 0 with the
#                      generator on CPU 1
#   --recovery         ringcast alone: with connection state recovery on (`ringcast-rec`:
#                      every broadcast gets an offset and is logged) against off; written to
#                      docs/BENCHMARKS-recovery.md
#   --sharded          ringcast alone, fanout-2node alone: classic pub/sub (`ringcast`) against
#                      Redis 7 sharded pub/sub (`ringcast-sharded`: --cluster-mode sharded, dynamic
#                      subscriptions); the table only, no doc written
#   --busy-poll        the generator spins instead of sleeping in epoll_wait (no wake-up latency
#                      on its side; its CPU figure then reads 100 %)
#   --no-build         use the binaries and peers already built
#   --no-doc           do not write docs/BENCHMARKS.md
#   --out DIR          where results go (default: bench-results/<timestamp>)
#   --profile LIST     after the measured runs, run these one-node scenarios again against every
#                      target with `perf record` and `perf stat` (socket tracepoints) attached to
#                      the server; docs/BENCHMARKS.md gets "Where the time goes" (kernel share,
#                      operations per send, top user-space symbols). The profiled pass runs the
#                      `profiling` build (the release one is stripped) and is never mixed into
#                      the results table (perf's sampling costs the server a little).
# Loopback only. Do not run while other heavy work shares the machine: the numbers would be noise.
# Every process started here is stopped by its pid, on exit too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scenarios=fanout-1k,fanout-5k,fanout-19k,latency,connect-storm,reqresp,polling,fanout-2node
targets=ringcast,socketioxide,node,python
readers=epoll,tokio repeat_latency=1
duration="" clients="" build=1 doc=1 workers2=0 recovery=0 sharded=0 out="" busy_poll=0 profile=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) scenarios=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --quick) duration=${duration:-2}; clients=${clients:-200}; doc=0; shift ;;
    --workers2) workers2=1; shift ;;
    --recovery) recovery=1; shift ;;
    --sharded) sharded=1; shift ;;
    --busy-poll) busy_poll=1; shift ;;
    --no-build) build=0; shift ;;
    --no-doc) doc=0; shift ;;
    --out) out=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --readers) readers=$2; shift 2 ;;
    --repeat-latency) repeat_latency=$2; shift 2 ;;
    -h|--help) sed -n '2,53p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$workers2" = 1 ]; then
  targets=ringcast,ringcast-w2
  if [[ ",$scenarios," == *,fanout-2node,* ]]; then
    echo "compare.sh: skipping fanout-2node under --workers2 (its two nodes already take both cores)" >&2
    scenarios=$(tr ',' '\n' <<<"$scenarios" | grep -vx fanout-2node | paste -sd, -)
  fi
fi
if [ "$recovery" = 1 ]; then
  targets=ringcast,ringcast-rec
fi
if [ "$sharded" = 1 ]; then
  # Issue #15's comparison: the same two-node fan-out over PUBLISH/PSUBSCRIBE and over
  # SPUBLISH/SSUBSCRIBE. It has no target of its own to check, so no page is written.
  targets=ringcast,ringcast-sharded scenarios=fanout-2node doc=0
fi
for r in ${readers//,/ }; do
  case "$r" in epoll|tokio) ;; *) echo "compare.sh: unknown reader $r (epoll, tokio)" >&2; exit 2 ;; esac
done
case "$repeat_latency" in ''|*[!0-9]*|0) echo "compare.sh: --repeat-latency needs a count ≥ 1" >&2; exit 2 ;; esac
# Every server inherits this shell's open-files limit: fanout-19k holds 19 000 connections in
# one server process (and 19 000 + ~100 sockets in the generator), so the soft limit goes up to
# the hard one (20 000 on the reference machine).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ ",$scenarios," == *,fanout-19k,* ]] && [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 19200 ]; then
  echo "compare.sh: warning: open-files limit $(ulimit -n) is below the ~19 200 fanout-19k needs per process" >&2
fi
out=${out:-bench-results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
profiles="$out/profile.jsonl"
: > "$profiles"
if [ -n "$profile" ]; then
  if [[ ",$profile," == *,fanout-2node,* ]]; then
    echo "compare.sh: --profile takes one-node scenarios only" >&2
    exit 2
  fi
  if ! command -v perf >/dev/null; then
    echo "compare.sh: --profile needs perf (Debian: apt-get install linux-perf)" >&2
    exit 1
  fi
fi

# Shared by every target: HS256 needs a 32-byte secret in ringcast (RFC 7518 §3.2), and its API
# keys 16+ characters. Drawn per run: ringcast refuses any secret printed in its docs, and the
# results record these command lines. base64 of 32 bytes is 44 characters, one line.
SECRET=$(head -c 32 /dev/urandom | base64)
API_KEY=$(head -c 24 /dev/urandom | base64)
LOADGEN=$root/target/release/loadgen
RINGCAST=$root/target/release/ringcast
SIOX=$root/benches/peers/socketioxide/target/release/ringcast-peer-socketioxide
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}
# The targets with a Redis mode (the two-node scenario's).
two_node_target() { case "$1" in ringcast|ringcast-sharded|socketioxide|node) return 0 ;; *) return 1 ;; esac; }
if [[ ",$scenarios," == *,fanout-2node,* ]]; then
  for t in ${targets//,/ }; do
    two_node_target "$t" || continue
    for bin in "$REDIS_SERVER" "$REDIS_CLI"; do
      if [ ! -x "$bin" ]; then
        echo "compare.sh: fanout-2node needs $bin (Debian: apt-get install redis-server), or drop it: --scenarios ..." >&2
        exit 1
      fi
    done
    break
  done
fi
ncpu=$(nproc)
if [ "$ncpu" -lt 2 ]; then
  echo "compare.sh: needs 2 CPUs (server on CPU 0, generator on CPU 1); this machine has $ncpu" >&2
  exit 1
fi

say() { printf '\n==> %s\n' "$*" >&2; }

if [ "$build" = 1 ]; then
  say "build ringcast and the load generator (release)"
  cargo build --release --locked -p ringcast -p ringcast-loadgen
  [ -n "$profile" ] && cargo build --profile profiling --locked -p ringcast
  peers=()
  for t in ${targets//,/ }; do
    case "$t" in node|python|socketioxide) peers+=("$t") ;; esac
  done
  if [ ${#peers[@]} -gt 0 ]; then
    say "install peers: ${peers[*]}"
    bash benches/peers/install.sh "${peers[@]}"
  fi
fi

# The server command for a target; $1 target, $2 port, $3 (optional) the Redis URL to cluster over.
server_cmd() {
  local c
  c=$(server_cmd_alone "$1" "$2") || return 1
  [ -n "${3:-}" ] && c+=" --redis-url $3"
  echo "$c"
}

server_cmd_alone() {
  local listen=127.0.0.1:$2
  case "$1" in
    ringcast|ringcast-w2|ringcast-rec|ringcast-sharded)
      local workers=1 extra=""
      [ "$1" = ringcast-w2 ] && workers=2
      [ "$1" = ringcast-rec ] && extra=" --recovery true"
      [ "$1" = ringcast-sharded ] && extra=" --cluster-mode sharded"
      # The per-IP connection cap (1 000) and the per-socket event rate limit (100/s) protect a
      # deployment from one client; every benchmark client comes from 127.0.0.1 and the
      # heartbeat loop is the load, so both are lifted (the peers have neither).
      echo "$RINGCAST --listen $listen --workers $workers --path /ws/ --jwt-secret $SECRET --api-key $API_KEY \
        --max-connections-per-ip 100000 --event-rate-per-sec 1000000 --event-rate-burst 1000000 \
        --log-level warn --metrics false$extra"
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

# Everything started for the current run, in start order; stopped last-first (the nodes before
# their Redis), each by its pid.
pids=()
last_pid=""
stop_all() {
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_all EXIT

# launch CPUS LOG CMD...: starts CMD pinned to CPUS, output to LOG; its pid in last_pid.
launch() {
  local cpus=$1 log=$2
  shift 2
  taskset -c "$cpus" "$@" > "$log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}

# wait_log PID LOG PATTERN: until LOG has PATTERN (0), or PID died or 30 s passed (1).
wait_log() {
  for _ in $(seq 300); do
    grep -q "$3" "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# wait_subscribers PORT N: until N connections of the Redis on PORT have subscribed to a channel
# or pattern (each node's adapter: ready to hear the other node), at most 10 s.
wait_subscribers() {
  local n
  for _ in $(seq 100); do
    n=$("$REDIS_CLI" -p "$1" client list 2>/dev/null | grep -cE ' (sub|psub|ssub)=[1-9]' || true)
    [ "${n:-0}" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# not_started WHAT LOG: says which process did not come up, with its log's tail.
not_started() {
  echo "compare.sh: $1 did not start; its log:" >&2
  tail -5 "$2" >&2
}

commands=()
# Below the ephemeral range (32768+): the generator leaves thousands of client ports in
# TIME_WAIT, and a listener cannot bind a port one of them holds.
port=$((20000 + RANDOM % 8000))
listening="listening on http://"
# The reader personalities a scenario runs with: every one asked for in the fan-out and latency
# scenarios, epoll alone elsewhere (polling and reqresp need it; connect-storm reads nothing).
readers_for() {
  case "$1" in
    fanout-1k|fanout-5k|fanout-19k|latency|fanout-2node) echo "$readers" ;;
    *) echo epoll ;;
  esac
}

# run_pass PASS SCENARIOS: every scenario against every target, once per reader (and
# --repeat-latency times for latency). PASS "measure" appends to the results; PASS "profile"
# attaches perf to the (one-node) server, epoll reader only, and appends a summary line per run
# to $profiles.
run_pass() {
  local pass=$1 sc t json reader rep reps rlist
  for sc in ${2//,/ }; do
    rlist=$(readers_for "$sc")
    reps=1
    if [ "$pass" = profile ]; then
      rlist=epoll
    elif [ "$sc" = latency ]; then
      reps=$repeat_latency
    fi
    for reader in ${rlist//,/ }; do
    for rep in $(seq "$reps"); do
    for t in ${targets//,/ }; do
      port=$((port + 1))
      tag="$sc.$t.$reader"
      [ "$reps" -gt 1 ] && tag+=".run$rep"
      if [ "$sc" != fanout-2node ]; then
        cmd=$(server_cmd "$t" "$port")
        log="$out/$tag.server.log"
        say "$sc against $t, $reader reader$([ "$reps" -gt 1 ] && echo ", run $rep of $reps") (port $port)"
        # shellcheck disable=SC2086 # the command is a word list by construction
        launch "$(server_cpus "$t")" "$log" $cmd
        if ! wait_log "$last_pid" "$log" "$listening"; then
          not_started "$t" "$log"
          stop_all
          continue
        fi
        gen_to=(--addr "127.0.0.1:$port" --server-pid "$last_pid")
        commands+=("taskset -c $(server_cpus "$t") ${cmd//$root\//} &")
      else
        if ! two_node_target "$t"; then
          echo "compare.sh: skipping fanout-2node against $t: its peer has no Redis mode (ringcast, socketioxide, node have)" >&2
          continue
        fi
        # One fresh Redis per target run, then node A (receivers, CPU 0) and node B (publisher,
        # CPU 1, beside Redis and the generator) of the same target, clustered over it.
        redis_port=$port a_port=$((port + 1)) b_port=$((port + 2))
        port=$b_port
        redis_url=redis://127.0.0.1:$redis_port/
        say "$sc against $t, $reader reader (Redis $redis_port, node A $a_port, node B $b_port)"
        redis=("$REDIS_SERVER" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no)
        launch 1 "$out/$tag.redis.log" "${redis[@]}"
        if ! wait_log "$last_pid" "$out/$tag.redis.log" "Ready to accept connections"; then
          not_started "redis-server" "$out/$tag.redis.log"
          stop_all
          continue
        fi
        cmd_a=$(server_cmd "$t" "$a_port" "$redis_url")
        cmd_b=$(server_cmd "$t" "$b_port" "$redis_url")
        # shellcheck disable=SC2086 # the commands are word lists by construction
        launch 0 "$out/$tag.a.server.log" $cmd_a
        pid_a=$last_pid
        # shellcheck disable=SC2086
        launch 1 "$out/$tag.b.server.log" $cmd_b
        pid_b=$last_pid
        up=1
        wait_log "$pid_a" "$out/$tag.a.server.log" "$listening" || { up=0; not_started "$t node A" "$out/$tag.a.server.log"; }
        wait_log "$pid_b" "$out/$tag.b.server.log" "$listening" || { up=0; not_started "$t node B" "$out/$tag.b.server.log"; }
        if [ "$up" = 1 ] && ! wait_subscribers "$redis_port" 2; then
          up=0
          echo "compare.sh: $t: the two nodes did not both subscribe on Redis within 10 s" >&2
        fi
        if [ "$up" != 1 ]; then
          stop_all
          continue
        fi
        gen_to=(--addr "127.0.0.1:$a_port" --publish-addr "127.0.0.1:$b_port" --server-pid "$pid_a,$pid_b")
        commands+=("taskset -c 1 redis-server --port $redis_port --bind 127.0.0.1 --save '' --appendonly no &"
          "taskset -c 0 ${cmd_a//$root\//} &" "taskset -c 1 ${cmd_b//$root\//} &")
      fi
      json=$results
      [ "$pass" = profile ] && { json="$out/profile.$sc.$t.json"; : > "$json"; }
      gen=(taskset -c "$(gen_cpus "$t")" "$LOADGEN" "${gen_to[@]}" --path /ws/
        --jwt-secret "$SECRET" --api-key "$API_KEY"
        --target-name "$t" --scenario "$sc" --reader "$reader" --json "$json")
      [ -n "$duration" ] && gen+=(--duration "$duration")
      [ -n "$clients" ] && gen+=(--clients "$clients")
      [ "$busy_poll" = 1 ] && gen+=(--busy-poll)
      if [ "$pass" = profile ]; then
        profile_run "$sc" "$t" "$last_pid" "$json" "${gen[@]}"
      else
        "${gen[@]}" || echo "compare.sh: the generator reported a failure for $sc / $t ($reader reader)" >&2
        commands+=("${gen[*]//$root\//}")
      fi
      stop_all
    done
    done
    done
  done
}

# profile_run SC T PID JSON GEN...: GEN with `perf record` (499 Hz, no call graphs: cheap) and
# `perf stat` of the socket tracepoints attached to PID, then its summary into $profiles.
profile_run() {
  local sc=$1 t=$2 pid=$3 json=$4 base rec st
  shift 4
  base="$out/profile.$sc.$t"
  perf record -q -F 499 -p "$pid" -o "$base.data" 2>/dev/null &
  rec=$!
  perf stat -x, -e sock:sock_send_length,sock:sock_recv_length -p "$pid" -o "$base.stat" 2>/dev/null &
  st=$!
  "$@" > /dev/null || echo "compare.sh: the generator reported a failure for $sc / $t (profiled)" >&2
  kill -INT "$rec" "$st" 2>/dev/null || true
  wait "$rec" "$st" 2>/dev/null || true
  python3 benches/perf_summary.py --target "$t" --scenario "$sc" --record "$base.data" \
    --stat "$base.stat" --result "$json" >> "$profiles" \
    || echo "compare.sh: no profile summary for $sc / $t" >&2
  rm -f "$base.data"
}

run_pass measure "$scenarios"
if [ -n "$profile" ]; then
  say "profiled pass: $profile"
  # The release binary is stripped: perf needs the `profiling` profile's symbols.
  RINGCAST=$root/target/profiling/ringcast
  run_pass profile "$profile"
fi

base=ringcast
[ "$workers2" = 1 ] && base=ringcast-w2
[ "$recovery" = 1 ] && base=ringcast-rec
meta="$out/meta.json"
placement="server pinned to CPU 0 (taskset -c 0), generator to CPU 1 (taskset -c 1)"
[ "$workers2" = 1 ] && placement="ringcast --workers 2 on CPUs 0-1 with the generator sharing CPUs 0-1 (no free core on a 2-core machine); ringcast --workers 1 on CPU 0 with the generator on CPU 1"
if [[ ",$scenarios," == *,fanout-2node,* ]]; then
  placement+="; fanout-2node: node A pinned to CPU 0, node B, redis-server and the generator to CPU 1"
fi
redis_version=$("$REDIS_SERVER" --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p' || true)
lock_version() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$2"; }
# The doc shows the run's random secret and key as variables: a literal secret printed in the docs
# is refused at start (src/config/known_secrets.rs), and these are throwaway values anyway.
shown=()
for c in "${commands[@]}"; do
  c=${c//"$SECRET"/'$SECRET'}
  shown+=("${c//"$API_KEY"/'$API_KEY'}")
done
python3 - "$meta" "$placement" "${shown[@]}" <<PY
import json, subprocess, sys, datetime
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return "?"
def npm(name):
    return sh(f"node -p \"require('$root/benches/peers/node/package-lock.json').packages['node_modules/{name}'].version\"")
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
        "socketioxide": "$(lock_version socketioxide benches/peers/socketioxide/Cargo.lock) (axum $(lock_version axum benches/peers/socketioxide/Cargo.lock), tokio $(lock_version tokio benches/peers/socketioxide/Cargo.lock)); fanout-2node: socketioxide-redis $(lock_version socketioxide-redis benches/peers/socketioxide/Cargo.lock) (redis crate $(lock_version redis benches/peers/socketioxide/Cargo.lock))",
        "node": sh("node --version") + ", socket.io " + npm("socket.io") + "; fanout-2node: @socket.io/redis-adapter " + npm("@socket.io/redis-adapter") + ", redis " + npm("redis"),
        "redis-server": "${redis_version:-not installed}",
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
  doc_path=docs/BENCHMARKS.md
  [ "$workers2" = 1 ] && doc_path=docs/BENCHMARKS-workers2.md
  # A recovery run compares ringcast with itself: its own page, never the main one.
  [ "$recovery" = 1 ] && doc_path=docs/BENCHMARKS-recovery.md
  doc_args=(--meta "$meta" --doc "$doc_path")
  [ "$workers2$recovery" = 00 ] && [ -f benches/analysis.md ] && doc_args+=(--analysis benches/analysis.md)
fi
[ -s "$profiles" ] && doc_args+=(--profile "$profiles")
python3 benches/report.py "$results" --base "$base" --targets "$targets" "${doc_args[@]}"
[ "$doc" = 1 ] && say "wrote $doc_path"
exit 0
