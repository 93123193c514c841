#!/usr/bin/env python3
"""One profiled server run → one JSON line: where its CPU went and what it asked of the kernel.

    perf_summary.py --target T --scenario S --record perf.data --stat stat.txt \
        --result result.json >> profile.jsonl

--record is a `perf record -p PID` of the server for the run, --stat a `perf stat -x,` of the
socket tracepoints (sock:sock_send_length, sock:sock_recv_length) over the same span, --result the
generator's JSON line for the run (its `count`: deliveries, acks or connects). The counts cover
the whole span perf was attached (connect phase included), so per-operation figures are
approximate for scenarios whose set-up is a large part of the run; they are for explaining
the benchmark table, not for quoting as results.
"""

import argparse
import json
import subprocess
import sys


def perf_report(record, *args):
    out = subprocess.run(
        ["perf", "report", "-i", record, "--no-children", "--stdio", "-g", "none",
         "--percent-limit", "0.5", *args],
        capture_output=True, text=True, timeout=300,
    ).stdout
    rows = []
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "%" not in line:
            continue
        pct, _, rest = line.partition("%")
        try:
            rows.append((float(pct), rest.strip()))
        except ValueError:
            continue
    return rows


def kernel_share(record):
    # `--sort dso`: "[kernel.kallsyms]" is the kernel, everything else user space (the binary,
    # libc, node, libpython, the vdso).
    return sum(p for p, dso in perf_report(record, "--sort", "dso") if "kernel" in dso)


def top_user_symbols(record, n=6):
    rows = perf_report(record, "--sort", "symbol")
    user = [(p, s.replace("[.]", "").strip().split("  ")[0]) for p, s in rows if s.startswith("[.]")]
    return [{"pct": round(p, 1), "symbol": s[:110]} for p, s in user[:n]]


def stat_counts(path):
    counts = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            # perf stat -x, : value,unit,event,...
            if len(parts) >= 3 and parts[0].replace(".", "", 1).isdigit():
                counts[parts[2]] = float(parts[0])
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--stat", required=True)
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    with open(a.result) as f:
        result = json.loads(f.read().strip().splitlines()[-1])
    ops = result.get("count") or 0
    counts = stat_counts(a.stat)
    sends = counts.get("sock:sock_send_length", 0)
    recvs = counts.get("sock:sock_recv_length", 0)
    cpu_s = result.get("server_cpu_s") or 0
    summary = {
        "target": a.target,
        "scenario": a.scenario,
        "unit": result.get("unit"),
        "ops": ops,
        "server_cpu_s": cpu_s,
        "kernel_pct": round(kernel_share(a.record), 1),
        "sends": int(sends),
        "recvs": int(recvs),
        "ops_per_send": round(ops / sends, 2) if sends else None,
        "recvs_per_op": round(recvs / ops, 2) if ops else None,
        "cpu_us_per_op": round(cpu_s * 1e6 / ops, 3) if ops else None,
        "top_user": top_user_symbols(a.record),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
