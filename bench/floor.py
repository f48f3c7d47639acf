#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Issue 18's targets in one run; run it through `bench/run.sh floor`.

1. create+wait against the floor reference (bench/floor.c: the contract's
   minimum per job), `/bin/true` and the no-libc `true`, C=1 and C=8, a
   fresh schedd and a fresh floor each round, run back to back in an order
   that alternates between rounds; the bare posix_spawn loop beside them.
2. GET /v1/jobs/{id}, 64 connections, against bare evhttp with the same
   body (bench.py's section 3, reused).
3. With 10,000 jobs running against none: POST -> the job's first
   instruction and exit -> `exited` event (bench.py's latency probe), RSS
   per job, and the loop lag (GET /v1/health loop_lag_ms, sampled every
   100 ms, the gauge's own tick) while 64 connections keep the API busy.
   The loaded probes run in turn with an empty twin daemon (the target's
   reference), so that what the machine does meanwhile falls on both;
   the figures before the jobs are kept beside them. Then the floor
   reference under the same probes, with as many `sleep` jobs of its own.
4. One-shot jobs against supervisord (bench.py's section 7, reused).
5. Cold start: 100 job files to all 100 running, schedd against s6
   (s6-svscan on 100 service directories) and supervisord (100 programs),
   and 100 jobs created through the API on a running schedd (and floor).
   Every job is bench/upmark, which writes a byte to a FIFO when it runs:
   "all running" is the moment the 100th byte arrives, the same for all.
6. RSS with those 100 jobs running.

Prints a markdown section and puts it into BENCH_OUT (default
bench/RESULTS.md) between <!-- floor begin --> and <!-- floor end -->,
which a full run (bench/bench.py) keeps. Environment: BENCH_ROUNDS
(default 5), BENCH_QUICK=1 (small counts, 2 rounds: a smoke run),
BENCH_SCALE_N (10000), BENCH_ONLY=spawn,api,scale,peer,cold.
BENCH_FLOOR_FROM=DUMP (a BENCH_DUMP of an earlier run) keeps its figures
but those of the sections in BENCH_ONLY (BENCH_ONLY=none: the report
again); BENCH_FLOOR_NOTES=FILE adds FILE's markdown after the tables.
"""
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (the helpers, R and POOL are shared)

from bench import (R, POOL, add, pool, med, pct, fmt, spread, one, log,
                   run_tool, bin_, api, rss_kb, BenchError)  # noqa: E402

ROUNDS = B.ROUNDS
N_SPAWN = B.N_SPAWN
N_COLD = 100
LAG_S = 2 if B.QUICK else 8
TURNS = 2 if B.QUICK else 3  # probes of each daemon, in turn
S6_SVSCAN = shutil.which("s6-svscan") or "/usr/bin/s6-svscan"
EXECLINEB = shutil.which("execlineb")


def status_kb(pid):
    """VmRSS, RssAnon and RssFile+RssShmem of pid in KiB."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":")[0]
                if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(line.split()[1])
    except OSError:
        pass
    return (out.get("VmRSS", -1), out.get("RssAnon", -1),
            out.get("RssFile", 0) + out.get("RssShmem", 0))


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    """Every descendant of pid: (pid, start time) pairs."""
    out, todo = [], [pid]
    while todo:
        kids = B.proc_children(todo.pop())
        out.extend(kids)
        todo.extend(k for k, _ in kids)
    return out


class Floor:
    """bench/floor on a temporary socket and state directory."""

    def __init__(self, nofile=None, stamps=False):
        """nofile: RLIMIT_NOFILE for it; stamps: its jobs' stdout is the
        file self.stamps (FLOOR_STDOUT), for schedd-bench latency -o."""
        self.dir = B.mktemp("floor-bench.")
        self.sock = os.path.join(self.dir, "s.sock")
        self.stamps = os.path.join(self.dir, "stamps") if stamps else None
        args = [bin_("floor"), self.sock, self.dir]
        B.note_cmd("floor", args)
        env = dict(os.environ)
        if self.stamps:
            env["FLOOR_STDOUT"] = self.stamps

        def lim():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.errlog = open(os.path.join(self.dir, "floor.log"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=self.errlog, text=True, env=env,
                                     preexec_fn=lim)
        B.started.append(self.proc)
        self.pid = self.proc.pid
        if self.proc.stdout.readline().strip() != "ready":
            raise BenchError("floor did not start")

    def close(self):
        if self.proc.poll() is None:
            kids = B.proc_children(self.pid)
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            B.kill_if_same(kids)
        self.errlog.close()
        left = [d for d in self.cgroups() if os.path.isdir(d)]
        for d in left:
            for dirpath, _, _ in os.walk(d, topdown=False):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        if left:
            add("floor.cgroups_left", len(left))
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.dir in B.tmpdirs:
            B.tmpdirs.remove(self.dir)

    def cgroups(self):
        name = "floor-%d" % self.pid
        out = []
        for root, dirs, _ in os.walk("/sys/fs/cgroup"):
            if name in dirs:
                out.append(os.path.join(root, name))
            # job cgroups are beneath: no need to descend into them
            dirs[:] = [d for d in dirs if not d.startswith(("job-", "schedd-",
                                                            "floor-"))]
        return out


# 1. create+wait against the floor


def spawn_round(r):
    sd = B.Schedd()
    fl = Floor()
    try:
        for d in (sd, fl):
            run_tool("floor", [bin_("schedd-bench"), "spawn", "-s", d.sock,
                               "-n", "300", "-c", "1", "-t",
                               str(B.FIGURE_S), "--", B.TRUE])
        for label, prog in (("true", B.TRUE), ("static", B.TRUE_STATIC)):
            for c in (1, 8):
                k = "f.spawn.%s.c%d" % (label, c)
                order = [("schedd", sd), ("floor", fl)]
                if r % 2:
                    order.reverse()
                got = {}
                for who, d in order:
                    s = run_tool("floor", [
                        bin_("schedd-bench"), "spawn", "-s", d.sock, "-n",
                        str(N_SPAWN), "-c", str(c), "-p", str(d.pid), "-t",
                        str(B.FIGURE_S), "--", prog])
                    got[who] = one(s, "rate")
                    add("%s.%s" % (k, who), one(s, "rate"))
                    add("%s.%s.cpu_us" % (k, who),
                        one(s, "daemon_cpu_us_per_job"))
                b = run_tool("floor", [bin_("bare-spawn"), "-n", str(N_SPAWN),
                                       "-c", str(c), "--", prog])
                add(k + ".bare", one(b, "rate"))
                add(k + ".ratio", got["schedd"] / got["floor"])
                add(k + ".ratio_bare", got["schedd"] / one(b, "rate"))
                add(k + ".floor_bare", got["floor"] / one(b, "rate"))
        log("  round %d: /bin/true c1 schedd %.0f/s floor %.0f/s; static c8 "
            "schedd %.0f/s floor %.0f/s" % (
                r + 1, R["f.spawn.true.c1.schedd"][-1],
                R["f.spawn.true.c1.floor"][-1],
                R["f.spawn.static.c8.schedd"][-1],
                R["f.spawn.static.c8.floor"][-1]))
    finally:
        sd.close()
        fl.close()


def bench_spawn():
    log("F1. create+wait against the floor: N=%d (or %.1f s), %d rounds" % (
        N_SPAWN, B.FIGURE_S, ROUNDS))
    for r in range(ROUNDS):
        spawn_round(r)


# 3. 10,000 jobs: latencies, RSS and the loop lag


def loop_lag(sd, path, tag):
    """Sample GET /v1/health loop_lag_ms every 100 ms while 64 connections
    GET path as fast as they can for LAG_S seconds."""
    args = [bin_("loadgen"), "-s", sd.sock, "-c", "64", "-d", str(LAG_S),
            "-w", "0.3", "-u", path]
    B.note_cmd("scale", args)
    lg = subprocess.Popen(args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    B.started.append(lg)
    lags = []
    time.sleep(0.5)
    while lg.poll() is None:
        try:
            st, body = api(sd.sock, "GET", "/v1/health")
            if st == 200:
                lags.append(json.loads(body)["loop_lag_ms"])
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    out, err = lg.communicate()
    if lg.returncode != 0:
        raise BenchError("loadgen failed: " + err[-300:])
    rate = [float(l.split()[1]) for l in out.splitlines()
            if l.startswith("rate ")]
    st, body = api(sd.sock, "GET", "/v1/health")
    pool("lag.%s" % tag, lags)
    add("lag.%s.max" % tag, json.loads(body)["loop_lag_max_ms"])
    add("lag.%s.rate" % tag, rate[0] if rate else float("nan"))
    log("  loop lag %s: p50 %s p99 %s max %s ms over %d samples, %.0f req/s"
        % (tag, fmt(pct(lags, 50)), fmt(pct(lags, 99)),
           fmt(R["lag.%s.max" % tag][-1]), len(lags),
           R["lag.%s.rate" % tag][-1]))


def bench_scale():
    n = B.N_SCALE
    # A pidfd and the read ends of two output pipes per running job, and
    # at most 256 segments open for writing. With logs.direct a job costs
    # its pidfd alone. The hard limit may be out of reach (here it cannot
    # be raised even by root): then the jobs' output is logs.direct if
    # that fits, else N is what fits beneath it, and the report says so.
    need = 3 * n + 2048
    nofile = B.nofile_cap(need)
    spec = []
    if nofile < need and nofile >= n + 2048:
        spec = ["-j", '"logs":{"direct":true}']
        R["scale.note"] = [
            "RLIMIT_NOFILE's hard limit is %d here and cannot be raised; "
            "schedd holds 3 fds per running job whose output goes through "
            "pipes (a pidfd, the read ends of its two pipes), so %d such "
            "jobs need %d: the jobs are `\"logs\": {\"direct\": true}`, "
            "which cost schedd their pidfd alone" % (
                nofile, n, need)]
    elif nofile < need:
        n = max(100, (nofile - 2048) // 3)
        R["scale.note"] = [
            "RLIMIT_NOFILE's hard limit is %d here and cannot be raised; "
            "schedd holds 3 fds per running job (a pidfd, the read ends of "
            "the job's two output pipes), so %d jobs need %d: N lowered to "
            "%d" % (nofile, B.N_SCALE, need, n)]
    log("F3. %d running jobs: latencies, RSS, loop lag" % n)
    sd = B.Schedd(nofile=nofile)
    twin = None
    try:
        run_tool("scale", [bin_("schedd-bench"), "spawn", "-s", sd.sock, "-n",
                           "1000", "-c", "2", "--", B.TRUE_STATIC])
        for _ in range(2):
            B.latency_probe(sd, "empty")
        st, body = api(sd.sock, "POST", "/v1/jobs", {"argv": [B.TRUE]})
        jpath = "/v1/jobs/%d" % json.loads(body)["id"]
        loop_lag(sd, jpath, "empty")
        rss0 = rss_kb(sd.pid)[0]
        fds0 = len(os.listdir("/proc/%d/fd" % sd.pid))
        s = run_tool("scale", [bin_("schedd-bench"), "create", "-s", sd.sock,
                               "-n", str(n), "-c", "8", "-p", str(sd.pid),
                               "-t", str(B.SCALE_BUDGET_S)] + spec +
                     ["--", B.SLEEP, "3600"], timeout=900)
        n = int(one(s, "created"))
        add("scale.n", n)
        rss1 = rss_kb(sd.pid)[0]
        add("scale.fds_per_job",
            (len(os.listdir("/proc/%d/fd" % sd.pid)) - fds0) / float(n))
        add("scale.rss_base_kb", rss0)
        add("scale.rss_loaded_kb", rss1)
        add("scale.rss_per_job_b", (rss1 - rss0) * 1024.0 / n)
        # In turn with an empty twin, so that what the machine does
        # meanwhile (DAMON walking 10,000 new processes, other work)
        # falls on both alike.
        twin = B.Schedd()
        run_tool("scale", [bin_("schedd-bench"), "spawn", "-s", twin.sock,
                           "-n", "1000", "-c", "2", "--", B.TRUE_STATIC])
        for k in range(TURNS):
            for who in ((sd, twin) if k % 2 == 0 else (twin, sd)):
                B.latency_probe(who, "loaded" if who is sd else "twin")
        twin.close()
        twin = None
        loop_lag(sd, jpath, "loaded")
        add("scale.stop_s", sd.stop(timeout=300))
        log("  RSS %d -> %d KiB (%.0f B/job)" % (
            rss0, rss1, R["scale.rss_per_job_b"][-1]))
    finally:
        if twin is not None:
            twin.close()
        sd.close()
    floor_scale(n)


def floor_probe(fl, tag):
    s = run_tool("scale", [bin_("schedd-bench"), "latency", "-s", fl.sock,
                           "-n", str(B.N_LAT), "-o", fl.stamps, "--",
                           B.STAMP])
    for k in ("create_to_running_resp_us", "create_to_exec_us",
              "exit_to_wait_resp_us"):
        pool("size.floor.%s.%s" % (tag, k), s[k])


def floor_scale(n):
    """The same probes on the floor reference: before and with n `sleep`
    jobs of its own, the latter in turn with an empty twin."""
    log("F3b. the floor reference, the same probe, %d running jobs" % n)
    fl = Floor(nofile=B.nofile_cap(n + 2048), stamps=True)
    twin = None
    try:
        run_tool("scale", [bin_("schedd-bench"), "spawn", "-s", fl.sock,
                           "-n", "1000", "-c", "2", "--", B.TRUE_STATIC])
        for _ in range(2):
            floor_probe(fl, "empty")
        s = run_tool("scale", [bin_("schedd-bench"), "create", "-s", fl.sock,
                               "-n", str(n), "-c", "8", "-p", str(fl.pid),
                               "-t", str(B.SCALE_BUDGET_S), "--", B.SLEEP,
                               "3600"], timeout=900)
        add("scale.floor.n", int(one(s, "created")))
        twin = Floor(stamps=True)
        run_tool("scale", [bin_("schedd-bench"), "spawn", "-s", twin.sock,
                           "-n", "1000", "-c", "2", "--", B.TRUE_STATIC])
        for k in range(TURNS):
            for who in ((fl, twin) if k % 2 == 0 else (twin, fl)):
                floor_probe(who, "loaded" if who is fl else "twin")
    finally:
        if twin is not None:
            twin.close()
        fl.close()


# 5. Cold start and 100 jobs through the API


def fifo_open(d):
    path = os.path.join(d, "up.fifo")
    os.mkfifo(path)
    return path, os.open(path, os.O_RDWR | os.O_NONBLOCK)


def fifo_wait(fd, n, t0, timeout=60):
    """Seconds from t0 until n bytes arrived."""
    got, deadline = 0, t0 + timeout
    while got < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise BenchError("only %d of %d jobs up after %d s" % (
                got, n, timeout))
        try:
            got += len(os.read(fd, 4096))
        except BlockingIOError:
            pass
    return time.monotonic() - t0


def stop_tree(p, sig=signal.SIGTERM):
    kids = descendants(p.pid)
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    time.sleep(0.05)
    B.kill_if_same(kids)


def cold_schedd(r):
    d = B.mktemp("floor-cold.")
    fifo, fd = fifo_open(d)
    jd = os.path.join(d, "jobs.d")
    os.mkdir(jd)
    for i in range(N_COLD):
        with open(os.path.join(jd, "j%03d.json" % i), "w") as f:
            json.dump({"name": "j%03d" % i,
                       "argv": [bin_("upmark"), fifo]}, f)
    conf = os.path.join(d, "schedd.conf")
    with open(conf, "w") as f:
        f.write("jobs_dir = %s\n" % jd)
    sd = B.Schedd.__new__(B.Schedd)
    sd.dir = d
    sd.sock = os.path.join(d, "s.sock")
    sd.args = [B.SCHEDD, "--foreground", "--socket", sd.sock, "--state-dir",
               os.path.join(d, "state"), "--config", conf, "--log-level",
               "warn"]
    B.note_cmd("cold", sd.args)
    sd.errlog = open(os.path.join(d, "schedd.log"), "w")
    try:
        t0 = time.monotonic()
        sd.proc = subprocess.Popen(sd.args, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL,
                                   stderr=sd.errlog)
        B.started.append(sd.proc)
        sd.pid = sd.proc.pid
        add("cold.schedd", fifo_wait(fd, N_COLD, t0))
        time.sleep(0.3)  # settled: every job's record written
        rss, anon, filek = status_kb(sd.pid)
        add("mem.files.rss", rss)
        add("mem.files.anon", anon)
        add("mem.files.file", filek)
    finally:
        os.close(fd)
        if getattr(sd, "proc", None) is not None:
            sd.close()


def cold_s6(r):
    d = B.mktemp("floor-s6.")
    fifo, fd = fifo_open(d)
    scan = os.path.join(d, "scan")
    os.mkdir(scan)
    for i in range(N_COLD):
        sv = os.path.join(scan, "s%03d" % i)
        os.mkdir(sv)
        with open(os.path.join(sv, "run"), "w") as f:
            if EXECLINEB:
                f.write("#!%s -P\n%s %s\n" % (EXECLINEB, bin_("upmark"), fifo))
            else:
                f.write("#!/bin/sh\nexec %s %s\n" % (bin_("upmark"), fifo))
        os.chmod(os.path.join(sv, "run"), 0o755)
    args = [S6_SVSCAN, scan]
    B.note_cmd("cold", args)
    p = None
    try:
        t0 = time.monotonic()
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        B.started.append(p)
        add("cold.s6", fifo_wait(fd, N_COLD, t0))
        time.sleep(0.3)
        tree = descendants(p.pid)
        sups = [k for k, _ in tree if open("/proc/%d/comm" % k).read().strip()
                == "s6-supervise"]
        add("mem.s6.svscan_rss", status_kb(p.pid)[0])
        add("mem.s6.pss_total", pss_kb(p.pid) + sum(pss_kb(k) for k in sups))
        add("mem.s6.rss_total", status_kb(p.pid)[0] +
            sum(status_kb(k)[0] for k in sups))
    finally:
        os.close(fd)
        if p is not None:
            stop_tree(p)


def cold_supervisord(r):
    d = B.mktemp("floor-sup.")
    fifo, fd = fifo_open(d)
    conf = os.path.join(d, "supervisord.conf")
    with open(conf, "w") as f:
        f.write("[unix_http_server]\nfile=%s/supervisor.sock\n\n"
                "[supervisord]\nlogfile=%s/supervisord.log\n"
                "pidfile=%s/supervisord.pid\nchildlogdir=%s\nnodaemon=true\n"
                "loglevel=warn\n\n"
                "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                "supervisor.rpcinterface:make_main_rpcinterface\n\n" %
                (d, d, d, d))
        for i in range(N_COLD):
            f.write("[program:p%d]\ncommand=%s %s\nautostart=true\n"
                    "autorestart=false\nstartsecs=0\nstartretries=0\n\n" %
                    (i, bin_("upmark"), fifo))
    args = [B.SUPERVISORD, "-n", "-c", conf]
    B.note_cmd("cold", args)
    p = None
    try:
        t0 = time.monotonic()
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        B.started.append(p)
        add("cold.supervisord", fifo_wait(fd, N_COLD, t0))
        time.sleep(0.3)
        add("mem.sup.rss", status_kb(p.pid)[0])
    finally:
        os.close(fd)
        if p is not None:
            stop_tree(p)


def api100(who, r):
    d = B.Schedd() if who == "schedd" else Floor()
    fifo, fd = fifo_open(d.dir)
    try:
        run_tool("cold", [bin_("schedd-bench"), "spawn", "-s", d.sock, "-n",
                          "300", "-c", "1", "--", B.TRUE])
        rss0 = status_kb(d.pid)[0]
        args = [bin_("schedd-bench"), "create", "-s", d.sock, "-n",
                str(N_COLD), "-c", "8", "--", bin_("upmark"), fifo]
        B.note_cmd("cold", args)
        t0 = time.monotonic()
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        B.started.append(p)
        add("api100.%s" % who, fifo_wait(fd, N_COLD, t0))
        _, err = p.communicate(timeout=60)
        if p.returncode != 0:
            raise BenchError("schedd-bench create: " + err[-300:])
        time.sleep(0.3)
        rss, anon, filek = status_kb(d.pid)
        add("mem.api.%s.rss" % who, rss)
        add("mem.api.%s.anon" % who, anon)
        add("mem.api.%s.file" % who, filek)
        add("mem.api.%s.rss_before" % who, rss0)
    finally:
        os.close(fd)
        d.close()


def bench_cold():
    log("F5. cold start: %d job files; %d jobs through the API; %d rounds"
        % (N_COLD, N_COLD, ROUNDS))
    have_s6 = os.path.exists(S6_SVSCAN)
    have_sup = os.path.exists(B.SUPERVISORD)
    if not have_s6:
        R["cold.note_s6"] = ["s6 not installed: skipped"]
    if not have_sup:
        R["cold.note_sup"] = ["supervisord not installed: skipped"]
    for r in range(ROUNDS):
        steps = [cold_schedd]
        if have_s6:
            steps.append(cold_s6)
        if have_sup:
            steps.append(cold_supervisord)
        steps = steps[r % len(steps):] + steps[:r % len(steps)]
        for fn in steps:
            fn(r)
        for who in (("schedd", "floor") if r % 2 == 0 else
                    ("floor", "schedd")):
            api100(who, r)
        log("  round %d: files schedd %.3f s, s6 %s s, supervisord %s s; "
            "API schedd %.3f s, floor %.3f s" % (
                r + 1, R["cold.schedd"][-1],
                fmt(R["cold.s6"][-1]) if have_s6 else "-",
                fmt(R["cold.supervisord"][-1]) if have_sup else "-",
                R["api100.schedd"][-1], R["api100.floor"][-1]))


# Report

# The keys each section writes (BENCH_FLOOR_FROM replaces them).
PREFIXES = {"spawn": ("f.spawn.",), "api": ("api.",),
            "scale": ("scale.", "size.", "lag."), "peer": ("peer.",),
            "cold": ("cold.", "api100.", "mem.")}


def verdict(ok):
    if ok is None:
        return "n/a"
    return "met" if ok else "**missed**"


def pc(xs):
    return spread([100 * x for x in xs], " %")


def ratios(prefix, key, base):
    """The loaded daemon's p50 and p99 over base's ("twin": the empty
    twin probed in turn; "empty": the same daemon before its jobs), or
    None when the run did not measure them (an older run: no twin, so
    the loaded figures are set against the same daemon before)."""
    lo = POOL.get("%s.loaded.%s" % (prefix, key))
    em = POOL.get("%s.%s.%s" % (prefix, base, key))
    if not em and base == "twin":
        em = POOL.get("%s.empty.%s" % (prefix, key))
    if not lo or not em:
        return None
    return pct(lo, 50) / pct(em, 50), pct(lo, 99) / pct(em, 99)


def report(t_total, commit, dirty):
    L = []
    w = L.append
    w("<!-- floor begin -->")
    w("## Against the floor, and side by side (issue 18)")
    w("")
    w("Written by `bench/run.sh floor` (bench/floor.py), %.0f s, at `%s`%s, "
      "%s. Medians over %d rounds with the spread (min–max of the per-round "
      "values) in brackets; ratios per round from figures measured back to "
      "back, then their median; p50/p99 over samples pooled from every "
      "round. The floor reference is bench/floor.c: per job it parses the "
      "request with evhttp and jansson, makes the job's cgroups in the "
      "hierarchies schedd uses, spawns with the same `CLONE_VM|CLONE_VFORK` "
      "clone, stores the job in one SQLite transaction (WAL, "
      "synchronous=NORMAL) when it starts and one when it ends, reaps "
      "through a pidfd in the loop and answers `/wait`; its jobs' output "
      "goes to /dev/null (no logs, no events, no environment)." % (
          t_total, commit, " (dirty)" if dirty else "", B.MACHINE, ROUNDS))
    w("")
    rows = []

    def row(fig, sd, ref, ratio, target, ok):
        rows.append("| %s | %s | %s | %s | %s | %s |" % (
            fig, sd, ref, ratio, target, verdict(ok)))

    for label, name in (("true", "`/bin/true`"), ("static", "no-libc `true`")):
        for c in (1, 8):
            k = "f.spawn.%s.c%d" % (label, c)
            if k + ".ratio" not in R:
                continue
            row("create+wait %s, C=%d, jobs/s" % (name, c),
                spread(R[k + ".schedd"]),
                "floor: %s" % spread(R[k + ".floor"]),
                pc(R[k + ".ratio"]), "≥ 70 %",
                med(R[k + ".ratio"]) >= 0.70)
    if "api.job.ratio" in R:
        row("`GET /v1/jobs/{id}`, 64 connections, req/s",
            spread(R["api.job.schedd"]),
            "bare evhttp, same %d-byte body: %s" % (
                R["api.body.job"][0], spread(R["api.job.bare"])),
            pc(R["api.job.ratio"]), "≥ 80 %", med(R["api.job.ratio"]) >= 0.8)
    if "size.loaded.create_to_exec_us" in POOL:
        n = int(R["scale.n"][0])
        for key, name, fkey in (("create_to_exec_us",
                                 "POST → job's first instruction",
                                 "create_to_exec_us"),
                                ("exit_to_event_us", "exit → `exited` event",
                                 "exit_to_wait_resp_us")):
            lo = POOL["size.loaded." + key]
            em = POOL.get("size.twin." + key) or POOL["size.empty." + key]
            r50, r99 = ratios("size", key, "twin")
            ref = "empty twin, in turn: p50 %s, p99 %s" % (
                fmt(pct(em, 50)), fmt(pct(em, 99)))
            bef = ratios("size", key, "empty")
            if bef is not None and "size.twin." + key in POOL:
                ref += "; against the same daemon before its jobs: " \
                    "p50 ×%.2f, p99 ×%.2f" % bef
            fr = ratios("size.floor", fkey, "twin")
            if fr is not None:
                ref += "; the floor in turn%s: p50 ×%.2f, p99 ×%.2f" % (
                    "" if key == fkey else
                    " (exit → `/wait` answer: it has no events)",
                    fr[0], fr[1])
            row("%s, µs, %d jobs running" % (name, n),
                "p50 %s, p99 %s" % (fmt(pct(lo, 50)), fmt(pct(lo, 99))),
                ref, "p50 ×%.2f, p99 ×%.2f" % (r50, r99), "both ≤ ×1.3",
                r50 <= 1.3 and r99 <= 1.3)
    for c in (1, 8):
        k = "peer.ratio.c%d" % c
        if k in R:
            row("one-shot `/bin/true` start → exited, C=%d, jobs/s" % c,
                spread(R["peer.schedd.c%d" % c]),
                "supervisord: %s" % spread(R["peer.sup.c%d" % c]),
                "×" + spread(R[k]), "≥ ×8", med(R[k]) >= 8)
    if "cold.schedd" in R:
        refs = []
        if "cold.s6" in R:
            refs.append("s6: %s" % spread(R["cold.s6"], " s"))
        if "cold.supervisord" in R:
            refs.append("supervisord: %s" % spread(R["cold.supervisord"],
                                                   " s"))
        ratio = "—"
        if "cold.s6" in R:
            ratio = "s6 ×%s" % fmt(med([a / b for a, b in zip(
                R["cold.schedd"], R["cold.s6"])]))
        row("cold start, %d job files → all running" % N_COLD,
            spread(R["cold.schedd"], " s"), "; ".join(refs), ratio,
            "≤ 0.2 s", med(R["cold.schedd"]) <= 0.2)
        row("%d jobs created through the API → all running" % N_COLD,
            spread(R["api100.schedd"], " s"),
            "floor: %s" % spread(R["api100.floor"], " s"),
            "×%s" % fmt(med([a / b for a, b in zip(R["api100.schedd"],
                                                   R["api100.floor"])])),
            "≤ 0.2 s", med(R["api100.schedd"]) <= 0.2)
        row("RSS with %d jobs running (job files), KiB" % N_COLD,
            "%s (anon %s, file %s)" % (spread(R["mem.files.rss"]),
                                       fmt(med(R["mem.files.anon"])),
                                       fmt(med(R["mem.files.file"]))),
            "floor, %d API jobs: %s (anon %s)" % (
                N_COLD, spread(R["mem.api.floor.rss"]),
                fmt(med(R["mem.api.floor.anon"]))),
            "×%.2f" % (med(R["mem.files.rss"]) /
                       med(R["mem.api.floor.rss"])),
            "≤ 4 MiB", med(R["mem.files.rss"]) <= 4096)
    if "scale.rss_per_job_b" in R:
        row("RSS per running job beyond base, %d jobs, B" % R["scale.n"][0],
            fmt(R["scale.rss_per_job_b"][0]),
            "base %s KiB → %s KiB" % (fmt(R["scale.rss_base_kb"][0]),
                                      fmt(R["scale.rss_loaded_kb"][0])),
            "—", "≤ 2 KiB", R["scale.rss_per_job_b"][0] <= 2048)
    if "lag.loaded" in POOL:
        lo, em = POOL["lag.loaded"], POOL.get("lag.empty", [])
        row("loop lag, %d jobs, 64 busy connections, ms" % R["scale.n"][0],
            "p99 %s (p50 %s, max %s; %d samples)" % (
                fmt(pct(lo, 99)), fmt(pct(lo, 50)),
                fmt(max(R["lag.loaded.max"])), len(lo)),
            "0 jobs: p99 %s (max %s)" % (fmt(pct(em, 99)),
                                         fmt(max(R["lag.empty.max"]))),
            "—", "p99 ≤ 2 ms", pct(lo, 99) <= 2)
    w("| figure | schedd | reference | ratio | target | |")
    w("|---|---|---|---|---|---|")
    L.extend(rows)
    w("")
    if "f.spawn.true.c1.ratio" in R:
        w("### create+wait against the floor and the bare loop")
        w("")
        w("N = %d jobs per figure or %.1f s, whichever is first; a fresh "
          "schedd and a fresh floor each round, each warmed with 300 jobs; "
          "schedd first in odd rounds, the floor first in even ones. CPU is "
          "the daemon's own (/proc/PID/schedstat) per job." % (
              N_SPAWN, B.FIGURE_S))
        w("")
        w("| binary, C | schedd jobs/s | floor jobs/s | bare loop jobs/s | "
          "schedd/floor | schedd/bare | floor/bare | CPU µs/job schedd | "
          "CPU µs/job floor |")
        w("|---|---|---|---|---|---|---|---|---|")
        for label, name in (("true", "/bin/true"), ("static", "no-libc")):
            for c in (1, 8):
                k = "f.spawn.%s.c%d" % (label, c)
                w("| %s, %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    name, c, spread(R[k + ".schedd"]),
                    spread(R[k + ".floor"]), spread(R[k + ".bare"]),
                    pc(R[k + ".ratio"]), pc(R[k + ".ratio_bare"]),
                    pc(R[k + ".floor_bare"]),
                    spread(R[k + ".schedd.cpu_us"]),
                    spread(R[k + ".floor.cpu_us"])))
        w("")
    if "cold.schedd" in R:
        w("### Cold start and memory")
        w("")
        w("Every job is bench/upmark, which writes a byte to a FIFO the "
          "driver holds open and then waits: \"all running\" is when the "
          "%dth byte arrives, timed from just before the supervisor is "
          "started (job files) or the client (API). s6: `s6-svscan` on %d "
          "service directories whose `run` is an execline script "
          "(`#!execlineb -P`) exec'ing upmark, so each job costs s6 an "
          "s6-supervise, a fork and two execs. supervisord: %d "
          "`[program]`s with `autostart=true`, `startsecs=0`. The API "
          "figure is `schedd-bench create -n %d -c 8` on a daemon that has "
          "run 300 jobs. RSS is VmRSS after 0.3 s; anon is RssAnon, file "
          "is RssFile+RssShmem (pages of the binary and the shared "
          "libraries)." % (N_COLD, N_COLD, N_COLD, N_COLD))
        w("")
        w("| what | seconds | RSS KiB |")
        w("|---|---|---|")
        w("| schedd, %d job files (cold) | %s | %s (anon %s, file %s) |" % (
            N_COLD, spread(R["cold.schedd"]), spread(R["mem.files.rss"]),
            fmt(med(R["mem.files.anon"])), fmt(med(R["mem.files.file"]))))
        if "cold.s6" in R:
            w("| s6-svscan, %d service directories (cold) | %s | svscan %s; "
              "svscan + %d s6-supervise: RSS %s, PSS %s |" % (
                  N_COLD, spread(R["cold.s6"]),
                  fmt(med(R["mem.s6.svscan_rss"])), N_COLD,
                  fmt(med(R["mem.s6.rss_total"])),
                  fmt(med(R["mem.s6.pss_total"]))))
        if "cold.supervisord" in R:
            w("| supervisord, %d programs (cold) | %s | %s |" % (
                N_COLD, spread(R["cold.supervisord"]),
                spread(R["mem.sup.rss"])))
        for who in ("schedd", "floor"):
            w("| %s, %d jobs through the API | %s | %s (anon %s, file %s; "
              "%s before) |" % (
                  who, N_COLD, spread(R["api100." + who]),
                  spread(R["mem.api.%s.rss" % who]),
                  fmt(med(R["mem.api.%s.anon" % who])),
                  fmt(med(R["mem.api.%s.file" % who])),
                  fmt(med(R["mem.api.%s.rss_before" % who]))))
        w("")
    if "lag.loaded" in POOL:
        w("### %s jobs running" % fmt(R["scale.n"][0]))
        w("")
        w("bench.py's latency probe (bench/stamp-static, %d jobs one at a "
          "time per probe): twice on the daemon before its jobs, then, with "
          "%d `sleep 3600` jobs running, %d times in turn with an empty "
          "twin (a second schedd warmed with 1,000 jobs), the order "
          "alternating, so that what the machine does meanwhile falls on "
          "both alike; the target is the loaded daemon against the twin. "
          "Loop lag: GET /v1/health's `loop_lag_ms` (the "
          "lateness of the daemon's 100 ms timer, whole ms) sampled every "
          "100 ms for %d s while bench/loadgen keeps 64 connections busy "
          "with `GET /v1/jobs/{id}` (empty: %s req/s; loaded: %s req/s); "
          "max is `loop_lag_max_ms` at the end." % (
              B.N_LAT, R["scale.n"][0], TURNS, LAG_S,
              fmt(med(R["lag.empty.rate"])), fmt(med(R["lag.loaded.rate"]))))
        w("")
        if "scale.note" in R:
            w("N: " + R["scale.note"][0] + ".")
            w("")
        w("| figure | before its jobs p50 / p99 | empty twin, in turn "
          "p50 / p99 | %d jobs, in turn p50 / p99 | ratio to the twin | "
          "ratio to before |" % R["scale.n"][0])
        w("|---|---|---|---|---|---|")
        figs = (("create_to_running_resp_us", "POST → answer (`running`), µs"),
                ("create_to_exec_us", "POST → job's first instruction, µs"),
                ("exit_to_event_us", "exit → `exited` event, µs"),
                ("exit_to_wait_resp_us", "exit → `/wait` answer, µs"))

        def pp(xs):
            return "%s / %s" % (fmt(pct(xs, 50)), fmt(pct(xs, 99))) \
                if xs else "—"

        def rr(r):
            return "×%.2f / ×%.2f" % r if r else "—"

        def probe_rows(prefix):
            """A row per figure: before, twin, loaded and both ratios."""
            for key, name in figs:
                if not POOL.get("%s.loaded.%s" % (prefix, key)):
                    continue
                twin = POOL.get("%s.twin.%s" % (prefix, key))
                w("| %s | %s | %s | %s | %s | %s |" % (
                    name, pp(POOL.get("%s.empty.%s" % (prefix, key))),
                    pp(twin), pp(POOL["%s.loaded.%s" % (prefix, key)]),
                    rr(ratios(prefix, key, "twin")) if twin else "—",
                    rr(ratios(prefix, key, "empty"))))

        probe_rows("size")
        if "scale.fds_per_job" in R:
            w("| schedd's open fds per running job | | %s |" % fmt(
                R["scale.fds_per_job"][0]))
        w("| loop lag, ms | %s / %s | %s / %s |" % (
            fmt(pct(POOL["lag.empty"], 50)), fmt(pct(POOL["lag.empty"], 99)),
            fmt(pct(POOL["lag.loaded"], 50)),
            fmt(pct(POOL["lag.loaded"], 99))))
        if "scale.stop_s" in R:
            w("| shutdown: SIGTERM → schedd exited, every job stopped, s "
              "| | %s |" % fmt(R["scale.stop_s"][0]))
        w("")
        if "scale.floor.n" in R:
            fn = R["scale.floor.n"][0]
            w("The floor reference under the same probe (`schedd-bench "
              "latency -o`: its jobs' stamps come from the file it gives "
              "them as stdout), right after schedd's figures: a fresh floor "
              "warmed with 1,000 jobs, probed before and with %s `sleep "
              "3600` jobs of its own, the latter in turn with an empty twin "
              "floor as above. It has no events: its exit figure is exit → "
              "`/wait` answer, which schedd's table gives too." % fmt(fn))
            w("")
            w("| floor figure | before its jobs p50 / p99 | empty twin, in "
              "turn p50 / p99 | %s jobs, in turn p50 / p99 | ratio to the "
              "twin | ratio to before |" % fmt(fn))
            w("|---|---|---|---|---|---|")
            probe_rows("size.floor")
            w("")
    notes = os.environ.get("BENCH_FLOOR_NOTES")
    if notes and os.path.exists(notes):
        with open(notes) as f:
            w(f.read().rstrip("\n"))
        w("")
    w("Commands:")
    w("")
    for sec in ("floor", "cold", "scale", "api", "peer"):
        for c in B.commands.get(sec, []):
            w("- `%s`" % c)
    w("")
    w("<details><summary>Run log</summary>")
    w("")
    w("```")
    L.extend(B.log_lines)
    w("```")
    w("</details>")
    w("<!-- floor end -->")
    return "\n".join(L)


T_BEFORE = [0.0]  # seconds of the run BENCH_FLOOR_FROM continues


def main():
    signal.signal(signal.SIGINT, B.on_signal)
    signal.signal(signal.SIGTERM, B.on_signal)
    B.MACHINE = B.machine()
    B.become_subreaper()
    commit = subprocess.run(["git", "-C", B.SRCDIR, "rev-parse", "--short",
                             "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", B.SRCDIR, "status", "--porcelain",
                            "--untracked-files=no"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL,
                           text=True).stdout.strip() != ""
    if os.environ.get("BENCH_COMMIT"):
        commit, dirty = os.environ["BENCH_COMMIT"], False
    log("start: commit %s%s" % (commit or "?", " (dirty)" if dirty else ""))
    # BENCH_FLOOR_FROM=DUMP: start from an earlier run's BENCH_DUMP and
    # measure again only the sections of BENCH_ONLY.
    if os.environ.get("BENCH_FLOOR_FROM"):
        with open(os.environ["BENCH_FLOOR_FROM"]) as f:
            d = json.load(f)
        again = tuple(p for sec in (B.ONLY or PREFIXES)
                      for p in PREFIXES.get(sec, ()))
        for src, dst in ((d["R"], R), (d["POOL"], POOL)):
            dst.update((k, v) for k, v in src.items()
                       if not k.startswith(again))
        B.log_lines.extend(d.get("log", []))
        T_BEFORE[0] = d.get("t_total", 0)
        for sec, cmds in d.get("commands", {}).items():
            B.commands.setdefault(sec, []).extend(cmds)
    failures = []
    sections = [("spawn", bench_spawn), ("api", B.bench_api),
                ("scale", bench_scale), ("peer", B.bench_peer),
                ("cold", bench_cold)]
    try:
        for name, fn in sections:
            if B.ONLY and name not in B.ONLY:
                continue
            try:
                fn()
            except (BenchError, subprocess.TimeoutExpired, OSError) as e:
                log("%s FAILED: %s" % (name, e))
                failures.append(name)
    finally:
        B.cleanup()
    t_total = T_BEFORE[0] + time.monotonic() - B.T0
    log("done in %.0f s" % t_total)
    if os.environ.get("BENCH_DUMP"):
        with open(os.environ["BENCH_DUMP"], "w") as f:
            json.dump({"R": R, "POOL": POOL, "log": B.log_lines,
                       "commands": B.commands, "t_total": t_total}, f)
    text = report(t_total, commit or "?", dirty)
    print(text)
    out = B.OUT
    old = open(out).read() if os.path.exists(out) else ""
    a = old.find("<!-- floor begin -->")
    b = old.find("<!-- floor end -->")
    if 0 <= a < b:
        old = old[:a] + text + old[b + len("<!-- floor end -->"):]
    else:
        old = old.rstrip("\n") + "\n\n" + text + "\n"
    with open(out + ".tmp", "w") as f:
        f.write(old)
    os.replace(out + ".tmp", out)
    print("wrote " + out, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
