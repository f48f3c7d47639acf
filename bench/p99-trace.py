#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Where the slow POST -> first instruction samples spend their time.

Starts a daemon (WHO=schedd or floor, as bench/p99.py does), puts N `sleep
3600` jobs on it (N=0: empty), then records the daemon and everything it
forks with `perf record -k CLOCK_MONOTONIC` (CPU samples at 4 kHz and every
sched_switch, with call chains) while the latency probe runs, and sets each
sample's window [POST sent, job's first instruction] against the trace:
for the slowest samples and for the rest, the time on and off CPU per
call chain (off-CPU: from a sched_switch away until that thread's next
event). Usage: WHO=schedd N=6000 BENCH_BUILDDIR=build p99-trace.py
"""
import collections
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib  # noqa: E402
P = importlib.import_module("p99")

WHO = os.environ.get("WHO", "schedd")
N = int(os.environ.get("N", "6000"))
LAT_N = os.environ.get("LAT_N", "400")
SLOW = float(os.environ.get("SLOW", "2.0"))  # x median = slow
KEEP = os.environ.get("KEEP")  # keep the perf data here


def chain_key(frames):
    """The frames that say what a chain is doing: the syscall and the
    kernel frames above it, the daemon's frames below it."""
    kern, user = [], []
    for sym, dso in frames:
        (kern if "kernel" in dso else user).append(sym)
    sysc = [s for s in kern if s.startswith(("__x64_sys_", "__do_sys_"))]
    k = kern[:3]
    if sysc:
        k = k + ["<" + sysc[-1] + ">"]
    u = [s for s in user if s != "[unknown]"][:4]
    return " ; ".join(k) + " || " + " < ".join(u)


def parse_perf(path):
    out = subprocess.run(["perf", "script", "-i", path, "-F",
                          "comm,tid,time,event,ip,sym,dso"],
                         capture_output=True, text=True).stdout
    evs = []
    cur = None
    for line in out.splitlines():
        if not line.strip():
            if cur:
                evs.append(cur)
            cur = None
            continue
        if not line.startswith((" ", "\t")):
            # comm tid time: event:
            head = line.split(":")
            p = line.split()
            # find the time field: the token ending in ':' with a '.'
            t = None
            for i, tok in enumerate(p):
                if tok.endswith(":") and "." in tok and tok[:-1].replace(
                        ".", "").isdigit():
                    t = float(tok[:-1])
                    tid = int(p[i - 1])
                    comm = " ".join(p[:i - 1])
                    ev = p[i + 1].rstrip(":")
                    break
            if t is None:
                continue
            cur = {"t": t, "tid": tid, "comm": comm, "ev": ev, "frames": []}
            del head
        elif cur is not None:
            p = line.split()
            if len(p) >= 3:
                dso = p[-1].strip("()")
                cur["frames"].append((p[1].split("+")[0], dso))
    if cur:
        evs.append(cur)
    return evs


def attribute(evs, period):
    """(start, duration, key, oncpu) spans from the events."""
    by = collections.defaultdict(list)
    for e in evs:
        by[e["tid"]].append(e)
    spans = []
    for tid, es in by.items():
        es.sort(key=lambda e: e["t"])
        for i, e in enumerate(es):
            k = e["comm"] + ": " + chain_key(e["frames"])
            if e["ev"] == "cpu-clock":
                spans.append((e["t"] - period, period, k, 1))
            elif e["ev"].endswith("sched_switch"):
                nxt = es[i + 1]["t"] if i + 1 < len(es) else e["t"]
                spans.append((e["t"], nxt - e["t"], k, 0))
    spans.sort()
    return spans


def occupancy(path):
    """(start, end, comm) of every stretch a CPU ran something."""
    out = subprocess.run(["perf", "script", "-i", path, "-F",
                          "cpu,time,trace"], capture_output=True,
                         text=True).stdout
    last = {}
    occ = []
    for line in out.splitlines():
        try:
            cpu_s, rest = line.split("]", 1)
            cpu = int(cpu_s.strip().lstrip("["))
            t_s, tr = rest.split(":", 1)
            t = float(t_s)
        except ValueError:
            continue
        f = dict(x.split("=", 1) for x in tr.split() if "=" in x)
        prev = f.get("prev_comm")
        if cpu in last and prev is not None:
            occ.append((last[cpu], t, prev))
        last[cpu] = t
    return occ


def main():
    d = tempfile.mkdtemp(prefix="p99t.%s." % WHO, dir="/var/tmp")
    p, sock = P.start(WHO, d)
    probe = [P.B + "/schedd-bench", "latency", "-s", sock, "-n", LAT_N]
    if WHO == "floor":
        probe += ["-o", d + "/stamps"]
    probe += ["--", P.B + "/stamp-static"]
    perf = None
    try:
        P.run([P.B + "/schedd-bench", "spawn", "-s", sock, "-n", "1000",
               "-c", "2", "--", P.B + "/true-static"])
        if N > 0:
            P.run([P.B + "/schedd-bench", "create", "-s", sock, "-n", str(N),
                   "-c", "8", "-p", str(p.pid), "--", "/usr/bin/sleep",
                   "3600"], timeout=1200)
            time.sleep(2)
        data = KEEP or d + "/perf.data"
        perf = subprocess.Popen(["perf", "record", "-q", "-k", "CLOCK_MONOTONIC",
                                 "-F", "4000", "-e", "cpu-clock", "-e",
                                 "sched:sched_switch", "-g", "-o", data,
                                 "-p", str(p.pid)],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # And every CPU's sched_switch, to see who had the CPUs.
        sysw = subprocess.Popen(["perf", "record", "-q", "-k",
                                 "CLOCK_MONOTONIC", "-a", "-e",
                                 "sched:sched_switch", "-o", data + ".all"],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(1)
        v = P.parse(P.run(probe))
        for x in (perf, sysw):
            x.send_signal(signal.SIGINT)
            x.wait()
        perf = None
        lat, at = v["create_to_exec_us"], v["post_at_ms"]
        med = P.pct(lat, .5)
        print("%s N=%d: exec p50 %.0f p99 %.0f max %.0f us (n %d)" % (
            WHO, N, med, P.pct(lat, .99), max(lat), len(lat)))
        spans = attribute(parse_perf(data), 1 / 4000.0)
        occ = occupancy(data + ".all")
        groups = {"slow": [], "rest": []}
        for a, l in zip(at, lat):
            groups["slow" if l > SLOW * med else "rest"].append(
                (a / 1e3, a / 1e3 + l / 1e6, l))
        for g, wins in groups.items():
            if not wins:
                continue
            tot = collections.Counter()
            for w0, w1, _ in wins:
                for s0, dur, k, on in spans:
                    if s0 + dur < w0 or s0 > w1:
                        continue
                    ov = min(s0 + dur, w1) - max(s0, w0)
                    if ov > 0:
                        tot[("on " if on else "off") + " " + k] += ov
            cpu = collections.Counter()
            for w0, w1, _ in wins:
                for s0, s1, comm in occ:
                    ov = min(s1, w1) - max(s0, w0)
                    if ov > 0:
                        cpu[comm] += ov
            print("\n%s: CPU time in the windows by command, us per sample "
                  "(2 CPUs): %s" % (g, ", ".join(
                      "%s %.0f" % (c, t * 1e6 / len(wins))
                      for c, t in cpu.most_common(12))))
            print("\n%s: %d samples, mean %.0f us; time per sample by chain "
                  "(us):" % (g, len(wins), sum(x[2] for x in wins) /
                             len(wins)))
            for k, sec in tot.most_common(25):
                print("  %8.0f  %s" % (sec * 1e6 / len(wins), k[:230]))
            if g == "slow":
                print("  slow samples (POST at ms, us): " + ", ".join(
                    "%.1f:%.0f" % (w0 * 1e3, l) for w0, _, l in wins[:40]))
    finally:
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        P.stop(WHO, p, d)


if __name__ == "__main__":
    main()
