#!/usr/bin/env python3
"""Turns the load generator's JSON lines into the comparison table (stdout) and, with --doc,
into docs/BENCHMARKS.md. Standard library only; called by benches/compare.sh.

    report.py RESULTS.jsonl --base ringcast [--meta META.json --doc docs/BENCHMARKS.md]

Ratios say how many times better the base target is than each other one: throughput is
base / peer, latency and memory are peer / base. So > 1 always favours the base.

A row group per (scenario, reader): the generator's two reader personalities (epoll, tokio) are
reported side by side. Several lines for one (scenario, reader, target) are repeats (compare.sh
--repeat-latency): the table shows their median, and each run's p99 on a row of its own.
"""

import argparse
import json
import statistics
import sys

# (key in the JSON line, label, higher_is_better, format)
# What a broadcast costs on the wire and in the generator (benches/loadgen/src/segments.rs):
# deliveries per server data segment (ss tcp_info over the measured window), the receivers' pure
# ACKs, and the generator's CPU per delivery (a saturated generator shows here first).
SEGMENTS = [
    ("deliveries_per_segment", "deliveries per TCP segment", True, "{:,.2f}"),
    ("client_acks", "client pure ACKs", None, "{:,.0f}"),
    ("gen_cpu_per_delivery_us", "generator CPU µs per delivery", None, "{:,.2f}"),
]
BROADCAST = [
    ("per_server_cpu_s", "deliveries per server CPU-s", True, "{:,.0f}"),
    ("rate_per_s", "deliveries/s", True, "{:,.0f}"),
    ("p50_us", "latency p50 (µs)", False, "{:,.0f}"),
    ("p99_us", "latency p99 (µs)", False, "{:,.0f}"),
    ("p999_us", "latency p99.9 (µs)", False, "{:,.0f}"),
] + SEGMENTS
METRICS = {
    "fanout-1k": BROADCAST,
    "fanout-19k": BROADCAST + [("kib_per_conn", "server KiB per idle connection", False, "{:,.1f}")],
    # Server CPU is node A + node B (the generator sums both processes).
    "fanout-2node": BROADCAST
    + [("server_cpu_util_each", "server CPU per node (A + B)", None, lambda v: " + ".join(f"{x:.2f}" for x in v))],
    "fanout-5k": BROADCAST,
    "polling": BROADCAST,
    "latency": [
        ("p50_us", "latency p50 (µs)", False, "{:,.0f}"),
        ("p99_us", "latency p99 (µs)", False, "{:,.0f}"),
        ("p999_us", "latency p99.9 (µs)", False, "{:,.0f}"),
        ("per_server_cpu_s", "deliveries per server CPU-s", True, "{:,.0f}"),
        ("rate_per_s", "deliveries/s", True, "{:,.0f}"),
    ] + SEGMENTS,
    "connect-storm": [
        ("rate_per_s", "connects/s", True, "{:,.0f}"),
        ("per_server_cpu_s", "connects per server CPU-s", True, "{:,.0f}"),
        ("p50_us", "connect p50 (µs)", False, "{:,.0f}"),
        ("p99_us", "connect p99 (µs)", False, "{:,.0f}"),
        ("p999_us", "connect p99.9 (µs)", False, "{:,.0f}"),
        ("kib_per_conn", "server KiB per connection", False, "{:,.1f}"),
    ],
    "reqresp": [
        ("rate_per_s", "acks/s", True, "{:,.0f}"),
        ("per_server_cpu_s", "acks per server CPU-s", True, "{:,.0f}"),
        ("p50_us", "latency p50 (µs)", False, "{:,.0f}"),
        ("p99_us", "latency p99 (µs)", False, "{:,.0f}"),
        ("p999_us", "latency p99.9 (µs)", False, "{:,.0f}"),
    ],
}
COMMON = [
    ("server_cpu_util", "server CPU (cores busy)", None, "{:.2f}"),
    ("gen_util", "generator CPU (share of its cores)", None, "{:.0%}"),
]
ORDER = ["fanout-1k", "fanout-5k", "fanout-19k", "latency", "connect-storm", "reqresp", "polling",
         "fanout-2node"]
READERS = ["epoll", "tokio"]


def load(path):
    """{(scenario, reader, target): [run, ...]} in file order."""
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            # The generator's CPU is counted over connect + measured phase, like its wall time.
            total = (r.get("connect_s") or 0) + (r.get("phase_s") or 0)
            if r.get("gen_cpu_s") is not None and total > 0 and r.get("gen_cores"):
                r["gen_util"] = r["gen_cpu_s"] / total / r["gen_cores"]
            # Lines written before the tokio reader existed are the epoll reader's.
            r.setdefault("reader", "epoll")
            runs.setdefault((r["scenario"], r["reader"], r["target"]), []).append(r)
    return runs


def median_run(rs):
    """One run standing for several repeats: each numeric field's median, the rest from the
    last run."""
    if len(rs) == 1:
        return rs[0]
    out = dict(rs[-1])
    for k, v in rs[-1].items():
        vals = [r.get(k) for r in rs]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and all(
            isinstance(x, (int, float)) for x in vals
        ):
            out[k] = statistics.median(vals)
    out["repeats"] = len(rs)
    return out


def merged(runs):
    """{(scenario, reader, target): one run} (repeats as their median)."""
    return {k: median_run(v) for k, v in runs.items()}


def problems(r):
    """Why a run's numbers deserve a footnote, or None."""
    notes = []
    if r.get("failed"):
        notes.append(f"{r['failed']} of {r['clients']} clients failed to connect")
    if r.get("dropped"):
        notes.append(f"{r['dropped']} sessions dropped by the server")
    exp, got = r.get("expected"), r.get("count")
    if exp is not None and got is not None and got < exp:
        # Two nodes: node B counts none of node A's sockets, so expected = publishes × receivers.
        whose = "expected (publishes × receivers)" if r.get("topology") == "two nodes" else "the server reported"
        notes.append(f"received {got:,} of {exp:,} deliveries {whose}")
    if r.get("publish_failures"):
        notes.append(f"{r['publish_failures']} publishes failed")
    if r.get("errors"):
        notes.append("errors: " + "; ".join(r["errors"][:2]))
    return "; ".join(notes) or None


def fmt(v, f):
    if v is None:
        return "–"
    return f(v) if callable(f) else f.format(v)


def groups(runs, targets):
    """(scenario, reader) pairs in report order."""
    scenarios = [sc for sc in ORDER if any(k[0] == sc and k[2] in targets for k in runs)]
    scenarios += sorted({k[0] for k in runs} - set(scenarios))
    out = []
    for sc in scenarios:
        readers = {k[1] for k in runs if k[0] == sc}
        out += [(sc, rd) for rd in READERS if rd in readers]
        out += [(sc, rd) for rd in sorted(readers - set(READERS))]
    return out


def table(all_runs, base, targets):
    runs = merged(all_runs)
    others = [t for t in targets if t != base]
    head = ["scenario", "reader", "metric"] + targets + [f"{base} vs {t}" for t in others]
    rows, notes = [], []
    for sc, rd in groups(runs, targets):
        for t in targets:
            for i, r in enumerate(all_runs.get((sc, rd, t), [])):
                p = problems(r)
                if p:
                    run = f" run {i + 1}" if len(all_runs[(sc, rd, t)]) > 1 else ""
                    notes.append(f"{sc} / {rd} reader / {t}{run}: {p}")
        first = True
        for key, label, higher, f in METRICS.get(sc, BROADCAST) + COMMON:
            vals = [runs.get((sc, rd, t), {}).get(key) for t in targets]
            if all(v is None for v in vals):
                continue
            repeats = max((runs.get((sc, rd, t), {}).get("repeats", 1) for t in targets), default=1)
            reader = f"{rd}, median of {repeats} runs" if repeats > 1 else rd
            row = [sc if first else "", reader if first else "", label] + [fmt(v, f) for v in vals]
            first = False
            b = runs.get((sc, rd, base), {}).get(key)
            for t in others:
                o = runs.get((sc, rd, t), {}).get(key)
                if higher is None or not b or not o:
                    row.append("")
                else:
                    row.append(f"{(b / o if higher else o / b):.2f}×")
            rows.append(row)
        # Repeated runs: every run's p99, in run order.
        per_run = [[r.get("p99_us") for r in all_runs.get((sc, rd, t), [])] for t in targets]
        if any(len(v) > 1 for v in per_run):
            cells = [" / ".join(fmt(x, "{:,.0f}") for x in v) if v else "–" for v in per_run]
            rows.append(["", "", "latency p99 per run (µs)"] + cells + [""] * len(others))
    return head, rows, notes


def markdown(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def plain(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) if i > 2 else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths)))
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


# The performance issue's targets: (label, scenario, key, peer, how the base must compare).
# `at_least` is a ratio in the base's favour (throughput base/peer, latency and memory peer/base).
# Each run kind has its own base (see TARGETS_BY_BASE), so one kind's rows never show in another's.
TARGETS = [
    # Issue #12's targets (ratios against socketioxide in the same run), per reader.
    ("fan-out deliveries per server CPU-second ≥ 3× socketioxide (1 000 clients)",
     "fanout-1k", "per_server_cpu_s", "socketioxide", 3.0),
    ("fan-out deliveries per server CPU-second ≥ 3× socketioxide (5 000 clients)",
     "fanout-5k", "per_server_cpu_s", "socketioxide", 3.0),
    ("delivered/s ≥ 1.5× socketioxide when the generator is the limit (1 000 clients)",
     "fanout-1k", "rate_per_s", "socketioxide", 1.5),
    ("deliveries per TCP segment ≥ socketioxide's (1 000 clients)",
     "fanout-1k", "deliveries_per_segment", "socketioxide", 1.0),
    ("deliveries per TCP segment ≥ socketioxide's (5 000 clients)",
     "fanout-5k", "deliveries_per_segment", "socketioxide", 1.0),
    ("p99 latency at 10 k deliveries/s ≤ ½ of socketioxide's",
     "latency", "p99_us", "socketioxide", 2.0),
    ("heartbeat acks per server CPU-second ≥ 3× socketioxide",
     "reqresp", "per_server_cpu_s", "socketioxide", 3.0),
    ("connects per server CPU-second ≥ 3× socketioxide",
     "connect-storm", "per_server_cpu_s", "socketioxide", 3.0),
]
# A --workers2 run (base ringcast-w2). On a 2-core machine the generator has no core
# of its own when ringcast takes both, so deliveries/s understates 2 workers; the second row
# is the capacity test: each of 2 workers' cores must do ≥ 0.85 of what one worker's core
# does, so 2 cores deliver ≥ 1.7× one.
WORKERS2_TARGETS = [
    ("2 workers on 2 cores deliver ≥ 1.7× one worker (deliveries/s, generator sharing the cores)",
     "fanout-1k", "rate_per_s", "ringcast", 1.7),
    ("2 workers' deliveries per server CPU-second ≥ 0.85× one worker's (capacity ≥ 1.7× on 2 cores)",
     "fanout-1k", "per_server_cpu_s", "ringcast", 0.85),
    ("2 workers on 2 cores deliver ≥ 1.7× one worker, 5 000 clients (deliveries/s)",
     "fanout-5k", "rate_per_s", "ringcast", 1.7),
    ("2 workers' deliveries per server CPU-second ≥ 0.85× one worker's, 5 000 clients (capacity)",
     "fanout-5k", "per_server_cpu_s", "ringcast", 0.85),
]
# A --recovery run (base ringcast-rec): issue #13 allows connection state recovery (an offset per
# broadcast, the event logged) to cost at most 10 % of fan-out efficiency.
RECOVERY_TARGETS = [
    ("recovery on: fan-out deliveries per server CPU-second ≥ 0.9× recovery off (1 000 clients)",
     "fanout-1k", "per_server_cpu_s", "ringcast", 0.9),
    ("recovery on: fan-out deliveries per server CPU-second ≥ 0.9× recovery off (5 000 clients)",
     "fanout-5k", "per_server_cpu_s", "ringcast", 0.9),
]
TARGETS_BY_BASE = {
    "ringcast": TARGETS,
    "ringcast-w2": WORKERS2_TARGETS,
    "ringcast-rec": RECOVERY_TARGETS,
}
LOWER_IS_BETTER = {"kib_per_conn", "p99_us"}


def targets_table(runs, base):
    """Rows (target, reader, ratio this run, met?) for the targets this run has both sides of,
    once per reader that measured both (repeats as their median)."""
    runs = merged(runs)
    rows = []
    for label, sc, key, peer, need in TARGETS_BY_BASE.get(base, []):
        for rd in READERS:
            b = runs.get((sc, rd, base), {}).get(key)
            o = runs.get((sc, rd, peer), {}).get(key)
            if peer == base or not b or not o:
                continue
            ratio = o / b if key in LOWER_IS_BETTER else b / o
            verdict = "yes" if ratio >= need else "no"
            rows.append([label, rd, f"{ratio:.2f}× (need {need:g}×)", verdict])
    return rows


def load_profiles(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def profile_rows(profiles):
    rows = []
    for p in profiles:
        top = "; ".join(f"{t['symbol'][:60]} {t['pct']}%" for t in p.get("top_user", [])[:3])
        rows.append([
            p["scenario"], p["target"],
            fmt(p.get("cpu_us_per_op"), "{:.2f}"),
            fmt(p.get("kernel_pct"), "{:.0f}%"),
            fmt(p.get("ops_per_send"), "{:.2f}"),
            fmt(p.get("recvs_per_op"), "{:.2f}"),
            top.replace("|", "\\|"),
        ])
    return rows


def ceilings(profiles, base, peer="socketioxide"):
    """Per scenario: the base's CPU-per-op ratio against `peer` in the profiled pass, and the
    ratio it would reach if the base spent nothing in user space (its kernel time per op
    unchanged): how far work on our own code can move that ratio at all."""
    by = {(p["scenario"], p["target"]): p for p in profiles}
    rows = []
    for (sc, t), b in by.items():
        o = by.get((sc, peer))
        if t != base or not o or not b.get("cpu_us_per_op") or not o.get("cpu_us_per_op"):
            continue
        kernel_us = b["cpu_us_per_op"] * b["kernel_pct"] / 100
        rows.append([
            sc,
            f"{o['cpu_us_per_op'] / b['cpu_us_per_op']:.2f}×",
            f"{kernel_us:.2f}",
            f"{o['cpu_us_per_op'] / kernel_us:.2f}×" if kernel_us else "–",
        ])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--base", default="ringcast")
    ap.add_argument("--targets", default=None, help="comma list, in column order")
    ap.add_argument("--meta", help="JSON with machine, versions, commands (from compare.sh)")
    ap.add_argument("--doc", help="write the Markdown report here")
    ap.add_argument("--profile", help="profile.jsonl from compare.sh --profile")
    ap.add_argument("--analysis", help="a Markdown file appended to the report (hand-written)")
    a = ap.parse_args()
    runs = load(a.results)
    if not runs:
        print("report.py: no results", file=sys.stderr)
        return 1
    seen = []
    for _, _, t in runs:
        if t not in seen:
            seen.append(t)
    targets = a.targets.split(",") if a.targets else seen
    targets = [t for t in targets if t in seen]
    if a.base in targets:
        targets.remove(a.base)
    targets.insert(0, a.base)
    head, rows, notes = table(runs, a.base, targets)
    print(plain(head, rows))
    for n in notes:
        print(f"  note: {n}")
    if a.doc:
        meta = json.load(open(a.meta)) if a.meta else {}
        profiles = load_profiles(a.profile) if a.profile else []
        analysis = open(a.analysis).read() if a.analysis else ""
        write_doc(a.doc, meta, head, rows, notes, a.base, targets_table(runs, a.base), profiles, analysis)
    return 0


def write_doc(path, meta, head, rows, notes, base, goals, profiles, analysis):
    m = meta.get("machine", {})
    lines = [
        "# Benchmarks",
        "",
        "Generated by `benches/compare.sh`; do not edit by hand (rerun it).",
        "Every number is from one run on one machine, every peer measured in the same run.",
        "",
        "## Machine",
        "",
        f"- CPUs (`nproc`): {m.get('nproc', '?')}; model (`lscpu`): {m.get('cpu_model', '?')}",
        f"- Kernel: {m.get('kernel', '?')}",
        f"- Date: {meta.get('date', '?')}",
        f"- Placement: {meta.get('placement', '?')}",
        "",
        "## Versions",
        "",
    ]
    for k, v in meta.get("versions", {}).items():
        lines.append(f"- {k}: {v}")
    lines += [
        "",
        "## Method",
        "",
        "- Generator: `benches/loadgen` (`ringcast-loadgen`) with two reader personalities, reported",
        "  as separate rows. **epoll**: std threads each running an epoll loop over thousands of",
        "  non-blocking sockets, 64 KiB reads, Engine.IO v4 / Socket.IO v5 through `ringcast-codec`",
        "  (masked client frames): a reader that costs little per delivery. **tokio**: one tokio task",
        "  per connection on a multi-thread (work-stealing) runtime with one worker per generator",
        "  core, each a `tokio-tungstenite` stream read one message per `StreamExt::next`, as",
        "  ordinary client code reads: a reader that costs real CPU per read. Same publisher, same",
        "  latency stamps. Fan-out and latency scenarios run with both; connect-storm, reqresp and",
        "  polling with epoll. The generator's CPU per delivery (over the measured phase) is reported",
        "  so a saturated generator is visible.",
        "- TCP segments (broadcasts, over the measured phase): `ss -tin` tcp_info of the sockets on",
        "  the server's port (node A's in fanout-2node), sampled at the start and end. Deliveries per",
        "  TCP segment = deliveries ÷ the server's `data_segs_out` (the publisher's HTTP responses,",
        "  ~1 segment per publish, are included); client pure ACKs = the client sockets' `segs_out −",
        "  data_segs_out`. The JSON lines also carry `/proc/net/snmp` `TcpOutSegs` (system-wide, both",
        "  directions: what `nstat` reports).",
        "- Every server is started fresh for every scenario, pinned with `taskset`, and run until the",
        "  scenario ends; server CPU (utime + stime) and RSS come from `/proc/PID/stat` and",
        "  `/proc/PID/status` around the measured phase.",
        "- fan-out: N WebSocket clients in `dashboard`; a publisher POSTs a 200-byte",
        "  `agent:status_changed` to `/api/v1/emit` on 16 keep-alive connections (16 in flight) for the",
        "  duration, never more than 32 publishes ahead of what the receivers have seen (so queues stay",
        "  bounded and latency is end to end, not queue growth). Latency = receive − the `sent_ns`",
        "  stamped in the payload (one clock: the generator's). deliveries/s = deliveries / (last",
        "  delivery − first publish).",
        "- fanout-19k: fan-out with 19 000 WebSocket clients in one generator process against one",
        "  server process (the open-files hard limit is 20 000 here); KiB per idle connection = (RSS",
        "  1 s after the last connect − RSS before the first) / connections.",
        "- latency: 1 000 clients, 10 publishes/s on a fixed schedule (open loop): 10 000",
        "  deliveries/s. With `--repeat-latency N` each (target, reader) runs N times: the table",
        "  shows the median and each run's p99.",
        "- connect-storm: 10 000 WebSocket connections (upgrade + CONNECT with a JWT each), 64",
        "  handshakes in flight; connect latency = TCP connect start → CONNECT ack. KiB per connection",
        "  = (RSS with everyone connected, 1 s after the last − RSS before the first) / connections.",
        "- reqresp: 100 clients, each a closed loop of `heartbeat` → `heartbeat_ack`.",
        "- polling: 1 000 long-polling clients (no upgrade), same publisher as fan-out.",
        "- fanout-2node: fanout-1k across a two-node cluster of the same server. A fresh `redis-server`",
        "  (no persistence) per target; the 1 000 clients connect to node A, the publisher POSTs to node",
        "  B, so every delivery crosses Redis pub/sub: node B publishes, node A fans out. ringcast and",
        "  Node socket.io speak `@socket.io/redis-adapter`'s protocol (socket.io: that adapter with the",
        "  `redis` client); socketioxide uses `socketioxide-redis` (its own msgpack protocol, `redis`",
        "  crate driver). Python is not run. Placement: node A on CPU 0; node B, Redis and the generator",
        "  share CPU 1 (two cores for four processes: node B's and Redis's work competes with the",
        "  generator's). Server CPU is node A + node B (Redis's not counted), so cores busy can exceed",
        "  1; the expected deliveries are publishes × receivers (node B reports none of its own).",
        "- Ratios: how many times better the first column is: throughput base ÷ peer, latency and",
        "  memory peer ÷ base (> 1 favours the base).",
        "",
        "## Commands",
        "",
        "```sh",
        "SECRET=$(head -c 32 /dev/urandom | base64) API_KEY=$(head -c 24 /dev/urandom | base64)",
    ]
    lines += meta.get("commands", [])
    lines += ["```", "", "## Results", "", markdown(head, rows), ""]
    if notes:
        lines += ["Notes on individual runs:", ""] + [f"- {n}" for n in notes] + [""]
    if goals:
        lines += [
            "## Targets (this run)",
            "",
            markdown(["target", "reader", "ratio", "met?"], goals),
            "",
        ]
        if base == "ringcast":
            lines += [
                "2 workers against 1: `benches/compare.sh --workers2`, reported in",
                "[BENCHMARKS-workers2.md](BENCHMARKS-workers2.md).",
                "",
                "Connection state recovery on against off: `benches/compare.sh --recovery`,",
                "reported in [BENCHMARKS-recovery.md](BENCHMARKS-recovery.md).",
                "",
            ]
    if profiles:
        lines += [
            "## Where the time goes (profiled pass)",
            "",
            "The same scenarios run again with `perf record -F 499` and `perf stat -e",
            "sock:sock_send_length,sock:sock_recv_length` attached to the server (so not part of the",
            "table above). CPU µs per operation is the server's CPU over the measured phase divided by",
            "its deliveries / acks / connects; kernel share is of the server's samples; sends and recv",
            "calls count every `sendmsg`/`recvmsg` the server made (an io_uring recv that finds no data",
            "counts too) over the whole run, connect phase included.",
            "",
            markdown(["scenario", "target", "server CPU µs per op", "kernel share",
                      "ops per send", "recv calls per op", "top user-space symbols (self)"],
                     profile_rows(profiles)),
            "",
        ]
        ceil = ceilings(profiles, base)
        if ceil:
            lines += [
                f"How far work in {base}'s own code can move each per-CPU ratio against socketioxide:",
                f"the ratio in the profiled pass, {base}'s kernel time per operation, and the ratio",
                f"if {base} spent no time at all in user space (kernel time unchanged).",
                "",
                markdown(["scenario", "ratio (profiled pass)", f"{base} kernel µs per op",
                          "ceiling with zero user-space time"], ceil),
                "",
            ]
    if analysis:
        lines += [analysis.rstrip(), ""]
    if meta.get("remarks"):
        lines += ["## Remarks", ""] + [f"- {r}" for r in meta["remarks"]] + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
