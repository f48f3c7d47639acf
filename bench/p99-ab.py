#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""POST -> first instruction on four daemons at once: schedd and the floor,
each once empty and once with N `sleep 3600` jobs, probed in turn in short
batches (BATCH samples, the order rotating every turn) so that whatever
else the machine does falls on all four alike. NICE=-20 runs the daemons,
their jobs and the probe at that nice value (other tenants' work then
yields to them). DAEMONS=LABEL=schedd:BINARY,LABEL=floor,... sets the
daemons instead (each once empty, once loaded; N=0: only empty). usage: N=6000 TURNS=20
BATCH=20 BENCH_BUILDDIR=build p99-ab.py

The first sample of each batch is counted apart (LABEL.TAG.first): after
the pause between batches the kernel's rcu_sync of cgroup migrations has
gone idle, and the first cgroup.procs write waits for a whole RCU grace
period (synchronize_rcu in percpu_down_write), so it would put one sample
in BATCH at the grace period's length, whatever the daemon does."""
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib  # noqa: E402
P = importlib.import_module("p99")

TURNS = int(os.environ.get("TURNS", "20"))
BATCH = os.environ.get("BATCH", "20")
NICE = int(os.environ.get("NICE", "0"))


def main():
    if NICE:
        os.nice(NICE)
    ds = []
    kinds = []
    for spec in os.environ.get("DAEMONS", "schedd=schedd,floor=floor").split(
            ","):
        label, kind = spec.split("=", 1)
        who, _, binary = kind.partition(":")
        kinds.append((label, who, binary or None))
    try:
        tags = ("empty", "loaded") if P.N > 0 else ("empty",)
        for label, who, binary in kinds:
            for tag in tags:
                d = tempfile.mkdtemp(prefix="p99ab.%s." % who, dir="/var/tmp")
                p, sock = P.start(who, d, binary)
                ds.append((who, tag, d, p, sock, label))
                P.run([P.B + "/schedd-bench", "spawn", "-s", sock, "-n",
                       "1000", "-c", "2", "--", P.B + "/true-static"])
        for who, tag, d, p, sock, label in ds:
            if tag == "loaded":
                P.run([P.B + "/schedd-bench", "create", "-s", sock, "-n",
                       str(P.N), "-c", "8", "--", "/usr/bin/sleep", "3600"],
                      timeout=1200)
        time.sleep(2)
        res = {}
        for t in range(TURNS):
            k = t % len(ds)
            for who, tag, d, p, sock, label in ds[k:] + ds[:k]:
                probe = [P.B + "/schedd-bench", "latency", "-s", sock, "-n",
                         BATCH]
                if who == "floor":
                    probe += ["-o", d + "/stamps"]
                probe += ["--", P.B + "/stamp-static"]
                v = P.parse(P.run(probe))
                xs = v["create_to_exec_us"]
                res.setdefault("%s.%s.first" % (label, tag), []).append(xs[0])
                res.setdefault("%s.%s" % (label, tag), []).extend(xs[1:])
        print("POST -> first instruction, us; N=%d, %d turns of %s, nice %d"
              % (P.N, TURNS, BATCH, NICE))
        print("%-22s %7s %7s %7s %7s %7s %7s %5s" % (
            "", "p50", "p90", "p95", "p98", "p99", "max", "n"))
        for k in sorted(res):
            xs = res[k]
            print("%-22s %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f %5d" % (
                k, P.pct(xs, .5), P.pct(xs, .9), P.pct(xs, .95),
                P.pct(xs, .98), P.pct(xs, .99), max(xs), len(xs)))
        for label, who, binary in kinds if P.N > 0 else ():
            e, lo = res[label + ".empty"], res[label + ".loaded"]
            print("%s loaded/empty: p50 x%.2f p99 x%.2f" % (
                label, P.pct(lo, .5) / P.pct(e, .5),
                P.pct(lo, .99) / P.pct(e, .99)))
    finally:
        for who, tag, d, p, sock, label in ds:
            p.terminate()
        for who, tag, d, p, sock, label in ds:
            P.stop(who, p, d)


if __name__ == "__main__":
    main()
