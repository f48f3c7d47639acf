#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Fault benchmark (issue 12, "How it is measured"): hurt a live schedd in
six ways and record how it holds up. Not a test: it passes or fails
nothing; it writes figures and says which targets they meet.

Run through `bench/run.sh faults` (or `make bench-faults`), which builds
bench/faultprobe, bench/forkbomb and tests/integration/forkwait and sets
BENCH_BUILDDIR / BENCH_BINDIR / BENCH_SRCDIR. About 3 minutes (3 rounds of
the six faults); no fault runs longer than 30 s.

For each fault a fresh schedd (own socket, state directory and config, as
bench/bench.py starts them, at the shipped log level, info) is watched by
bench/faultprobe: GET /v1/health every 10 ms on its own keep-alive
connection, and the daemon's VmRSS and utime+stime every 100 ms. After a 1 s
baseline the fault runs:

  1 forkbomb  bench/forkbomb in a job with limits.pids_max 64 for 10 s, then
              POST /stop.
  2 dblock    another process holds BEGIN EXCLUSIVE on STATE/schedd.db for
              10 s while a client creates a job every 100 ms and 20 jobs
              started before exit one by one (so schedd has to write).
  3 stop      100 jobs of 5 processes; 100 POST /stop sent at once on 100
              connections.
  4 readers   a job writes 1 GiB to stdout, 16 MiB every 100 ms; 8
              clients GET /logs?follow=true and never read.
  5 fdlimit   schedd with RLIMIT_NOFILE 256 (soft and hard); 300 idle
              connections for 5 s; then they close and a new client asks
              GET /v1/health.
  6 bigstop   one job of 10,000 processes (tests/integration/forkwait:
              workers that end 500 ms after SIGTERM, a main process that
              waits for them); POST /stop, then GET /wait: every worker
              must get SIGTERM (the run exits 0).

Figures: health latency p50/p99/max over the fault's window (its start to
its end plus 1 s), the daemon's RSS (VmHWM) and CPU, and per fault what
it is about. The section "Faults (issue 12)" of bench/RESULTS.md is
replaced (or appended) between markers; bench/bench.py carries it over.
BENCH_FAULTS_BEFORE=1 also stores the run's figures in
bench/faults-before.json, shown as the "before" column of later reports
(with its "remark", written there by hand);
BENCH_FAULTS_REPORT_FROM=bench/faults-before.json renders the section again
from such a file without running anything.

Environment: BENCH_FAULTS=1,3 (only these), BENCH_FAULTS_ROUNDS (default
3; a fault's stall may come in one round of three), BENCH_QUICK=1 (short
faults, 1 round: a smoke run, figures not comparable), BENCH_OUT,
BENCH_COMMIT,
BENCH_FAULT_RSS_CAP_MB (default 2048: fault 4 ends early when schedd's RSS
passes it, so a leaking daemon cannot take the shared machine's memory).

Cleanup: every process started here is tracked and killed by pid; each job
cgroup subtree schedd made is frozen, emptied with SIGKILL and removed,
after every fault and on SIGINT/SIGTERM; temp directories are removed.
Nothing is mounted.
"""

import datetime
import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (Schedd, cleanup, helpers)

QUICK = B.QUICK
PROBE = os.path.join(B.BINDIR, "faultprobe")
BOMB = os.path.join(B.BINDIR, "forkbomb")
OUT = B.OUT
BEFORE_JSON = os.path.join(B.SRCDIR, "bench", "faults-before.json")
ONLY = set(filter(None, os.environ.get("BENCH_FAULTS", "").split(",")))
RSS_CAP_KB = int(os.environ.get("BENCH_FAULT_RSS_CAP_MB", "2048")) * 1024

INTERVAL_MS = 10  # probe period
TAIL_S = 1.0  # the window goes on this long after the fault ends
BASE_S = 1.0  # baseline before each fault
BOMB_S = 3 if QUICK else 10
LOCK_S = 6 if QUICK else 10  # longer than schedd's busy_timeout (5 s)
STOP_JOBS = 20 if QUICK else 100
LOG_BYTES = (128 if QUICK else 1024) * 2**20
READERS = 8
IDLE_CONNS = 300
NOFILE = 256
FD_S = 2 if QUICK else 5
BIG_PROCS = 1000 if QUICK else 10000  # one job's processes, stopped
FORKWAIT = os.environ.get("FORKWAIT") or next(
    (p for p in (os.path.join(B.BINDIR, "forkwait"),
                 os.path.join(B.BUILD, "tests", "integration", "forkwait"))
     if os.access(p, os.X_OK)), os.path.join(B.BINDIR, "forkwait"))

MARK_BEGIN = "<!-- faults begin -->"
MARK_END = "<!-- faults end -->"

log = B.log
daemons = []  # Schedd objects alive: their cgroups are emptied on exit
socks = []  # client sockets held open by a fault
FIG = {}  # this round: fault -> {figure: value} (notes, window_s too)
RUNS = []  # every round's FIG
CMDS = {}  # fault -> [command]
ROUNDS = int(os.environ.get("BENCH_FAULTS_ROUNDS", "1" if QUICK else "3"))


def note(fault, s):
    FIG.setdefault(fault, {}).setdefault("notes", []).append(s)


def cmd(fault, s):
    if s not in CMDS.setdefault(fault, []):
        CMDS[fault].append(s)


# cgroups: empty and remove what schedd made, even when it cannot


def cgroup_trees(name):
    """(hierarchy root, subtree dir) for every hierarchy holding the
    schedd subtree `name`, below our own cgroup there or at its root."""
    own = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                for c in (ctrls.split(",") if ctrls else ["unified"]):
                    own[c.replace("name=", "")] = path
    except OSError:
        pass
    roots = []
    if os.path.exists("/sys/fs/cgroup/cgroup.procs"):  # pure v2
        roots.append(("/sys/fs/cgroup", own.get("unified", "/")))
    else:
        try:
            for e in sorted(os.listdir("/sys/fs/cgroup")):
                d = os.path.join("/sys/fs/cgroup", e)
                if os.path.isdir(d) and not os.path.islink(d):
                    roots.append((d, own.get(e.split(",")[0], "/")))
        except OSError:
            pass
    out = []
    for root, path in roots:
        for cand in (os.path.join(root, path.lstrip("/"), name),
                     os.path.join(root, name)):
            if os.path.isdir(cand) and (root, cand) not in out:
                out.append((root, cand))
    return out


def cgroup_kill(name, budget_s=5.0):
    """Freeze, SIGKILL and remove every cgroup of schedd's subtree `name`
    (job processes only: schedd itself is not in it). Returns how many
    processes it had to kill."""
    trees = cgroup_trees(name)
    if not trees:
        return 0

    def dirs():
        out = []
        for _, top in trees:
            for dp, _, _ in os.walk(top, topdown=False):
                out.append(dp)
        return out

    def write(path, s):
        try:
            with open(path, "w") as f:
                f.write(s)
        except OSError:
            pass

    for _, top in trees:  # v1 freezer (hierarchical) or v2 cgroup.kill
        if os.path.exists(os.path.join(top, "freezer.state")):
            write(os.path.join(top, "freezer.state"), "FROZEN")
        if os.path.exists(os.path.join(top, "cgroup.kill")):
            write(os.path.join(top, "cgroup.kill"), "1")
    killed, deadline = set(), time.monotonic() + budget_s
    while time.monotonic() < deadline:
        pids = set()
        for d in dirs():
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids.update(int(x) for x in f.read().split())
            except (OSError, ValueError):
                pass
        pids.discard(os.getpid())
        if not pids:
            break
        for pid in pids:  # in schedd's job cgroups: ours to end
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
        for _, top in trees:  # killed tasks must thaw to die
            if os.path.exists(os.path.join(top, "freezer.state")):
                write(os.path.join(top, "freezer.state"), "THAWED")
        time.sleep(0.05)
    for d in dirs():
        try:
            os.rmdir(d)
        except OSError:
            pass
    return len(killed)


def start_daemon(nofile=None):
    sd = B.Schedd(log_level="info", nofile=nofile, nofile_hard=True)
    daemons.append(sd)
    return sd


def stop_daemon(sd, fault):
    """SIGTERM with 15 s to stop its jobs, then SIGKILL; then empty and
    remove its cgroups and directory. Notes what schedd left."""
    alive = sd.proc.poll() is None
    t = sd.stop(timeout=15) if alive else float("nan")
    if not alive:
        note(fault, "schedd had died during the fault (exit status %s)" %
             sd.proc.returncode)
    elif t != t or t >= 15:
        note(fault, "schedd did not stop within 15 s of SIGTERM: killed")
    n = cgroup_kill(sd.cgroup_name())
    if n:
        note(fault, "%d job processes were still in schedd's cgroups after "
             "it exited; the bench killed them" % n)
    sd.cgroup_sweep()
    reap_orphans(fault)
    B.shutil.rmtree(sd.dir, ignore_errors=True)
    if sd.dir in B.tmpdirs:
        B.tmpdirs.remove(sd.dir)
    if sd in daemons:
        daemons.remove(sd)
    return t


def reap_orphans(fault):
    """Job processes that schedd left behind are reparented to us (the
    subreaper): reap the dead, kill and note the living."""
    known = {p.pid for p in B.started}
    kids = [k for k in B.proc_children(os.getpid()) if k[0] not in known]
    alive = []
    for pid, start in kids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
            if st[st.rindex(")") + 2] != "Z":
                alive.append((pid, start))
        except (OSError, ValueError):
            pass
    if alive:
        note(fault, "%d job processes outlived schedd (reparented to the "
             "bench, which killed them)" % B.kill_if_same(alive))
    deadline = time.monotonic() + 2
    left = {pid for pid, _ in kids}
    while left and time.monotonic() < deadline:
        for pid in list(left):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    left.discard(pid)
            except ChildProcessError:
                left.discard(pid)
        if left:
            time.sleep(0.01)


def close_socks():
    while socks:
        try:
            socks.pop().close()
        except OSError:
            pass


def kill_all():
    """Everything this run started, at once: sockets, daemons (SIGKILL),
    their job cgroups, probes and helpers, orphans, temp directories."""
    close_socks()
    for sd in list(daemons):
        if sd.proc.poll() is None:
            sd.proc.kill()
        cgroup_kill(sd.cgroup_name())
        sd.cgroup_sweep()
    B.cleanup()


def on_signal(sig, frame):
    """Ctrl-C or SIGTERM: clean up and leave at once, without running the
    faults' own teardown (their files are gone) or writing a report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log("interrupted (signal %d): cleaning up" % sig)
    kill_all()
    os._exit(128 + sig)


# HTTP


def request(sd, method, path, body=None, timeout=30.0):
    """(status, parsed JSON or None, seconds); status -1 on a socket error
    or timeout."""
    t0 = time.monotonic()
    c = B.UnixHTTP(sd.sock, timeout=timeout)
    try:
        c.request(method, path,
                  body=None if body is None else json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return r.status, doc, time.monotonic() - t0
    except OSError:
        return -1, None, time.monotonic() - t0
    finally:
        c.close()


def raw_connect(path, timeout=2.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def raw_req(method, path, body=None):
    data = b"" if body is None else json.dumps(body).encode()
    return ("%s %s HTTP/1.1\r\nHost: schedd\r\n%sContent-Length: %d\r\n"
            "\r\n" % (method, path, "Content-Type: application/json\r\n"
                      if body is not None else "", len(data))).encode() + data


def response_done(buf):
    """The status of a complete response in buf (Content-Length only:
    schedd's non-streamed answers), or None."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    if len(body) < n:
        return None
    return int(head.split()[1])


class Inflight:
    """Requests each on its own connection, sent without waiting for the
    answers before; the answers are collected as they come. done holds
    (sent, answered, status), status -1 for a connection that failed or
    closed without an answer."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.pending = {}  # socket -> [sent, received bytes]
        self.done = []

    def send(self, s, data):
        """Send data on s (connected; None: connect to nothing)."""
        t = time.monotonic()
        try:
            s.sendall(data)
            s.setblocking(False)
        except (OSError, AttributeError):
            self.done.append((t, time.monotonic(), -1))
            return
        self.sel.register(s, selectors.EVENT_READ)
        self.pending[s] = [t, b""]

    def poll(self, timeout):
        for key, _ in self.sel.select(max(0.0, timeout)):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            p = self.pending[s]
            st = -1 if not chunk else response_done(p[1] + chunk)
            if chunk and st is None:
                p[1] += chunk
                continue
            self.done.append((p[0], time.monotonic(), st))
            self.sel.unregister(s)
            del self.pending[s]

    def wait(self, deadline):
        while self.pending and time.monotonic() < deadline:
            self.poll(deadline - time.monotonic())

    def close(self):
        for s in list(self.pending):
            self.sel.unregister(s)
        self.sel.close()

    def statuses(self):
        out = {}
        for d in self.done:
            out[d[2]] = out.get(d[2], 0) + 1
        return out


def connect_or_none(path):
    try:
        s = raw_connect(path)
    except OSError:
        return None
    socks.append(s)
    return s


def counts(d):
    return ", ".join("%s ×%d" % kv for kv in sorted(d.items()))


# The probe and the statistics


class Probe:
    def __init__(self, sd, max_s=60):
        self.path = os.path.join(sd.dir, "probe.out")
        self.out = open(self.path, "w")
        args = [PROBE, "-s", sd.sock, "-p", str(sd.pid), "-d", str(max_s),
                "-i", str(INTERVAL_MS), "-r", "100"]
        self.cmd = B.show_cmd(args).replace(str(sd.pid), "$SCHEDD_PID")
        self.p = subprocess.Popen(args, stdout=self.out,
                                  stderr=subprocess.DEVNULL)
        B.started.append(self.p)
        self.d = None
        self.base = (0, 0)  # the baseline's interval, set by baseline()

    def finish(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.out.close()
        d = {}
        self.wchan = {}
        with open(self.path) as f:
            for line in f:
                k, t, v = line.split()
                if k == "wchan":
                    self.wchan[int(t)] = v
                else:
                    d.setdefault(k, []).append((int(t) / 1e9, float(v)))
        d["wchan_names"] = self.wchan
        self.d = d
        return d


def window_stats(d, t0, t1):
    """Health latency (ms) over probes sent in [t0, t1]: raw per answer, and
    per 10 ms tick (an answer that took L also stands for the probes the
    stall swallowed, L-10, L-20, ... ms: the correction for coordinated
    omission of HdrHistogram's recordValueWithExpectedInterval)."""
    lat = [v / 1000 for t, v in d.get("lat", []) if t0 <= t <= t1]
    bad = [v / 1000 for t, v in d.get("bad", []) if t0 <= t <= t1]
    opn = [v / 1000 for t, v in d.get("open", []) if t0 <= t <= t1]
    errs = [t for t, _ in d.get("err", []) if t0 <= t <= t1]
    allv = lat + bad + opn
    ticks = []
    for v in allv:
        ticks.append(v)
        x = v - INTERVAL_MS
        while x > 0:
            ticks.append(x)
            x -= INTERVAL_MS
    s = {
        "n": len(allv), "bad": len(bad), "errors": len(errs),
        "unanswered": len(opn),
        "p50": B.pct(ticks, 50), "p99": B.pct(ticks, 99),
        "max": max(allv) if allv else float("nan"),
        "raw_p50": B.pct(allv, 50), "raw_p99": B.pct(allv, 99),
        "over_100ms": sum(1 for v in allv if v > 100),
    }
    return s


def states(d, t0, t1):
    """How schedd spent [t0, t1], from the 100 ms samples: "R 12 %, S 40 %,
    D 48 % (in __access_remote_vm 48 %)"."""
    st = [chr(int(v)) for t, v in d.get("st", []) if t0 <= t <= t1]
    if not st:
        return "n/a"
    count = {}
    for c in st:
        count[c] = count.get(c, 0) + 1
    out = ", ".join("%s %.0f %%" % (c, 100.0 * n / len(st)) for c, n in
                    sorted(count.items(), key=lambda kv: -kv[1]))
    wc = {}
    for t, v in d.get("wc", []):
        name = d["wchan_names"].get(int(v), "?")
        if t0 <= t <= t1 and name != "0":  # "0": it woke meanwhile
            wc[name] = wc.get(name, 0) + 1
    if wc:
        out += " (D in %s)" % ", ".join(
            "`%s` %.0f %%" % (k, 100.0 * n / len(st)) for k, n in
            sorted(wc.items(), key=lambda kv: -kv[1])[:3])
    return out


def cpu_pct(d, t0, t1):
    """The daemon's CPU over [t0, t1] in % of one CPU, from the probe's
    utime+stime samples nearest inside the window."""
    cpu = [(t, v) for t, v in d.get("cpu", []) if t0 <= t <= t1]
    if len(cpu) < 2 or cpu[-1][0] - cpu[0][0] < 0.2:
        return float("nan")
    return (cpu[-1][1] - cpu[0][1]) / 1000.0 / (cpu[-1][0] - cpu[0][0]) * 100


def record(fault, probe, sd, t0, t1, rss0_kb, hwm_kb):
    w1 = t1 + TAIL_S
    time.sleep(max(0.0, w1 - time.monotonic()) + 0.1)
    hwm_kb = max(hwm_kb, hwm(sd))
    d = probe.finish()
    s = window_stats(d, t0, w1)
    rss = [v for t, v in d.get("rss", []) if t0 <= t <= w1]
    peak = max([hwm_kb] + rss) if rss or hwm_kb > 0 else float("nan")
    base = window_stats(d, *probe.base)
    f = FIG.setdefault(fault, {})
    f.update({
        "p50_ms": s["p50"], "p99_ms": s["p99"], "max_ms": s["max"],
        "raw_p50_ms": s["raw_p50"], "raw_p99_ms": s["raw_p99"],
        "probes": s["n"], "probes_not_200": s["bad"],
        "probe_errors": s["errors"], "probes_unanswered": s["unanswered"],
        "probes_over_100ms": s["over_100ms"],
        "base_p50_ms": base["raw_p50"], "base_max_ms": base["max"],
        "rss_before_mib": rss0_kb / 1024.0,
        "rss_max_mib": peak / 1024.0,
        "rss_growth_mib": (peak - rss0_kb) / 1024.0,
        "cpu_pct": cpu_pct(d, t0, w1),
        "states": states(d, t0, w1),
    })
    f["window_s"] = w1 - t0
    log("  health p50 %.2f p99 %.1f max %.1f ms (raw p99 %.1f, %d probes, "
        "%d failed); RSS %.1f -> %.1f MiB; CPU %.0f %%; schedd %s" % (
            s["p50"], s["p99"], s["max"], s["raw_p99"], s["n"],
            s["bad"] + s["errors"], rss0_kb / 1024.0, peak / 1024.0,
            f["cpu_pct"], f["states"]))


def baseline(sd, fault):
    """Start the probe, let it run BASE_S; RSS before the fault."""
    probe = Probe(sd)
    cmd(fault, probe.cmd)
    t = time.monotonic()
    time.sleep(BASE_S)
    probe.base = (t, time.monotonic())
    return probe, B.rss_kb(sd.pid)[0]


def hwm(sd):
    return B.rss_kb(sd.pid)[1]


# 1. Fork bomb


def fault_forkbomb():
    fault = "forkbomb"
    log("1. fork bomb: pids_max 64, %d s, then stop" % BOMB_S)
    sd = start_daemon()
    probe = None
    try:
        probe, rss0 = baseline(sd, fault)
        spec = {"name": "forkbomb", "argv": [BOMB, str(BOMB_S + 40)],
                "limits": {"pids_max": 64},
                "stop": {"timeout_ms": 2000}}
        cmd(fault, "POST /v1/jobs %s" % B.show_cmd([json.dumps(spec)]))
        t0 = time.monotonic()
        st, doc, el = request(sd, "POST", "/v1/jobs", spec)
        if st != 201 and st != 200:
            raise B.BenchError("create: %s %s" % (st, doc))
        FIG.setdefault(fault, {})["create_s"] = el
        pids_peak, forks = 0, 0
        tree = cgroup_trees(sd.cgroup_name())
        while time.monotonic() < t0 + BOMB_S:
            time.sleep(0.1)
            for _, top in tree:
                try:
                    with open(os.path.join(top, "job-%d" % doc["id"],
                                           "pids.current")) as f:
                        pids_peak = max(pids_peak, int(f.read()))
                except (OSError, ValueError):
                    pass
        for _, top in tree:
            try:
                with open(os.path.join(top, "job-%d" % doc["id"],
                                       "pids.events")) as f:
                    forks = int(f.read().split()[1])
            except (OSError, ValueError, IndexError):
                pass
        cmd(fault, "POST /v1/jobs/forkbomb/stop")
        st, _, stop_s = request(sd, "POST", "/v1/jobs/forkbomb/stop",
                                timeout=30)
        t1 = time.monotonic()
        f = FIG[fault]
        f["stop_s"] = stop_s
        f["stop_status"] = st
        f["pids_peak"] = pids_peak
        f["forks_refused"] = forks
        log("  bomb: %d pids at most, %d forks refused at pids_max; stop "
            "answered %s in %.2f s" % (pids_peak, forks, st, stop_s))
        record(fault, probe, sd, t0, t1, rss0, hwm(sd))
        probe = None
    finally:
        if probe is not None:
            probe.finish()
        stop_daemon(sd, fault)


# 2. External database lock


LOCKER = r"""
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")
print("released", flush=True)
"""


def fault_dblock():
    fault = "dblock"
    log("2. database lock: BEGIN EXCLUSIVE held %d s, a job created every "
        "100 ms, 20 jobs exiting" % LOCK_S)
    sd = start_daemon()
    probe, locker = None, None
    fl = Inflight()
    try:
        probe, rss0 = baseline(sd, fault)
        # Jobs that exit one by one while the lock is held.
        for i in range(20):
            st, _, _ = request(sd, "POST", "/v1/jobs", {
                "name": "x%d" % i,
                "argv": [B.SLEEP, "%.1f" % (0.5 + i * LOCK_S / 20.0)]},
                timeout=5)
            if st not in (200, 201):
                raise B.BenchError("create: %s" % st)
        db = os.path.join(sd.dir, "state", "schedd.db")
        args = [sys.executable, "-c", LOCKER, db, str(LOCK_S)]
        cmd(fault, "python3 -c 'BEGIN EXCLUSIVE on $TMP/state/schedd.db; "
            "sleep %d; ROLLBACK' (a separate process, Python's sqlite3)" %
            LOCK_S)
        cmd(fault, "POST /v1/jobs {\"argv\": [\"%s\", \"0.3\"]} every "
            "100 ms while the lock is held, each on a new connection, "
            "without waiting for earlier answers; 20 jobs sleep 0.5 .. "
            "sleep %.1f started before" % (B.SLEEP,
                                           0.5 + 19 * LOCK_S / 20.0))
        locker = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        B.started.append(locker)
        lsel = selectors.DefaultSelector()
        lsel.register(locker.stdout, selectors.EVENT_READ)
        if not lsel.select(10) or locker.stdout.readline().strip() != \
                "locked":
            raise B.BenchError("the locker did not get the lock in 10 s")
        t0 = time.monotonic()
        n, t_next, t_rel = 0, t0, None
        while time.monotonic() < t0 + LOCK_S + 10:
            now = time.monotonic()
            if now >= t_next:
                n += 1
                fl.send(connect_or_none(sd.sock), raw_req(
                    "POST", "/v1/jobs", {"name": "c%d" % n,
                                         "argv": [B.SLEEP, "0.3"]}))
                t_next += 0.1
            fl.poll(min(0.01, max(0.0, t_next - time.monotonic())))
            if lsel.select(0):
                locker.stdout.readline()
                t_rel = time.monotonic()
                break
        lsel.close()
        if t_rel is None:
            raise B.BenchError("the locker did not let go")
        fl.wait(t_rel + 15)
        t1 = max([t_rel] + [d[1] for d in fl.done])
        if fl.pending:
            t1 = time.monotonic()
        locker.wait(5)
        lat = [d[1] - d[0] for d in fl.done]
        f = FIG.setdefault(fault, {})
        stat = fl.statuses()
        f["creates"] = n
        f["creates_ok"] = stat.get(201, 0) + stat.get(200, 0)
        f["creates_failed"] = n - f["creates_ok"]
        f["creates_unanswered"] = len(fl.pending)
        f["create_max_s"] = max(lat or [float("nan")])
        f["create_p50_ms"] = B.pct([x * 1000 for x in lat], 50)
        f["lock_s"] = t_rel - t0
        log("  lock held %.1f s; %d creates (%s%s), slowest %.2f s" % (
            t_rel - t0, n, counts(stat),
            ", %d unanswered 15 s after the lock" % len(fl.pending)
            if fl.pending else "", f["create_max_s"]))
        if f["creates_failed"]:
            note(fault, "answers to POST /v1/jobs during the lock: %s%s" % (
                counts(stat), ", %d unanswered" % len(fl.pending)
                if fl.pending else ""))
        record(fault, probe, sd, t0, t1, rss0, hwm(sd))
        probe = None
    finally:
        fl.close()
        close_socks()
        if locker is not None and locker.poll() is None:
            locker.kill()
            locker.wait()
        if probe is not None:
            probe.finish()
        stop_daemon(sd, fault)


# 3. Mass stop


def pids_in_jobs(sd):
    n = 0
    for root, top in cgroup_trees(sd.cgroup_name()):
        if not root.endswith("pids"):
            continue
        for e in os.listdir(top):
            try:
                with open(os.path.join(top, e, "pids.current")) as f:
                    n += int(f.read())
            except (OSError, ValueError):
                pass
    return n


def fault_stop():
    fault = "stop"
    log("3. mass stop: %d jobs of 5 processes, stopped at once" % STOP_JOBS)
    sd = start_daemon()
    probe = None
    fl = Inflight()
    try:
        argv = ["/bin/sh", "-c",
                "for i in 1 2 3 4; do sleep 1000 & done; wait"]
        cmd(fault, "%d × POST /v1/jobs %s" % (
            STOP_JOBS, json.dumps({"argv": argv})))
        ids, deadline = [], time.monotonic() + 20
        for i in range(STOP_JOBS):
            st, doc, _ = request(sd, "POST", "/v1/jobs",
                                 {"name": "s%d" % i, "argv": argv},
                                 timeout=max(0.1, deadline -
                                             time.monotonic()))
            if st not in (200, 201):
                raise B.BenchError("create: %s %s" % (st, doc))
            ids.append(doc["id"])
        deadline = time.monotonic() + 15
        n = 0
        while time.monotonic() < deadline:
            n = pids_in_jobs(sd)
            if n >= 5 * STOP_JOBS:
                break
            time.sleep(0.1)
        FIG.setdefault(fault, {})["processes"] = n
        log("  %d jobs, %d processes in their cgroups" % (len(ids), n))
        conns = [raw_connect(sd.sock) for _ in ids]
        socks.extend(conns)
        probe, rss0 = baseline(sd, fault)
        cmd(fault, "%d × POST /v1/jobs/ID/stop, one per connection, all "
            "sent before any answer is read" % STOP_JOBS)
        t0 = time.monotonic()
        for s, i in zip(conns, ids):
            fl.send(s, raw_req("POST", "/v1/jobs/%d/stop" % i))
        sent = time.monotonic() - t0
        fl.wait(t0 + 30)
        t1 = max([d[1] for d in fl.done] + [t0])
        if fl.pending:
            t1 = time.monotonic()
        lat = [d[1] - t0 for d in fl.done]
        stat = fl.statuses()
        f = FIG[fault]
        f["stop_all_s"] = t1 - t0
        f["stop_p50_s"] = B.pct(lat, 50)
        f["stops_ok"] = stat.get(200, 0)
        f["stops_unanswered"] = len(fl.pending)
        f["send_ms"] = sent * 1000
        log("  %d stops sent in %.1f ms; all answered in %.2f s (%s)%s" % (
            len(conns), sent * 1000, t1 - t0, counts(stat),
            "; %d unanswered after 30 s" % len(fl.pending)
            if fl.pending else ""))
        if stat.get(200, 0) != len(conns):
            note(fault, "answers to the stops: %s%s" % (
                counts(stat), ", %d unanswered" % len(fl.pending)
                if fl.pending else ""))
        f["processes_left"] = pids_in_jobs(sd)
        record(fault, probe, sd, t0, t1, rss0, hwm(sd))
        probe = None
    finally:
        fl.close()
        close_socks()
        if probe is not None:
            probe.finish()
        stop_daemon(sd, fault)


# 4. Stalled log readers


def fault_readers():
    fault = "readers"
    log("4. stalled log readers: %d followers of a job writing %d MiB "
        "(RSS cap %d MiB)" % (READERS, LOG_BYTES >> 20, RSS_CAP_KB >> 10))
    sd = start_daemon()
    probe = None
    try:
        probe, rss0 = baseline(sd, fault)
        # 16 MiB per 100 ms, what one follower tick reads at most: the
        # followers keep up whatever the disk's speed, so each would hold
        # all of it in a daemon that does not wait for its readers. (A
        # writer faster than that ends before the followers have read
        # it all, and what they hold then depends on the machine.)
        argv = ["/bin/sh", "-c",
                "sleep 1; i=0; while [ $i -lt %d ]; do head -c 16777216 "
                "/dev/zero; sleep 0.1; i=$((i+1)); done" % (LOG_BYTES >> 24)]
        cmd(fault, "POST /v1/jobs %s" % json.dumps({"argv": argv}))
        cmd(fault, "%d × GET /v1/jobs/ID/logs?follow=true, one per "
            "connection, never read" % READERS)
        t0 = time.monotonic()
        st, doc, _ = request(sd, "POST", "/v1/jobs",
                             {"name": "big", "argv": argv})
        if st not in (200, 201):
            raise B.BenchError("create: %s %s" % (st, doc))
        for _ in range(READERS):
            s = raw_connect(sd.sock)
            s.sendall(("GET /v1/jobs/%d/logs?follow=true HTTP/1.1\r\n"
                       "Host: schedd\r\n\r\n" % doc["id"]).encode())
            socks.append(s)
        # Until the job has exited and RSS has held still for 2 s, the
        # cap is passed, or 25 s.
        deadline = t0 + 25
        last, still_since, capped, exited_at = -1, time.monotonic(), False, 0
        peak, turn = 0, 0
        while time.monotonic() < deadline:
            time.sleep(0.05)
            turn += 1
            rss = B.rss_kb(sd.pid)[0]
            if rss < 0:
                break
            peak = max(peak, rss)
            if rss > RSS_CAP_KB:
                capped = True
                break
            if abs(rss - last) > 1024:
                last, still_since = rss, time.monotonic()
            if not exited_at:
                if turn % 4 == 0:  # every 200 ms
                    _, j, _ = request(sd, "GET", "/v1/jobs/%d" % doc["id"],
                                      timeout=5)
                    if j and j.get("state") not in ("running", "starting"):
                        exited_at = time.monotonic()
            elif time.monotonic() - still_since > 2:
                break
        t1 = time.monotonic()
        if capped:  # no further: the machine is shared
            close_socks()
        peak_hwm = hwm(sd)
        f = FIG.setdefault(fault, {})
        f["capped"] = capped
        f["job_exited_s"] = exited_at - t0 if exited_at else float("nan")
        log("  job %s; RSS peak %.0f MiB%s; window %.1f s" % (
            "exited after %.1f s" % (exited_at - t0) if exited_at else
            "still running", max(peak, peak_hwm) / 1024.0,
            " (passed the cap: readers closed early)" if capped else "",
            t1 - t0))
        if capped:
            note(fault, "RSS passed the %d MiB cap %.1f s into the fault; "
                 "the readers were closed then, so the growth is a lower "
                 "bound" % (RSS_CAP_KB >> 10, t1 - t0))
        record(fault, probe, sd, t0, t1, rss0, peak_hwm)
        probe = None
        close_socks()
        time.sleep(1)
        f["rss_after_close_mib"] = B.rss_kb(sd.pid)[0] / 1024.0
    finally:
        close_socks()
        if probe is not None:
            probe.finish()
        stop_daemon(sd, fault)


# 5. fd limit


def fault_fdlimit():
    fault = "fdlimit"
    log("5. fd limit: RLIMIT_NOFILE %d, %d idle connections for %d s" % (
        NOFILE, IDLE_CONNS, FD_S))
    sd = start_daemon(nofile=NOFILE)
    probe = None
    try:
        probe, rss0 = baseline(sd, fault)
        cmd(fault, "RLIMIT_NOFILE %d:%d (soft:hard) set with setrlimit "
            "before exec, as prlimit --nofile=%d:%d ./schedd ... would" % (
                NOFILE, NOFILE, NOFILE, NOFILE))
        cmd(fault, "%d × connect(), nothing sent" % IDLE_CONNS)
        logf = os.path.join(sd.dir, "schedd.log")
        # The accept queue (128) fills faster than schedd empties it:
        # retry a refused connect, so that schedd does reach its limit.
        failed, deadline = 0, time.monotonic() + 10
        while len(socks) < IDLE_CONNS and time.monotonic() < deadline:
            try:
                socks.append(raw_connect(sd.sock, timeout=1))
            except OSError:
                failed += 1
                time.sleep(0.002)
        nidle = len(socks)
        time.sleep(0.2)  # for schedd to accept what it can
        t0 = time.monotonic()
        try:
            nfd = len(os.listdir("/proc/%d/fd" % sd.pid))
        except OSError:
            nfd = -1
        size0 = os.path.getsize(logf)
        time.sleep(FD_S)
        t1 = time.monotonic()
        size1 = os.path.getsize(logf)
        nlines, sample = 0, []
        with open(logf, "rb") as fh:  # what came in [t0, t1], in chunks
            fh.seek(size0)
            left = size1 - size0
            while left > 0:
                chunk = fh.read(min(left, 1 << 20))
                if not chunk:
                    break
                if not sample:
                    sample = [x for x in chunk[:4096].decode(
                        "utf-8", "replace").split("\n")[1:3] if x]
                nlines += chunk.count(b"\n")
                left -= len(chunk)
        # Recovery: close them all, then a new client.
        close_socks()
        tc = time.monotonic()
        rec, attempts, deadline = float("nan"), 0, tc + 10
        while time.monotonic() < deadline:
            attempts += 1
            try:
                s = raw_connect(sd.sock,
                                timeout=max(0.01, deadline - time.monotonic()))
            except OSError:
                time.sleep(0.01)
                continue
            try:
                s.sendall(raw_req("GET", "/v1/health"))
                buf = b""
                st = None
                while st is None:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    st = response_done(buf)
                if st == 200:
                    rec = time.monotonic() - tc
                    break
            except OSError:
                pass
            finally:
                s.close()
            time.sleep(0.01)
        f = FIG.setdefault(fault, {})
        el = t1 - t0
        f["connects_refused"] = failed
        f["idle_conns"] = nidle
        f["daemon_fds"] = nfd
        f["log_bytes"] = size1 - size0
        f["log_bytes_per_min"] = (size1 - size0) / el * 60
        f["log_mb_per_min"] = f["log_bytes_per_min"] / 1e6
        f["log_lines_per_min"] = nlines / el * 60
        f["recovery_ms"] = rec * 1000
        f["recovery_attempts"] = attempts
        d = probe.finish()
        base = window_stats(d, *probe.base)
        probe = None
        f["cpu_fd_pct"] = cpu_pct(d, t0, t1)
        s = window_stats(d, t0, t1)
        peak = max([hwm(sd)] + [v for t, v in d.get("rss", [])
                                if t0 <= t <= t1])
        f.update({
            "p50_ms": s["p50"], "p99_ms": s["p99"], "max_ms": s["max"],
            "raw_p50_ms": s["raw_p50"], "raw_p99_ms": s["raw_p99"],
            "probes": s["n"], "probes_not_200": s["bad"],
            "probe_errors": s["errors"],
            "probes_unanswered": s["unanswered"],
            "probes_over_100ms": s["over_100ms"],
            "rss_before_mib": rss0 / 1024.0, "rss_max_mib": peak / 1024.0,
            "rss_growth_mib": (peak - rss0) / 1024.0,
            "cpu_pct": f["cpu_fd_pct"], "states": states(d, t0, t1),
            "base_p50_ms": base["raw_p50"], "base_max_ms": base["max"],
        })
        f["window_s"] = el
        if sample:
            note(fault, "what schedd logged meanwhile, e.g. `%s`" %
                 sample[0][:160].replace("`", "'"))
        log("  %d idle connections (%d refused connects retried), schedd "
            "holds %d fds; CPU %.0f %% for %.1f s, log +%d bytes (%.0f "
            "lines/min); a new client answered %s after they closed" % (
                nidle, failed, nfd, f["cpu_fd_pct"], el, size1 - size0,
                f["log_lines_per_min"], "in %.3f s" % rec if rec == rec
                else "never (10 s)"))
    finally:
        close_socks()
        if probe is not None:
            probe.finish()
        stop_daemon(sd, fault)


# 6. One job of 10,000 processes, stopped


def fault_bigstop():
    """A pre-forking server's stop: FORKWAIT's BIG_PROCS workers each end
    500 ms after SIGTERM and the main process waits for them; every one
    must get the stop signal (the run exits 0) without holding the loop."""
    fault = "bigstop"
    log("6. stop of one job of %d processes" % BIG_PROCS)
    if not os.access(FORKWAIT, os.X_OK):
        raise B.BenchError("%s not built (make tests/integration/forkwait)"
                           % FORKWAIT)
    sd = start_daemon()
    probe = None
    try:
        up = os.path.join(sd.dir, "up")
        spec = {"name": "big", "argv": [FORKWAIT, str(BIG_PROCS), up, "500"],
                "stop": {"timeout_ms": 30000}}
        cmd(fault, "POST /v1/jobs %s" % B.show_cmd([json.dumps(spec)]))
        st, doc, _ = request(sd, "POST", "/v1/jobs", spec)
        if st not in (200, 201):
            raise B.BenchError("create: %s %s" % (st, doc))
        deadline = time.monotonic() + 120
        while not os.path.exists(up) and time.monotonic() < deadline:
            time.sleep(0.1)
        n = pids_in_jobs(sd)
        FIG.setdefault(fault, {})["processes"] = n
        log("  %d processes in the job's cgroup" % n)
        time.sleep(1)
        probe, rss0 = baseline(sd, fault)
        cmd(fault, "POST /v1/jobs/big/stop, then GET /v1/jobs/big/wait")
        t0 = time.monotonic()
        st, _, stop_s = request(sd, "POST", "/v1/jobs/big/stop", timeout=30)
        st2, doc, _ = request(sd, "GET", "/v1/jobs/big/wait", timeout=60)
        t1 = time.monotonic()
        run = (doc or {}).get("last_run") or {}
        f = FIG[fault]
        f["stop_s"] = stop_s
        f["ended_s"] = t1 - t0
        f["exit_code"] = run.get("exit_code")
        log("  stop answered %s in %.3f s; ended %s (exit %s, signal %s) "
            "%.2f s after it" % (st, stop_s, (doc or {}).get("state"),
                                 run.get("exit_code"), run.get("signal"),
                                 t1 - t0))
        if st2 != 200 or run.get("exit_code") != 0:
            note(fault, "the run did not exit 0 (%s, signal %s): a worker "
                 "missed the stop signal" % (run.get("exit_code"),
                                             run.get("signal")))
        record(fault, probe, sd, t0, t1, rss0, hwm(sd))
        probe = None
    finally:
        if probe is not None:
            probe.finish()
        stop_daemon(sd, fault)


FAULTS = [("1", "forkbomb", fault_forkbomb), ("2", "dblock", fault_dblock),
          ("3", "stop", fault_stop), ("4", "readers", fault_readers),
          ("5", "fdlimit", fault_fdlimit), ("6", "bigstop", fault_bigstop)]
TITLES = {"forkbomb": "1. fork bomb (pids_max 64, %d s)" % BOMB_S,
          "dblock": "2. external DB lock (%d s)" % LOCK_S,
          "stop": "3. mass stop (%d jobs × 5 processes)" % STOP_JOBS,
          "readers": "4. stalled log readers (%d × %d MiB)" % (
              READERS, LOG_BYTES >> 20),
          "fdlimit": "5. fd limit (%d fds, %d idle connections)" % (
              NOFILE, IDLE_CONNS),
          "bigstop": "6. stop of one job of %d processes" % BIG_PROCS}


# The report


def fnum(v, unit=""):
    if v is None or v != v:
        return "n/a"
    return B.fmt(v, unit)


def rows():
    """(fault, figure, key, unit, target text, check) for the table."""
    out = []
    lat_t = (("health p50", "p50_ms", " ms", "", None),
             ("health p99", "p99_ms", " ms", "≤ 20 ms", lambda v: v <= 20),
             ("health max", "max_ms", " ms", "≤ 100 ms", lambda v: v <= 100))
    lat_n = tuple((n, k, u, "", None) for n, k, u, _, _ in lat_t)
    rss = (("max RSS", "rss_max_mib", " MiB", "", None),
           ("RSS growth", "rss_growth_mib", " MiB", "", None),
           ("CPU", "cpu_pct", " %", "", None))
    out += [("forkbomb",) + r for r in lat_t + rss]
    out.append(("forkbomb", "stop request", "stop_s", " s", "", None))
    out += [("dblock",) + r for r in lat_t + rss]
    out.append(("dblock", "slowest POST /v1/jobs", "create_max_s", " s", "",
                None))
    out += [("stop",) + r for r in lat_t + rss]
    out.append(("stop", "all %d stops answered" % STOP_JOBS, "stop_all_s",
                " s", "", None))
    out += [("readers",) + r for r in lat_n]
    out += [("readers", "max RSS", "rss_max_mib", " MiB", "", None),
            ("readers", "RSS growth", "rss_growth_mib", " MiB", "≤ 64 MiB",
             lambda v: v <= 64),
            ("readers", "CPU", "cpu_pct", " %", "", None)]
    out += [("fdlimit",) + r for r in lat_n]
    out += [("fdlimit", "max RSS", "rss_max_mib", " MiB", "", None),
            ("fdlimit", "CPU while over the limit", "cpu_fd_pct", " %",
             "< 10 %", lambda v: v < 10),
            ("fdlimit", "log written", "log_mb_per_min", " MB/min", "",
             None),
            ("fdlimit", "log lines", "log_lines_per_min", " lines/min",
             "≤ 5 lines/min", lambda v: v <= 5),
            ("fdlimit", "new client answered after close", "recovery_ms",
             " ms", "≤ 1,000 ms", lambda v: v <= 1000)]
    out += [("bigstop",) + r for r in lat_t + rss]
    out.append(("bigstop", "stop → run ended (exit 0)", "ended_s", " s", "",
                None))
    return out


def git(*args):
    return subprocess.run(["git", "-C", B.SRCDIR] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True).stdout.strip()


def values(runs, fault, key):
    """key's value in each round that has the fault (None: no figure)."""
    return [r[fault].get(key) for r in runs if fault in r]


def capped(runs, fault):
    return any(r[fault].get("capped") for r in runs if fault in r)


def cell(runs, fault, key, unit):
    """One round: its value; more: median (min–max) over the rounds. "≥"
    where fault 4 hit its RSS cap (a lower bound)."""
    vs = [v for v in values(runs, fault, key) if v is not None and v == v]
    if not vs:
        return "n/a"
    s = fnum(vs[0], unit) if len(vs) == 1 else "%s (%s–%s)" % (
        fnum(B.med(vs), unit), fnum(min(vs)), fnum(max(vs)))
    mark = key.startswith("rss_") and capped(runs, fault)
    return ("≥ " if mark else "") + s


def verdict(runs, fault, key, check):
    """Met only if every round met (all targets are upper bounds)."""
    if check is None:
        return ""
    vs = values(runs, fault, key)
    if not vs or any(v is None or v != v for v in vs):
        return "**missed** (no figure)"
    if key.startswith("rss_") and capped(runs, fault):
        return "**missed** (cap hit)"
    bad = sum(1 for v in vs if not check(v))
    if not bad:
        return "met"
    return "**missed**" + (" (%d of %d rounds)" % (bad, len(vs))
                           if len(vs) > 1 else "")


def write_report(meta, runs, before):
    L = []
    w = L.append
    w(MARK_BEGIN)
    w("## Faults (issue 12)")
    w("")
    w("Written by `bench/run.sh faults` (also `make bench-faults`; "
      "bench/faults.py): do not edit by hand. Each fault runs against a "
      "fresh schedd (its own socket and state directory, log level info) "
      "watched by `bench/faultprobe`: `GET /v1/health` every 10 ms on its own "
      "keep-alive connection (never two at once), and VmRSS and utime+stime "
      "from /proc every 100 ms. The window of a fault is from its start to "
      "its end plus 1 s. **p50 and p99 are per 10 ms tick**: an answer that "
      "took L ms also counts for the probes its stall held back (L−10, "
      "L−20, … ms), so a 7 s stall weighs as 700 late probes, not one; "
      "the "
      "raw per-answer figures are in the details. max is the slowest answer. "
      "CPU is % of one CPU (utime+stime) over the window. max RSS is "
      "VmHWM (the peak). "
      "The probe's own cost shows in the details' baseline column (1 s "
      "before each fault): its p50 against the idle daemon, far below "
      "1 ms. schedd's state is the share of 100 ms samples in which "
      "/proc/PID/stat showed it R (running or runnable), S (asleep, e.g. in "
      "epoll_wait) or D (blocked in the kernel; where, from /proc/PID/wchan). "
      "The faults run in rounds (1, 2, 3, 4, 5, then again): with more than "
      "one, a figure is the median (min–max) over the rounds, and a target "
      "is met only if every round met it; the details show each round.")
    w("")
    w("| | |")
    w("|---|---|")
    w("| commit | `%s`%s; daemon sources (daemon/, proto/, sql/) as of `%s` |"
      % (meta["commit"], " plus uncommitted changes" if meta["dirty"] else "",
         meta["daemon_commit"]))
    w("| date | %s |" % meta["date"])
    w("| machine | %s |" % meta["machine"])
    w("| load at start / end | `%s` / `%s` |" % (meta["load_start"],
                                                  meta["load_end"]))
    w("| command | `%sbench/run.sh faults`, %.0f s, %d round%s |" % (
        meta["env"] + " " if meta["env"] else "", meta["t_total"],
        meta.get("rounds", 1), "s" if meta.get("rounds", 1) > 1 else ""))
    w("| noise | %s |" % meta["noise"])
    w("")
    same = before is not None and before.get("meta", {}).get("date") == \
        meta["date"]
    show_before = before is not None and not same
    if same:
        w("This run is the **before** (stored in bench/faults-before.json): "
          "the daemon as it was when the issue was opened.")
        w("")
    head = "| fault | figure | "
    if show_before:
        head += "before (`%s`, %s) | " % (before["meta"]["commit"],
                                         before["meta"]["date"][:10])
    head += "measured | target | met/missed |"
    w(head)
    w("|---" * (head.count("|") - 1) + "|")
    for fault, name, key, unit, target, check in rows():
        if not any(fault in r for r in runs):
            continue
        cells = [TITLES[fault], name]
        if show_before:
            cells.append(cell(before["runs"], fault, key, unit))
        cells += [cell(runs, fault, key, unit), target,
                  verdict(runs, fault, key, check)]
        w("| " + " | ".join(cells) + " |")
    w("")
    w("### Details")
    w("")
    w("| fault | round | window s | probes | failed | over 100 ms | raw p50 "
      "ms | raw p99 ms | baseline p50 / max ms | RSS before MiB | schedd's "
      "state (100 ms samples) | what else |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (_, fault, _), (rnd, f) in ((x, (i + 1, r[x[1]])) for x in FAULTS
                                    for i, r in enumerate(runs)
                                    if x[1] in r):
        other = []
        if fault == "forkbomb":
            other.append("%s pids at most, %s forks refused; stop answered %s"
                         % (f.get("pids_peak"), f.get("forks_refused"),
                            f.get("stop_status")))
        elif fault == "dblock":
            other.append("%s creates, %s failed, p50 %s ms" % (
                f.get("creates"), f.get("creates_failed"),
                fnum(f.get("create_p50_ms"))))
        elif fault == "stop":
            other.append("%s processes; stops sent in %s ms, p50 answer %s "
                         "s, %s not 200, %s unanswered; %s processes left" % (
                             f.get("processes"), fnum(f.get("send_ms")),
                             fnum(f.get("stop_p50_s")),
                             STOP_JOBS - f.get("stops_ok", 0) -
                             f.get("stops_unanswered", 0),
                             f.get("stops_unanswered"),
                             f.get("processes_left")))
        elif fault == "readers":
            ex = f.get("job_exited_s")
            other.append("%s; RSS %s MiB 1 s after the readers closed" % (
                "job exited after %s s" % fnum(ex) if ex == ex and
                ex is not None else "job still writing when the window "
                "ended", fnum(f.get("rss_after_close_mib"))))
        elif fault == "fdlimit":
            other.append("%s idle connections held, schedd at %s fds "
                         "(limit %d); %s bytes of log in %s s; recovery "
                         "took %s connection(s)" % (
                             f.get("idle_conns"), f.get("daemon_fds"),
                             NOFILE, f.get("log_bytes"),
                             fnum(f.get("window_s")),
                             f.get("recovery_attempts")))
        other += f.get("notes", [])
        w("| %s | %d | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s |"
          % (TITLES[fault], rnd, fnum(f.get("window_s")),
             f.get("probes", "n/a"),
             f.get("probes_not_200", 0) + f.get("probe_errors", 0),
             f.get("probes_over_100ms", "n/a"), fnum(f.get("raw_p50_ms")),
             fnum(f.get("raw_p99_ms")), fnum(f.get("base_p50_ms")),
             fnum(f.get("base_max_ms")), fnum(f.get("rss_before_mib")),
             f.get("states", "n/a"), "; ".join(other)))
    for rnd, fault, n in meta.get("failed", []):
        w("")
        w("**%s did not complete in round %d**: %s" % (
            TITLES.get(fault, fault), rnd, n))
    if before is not None and before.get("remark"):
        # Written by hand into bench/faults-before.json after that run.
        w("")
        w("**About the before** (`%s`, %s): %s" % (
            before["meta"]["commit"], before["meta"]["date"],
            before["remark"]))
    w("")
    w("### Exact commands")
    w("")
    w("`$TMP` is that daemon's temp directory; `bench/` is in the build tree. "
      "Each schedd runs as `./schedd --foreground --socket $TMP/s.sock "
      "--state-dir $TMP/state --config $TMP/schedd.conf --log-level info`, "
      "stderr to `$TMP/schedd.log`. Requests without a program are made by "
      "bench/faults.py itself (Python, new connection each).")
    w("")
    for _, fault, _ in FAULTS:
        if fault in CMDS:
            w("- %s:" % TITLES[fault])
            for c in CMDS[fault]:
                w("  - `%s`" % c)
    w("")
    w("### Run log")
    w("")
    w("```")
    L.extend(B.log_lines)
    w("```")
    w(MARK_END)
    text = "\n".join(L)
    try:
        with open(OUT) as f:
            old = f.read()
    except OSError:
        old = ""
    a, b = old.find(MARK_BEGIN), old.find(MARK_END)
    if 0 <= a < b:
        new = old[:a] + text + old[b + len(MARK_END):]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text + "\n"
    with open(OUT + ".tmp", "w") as f:
        f.write(new)
    os.replace(OUT + ".tmp", OUT)


def load_before():
    try:
        with open(BEFORE_JSON) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    if os.environ.get("BENCH_FAULTS_REPORT_FROM"):
        # Render the section again from a stored run (e.g. after editing
        # the remark in bench/faults-before.json).
        with open(os.environ["BENCH_FAULTS_REPORT_FROM"]) as f:
            d = json.load(f)
        CMDS.update(d["CMDS"])
        B.log_lines.extend(d["log"])
        write_report(d["meta"], d["runs"], load_before())
        print("wrote " + OUT, file=sys.stderr)
        return 0
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for prog in (PROBE, BOMB, B.SCHEDD):
        if not os.access(prog, os.X_OK):
            print("faults.py: %s not built (bench/run.sh faults builds it)" %
                  prog, file=sys.stderr)
            return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * IDLE_CONNS:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(hard, 4096) if hard != resource.RLIM_INFINITY
                            else 4096, hard))
    B.MACHINE = B.machine()
    B.become_subreaper()

    def uptime():
        return subprocess.run(["uptime"], stdout=subprocess.PIPE,
                              text=True).stdout.strip()

    meta = {"load_start": uptime(), "machine": B.MACHINE,
            "commit": git("rev-parse", "--short", "HEAD") or "?",
            "daemon_commit": git("log", "-1", "--format=%h", "--", "daemon",
                                 "proto", "sql") or "?",
            "dirty": git("status", "--porcelain", "--untracked-files=no",
                         "--", "daemon", "proto", "sql") != ""}
    if os.environ.get("BENCH_COMMIT"):
        meta["commit"] = meta["daemon_commit"] = os.environ["BENCH_COMMIT"]
        meta["dirty"] = False
    meta["env"] = " ".join("%s=%s" % (k, os.environ[k]) for k in (
        "BENCH_QUICK", "BENCH_FAULTS", "BENCH_FAULTS_ROUNDS", "BENCH_BUILDDIR",
        "BENCH_COMMIT", "BENCH_FAULTS_BEFORE") if os.environ.get(k))
    meta["rounds"] = ROUNDS
    meta["noise"] = os.environ.get(
        "BENCH_FAULTS_NOISE",
        "other engineers build and test on this 2-CPU machine at the same "
        "time; figures drift between runs" + (
            "; BENCH_QUICK: shortened faults, a smoke run, not a result"
            if QUICK else ""))
    log("start: %s; commit %s (daemon sources %s%s)" % (
        meta["load_start"], meta["commit"], meta["daemon_commit"],
        ", dirty" if meta["dirty"] else ""))
    failed = []
    try:
        for rnd in range(1, ROUNDS + 1):
            if ROUNDS > 1:
                log("round %d of %d" % (rnd, ROUNDS))
            FIG.clear()
            for num, name, fn in FAULTS:
                if ONLY and num not in ONLY and name not in ONLY:
                    continue
                t = time.monotonic()
                try:
                    fn()
                except (B.BenchError, subprocess.TimeoutExpired, OSError,
                        KeyError, TypeError, ValueError) as e:
                    log("%s FAILED: %s" % (name, e))
                    failed.append((rnd, name, str(e)))
                log("  (%.0f s)" % (time.monotonic() - t))
            RUNS.append(json.loads(json.dumps(FIG)))  # a deep copy
    finally:
        kill_all()
    meta["load_end"] = uptime()
    meta["t_total"] = time.monotonic() - B.T0
    meta["date"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    meta["failed"] = failed
    log("done in %.0f s; end: %s" % (meta["t_total"], meta["load_end"]))
    if os.environ.get("BENCH_FAULTS_BEFORE") == "1":
        log("stored as the before: bench/faults-before.json")
        with open(BEFORE_JSON, "w") as f:
            json.dump({"meta": meta, "runs": RUNS, "CMDS": CMDS,
                       "log": B.log_lines, "remark": ""}, f, indent=1,
                      sort_keys=True)
            f.write("\n")
    write_report(meta, RUNS, load_before())
    print("wrote " + OUT, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
