#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Does the kernel slow an empty daemon's spawns when N `sleep 3600` jobs
run elsewhere (under another daemon: a floor used only as the loader)?
Empty schedd and empty floor are probed in turn, in CYCLES cycles of: no
jobs anywhere, then N jobs under the loader, which is then stopped.
usage: N=6000 CYCLES=3 TURNS=10 BATCH=20 BENCH_BUILDDIR=build p99-global.py
"""
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib  # noqa: E402
P = importlib.import_module("p99")

CYCLES = int(os.environ.get("CYCLES", "3"))
TURNS = int(os.environ.get("TURNS", "10"))
BATCH = os.environ.get("BATCH", "20")


def kthread_ticks(name):
    """utime + stime (clock ticks) of the kernel threads called name."""
    tot = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        if comm == name:
            f = st[st.rindex(")") + 2:].split()
            tot += int(f[11]) + int(f[12])
    return tot


def probe(ds, res, phase):
    k0, t0 = kthread_ticks("kdamond.0"), time.monotonic()
    probe_(ds, res, phase)
    k1, t1 = kthread_ticks("kdamond.0"), time.monotonic()
    res.setdefault("kdamond." + phase, []).append(
        (k1 - k0) / os.sysconf("SC_CLK_TCK") / (t1 - t0) * 100)


def probe_(ds, res, phase):
    for t in range(TURNS):
        k = t % len(ds)
        for who, d, p, sock in ds[k:] + ds[:k]:
            cmd = [P.B + "/schedd-bench", "latency", "-s", sock, "-n", BATCH]
            if who == "floor":
                cmd += ["-o", d + "/stamps"]
            cmd += ["--", P.B + "/stamp-static"]
            v = P.parse(P.run(cmd))
            res.setdefault("%s.%s" % (who, phase), []).extend(
                v["create_to_exec_us"])


def main():
    ds = []
    res = {}
    try:
        for who in ("schedd", "floor"):
            d = tempfile.mkdtemp(prefix="p99g.%s." % who, dir="/var/tmp")
            p, sock = P.start(who, d)
            ds.append((who, d, p, sock))
            P.run([P.B + "/schedd-bench", "spawn", "-s", sock, "-n", "1000",
                   "-c", "2", "--", P.B + "/true-static"])
        for c in range(CYCLES):
            probe(ds, res, "quiet")
            d = tempfile.mkdtemp(prefix="p99g.loader.", dir="/var/tmp")
            lp, lsock = P.start("floor", d)
            try:
                P.run([P.B + "/schedd-bench", "create", "-s", lsock, "-n",
                       str(P.N), "-c", "8", "--", "/usr/bin/sleep", "3600"],
                      timeout=1200)
                time.sleep(2)
                probe(ds, res, "elsewhere")
            finally:
                P.stop("floor", lp, d)
            time.sleep(2)
        print("POST -> first instruction on empty daemons, us; %d jobs "
              "elsewhere or none, %d cycles" % (P.N, CYCLES))
        print("%-20s %7s %7s %7s %7s %5s" % ("", "p50", "p90", "p99", "max",
                                          "n"))
        for k in sorted(res):
            xs = res[k]
            if k.startswith("kdamond."):
                print("%-20s CPU %% while probing, per cycle: %s" % (
                    k, " ".join("%.1f" % x for x in xs)))
                continue
            print("%-20s %7.0f %7.0f %7.0f %7.0f %5d" % (
                k, P.pct(xs, .5), P.pct(xs, .9), P.pct(xs, .99), max(xs),
                len(xs)))
    finally:
        for who, d, p, sock in ds:
            P.stop(who, p, d)


if __name__ == "__main__":
    main()
