#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Benchmark driver (issue 6): starts its own schedd instances on temporary
sockets and state directories, runs the C clients in bench/ against them and
against bare references back to back, and writes bench/RESULTS.md.

Run through bench/run.sh (or `make bench`), which builds the programs, raises
the limits and sets BENCH_BUILDDIR / BENCH_BINDIR / BENCH_SRCDIR. Only the
Python standard library is used. Every process started here is tracked and
killed by its pid on exit; every temp directory is removed.
"""

import datetime
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

BUILD = os.environ["BENCH_BUILDDIR"]
BINDIR = os.environ.get("BENCH_BINDIR", os.path.join(BUILD, "bench"))
SRCDIR = os.environ["BENCH_SRCDIR"]
SCHEDD = os.path.join(BUILD, "schedd")
OUT = os.environ.get("BENCH_OUT", os.path.join(SRCDIR, "bench", "RESULTS.md"))
QUICK = os.environ.get("BENCH_QUICK") == "1"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2" if QUICK else "5"))
N_SPAWN = int(os.environ.get("BENCH_N", "300" if QUICK else "2000"))
N_LAT = 60 if QUICK else 200
N_SCALE = int(os.environ.get("BENCH_SCALE_N", "500" if QUICK else "10000"))
N_DUR = 300 if QUICK else 1000
N_PEER = int(os.environ.get("BENCH_PEER_N", "50" if QUICK else "200"))
API_SECONDS = 1 if QUICK else 2
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
# The whole run must stay under 10 minutes even when schedd is slow: the job
# counts shrink to what the daemon does in about this many seconds (measured
# in each section's warm-up), and the spawn rounds stop at a time budget.
FIGURE_S = 1.0 if QUICK else 2.5  # schedd-bench spawn -t: at most this long
SPAWN_BUDGET_S = 60 if QUICK else 120
SCALE_BUDGET_S = 30 if QUICK else 60  # creating the 10,000 jobs
LATE_S = 300  # sections starting after this run 3 rounds, not ROUNDS


def rounds():
    """ROUNDS, or 3 once the run is late (it must end within 10 min)."""
    if time.monotonic() - T0 > LATE_S and ROUNDS > 3:
        return 3
    return ROUNDS

TRUE = "/bin/true"
TRUE_STATIC = os.path.join(BINDIR, "true-static")
STAMP = os.path.join(BINDIR, "stamp-static")
SLEEP = shutil.which("sleep") or "/bin/sleep"
TMPFS = "/dev/shm" if os.path.isdir("/dev/shm") else None


def fs_of(path):
    """The file system type holding path (from /proc/self/mounts)."""
    best, kind = "", "?"
    path = os.path.realpath(path)
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                dev, mnt, typ = line.split()[:3]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) \
                        and len(mnt) >= len(best):
                    best, kind = mnt, typ
    except OSError:
        pass
    return kind

started = []  # Popen objects we started: the only things we ever kill
tmpdirs = []
commands = {}  # section -> exact commands (temp paths shown as $TMP)
log_lines = []


def log(msg):
    line = "[%6.1fs] %s" % (time.monotonic() - T0, msg)
    log_lines.append(line)
    print(line, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def mktemp(prefix, where=None):
    d = tempfile.mkdtemp(prefix=prefix, dir=where)
    tmpdirs.append(d)
    return d


def show_cmd(args):
    s = " ".join(shlex.quote(a) for a in args)
    for d in tmpdirs:
        s = s.replace(d, "$TMP")
    s = s.replace(BINDIR + "/", "bench/").replace(BUILD + "/", "./")
    return s


def note_cmd(section, args):
    lst = commands.setdefault(section, [])
    s = show_cmd(args)
    s = re.sub(r"-p \d+", "-p $SCHEDD_PID", s)
    if s not in lst:
        lst.append(s)


def run_tool(section, args, timeout=600):
    """Run a C client; parse its "name value" lines into lists."""
    note_cmd(section, args)
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        raise BenchError("%s failed (%d): %s" % (show_cmd(args), p.returncode,
                                                   p.stderr.strip()[-600:]))
    d = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                d.setdefault(parts[0], []).append(float(parts[1]))
            except ValueError:
                pass
    return d


def one(d, key):
    return d[key][0]


# Statistics


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    i = int(round(p / 100.0 * (len(s) - 1)))
    return s[min(i, len(s) - 1)]


def fmt(v, unit=""):
    if v != v:  # NaN
        return "n/a"
    if abs(v) >= 100:
        s = "{:,.0f}".format(v)
    elif abs(v) >= 10:
        s = "%.1f" % v
    else:
        s = "%.2f" % v
    return s + unit


def spread(xs, unit=""):
    """median (min–max) of per-round values."""
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return fmt(xs[0], unit)
    return "%s (%s–%s)" % (fmt(med(xs), unit), fmt(min(xs)), fmt(max(xs)))


# Processes and the daemon


def proc_children(pid):
    """pids whose parent is pid (CONFIG_PROC_CHILDREN may be off)."""
    kids = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append((int(e), fields[19]))  # pid, start time
    return kids


def kill_if_same(kids):
    """SIGKILL leftover job processes, only if still the same process."""
    n = 0
    for pid, start in kids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
            if st[st.rindex(")") + 2:].split()[19] != start:
                continue
            os.kill(pid, signal.SIGKILL)
            n += 1
        except (OSError, ValueError):
            pass
    return n


def rss_kb(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return out.get("VmRSS", -1), out.get("VmHWM", -1)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def api(sock, method, path, body=None):
    c = UnixHTTP(sock)
    try:
        c.request(method, path, body=None if body is None else json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, data
    finally:
        c.close()


class Schedd:
    """A schedd of our own: temp socket, state dir and config."""

    def __init__(self, conf="", nofile=None, tmpfs=False, log_level="warn",
                 nofile_hard=False):
        self.dir = mktemp("schedd-bench.", TMPFS if tmpfs else None)
        self.sock = os.path.join(self.dir, "s.sock")
        self.conf = os.path.join(self.dir, "schedd.conf")
        os.mkdir(os.path.join(self.dir, "jobs.d"))
        with open(self.conf, "w") as f:
            f.write("jobs_dir = %s/jobs.d\n%s" % (self.dir, conf))
        self.args = [SCHEDD, "--foreground", "--socket", self.sock,
                     "--state-dir", os.path.join(self.dir, "state"),
                     "--config", self.conf, "--log-level", log_level]
        self.errlog = open(os.path.join(self.dir, "schedd.log"), "w")

        def limits():
            if nofile is not None and nofile_hard:  # both: a low ceiling
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            elif nofile is not None:
                soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                try:  # root may raise the hard limit too
                    resource.setrlimit(resource.RLIMIT_NOFILE,
                                       (nofile, max(nofile, hard)))
                except (ValueError, OSError):
                    resource.setrlimit(resource.RLIMIT_NOFILE,
                                       (min(nofile, hard), hard))

        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errlog, preexec_fn=limits)
        started.append(self.proc)
        R["daemons"] = [R.get("daemons", [0])[0] + 1]
        self.pid = self.proc.pid
        deadline = time.monotonic() + 15
        while True:
            try:
                st, _ = api(self.sock, "GET", "/v1/health")
                if st == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("schedd did not start: " + self.log_tail())
            time.sleep(0.02)

    def log_tail(self):
        try:
            with open(os.path.join(self.dir, "schedd.log")) as f:
                return f.read()[-800:]
        except OSError:
            return ""

    def stop(self, timeout=120):
        """SIGTERM; returns the seconds until it exited (jobs stopped)."""
        if self.proc.poll() is not None:
            return float("nan")
        kids = proc_children(self.pid)
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        el = time.monotonic() - t0
        left = kill_if_same(kids)
        if left:
            log("warning: %d job processes outlived schedd; killed" % left)
        self.errlog.close()
        return el

    def cgroup_name(self):
        """schedd's subtree name for our state directory (FNV-1a, as in
        daemon/schedd.c)."""
        h = 2166136261
        for ch in os.path.join(self.dir, "state").encode():
            h = ((h ^ ch) * 16777619) & 0xffffffff
        return "schedd-%08x" % h

    def cgroup_sweep(self):
        """After schedd exited: remove (rmdir, empty ones only) whatever
        it left of its cgroup subtree, and count it."""
        name, left, jobs = self.cgroup_name(), 0, 0
        roots = []
        try:
            roots = [os.path.join("/sys/fs/cgroup", e)
                     for e in os.listdir("/sys/fs/cgroup")] + ["/sys/fs/cgroup"]
        except OSError:
            pass
        for root in roots:
            sub = os.path.join(root, name)
            if not os.path.isdir(sub):
                continue
            left += 1
            for dirpath, dirnames, _ in os.walk(sub, topdown=False):
                if dirpath != sub and os.path.basename(dirpath).startswith(
                        "job-"):
                    jobs += 1
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        if left:
            add("cgroup.left_subtrees", left)
            add("cgroup.left_jobs", jobs)
            log("  warning: schedd left %s in %d hierarchies with %d job "
                "cgroups; removed" % (name, left, jobs))

    def close(self):
        self.stop()
        self.cgroup_sweep()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.dir in tmpdirs:
            tmpdirs.remove(self.dir)


def become_subreaper():
    """Job processes orphaned by a schedd that died are reparented to us
    (not to init), so cleanup() can still find and kill them."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def cleanup():
    for p in started:
        if p.poll() is None:
            kids = proc_children(p.pid)
            p.kill()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass
            kill_if_same(kids)
    # Orphans of our daemons, reparented to us by become_subreaper().
    orphans = proc_children(os.getpid())
    names = {}
    for pid, _ in orphans:
        try:
            with open("/proc/%d/comm" % pid) as f:
                c = f.read().strip()
            names[c] = names.get(c, 0) + 1
        except OSError:
            pass
    n = kill_if_same(orphans)
    if n:
        log("cleanup: killed %d orphaned processes (%s)" % (
            n, ", ".join("%s ×%d" % kv for kv in sorted(names.items()))))
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    for d in tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def on_signal(sig, frame):
    cleanup()
    sys.exit(128 + sig)


# Results


R = {}  # key -> list of per-round values
POOL = {}  # key -> pooled samples


def add(key, v):
    R.setdefault(key, []).append(v)


def pool(key, vs):
    POOL.setdefault(key, []).extend(vs)


def bin_(name):
    return os.path.join(BINDIR, name)


# 1. Spawn and reap throughput


def spawn_pair(sd, label, prog, c, bare_rate, tag):
    s = run_tool("spawn", [bin_("schedd-bench"), "spawn", "-s", sd.sock, "-n",
                           str(N_SPAWN), "-c", str(c), "-p", str(sd.pid),
                           "-t", str(FIGURE_S), "--", prog])
    k = "spawn%s.%s.c%d" % (tag, label, c)
    add(k + ".n", one(s, "created"))
    add(k + ".schedd", one(s, "rate"))
    add(k + ".ratio", one(s, "rate") / bare_rate)
    add(k + ".cpu_us", one(s, "daemon_cpu_us_per_job"))
    add(k + ".delete_rate", one(s, "delete_rate"))
    add(k + ".cpu_us_delete", one(s, "daemon_cpu_us_per_delete"))
    add(k + ".rss_loaded_per_job",
        (one(s, "rss_kb_loaded") - one(s, "rss_kb_before")) * 1024.0 /
        one(s, "created"))


def bench_spawn():
    t0 = time.monotonic()
    log("1. spawn throughput: N=%d (or %.1f s), up to %d rounds (state dir on "
        "%s, and on %s)" % (N_SPAWN, FIGURE_S, ROUNDS,
                           fs_of(tempfile.gettempdir()), TMPFS or "-"))
    for r in range(ROUNDS):
        if r >= 3 and time.monotonic() - t0 > SPAWN_BUDGET_S:
            log("  time budget (%d s) spent: %d rounds" % (SPAWN_BUDGET_S, r))
            break
        sd = Schedd()
        sdt = Schedd(tmpfs=True) if TMPFS else None
        try:
            for d in (sd, sdt):
                if d is not None:
                    run_tool("spawn", [bin_("schedd-bench"), "spawn", "-s",
                                       d.sock, "-n", "300", "-c", "1", "-t",
                                       str(FIGURE_S), "--", TRUE])
            rss0 = rss_kb(sd.pid)[0]
            for label, prog in (("true", TRUE), ("static", TRUE_STATIC)):
                for c in (1, 8):
                    b = run_tool("spawn", [bin_("bare-spawn"), "-n",
                                           str(N_SPAWN), "-c", str(c), "--",
                                           prog])
                    add("spawn.%s.c%d.bare" % (label, c), one(b, "rate"))
                    spawn_pair(sd, label, prog, c, one(b, "rate"), "")
                    if sdt is not None:
                        spawn_pair(sdt, label, prog, c, one(b, "rate"),
                                   ".tmpfs")
                    add("spawn.rss_after.%s.c%d" % (label, c),
                        rss_kb(sd.pid)[0])
            add("spawn.rss_growth_kb", rss_kb(sd.pid)[0] - rss0)
            add("spawn.rounds", 1)
            log("  round %d: /bin/true c1 %.0f/s vs bare %.0f/s; static c8 "
                "%.0f/s (tmpfs %.0f/s) vs bare %.0f/s" % (
                    r + 1, R["spawn.true.c1.schedd"][-1],
                    R["spawn.true.c1.bare"][-1], R["spawn.static.c8.schedd"][-1],
                    R.get("spawn.tmpfs.static.c8.schedd", [0])[-1],
                    R["spawn.static.c8.bare"][-1]))
        finally:
            sd.close()
            if sdt is not None:
                sdt.close()


# 2. Latencies


def bench_latency():
    nr = rounds()
    log("2. latencies: %d jobs per round, %d rounds" % (N_LAT, nr))
    sd = Schedd()
    try:
        run_tool("latency", [bin_("schedd-bench"), "latency", "-s", sd.sock,
                             "-n", "20", "--", STAMP])
        for r in range(nr):
            b = run_tool("latency", [bin_("bare-spawn"), "-l", "-n",
                                     str(N_LAT), "-c", "1", "--", STAMP])
            s = run_tool("latency", [bin_("schedd-bench"), "latency", "-s",
                                     sd.sock, "-n", str(N_LAT), "--", STAMP])
            for k, v in s.items():
                pool("lat." + k, v)
                add("lat.%s.p50" % k, pct(v, 50))
                add("lat.%s.p99" % k, pct(v, 99))
            for k, v in b.items():
                pool("lat.bare." + k, v)
                add("lat.bare.%s.p50" % k, pct(v, 50))
                add("lat.bare.%s.p99" % k, pct(v, 99))
            log("  round %d: exit->event p50 %.0f us p99 %.0f us (bare reap "
                "p50 %.0f us)" % (r + 1, R["lat.exit_to_event_us.p50"][-1],
                                  R["lat.exit_to_event_us.p99"][-1],
                                  R["lat.bare.exit_to_reap_us.p50"][-1]))
    finally:
        sd.close()


# 3. API throughput


def bench_api():
    nr = rounds()
    log("3. API throughput: 64 connections, %d s per figure, %d rounds" % (
        API_SECONDS, nr))
    sd = Schedd()
    bare = None
    try:
        st, body = api(sd.sock, "POST", "/v1/jobs", {"argv": [TRUE]})
        job = json.loads(body)["id"]
        api(sd.sock, "GET", "/v1/jobs/%d/wait" % job)
        jpath = "/v1/jobs/%d" % job
        hlen = len(api(sd.sock, "GET", "/v1/health")[1])
        jlen = len(api(sd.sock, "GET", jpath)[1])
        bsock = os.path.join(sd.dir, "bare.sock")
        bargs = [bin_("bare-http"), bsock, str(hlen), str(jlen)]
        note_cmd("api", bargs)
        bare = subprocess.Popen(bargs, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        started.append(bare)
        if bare.stdout.readline().strip() != "ready":
            raise BenchError("bare-http did not start")
        add("api.body.health", hlen)
        add("api.body.job", jlen)
        for r in range(nr):
            for label, path in (("health", "/v1/health"), ("job", jpath)):
                res = {}
                for who, sock in (("schedd", sd.sock), ("bare", bsock)):
                    res[who] = run_tool("api", [
                        bin_("loadgen"), "-s", sock, "-c", "64", "-d",
                        str(API_SECONDS), "-w", "0.3", "-u", path])
                    add("api.%s.%s" % (label, who), one(res[who], "rate"))
                    add("api.%s.%s.p99" % (label, who),
                        one(res[who], "lat_p99_us"))
                add("api.%s.ratio" % label,
                    one(res["schedd"], "rate") / one(res["bare"], "rate"))
            log("  round %d: health %.0f/s (bare %.0f/s), job %.0f/s (bare "
                "%.0f/s)" % (r + 1, R["api.health.schedd"][-1],
                             R["api.health.bare"][-1], R["api.job.schedd"][-1],
                             R["api.job.bare"][-1]))
    finally:
        if bare is not None and bare.poll() is None:
            bare.terminate()
            bare.wait(10)
        sd.close()


# 4 and 5. Scale, and spawn cost against the daemon's size


def latency_probe(sd, tag):
    s = run_tool("scale", [bin_("schedd-bench"), "latency", "-s", sd.sock,
                           "-n", str(N_LAT), "--", STAMP])
    for k in ("create_to_running_resp_us", "create_to_exec_us",
              "exit_to_event_us", "exit_to_wait_resp_us"):
        if k in s:
            pool("size.%s.%s" % (tag, k), s[k])


def nofile_cap(need):
    """need, or the RLIMIT_NOFILE hard limit if that is lower and a child
    of ours cannot raise it (root cannot everywhere: containers)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard >= need:
        return need

    def raise_it():
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))

    try:
        subprocess.run([TRUE], preexec_fn=raise_it, check=True)
        return need
    except (subprocess.SubprocessError, OSError, ValueError):
        return hard


def bench_scale():
    log("4/5. scale: %d concurrent jobs of sleep 3600" % N_SCALE)
    # schedd holds a pidfd per running job (an OOM eventfd only for a job
    # with a memory_max of its own; these have none) and about a hundred
    # fds of its own: room for four per job and 1,024 besides.
    # Each job's output pipes are two more (issue 14): room for 4 per job.
    need = 4 * N_SCALE + 1024
    nofile = nofile_cap(need)
    n = N_SCALE
    if nofile < need:
        n = max(100, (nofile - 1024) // 4)
        R["scale.note"] = ["RLIMIT_NOFILE hard limit %d < %d and it cannot "
                           "be raised: N lowered to %d" % (nofile, need, n)]
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
        if pid_max < n + 2000:
            n = pid_max - 2000
            R["scale.note"] = ["pid_max %d: N lowered to %d" % (pid_max, n)]
    except OSError:
        pass
    add("scale.n", n)
    add("scale.nofile", nofile)
    sd = Schedd(nofile=nofile)
    prof = perf_usable()
    try:
        # Warm the state directory first: the first few hundred inodes of
        # a fresh directory cost several times more on this ext4.
        run_tool("scale", [bin_("schedd-bench"), "spawn", "-s", sd.sock, "-n",
                           "1000", "-c", "2", "--", TRUE_STATIC])
        for _ in range(2):
            latency_probe(sd, "empty")
        rss0, hwm0 = rss_kb(sd.pid)
        add("scale.rss_base_kb", rss0)
        t0 = time.monotonic()
        s = run_tool("scale", [bin_("schedd-bench"), "create", "-s", sd.sock,
                               "-n", str(n), "-c", "8", "-p", str(sd.pid),
                               "-t", str(SCALE_BUDGET_S), "--", SLEEP,
                               "3600"], timeout=900)
        if int(one(s, "created")) < n:
            R["scale.note"] = [
                "N lowered from %d to %d: schedd created %d jobs in the %d s "
                "this section may spend on it (%.0f jobs/s), and the run must "
                "stay under 10 minutes" % (n, int(one(s, "created")),
                                           int(one(s, "created")),
                                           SCALE_BUDGET_S, one(s, "rate"))]
            n = int(one(s, "created"))
            R["scale.n"] = [n]
        add("scale.start_s", one(s, "elapsed_s"))
        add("scale.start_rate", one(s, "rate"))
        add("scale.cpu_us_per_job", one(s, "daemon_cpu_us_per_job"))
        log("  started %d jobs in %.1f s" % (n, time.monotonic() - t0))
        rss1, hwm1 = rss_kb(sd.pid)
        add("scale.rss_loaded_kb", rss1)
        add("scale.hwm_loaded_kb", hwm1)
        add("scale.rss_per_job_b", (rss1 - rss0) * 1024.0 / n)
        st, body = api(sd.sock, "GET", "/v1/jobs?state=running")
        jobs = json.loads(body)["jobs"]
        running = len(jobs)
        add("scale.running", running)
        if running != n:
            raise BenchError("%d jobs running, expected %d" % (running, n))
        perf = perf_start(sd.pid, "list") if prof else None
        g = run_tool("scale", [bin_("schedd-bench"), "get", "-s", sd.sock,
                               "-n", "10", "-u", "/v1/jobs"])
        if perf is not None:
            perf_stop(perf, "list")
        pool("scale.list_ms", [v / 1000.0 for v in g["get_us"]])
        add("scale.list_bytes", one(g, "body_bytes"))
        add("scale.rss_listed_kb", rss_kb(sd.pid)[0])
        g = run_tool("scale", [bin_("schedd-bench"), "get", "-s", sd.sock,
                               "-n", "200", "-u",
                               "/v1/jobs/%d" % jobs[len(jobs) // 2]["id"]])
        pool("scale.get_one_us", g["get_us"])
        g = run_tool("scale", [bin_("schedd-bench"), "get", "-s", sd.sock,
                               "-n", "200", "-u", "/v1/health"])
        pool("scale.health_us", g["get_us"])
        latency_probe(sd, "loaded")
        perf = perf_start(sd.pid, "reap") if prof else None
        latency_probe(sd, "loaded")
        if perf is not None:
            perf_stop(perf, "reap")
        rss2, hwm2 = rss_kb(sd.pid)
        add("scale.hwm_kb", hwm2)
        add("scale.rss_end_kb", rss2)
        kids = proc_children(sd.pid)
        add("scale.stop_s", sd.stop(timeout=300))
        alive = sum(1 for pid, _ in kids if os.path.exists("/proc/%d" % pid))
        add("scale.left_alive", alive)
        log("  RSS %d -> %d KiB (%.0f B/job), list %.0f ms, stop %.1f s" % (
            rss0, rss1, R["scale.rss_per_job_b"][-1],
            med(POOL["scale.list_ms"]), R["scale.stop_s"][-1]))
    finally:
        sd.close()


# 6. Durability


def bench_durability():
    nr = rounds()
    normal = Schedd("durability = normal\n")
    full = Schedd("durability = full\n")
    try:
        for sd in (normal, full):
            run_tool("durability", [bin_("schedd-bench"), "spawn", "-s",
                                    sd.sock, "-n", "200", "-c", "1", "-t",
                                    str(FIGURE_S), "--", TRUE_STATIC])
        log("6. durability full vs normal: N=%d, %d rounds" % (N_DUR, nr))
        for r in range(nr):
            for c in (1, 8):
                for label, sd in (("normal", normal), ("full", full)):
                    s = run_tool("durability", [
                        bin_("schedd-bench"), "spawn", "-s", sd.sock, "-n",
                        str(N_DUR), "-c", str(c), "-p", str(sd.pid), "-t",
                        str(FIGURE_S * 0.8), "--", TRUE_STATIC])
                    add("dur.%s.c%d" % (label, c), one(s, "rate"))
                    add("dur.n", one(s, "created"))
                    add("dur.%s.c%d.cpu_us" % (label, c),
                        one(s, "daemon_cpu_us_per_job"))
                add("dur.ratio.c%d" % c,
                    R["dur.full.c%d" % c][-1] / R["dur.normal.c%d" % c][-1])
            log("  round %d: c1 normal %.0f/s full %.0f/s" % (
                r + 1, R["dur.normal.c1"][-1], R["dur.full.c1"][-1]))
    finally:
        normal.close()
        full.close()


# 7. supervisord


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.unix_path = path

    def make_connection(self, host):
        return UnixHTTP(self.unix_path)


def supervisord_round(n, c):
    d = mktemp("supervisord-bench.")
    sock = os.path.join(d, "supervisor.sock")
    conf = os.path.join(d, "supervisord.conf")
    with open(conf, "w") as f:
        f.write("[unix_http_server]\nfile=%s\n\n"
                "[supervisord]\nlogfile=%s/supervisord.log\n"
                "pidfile=%s/supervisord.pid\nchildlogdir=%s\nnodaemon=true\n"
                "loglevel=warn\n\n"
                "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                "supervisor.rpcinterface:make_main_rpcinterface\n\n" %
                (sock, d, d, d))
        for i in range(n):
            f.write("[program:p%d]\ncommand=%s\nautostart=false\n"
                    "autorestart=false\nstartsecs=0\nstartretries=0\n\n" %
                    (i, TRUE))
    args = [SUPERVISORD, "-n", "-c", conf]
    note_cmd("peer", args)
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.append(p)
    try:
        proxy = None
        deadline = time.monotonic() + 30
        while True:
            try:
                proxy = xmlrpc.client.ServerProxy(
                    "http://localhost", transport=UnixTransport(sock))
                if proxy.supervisor.getState()["statename"] == "RUNNING":
                    break
            except (OSError, xmlrpc.client.Error):
                pass
            if p.poll() is not None or time.monotonic() > deadline:
                raise BenchError("supervisord did not start")
            time.sleep(0.05)
        rss_idle = rss_kb(p.pid)[0]
        names = ["p%d" % i for i in range(n)]
        lat = []
        lock = threading.Lock()
        errors = []

        def worker(mine):
            px = xmlrpc.client.ServerProxy("http://localhost",
                                           transport=UnixTransport(sock))
            for name in mine:
                t0 = time.monotonic()
                try:
                    px.supervisor.startProcess(name, False)
                    while px.supervisor.getProcessInfo(name)["statename"] \
                            != "EXITED":
                        time.sleep(0.0005)
                except (OSError, xmlrpc.client.Error) as e:
                    errors.append(str(e))
                    return
                with lock:
                    lat.append((time.monotonic() - t0) * 1000)

        t0 = time.monotonic()
        ths = [threading.Thread(target=worker, args=(names[i::c],))
               for i in range(c)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        el = time.monotonic() - t0
        if errors:
            raise BenchError("supervisord: " + errors[0])
        rss_run = rss_kb(p.pid)[0]
        return n / el, lat, rss_idle, rss_run
    finally:
        if p.poll() is None:
            kids = proc_children(p.pid)
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            kill_if_same(kids)
        shutil.rmtree(d, ignore_errors=True)
        tmpdirs.remove(d)


SUPERVISORD = shutil.which("supervisord") or "/usr/bin/supervisord"


def bench_peer():
    nr = rounds()
    if not os.path.exists(SUPERVISORD):
        R["peer.note"] = ["supervisord not installed: skipped"]
        log("7. supervisord not installed: skipped")
        return
    ver = subprocess.run([SUPERVISORD, "--version"], stdout=subprocess.PIPE,
                         text=True).stdout.strip()
    R["peer.version"] = [ver]
    log("7. supervisord %s: N=%d, %d rounds" % (ver, N_PEER, nr))
    sd = Schedd()
    try:
        for r in range(nr):
            for c in (1, 8):
                rate, lat, rss_idle, rss_run = supervisord_round(N_PEER, c)
                s = run_tool("peer", [bin_("schedd-bench"), "spawn", "-s",
                                      sd.sock, "-n", str(N_PEER), "-c", str(c),
                                      "-p", str(sd.pid), "--", TRUE])
                b = run_tool("peer", [bin_("bare-spawn"), "-n", str(N_PEER),
                                      "-c", str(c), "--", TRUE])
                add("peer.sup.c%d" % c, rate)
                add("peer.schedd.c%d" % c, one(s, "rate"))
                add("peer.bare.c%d" % c, one(b, "rate"))
                add("peer.ratio.c%d" % c, one(s, "rate") / rate)
                add("peer.bare_ratio.c%d" % c, one(b, "rate") / rate)
                if c == 1:
                    pool("peer.sup.lat_ms", lat)
                    add("peer.sup.rss_idle_kb", rss_idle)
                    add("peer.sup.rss_run_kb", rss_run)
                    add("peer.schedd.rss_loaded_kb", one(s, "rss_kb_loaded"))
            log("  round %d: c1 schedd %.0f/s supervisord %.1f/s" % (
                r + 1, R["peer.schedd.c1"][-1], R["peer.sup.c1"][-1]))
    finally:
        sd.close()


# 8. Profile


PROFILE_FUNCS = [
    "api_gencb", "api_jobs_create", "api_job_wait", "api_job_delete",
    "api_reply_json", "supervisor_job_create", "act_spawn", "spawn_start",
    "sup_change", "sup_event_write", "sup_event_announce", "store_job_insert",
    "store_run_end", "store_job_delete", "store_commit", "sqlite3_step",
    "joblog_open", "joblog_remove_runs", "procfs_stat", "spawn_creds_resolve",
    "sup_build_env", "spawn_resolve_path", "reaper_reap", "reaper_reap_pid",
    "sup_pidfd_cb", "sup_reaped", "sup_main_exited", "job_reply", "out_job",
    "out_run", "jobspec_to_json", "json_dumps", "json_pack", "json_loads",
    "evhttp_send_reply", "evhttp_read_cb", "sup_name_generate",
    "sup_name_taken", "clone", "__GI___clone", "do_wait", "kernel_clone",
    "do_sys_openat2", "do_mkdirat", "do_unlinkat", "ext4_sync_file", "fsync",
    "recently_deleted", "find_inode_bit", "__ext4_new_inode",
]


def perf_usable():
    if not shutil.which("perf"):
        return False
    p = subprocess.run(["perf", "stat", "-e", "instructions", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    return p.returncode == 0 and "not supported" not in p.stderr


def parse_perf_report(text):
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$",
                     line)
        if m:
            rows.append((float(m.group(1)), float(m.group(2)), m.group(3),
                         m.group(4), m.group(5).strip()))
            continue
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$", line)
        if m:
            rows.append((float(m.group(1)), float(m.group(1)), m.group(2),
                         m.group(3), m.group(4).strip()))
    return rows


PERF_DIR = None


def perf_start(pid, tag):
    """perf record (DWARF call graphs) on pid until perf_stop."""
    global PERF_DIR
    if PERF_DIR is None:
        PERF_DIR = mktemp("schedd-perf.")
    data = os.path.join(PERF_DIR, tag + ".data")
    pargs = ["perf", "record", "-q", "-o", data, "-F", "999",
             "--call-graph", "dwarf,16384", "-p", str(pid)]
    note_cmd("profile", pargs)
    perf = subprocess.Popen(pargs, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    started.append(perf)
    time.sleep(0.7)  # attaching takes a moment
    return perf, data


def perf_stop(handle, tag):
    """Stop perf and keep its self and inclusive tables as R[prof.TAG.*]."""
    perf, data = handle
    perf.send_signal(signal.SIGINT)
    perf.wait(60)
    rargs = ["perf", "report", "-i", data, "--no-children", "--stdio",
             "-g", "none", "--sort", "dso,sym", "--percent-limit", "0.7"]
    note_cmd("profile", rargs)
    out = subprocess.run(rargs, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True,
                         timeout=300).stdout
    R["prof.%s.self" % tag] = parse_perf_report(out)[:15]
    rargs = ["perf", "report", "-i", data, "--children", "--stdio",
             "-g", "none", "--sort", "sym", "--percent-limit", "1"]
    note_cmd("profile", rargs)
    out = subprocess.run(rargs, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True,
                         timeout=300).stdout
    R["prof.%s.children" % tag] = parse_perf_report(out)[:80]
    os.unlink(data)


def bench_profile():
    if not perf_usable():
        R["prof.note"] = ["perf unusable here: profile skipped"]
        log("8. perf unusable: profile skipped")
        return
    sd = Schedd()
    try:
        run_tool("profile", [bin_("schedd-bench"), "spawn", "-s", sd.sock,
                             "-n", "300", "-c", "8", "-t", str(FIGURE_S), "--",
                             TRUE_STATIC])
        n = 300 if QUICK else 3000
        tl = ["-t", str(FIGURE_S * 1.6)]
        log("8. profile: perf record on schedd, spawn of true-static, N=%d "
            "(or %.0f s), C=8" % (n, FIGURE_S * 1.6))
        # The CPU per job without perf attached (perf's unwinding inflates
        # the task's own time); the profile only apportions it.
        s = run_tool("profile", [bin_("schedd-bench"), "spawn", "-s", sd.sock,
                                 "-n", str(n), "-c", "8", "-p", str(sd.pid)] +
                     tl + ["--", TRUE_STATIC])
        add("prof.n", one(s, "created"))
        add("prof.cpu_us_per_job", one(s, "daemon_cpu_us_per_job"))
        add("prof.cpu_us_per_delete", one(s, "daemon_cpu_us_per_delete"))
        cpu = one(s, "daemon_cpu_us_per_job") + one(s, "daemon_cpu_us_per_delete")
        add("prof.cpu_us_total", cpu)
        perf = perf_start(sd.pid, "spawn")
        run_tool("profile", [bin_("schedd-bench"), "spawn", "-s", sd.sock,
                             "-n", str(n), "-c", "8", "-p", str(sd.pid)] +
                 tl + ["--", TRUE_STATIC])
        perf_stop(perf, "spawn")
        log("  spawn: %.0f us daemon CPU per job (create+wait+delete)" % cpu)
        if TMPFS:
            sdt = Schedd(tmpfs=True)
            try:
                run_tool("profile", [bin_("schedd-bench"), "spawn", "-s",
                                     sdt.sock, "-n", "300", "-c", "2", "-t",
                                     str(FIGURE_S), "--", TRUE_STATIC])
                s = run_tool("profile", [
                    bin_("schedd-bench"), "spawn", "-s", sdt.sock, "-n",
                    str(n), "-c", "8", "-p", str(sdt.pid)] + tl +
                    ["--", TRUE_STATIC])
                add("prof.tmpfs.cpu_us_total",
                    one(s, "daemon_cpu_us_per_job") +
                    one(s, "daemon_cpu_us_per_delete"))
                perf = perf_start(sdt.pid, "tmpfs")
                run_tool("profile", [
                    bin_("schedd-bench"), "spawn", "-s", sdt.sock, "-n",
                    str(n), "-c", "8", "-p", str(sdt.pid)] + tl +
                    ["--", TRUE_STATIC])
                perf_stop(perf, "tmpfs")
            finally:
                sdt.close()
        # The API: GET /v1/jobs/{id} under the 64-connection load.
        st, body = api(sd.sock, "POST", "/v1/jobs", {"argv": [TRUE]})
        job = json.loads(body)["id"]
        api(sd.sock, "GET", "/v1/jobs/%d/wait" % job)
        perf = perf_start(sd.pid, "api")
        run_tool("profile", [bin_("loadgen"), "-s", sd.sock, "-c", "64",
                             "-d", "2", "-w", "0", "-u", "/v1/jobs/%d" % job])
        perf_stop(perf, "api")
        log("  api: profiled")
    finally:
        sd.close()


# Report


def verdict(ok):
    return "met" if ok else "**missed**"


def pct100(xs):
    return [x * 100 for x in xs]


def prof_tables(w, tag, per_unit=None, unit=""):
    """The self and inclusive tables of one profile."""
    w("Self cost, top symbols ([k]: kernel):")
    w("")
    if per_unit:
        w("| self %% | %s | object | symbol |" % unit)
        w("|---|---|---|---|")
    else:
        w("| self % | object | symbol |")
        w("|---|---|---|")
    for ch, se, dso, kind, sym in R["prof.%s.self" % tag][:10]:
        k = " [k]" if kind == "k" else ""
        if per_unit:
            w("| %.1f | %s | %s | `%s`%s |" % (se, fmt(se / 100 * per_unit),
                                               dso, sym, k))
        else:
            w("| %.1f | %s | `%s`%s |" % (se, dso, sym, k))
    w("")
    w("Inclusive cost (self + callees) of schedd's functions and the calls "
      "they make, down to 1 %:")
    w("")
    if per_unit:
        w("| incl. %% | %s | symbol |" % unit)
        w("|---|---|---|")
    else:
        w("| incl. % | symbol |")
        w("|---|---|")
    shown = 0
    for ch, se, dso, kind, sym in R["prof.%s.children" % tag]:
        base = sym.split()[0].split("@")[0]
        if not (base in PROFILE_FUNCS or base.startswith(PROFILE_PREFIXES)):
            continue
        shown += 1
        if shown > 30:
            break
        if per_unit:
            w("| %.1f | %s | `%s` |" % (ch, fmt(ch / 100 * per_unit), sym))
        else:
            w("| %.1f | `%s` |" % (ch, sym))
    w("")


def write_report(t_total, load_start, load_end, commit, dirty):
    L = []
    w = L.append
    w("# schedd benchmarks")
    w("")
    w("Written by `bench/run.sh` (also `make bench`); do not edit by hand: "
      "the prose comes from bench/bench.py. Every figure is the median over "
      "%d rounds (fewer where a section says so) with the spread (min–max "
      "of the per-round values) in "
      "brackets, unless it says p50/p99, which are over samples pooled from "
      "all rounds. Each ratio is computed per round from a schedd figure and "
      "its reference measured back to back in the same round; the median "
      "and spread of those ratios are shown." % ROUNDS)
    w("")
    w("The fault benchmark (issue 12) runs apart: `bench/run.sh faults` (or "
      "`make bench-faults`), about 3 minutes. It rewrites only its own "
      "section, \"Faults (issue 12)\" at the end of this file, which a full "
      "run keeps.")
    w("")
    w("| | |")
    w("|---|---|")
    w("| commit | `%s`%s |" % (commit, " plus uncommitted changes in the work "
                                "tree" if dirty else ""))
    w("| date | %s |" % datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"))
    w("| machine | %s |" % MACHINE)
    w("| state directories | %s (%s); tmpfs variant: %s |" % (
        tempfile.gettempdir(), fs_of(tempfile.gettempdir()), TMPFS or "none"))
    w("| load at start | `%s` |" % load_start)
    w("| load at end | `%s` |" % load_end)
    env = " ".join("%s=%s" % (k, os.environ[k]) for k in (
        "BENCH_QUICK", "BENCH_ROUNDS", "BENCH_ONLY", "BENCH_BUILDDIR",
        "BENCH_COMMIT") if os.environ.get(k))
    w("| command | `%sbench/run.sh` (or `make bench`), %.0f s |" % (
        env + " " if env else "", t_total))
    w("| schedd | `%s`, as built there (`CFLAGS` of its configure) |" %
      SCHEDD)
    w("| noise | other engineers build and test on this 2-CPU machine at the "
      "same time; absolute figures drift, ratios of back-to-back pairs hold "
      "better |")
    if "cgroup.left_subtrees" in R:
        w("| cleanup | **schedd left cgroups behind** after a clean SIGTERM "
          "shutdown: %d of the %d daemons this run started left their "
          "subtree in %d hierarchies in all, with %d job cgroups; the driver "
          "removed them (they were empty) |" % (
              len(R["cgroup.left_subtrees"]), int(R["daemons"][0]),
              int(sum(R["cgroup.left_subtrees"])),
              int(sum(R["cgroup.left_jobs"]))))
    else:
        w("| cleanup | every schedd removed its own cgroups (checked after "
          "each one exited) |")
    w("")

    rows = []

    def row(fig, sd, ref, ratio, target, ok):
        rows.append("| %s | %s | %s | %s | %s | %s |" % (
            fig, sd, ref, ratio, target, "" if ok is None else verdict(ok)))

    P = POOL
    if "done.spawn" in R:
        for tag, where in (("", ""), (".tmpfs", ", state on tmpfs")):
            for label, name in (("true", "`/bin/true`"),
                                ("static", "no-libc `true`")):
                for c in (1, 8):
                    k = "spawn%s.%s.c%d" % (tag, label, c)
                    if k + ".schedd" not in R:
                        continue
                    b = "spawn.%s.c%d" % (label, c)
                    row("1. spawn+reap %s, C=%d%s, jobs/s" % (name, c, where),
                        spread(R[k + ".schedd"]),
                        "bare posix_spawn loop: " + spread(R[b + ".bare"]),
                        spread(pct100(R[k + ".ratio"]), " %"), "≥ 50 %",
                        med(R[k + ".ratio"]) >= 0.5)
    if "done.latency" in R:
        row("2. create → `running` visible (POST answer), µs",
            "p50 %s, p99 %s" % (fmt(pct(P["lat.create_to_running_resp_us"], 50)),
                                fmt(pct(P["lat.create_to_running_resp_us"], 99))),
            "bare posix_spawn → exec: p50 %s, p99 %s" % (
                fmt(pct(P["lat.bare.spawn_to_exec_us"], 50)),
                fmt(pct(P["lat.bare.spawn_to_exec_us"], 99))),
            "p50 ×%.1f" % (pct(P["lat.create_to_running_resp_us"], 50) /
                           pct(P["lat.bare.spawn_to_exec_us"], 50)),
            "—", None)
        row("2. exit → `exited` event (reap latency), µs",
            "p50 %s, p99 %s" % (fmt(pct(P["lat.exit_to_event_us"], 50)),
                                fmt(pct(P["lat.exit_to_event_us"], 99))),
            "bare exit → waitpid: p50 %s, p99 %s" % (
                fmt(pct(P["lat.bare.exit_to_reap_us"], 50)),
                fmt(pct(P["lat.bare.exit_to_reap_us"], 99))),
            "p99 ×%.1f" % (pct(P["lat.exit_to_event_us"], 99) /
                           pct(P["lat.bare.exit_to_reap_us"], 99)),
            "p99 < 2 ms", pct(P["lat.exit_to_event_us"], 99) < 2000)
        row("2. exit → `exited` in the API (`/wait` answer), µs",
            "p50 %s, p99 %s" % (fmt(pct(P["lat.exit_to_wait_resp_us"], 50)),
                                fmt(pct(P["lat.exit_to_wait_resp_us"], 99))),
            "the same bare reference", "p99 ×%.1f" % (
                pct(P["lat.exit_to_wait_resp_us"], 99) /
                pct(P["lat.bare.exit_to_reap_us"], 99)), "—", None)
    if "done.api" in R:
        for label, name in (("health", "`GET /v1/health`"),
                            ("job", "`GET /v1/jobs/{id}`")):
            row("3. %s, 64 connections, req/s" % name,
                spread(R["api.%s.schedd" % label]),
                "bare evhttp, same %d-byte body: %s" % (
                    R["api.body.%s" % label][0],
                    spread(R["api.%s.bare" % label])),
                spread(pct100(R["api.%s.ratio" % label]), " %"),
                "≥ 70 %", med(R["api.%s.ratio" % label]) >= 0.7)
    if "done.scale" in R:
        n = int(R["scale.n"][0])
        row("4. RSS per running job beyond base, %d jobs" % n,
            "%s B" % fmt(R["scale.rss_per_job_b"][0]),
            "base %s KiB → %s KiB" % (fmt(R["scale.rss_base_kb"][0]),
                                      fmt(R["scale.rss_loaded_kb"][0])),
            "—", "≤ 2 KiB", R["scale.rss_per_job_b"][0] <= 2048)
        row("4. VmHWM after listing them and all of 4/5", "%s KiB" %
            fmt(R["scale.hwm_kb"][0]), "—", "—", "—", None)
        row("4. start %d `sleep 3600`, C=8" % n,
            "%s s (%s jobs/s)" % (fmt(R["scale.start_s"][0]),
                                  fmt(R["scale.start_rate"][0])),
            "—", "—", "—", None)
        row("4. `GET /v1/jobs` with %d jobs, ms" % n,
            "p50 %s (%s MB body)" % (fmt(pct(P["scale.list_ms"], 50)),
                                     fmt(R["scale.list_bytes"][0] / 1e6)),
            "—", "—", "< 100 ms", pct(P["scale.list_ms"], 50) < 100)
        row("4. stop all %d (SIGTERM → schedd exited)" % n,
            "%s s" % fmt(R["scale.stop_s"][0]), "—", "—", "—", None)
        e = P["size.empty.create_to_exec_us"]
        ld = P["size.loaded.create_to_exec_us"]
        row("5. POST → job's first instruction, µs",
            "%d jobs loaded: p50 %s, p99 %s" % (n, fmt(pct(ld, 50)),
                                                fmt(pct(ld, 99))),
            "0 jobs: p50 %s, p99 %s" % (fmt(pct(e, 50)), fmt(pct(e, 99))),
            "p50 ×%.2f" % (pct(ld, 50) / pct(e, 50)), "flat",
            pct(ld, 50) / pct(e, 50) < 1.5)
        e = P["size.empty.exit_to_event_us"]
        ld = P["size.loaded.exit_to_event_us"]
        row("5. exit → `exited` event with %d jobs running, µs" % n,
            "p50 %s, p99 %s" % (fmt(pct(ld, 50)), fmt(pct(ld, 99))),
            "0 jobs: p50 %s, p99 %s" % (fmt(pct(e, 50)), fmt(pct(e, 99))),
            "p99 ×%.1f" % (pct(ld, 99) / pct(e, 99)), "p99 < 2 ms",
            pct(ld, 99) < 2000)
    if "done.durability" in R:
        for c in (1, 8):
            row("6. spawn no-libc `true`, `durability = full`, C=%d, jobs/s"
                % c, spread(R["dur.full.c%d" % c]),
                "`durability = normal`: %s" % spread(R["dur.normal.c%d" % c]),
                spread(pct100(R["dur.ratio.c%d" % c]), " %"), "—", None)
    if "done.peer" in R and "peer.sup.c1" in R:
        for c in (1, 8):
            row("7. one-shot `/bin/true` start → exited, C=%d, jobs/s" % c,
                spread(R["peer.schedd.c%d" % c]),
                "supervisord: %s" % spread(R["peer.sup.c%d" % c]),
                "×" + spread(R["peer.ratio.c%d" % c]), "≥ ×20",
                med(R["peer.ratio.c%d" % c]) >= 20)
        row("7. bare posix_spawn loop against supervisord, C=1 (the "
            "ceiling)", spread(R["peer.bare.c1"]),
            "supervisord: %s" % spread(R["peer.sup.c1"]),
            "×" + spread(R["peer.bare_ratio.c1"]), "—", None)
        row("7. RSS with %d programs / jobs recorded, KiB" % N_PEER,
            spread(R["peer.schedd.rss_loaded_kb"]),
            "supervisord: %s" % spread(R["peer.sup.rss_run_kb"]),
            "×%.2f" % (med(R["peer.schedd.rss_loaded_kb"]) /
                       med(R["peer.sup.rss_run_kb"])), "—", None)
    if "done.profile" in R and "prof.spawn.self" in R:
        row("8. schedd CPU per job: create + wait / DELETE, µs",
            "%s / %s" % (fmt(R["prof.cpu_us_per_job"][0]),
                         fmt(R["prof.cpu_us_per_delete"][0])),
            "—", "—", "—", None)

    w("## Summary")
    w("")
    w("| figure | schedd | reference | ratio | target | |")
    w("|---|---|---|---|---|---|")
    L.extend(rows)
    w("")
    w("Why the missed targets are missed, and what would close them: see "
      "[Targets missed](#targets-missed-and-why) below.")
    w("")

    if "done.spawn" in R:
        w("## 1. Spawn and reap throughput")
        w("")
        w("N = %d jobs per figure, or as many as schedd does in %.1f s "
          "(jobs per figure, median: %s), %d rounds. schedd: `POST "
          "/v1/jobs`, then `GET "
          "/v1/jobs/ID/wait` on the same keep-alive connection, from C "
          "client threads each with its own connection; afterwards every "
          "job is DELETEd (timed apart). Bare: one thread keeping C "
          "posix_spawn children in flight and reaping them with waitpid (the "
          "same stdin from /dev/null). Fresh daemons each round, warmed with "
          "300 jobs. \"tmpfs\" is the same daemon with its state directory on "
          "%s instead of %s: the difference is mostly the cost of the two "
          "new inodes per run (`logs/ID.RUN.out` and `.err`) on this "
          "journal-less ext4; a figure creates all its jobs before it deletes "
          "any, so the pool of spare log files covers only its first 32 runs "
          "(section 8: log files)." % (
              N_SPAWN, FIGURE_S, ", ".join(
                  "%s C=%d %d" % (l, c, med(R["spawn.%s.c%d.n" % (l, c)]))
                  for l in ("true", "static") for c in (1, 8)),
              len(R["spawn.rounds"]), TMPFS or "tmpfs",
              fs_of(tempfile.gettempdir())))
        w("")
        w("| binary, C | schedd jobs/s | bare jobs/s | ratio | schedd CPU "
          "µs/job | DELETE/s | CPU µs/DELETE |")
        w("|---|---|---|---|---|---|---|")
        for tag in ("", ".tmpfs"):
            for label, name in (("true", "/bin/true"),
                                ("static", "no-libc true")):
                for c in (1, 8):
                    k = "spawn%s.%s.c%d" % (tag, label, c)
                    if k + ".schedd" not in R:
                        continue
                    w("| %s%s, %d | %s | %s | %s | %s | %s | %s |" % (
                        name, " (tmpfs)" if tag else "", c,
                        spread(R[k + ".schedd"]),
                        spread(R["spawn.%s.c%d.bare" % (label, c)]),
                        spread(pct100(R[k + ".ratio"]), " %"),
                        spread(R[k + ".cpu_us"]), spread(R[k + ".delete_rate"]),
                        spread(R[k + ".cpu_us_delete"])))
        w("")
        w("schedd's VmRSS (state on disk) after each figure's jobs were "
          "created, waited for and deleted, median over rounds: %s KiB, "
          "from %s KiB after the warm-up: it levels off (SQLite's page cache "
          "and malloc's free lists fill up once) rather than growing with "
          "the jobs ever run. While %d exited jobs are recorded it holds %s "
          "B more per job." % (
              " → ".join(fmt(med(R["spawn.rss_after.%s.c%d" % (l, c)]))
                         for l in ("true", "static") for c in (1, 8)),
              fmt(med([a - g for a, g in zip(R["spawn.rss_after.static.c8"],
                                             R["spawn.rss_growth_kb"])])),
              int(med(R["spawn.static.c1.n"])),
              spread(R["spawn.static.c1.rss_loaded_per_job"])))
        w("")
    if "done.latency" in R:
        w("## 2. Latencies")
        w("")
        w("%d jobs per round, one at a time, %d rounds, samples pooled. The "
          "job is `bench/stamp-static` (no libc): it writes CLOCK_MONOTONIC "
          "at its first instruction (S), sleeps 3 ms so that the client's "
          "`/wait` and `/v1/events` are surely waiting, writes the clock "
          "again (E) and exits. The client follows `/v1/events` on a second "
          "connection, polls both and stamps every arrival as it reads it; S "
          "and E come back through `GET /v1/jobs/ID/logs`. The bare "
          "reference is `bare-spawn -l`: posix_spawn the same program with "
          "stdout on a pipe, block in waitpid." % (N_LAT, ROUNDS))
        w("")
        x99 = pct(POOL["lat.create_to_exec_us"], 99)
        r99 = pct(POOL["lat.create_to_running_resp_us"], 99)
        w("Between the job's first instruction and the 201 (p99 %s µs → %s "
          "µs) schedd reads /proc/PID/stat, opens the pidfd and commits the "
          "`running` transition. %s" % (
              fmt(x99), fmt(r99),
              "The tail added there, like the exit's, is most likely a WAL "
              "auto-checkpoint's fdatasync landing in that commit (section "
              "8, what remains: SQLite)." if r99 > 1.2 * x99 else
              "The tail comes before the first instruction, most likely "
              "from joining the job's cgroups in the vfork child (section "
              "8, what remains)."))
        w("")
        w("| latency | p50 µs | p99 µs | max µs | per-round p99 µs |")
        w("|---|---|---|---|---|")
        for k, name in (
                ("lat.create_to_running_resp_us",
                 "POST sent → 201 with state running read"),
                ("lat.create_to_running_event_us",
                 "POST sent → `running` event read"),
                ("lat.create_to_exec_us", "POST sent → job's first instruction"),
                ("lat.bare.spawn_to_exec_us",
                 "bare: posix_spawn → child's first instruction"),
                ("lat.exit_to_event_us", "job exit (E) → `exited` event read"),
                ("lat.exit_to_wait_resp_us",
                 "job exit (E) → `/wait` answer read"),
                ("lat.bare.exit_to_reap_us",
                 "bare: child exit (E) → waitpid returned")):
            v = P.get(k, [])
            w("| %s | %s | %s | %s | %s |" % (
                name, fmt(pct(v, 50)), fmt(pct(v, 99)),
                fmt(max(v) if v else float("nan")),
                spread(R.get(k + ".p99", []))))
        w("")
    if "done.api" in R:
        w("## 3. API throughput")
        w("")
        w("64 keep-alive connections from one epoll load generator "
          "(`bench/loadgen`, a new request as soon as the last answer is in, "
          "no pipelining), %d s per figure after 0.3 s of warm-up, schedd "
          "and bare alternating. Reference: `bench/bare-http`, libevent "
          "evhttp on a Unix socket answering a fixed body of the same size "
          "(health %d B, job %d B) with the same Content-Type. The job is an "
          "exited `/bin/true` with its last_run filled in." % (
              API_SECONDS, R["api.body.health"][0], R["api.body.job"][0]))
        w("")
        w("| route | schedd req/s | bare req/s | ratio | schedd p99 µs | "
          "bare p99 µs |")
        w("|---|---|---|---|---|---|")
        for label in ("health", "job"):
            w("| %s | %s | %s | %s | %s | %s |" % (
                label, spread(R["api.%s.schedd" % label]),
                spread(R["api.%s.bare" % label]),
                spread(pct100(R["api.%s.ratio" % label]), " %"),
                spread(R["api.%s.schedd.p99" % label]),
                spread(R["api.%s.bare.p99" % label])))
        w("")
    if "done.scale" in R:
        n = int(R["scale.n"][0])
        w("## 4. Scale, and 5. spawn cost against the daemon's size")
        w("")
        w("One round (it is the longest): %d jobs of `%s 3600` created by 8 "
          "client connections, all running at once (`GET "
          "/v1/jobs?state=running` counted %d). schedd runs with "
          "RLIMIT_NOFILE at %s (one per planned job + 1,024, or the hard "
          "limit if that is lower and cannot be raised): it holds a pidfd per "
          "running job, and an OOM eventfd only for a job with a memory_max "
          "of its own (these have none). pid_max here is %s." % (
              n, SLEEP, R["scale.running"][0],
              "{:,}".format(int(R["scale.nofile"][0]))
              if "scale.nofile" in R else "?",
              open("/proc/sys/kernel/pid_max").read().strip()))
        if "scale.note" in R:
            w("")
            w("Note: " + R["scale.note"][0])
        w("")
        w("| figure | value |")
        w("|---|---|")
        w("| VmRSS base (warmed with 1,000 jobs + 400 probes, 0 left) | %s "
          "KiB |" % fmt(R["scale.rss_base_kb"][0]))
        w("| VmRSS with %d running, right after creating them | %s KiB (%s B "
          "per job) |" % (n, fmt(R["scale.rss_loaded_kb"][0]),
                          fmt(R["scale.rss_per_job_b"][0])))
        w("| VmRSS after 10 × `GET /v1/jobs` | %s KiB |" %
          fmt(R["scale.rss_listed_kb"][0]))
        w("| VmRSS / VmHWM at the end | %s / %s KiB |" % (
            fmt(R["scale.rss_end_kb"][0]), fmt(R["scale.hwm_kb"][0])))
        w("| time to start all | %s s (%s jobs/s; schedd CPU %s µs per job) |"
          % (fmt(R["scale.start_s"][0]), fmt(R["scale.start_rate"][0]),
             fmt(R["scale.cpu_us_per_job"][0])))
        w("| `GET /v1/jobs` (10 requests) | p50 %s ms, max %s ms, %s bytes |"
          % (fmt(pct(P["scale.list_ms"], 50)), fmt(max(P["scale.list_ms"])),
             "{:,}".format(int(R["scale.list_bytes"][0]))))
        w("| `GET /v1/jobs/{id}` with %d jobs | p50 %s µs, p99 %s µs |" % (
            n, fmt(pct(P["scale.get_one_us"], 50)),
            fmt(pct(P["scale.get_one_us"], 99))))
        w("| `GET /v1/health` with %d jobs | p50 %s µs, p99 %s µs |" % (
            n, fmt(pct(P["scale.health_us"], 50)),
            fmt(pct(P["scale.health_us"], 99))))
        w("| stop all: SIGTERM → schedd exited | %s s (job processes left "
          "alive: %d) |" % (fmt(R["scale.stop_s"][0]),
                            int(R["scale.left_alive"][0])))
        w("")
        w("Spawn and reap latency with the daemon empty and with %d jobs "
          "running (`schedd-bench latency`, 2 × %d jobs each, pooled):" % (
              n, N_LAT))
        w("")
        w("| | 0 jobs p50 / p99 µs | %d jobs p50 / p99 µs | ratio p50 |" % n)
        w("|---|---|---|---|")
        for k, name in (("create_to_exec_us", "POST sent → job's first "
                         "instruction"),
                        ("create_to_running_resp_us", "POST sent → 201 "
                         "running"),
                        ("exit_to_event_us", "job exit → `exited` event")):
            e = P["size.empty." + k]
            ld = P["size.loaded." + k]
            w("| %s | %s / %s | %s / %s | ×%.2f |" % (
                name, fmt(pct(e, 50)), fmt(pct(e, 99)), fmt(pct(ld, 50)),
                fmt(pct(ld, 99)), pct(ld, 50) / pct(e, 50)))
        w("")
    if "done.durability" in R:
        w("## 6. Durability cost")
        w("")
        w("The spawn benchmark (no-libc `true`, N = %d, with /wait and "
          "DELETE) against two daemons started side by side, `durability = "
          "normal` (SQLite synchronous=NORMAL) and `durability = full`, "
          "alternating within each round, state on disk (on tmpfs an fsync "
          "costs nothing). The inode costs of section 8 (log files) are in both "
          "and shrink the difference." % int(med(R["dur.n"])))
        w("")
        w("| C | normal jobs/s | full jobs/s | full / normal | CPU µs/job "
          "normal | CPU µs/job full |")
        w("|---|---|---|---|---|---|")
        for c in (1, 8):
            w("| %d | %s | %s | %s | %s | %s |" % (
                c, spread(R["dur.normal.c%d" % c]),
                spread(R["dur.full.c%d" % c]),
                spread(pct100(R["dur.ratio.c%d" % c]), " %"),
                spread(R["dur.normal.c%d.cpu_us" % c]),
                spread(R["dur.full.c%d.cpu_us" % c])))
        w("")
    if "done.peer" in R and "peer.sup.c1" in R:
        w("## 7. supervisord, side by side")
        w("")
        w("supervisord %s with its own temp config and socket: %d programs "
          "`command=%s` (autostart=false, startsecs=0, autorestart=false, "
          "default AUTO log files), driven over its XML-RPC Unix socket from "
          "Python threads (`supervisor.startProcess(name, False)`, then "
          "`getProcessInfo(name)` every 0.5 ms until EXITED). A fresh "
          "supervisord per figure. In the same round, schedd runs the same "
          "%d jobs with `schedd-bench spawn`, and the bare posix_spawn loop "
          "the same binary." % (R["peer.version"][0], N_PEER, TRUE, N_PEER))
        w("")
        w("| C | schedd jobs/s | supervisord jobs/s | schedd / supervisord | "
          "bare loop jobs/s | bare / supervisord |")
        w("|---|---|---|---|---|---|")
        for c in (1, 8):
            w("| %d | %s | %s | ×%s | %s | ×%s |" % (
                c, spread(R["peer.schedd.c%d" % c]),
                spread(R["peer.sup.c%d" % c]), spread(R["peer.ratio.c%d" % c]),
                spread(R["peer.bare.c%d" % c]),
                spread(R["peer.bare_ratio.c%d" % c])))
        w("")
        w("supervisord at C=1: start → EXITED p50 %s ms, p99 %s ms. RSS: "
          "supervisord with %d programs %s KiB before starting them, %s KiB "
          "after; schedd with the %d jobs recorded %s KiB." % (
              fmt(pct(P["peer.sup.lat_ms"], 50)),
              fmt(pct(P["peer.sup.lat_ms"], 99)), N_PEER,
              spread(R["peer.sup.rss_idle_kb"]), spread(R["peer.sup.rss_run_kb"]),
              N_PEER, spread(R["peer.schedd.rss_loaded_kb"])))
        w("")
    elif "peer.note" in R:
        w("## 7. supervisord")
        w("")
        w(R["peer.note"][0])
        w("")
    if "done.profile" in R and "prof.spawn.self" in R:
        w("## 8. Profile")
        w("")
        w("`perf record -F 999 --call-graph dwarf -p SCHEDD_PID` while "
          "`schedd-bench spawn -n %d -c 8` runs the no-libc `true` and "
          "deletes the jobs: the daemon's own cost, not glibc's start-up. "
          "schedd's CPU per job comes from /proc/PID/schedstat in a run of "
          "the same size without perf attached: %s µs per create + wait, %s "
          "µs per DELETE; the µs columns share that total (%s µs) out by the "
          "sample percentages. The vfork child runs on a task of its own "
          "until execve, so its pre-exec work is not in these samples; the "
          "daemon is suspended meanwhile, which shows in the latencies of "
          "section 2." % (
              int(R["prof.n"][0]), fmt(R["prof.cpu_us_per_job"][0]),
              fmt(R["prof.cpu_us_per_delete"][0]),
              fmt(R["prof.cpu_us_total"][0])))
        w("")
        prof_tables(w, "spawn", R["prof.cpu_us_total"][0], "µs per job")
        if "prof.tmpfs.self" in R:
            w("### 8a. The same with the state directory on tmpfs")
            w("")
            w("What is left once new inodes are cheap: %s µs of schedd CPU "
              "per create + wait + DELETE (same method)." %
              fmt(R["prof.tmpfs.cpu_us_total"][0]))
            w("")
            prof_tables(w, "tmpfs", R["prof.tmpfs.cpu_us_total"][0],
                        "µs per job")
        w("### The top five costs, and what we changed")
        w("")
        w(profile_notes())
        w("")
        if "prof.api.self" in R:
            w("### 8b. `GET /v1/jobs/{id}` under 64 connections")
            w("")
            prof_tables(w, "api")
        if "prof.list.self" in R:
            w("### 8c. `GET /v1/jobs` with %d jobs" % int(R["scale.n"][0]))
            w("")
            prof_tables(w, "list")
        if "prof.reap.self" in R:
            w("### 8d. spawn and reap one job at a time with %d jobs running"
              % int(R["scale.n"][0]))
            w("")
            prof_tables(w, "reap")
    elif "prof.note" in R:
        w("## 8. Profile")
        w("")
        w(R["prof.note"][0])
        w("")

    w("## Targets missed, and why")
    w("")
    w(missed_notes())
    w("")
    w("## Exact commands")
    w("")
    w("`$TMP` is that daemon's temp directory; `bench/` and `./` are in the "
      "build tree. Each schedd runs as `./schedd --foreground --socket "
      "$TMP/s.sock --state-dir $TMP/state --config $TMP/schedd.conf "
      "--log-level warn`, the config holding `jobs_dir = $TMP/jobs.d` (and "
      "`durability = …` in section 6).")
    w("")
    for sec in ("spawn", "latency", "api", "scale", "durability", "peer",
                "profile"):
        if sec in commands:
            w("- %s:" % sec)
            for c in commands[sec]:
                w("  - `%s`" % c)
    w("")
    w("## Run log")
    w("")
    w("```")
    L.extend(log_lines)
    w("```")
    # bench/rt-demo.sh, bench/faults.py and bench/floor.py keep their
    # sections between
    # markers: carry them over.
    try:
        with open(OUT) as f:
            old = f.read()
        for tag in ("rt-demo", "faults", "floor", "callgrind"):
            a = old.find("<!-- %s begin -->" % tag)
            b = old.find("<!-- %s end -->" % tag)
            if 0 <= a < b:
                w("")
                L.extend(old[a:b + len("<!-- %s end -->" % tag)].split("\n"))
    except OSError:
        pass
    with open(OUT + ".tmp", "w") as f:
        f.write("\n".join(L) + "\n")
    os.replace(OUT + ".tmp", OUT)


PROFILE_PREFIXES = ("api_", "sup_", "store_", "spawn_", "joblog_", "job_",
                    "act_", "reaper_", "procfs_", "supervisor_", "sqlite3_step",
                    "sqlite3Vdbe", "json_dump", "json_pack", "json_load",
                    "evhttp_", "__x64_sys_", "do_wait", "do_sys_", "ext4_",
                    "kernel_clone", "wait_consider", "bufferevent_", "v1_",
                    "v2_", "htab_")

def incl(tag, name):
    """Inclusive % of a function in profile tag (largest row), or NaN."""
    best = float("nan")
    for ch, se, dso, kind, sym in R.get("prof.%s.children" % tag, []):
        if sym.split()[0] == name and not (ch <= best):
            best = ch
    return best


def selfp(tag, *names):
    """Summed self % of names in profile tag, or NaN if none is in its
    table (the table stops at 15 rows and 0.7 %)."""
    rows = [se for ch, se, dso, kind, sym in R.get("prof.%s.self" % tag, [])
            if sym.split()[0] in names]
    return sum(rows) if rows else float("nan")


def pc(v):
    """A percentage; NaN means the profile row fell under its 1 % cut."""
    return "< 1 %" if v != v or v < 0.5 else "%.0f %%" % v


def have(tag):
    return "prof.%s.children" % tag in R


def ipc(tag, name):
    """name's inclusive share in profile tag, as text ("—": no profile)."""
    return pc(incl(tag, name)) if have(tag) else "—"


def spc(tag, *names):
    """The self share of names in profile tag, as text."""
    if not have(tag):
        return "—"
    v = selfp(tag, *names)
    return "little" if v != v else pc(v)


def rmed(k):
    return med(R[k]) if k in R else float("nan")


def ratio_p50(a, b):
    """p50 of POOL[a] over p50 of POOL[b], as "×N.N" or "—"."""
    v = pct(POOL.get(a, []), 50) / pct(POOL.get(b, []), 50) \
        if POOL.get(a) and POOL.get(b) else float("nan")
    return "—" if v != v else "×%.1f" % v


def thousands(v):
    return "{:,}".format(int(v))


# The last recorded run before the changes the profile notes describe:
# bench/RESULTS.md at f8c7fee, schedd built from 0f4f39e (2026-11-21). The
# notes quote it as "then"; figures marked "by hand" were measured outside
# the benchmark while the changes were made.
BEFORE_COMMIT = "0f4f39e"


def profile_notes():
    tot = R["prof.cpu_us_total"][0]

    def us(p):
        return "little" if p != p else "%s µs" % fmt(p / 100 * tot)

    def share(name):
        """"P % (U µs per job)" of name in the spawn profile."""
        p = incl("spawn", name)
        return pc(p) if p != p else "%s (%s per job)" % (pc(p), us(p))

    scale = "done.scale" in R
    n = thousands(R["scale.n"][0]) if scale else "?"
    tm = R.get("prof.tmpfs.cpu_us_total", [float("nan")])[0]
    L = []
    L.append(
        "The five largest costs in the last recorded run before this round "
        "of changes (commit %s): the three biggest of the spawn profile "
        "(state on disk, 4,729 µs of schedd CPU per create + wait + "
        "DELETE), then the replies (8b, 8c) and what grew with the number "
        "of jobs (8d). For each: what it cost then, what we changed because "
        "of it, and what this run measures (%s µs per job now, same "
        "method). \"Then\" figures come from that run's RESULTS.md unless "
        "marked \"by hand\"." % (
            BEFORE_COMMIT, fmt(tot)))
    L.append("")
    now = ("`sup_res_prepare()` %s, `sup_res_remove()` %s; mkdir(2) of the "
           "job cgroups %s; openat(2) as a whole %s, of which `joblog_open()` "
           "%s" % (share("sup_res_prepare"),
                   pc(incl("spawn", "sup_res_remove")),
                   pc(incl("spawn", "do_mkdirat")),
                   pc(incl("spawn", "__x64_sys_openat")),
                   pc(incl("spawn", "joblog_open"))))
    if scale:
        now += ("; with %s jobs running, POST → first instruction p50 is %s "
                "the empty daemon's (section 5)" % (
                    n, ratio_p50("size.loaded.create_to_exec_us",
                                 "size.empty.create_to_exec_us")))
    L.append(
        "1. **cgroups.** Then: openat(2) took 49.5 %% of schedd's CPU (2,338 "
        "µs per job), most of it kernfs walking full cgroupfs paths; "
        "`sup_res_prepare()` alone 11.7 %%. Each spawn also read every job's "
        "`cpu.rt_runtime_us`, so with 4,338 jobs running POST → first "
        "instruction went from 785 to 38,265 µs (p50, ×48.7). Changed: each "
        "hierarchy's SUBTREE is held open (O_PATH) and job files are opened "
        "beneath it; shared-pool jobs share one cpuset cgroup, "
        "SUBTREE/shared, and a CPU grant changes the pool with one write; "
        "only pinned and exclusive jobs get a cpuset of their own; a new "
        "cgroup gets no default limits written and no OOM count read; "
        "SUBTREE is not made again per job; only RT jobs touch the RT "
        "budget; the OOM eventfd exists only for jobs with a `memory_max` "
        "of their own. Now: %s. Left: a job still gets a directory in every "
        "other hierarchy, made at spawn and removed at DELETE, and joins "
        "them in the vfork child (see what remains, below)." % now)
    rd = incl("spawn", "recently_deleted")
    now = "`joblog_open()` %s, `find_inode_bit` → `recently_deleted` %s" % (
        share("joblog_open"), pc(rd))
    if tm == tm:
        now += ("; state on tmpfs %s µs per job against %s µs on disk (then "
                "4,576 against 4,729)" % (fmt(tm), fmt(tot)))
    pool = ""
    if rd == rd and rd >= 5:
        pool = (" The pool helps this benchmark little: it creates all of "
                "a figure's jobs before it deletes any, so only the first 32 "
                "runs find spare files and the rest still go to the "
                "allocator. A daemon that deletes jobs as it goes reuses "
                "them.")
    L.append(
        "2. **Log files.** Then: `joblog_open()` 7.4 %% (352 µs per job), "
        "three new inodes per run (`logs/ID/`, `RUN.out`, `RUN.err`). This "
        "VM's ext4 has no journal, and then its inode allocator skips "
        "inodes freed in the last few seconds, reading the inode table to "
        "find them (`find_inode_bit` → `recently_deleted`: 6.7 %% then, 41 %% "
        "of schedd's CPU once the cgroup costs were gone, by hand). "
        "Changed: flat names `logs/ID.RUN.out|err` (two inodes per run, and "
        "DELETE unlinks by name), and a pool of up to 64 spare files in "
        "`logs/.spare`: DELETE truncates a run's files and renames them "
        "there, a new run renames one into place. Now: %s.%s Left: a larger "
        "pool, or the logs on tmpfs." % (now, pool))
    now = "`act_remove()` %s, %s µs of schedd CPU per DELETE in all" % (
        share("act_remove"), fmt(R["prof.cpu_us_per_delete"][0]))
    if have("reap"):
        now += ("; with %s jobs running `act_remove()` is %s of 8d" % (
            n, ipc("reap", "act_remove")))
    L.append(
        "3. **DELETE.** Then: `act_remove()` 3.3 %% (156 µs per job) and "
        "2,055 µs of schedd CPU per DELETE in all, growing with the jobs: "
        "each cgroup destroy read every job's `cpu.rt_runtime_us` to give "
        "RT budget back (6.3 ms per DELETE with 3,000 jobs, by hand), and "
        "removing a job's logs took opendir, readdir, two unlinks and "
        "rmdir. Changed: only a job that held RT budget gives it back; log "
        "files go by name, into the spare pool while it has room. Now: %s. "
        "Left: the rmdir in each hierarchy (`sup_res_remove()` %s) and the "
        "SQLite commit." % (now, pc(incl("spawn", "sup_res_remove"))))
    now = []
    if "api.job.ratio" in R:
        now.append("`GET /v1/jobs/{id}` reaches %s of bare evhttp (8b: "
                   "`job_reply()` %s)" % (pc(100 * rmed("api.job.ratio")),
                                          ipc("api", "job_reply")))
    if scale:
        now.append("`GET /v1/jobs` takes %s ms for %s jobs and VmRSS is %s "
                   "KiB after ten of them" % (
                       fmt(pct(POOL["scale.list_ms"], 50)), n,
                       fmt(R["scale.rss_listed_kb"][0])))
    left = ""
    js = selfp("list", "jobspec_to_json")
    if js == js:
        left = " (`jobspec_to_json` %s of 8c's self time)" % pc(js)
    L.append(
        "4. **Replies.** Then: `GET /v1/jobs/{id}` reached 22.6 %% of bare "
        "evhttp. jansson built a ~45-node tree per job and dumped it token "
        "by token, one `evbuffer_add()` each (8b: `api_reply_json` 28 %%, "
        "`json_dump_callback` 14 %%, `api_job_json` 12 %%), and "
        "`supervisor_job_usage()` read cgroup files even for an exited job "
        "(43 %%). `GET /v1/jobs` took 77.4 ms for 4,338 jobs and left VmRSS "
        "at 42,768 KiB. Changed: our own JSON writer, which writes exactly "
        "`json_dumps()`'s bytes (tests/unit/test_api_out.c checks that), "
        "one `evbuffer_add()` per 16 KiB; jobs and runs written straight as "
        "text (`job_reply()`, `out_job()`, `out_run()`); RFC 3339 times "
        "formatted by hand; `GET /v1/jobs` streams one job at a time; an "
        "ended run's usage is read once and kept until the next run. Now: "
        "%s. Left: each job's spec still goes through a jansson tree%s." % (
            "; ".join(now) if now else "not measured in this run", left))
    now = []
    if scale:
        now.append(
            "with %s jobs running, exit → event p50 %s µs, p99 %s µs (%s / "
            "%s µs with none)" % (
                n, fmt(pct(POOL["size.loaded.exit_to_event_us"], 50)),
                fmt(pct(POOL["size.loaded.exit_to_event_us"], 99)),
                fmt(pct(POOL["size.empty.exit_to_event_us"], 50)),
                fmt(pct(POOL["size.empty.exit_to_event_us"], 99))))
    if have("reap"):
        now.append("`sup_pidfd_cb()` (the whole exit, its commit "
                   "included) %s of 8d, the P_ALL scan "
                   "(`reaper_reap()`) %s, `supervisor_job_find()` %s" % (
                       ipc("reap", "sup_pidfd_cb"),
                       ipc("reap", "reaper_reap"),
                       ipc("reap", "supervisor_job_find")))
    L.append(
        "5. **Costs that grew with the jobs running (8d).** Then, with 4,338 "
        "jobs: `reaper_reap()` called `waitid(P_ALL, WNOWAIT)`, which walks "
        "every child, twice per SIGCHLD (2.4 %% of 8d), and exit → event was "
        "p50 1,220 µs, p99 2,586 µs; `supervisor_job_find()` and "
        "`sup_name_taken()` walked every job per request, `sup_queue_run()` "
        "after each start. Changed: each job's main process is collected "
        "through its pidfd (`sup_pidfd_cb()` → `reaper_reap_pid()`, a "
        "`wait4()` of that pid) or through the pid SIGCHLD names, whichever "
        "comes first: a small SA_SIGINFO handler records si_pid (libevent's "
        "signal events drop it). Only a child no job knows (orphans, init "
        "mode) or a SIGCHLD that named none causes the P_ALL scan at once; "
        "otherwise one scan follows within 1 s. Hash tables by id, name, pid "
        "and session; a list of only the queued jobs. Now: %s." % (
            "; ".join(now) if now else "not measured in this run"))
    L.append("")
    L.append("What remains, and what would close it:")
    L.append("")
    lat = ""
    if "done.latency" in R:
        lat = (" Section 2's POST → first instruction (p50 %s µs, p99 %s "
               "µs) includes it." % (
                   fmt(pct(POOL["lat.create_to_exec_us"], 50)),
                   fmt(pct(POOL["lat.create_to_exec_us"], 99))))
    L.append(
        "- **The cgroup attach in the vfork window.** The child joins the "
        "job's cgroups before execve; joining new cgroups took 6–14 ms at "
        "times, by hand, and the daemon is suspended until the execve "
        "(CLONE_VFORK), "
        "so every request waits. It is not in these samples (the child runs "
        "on its own task).%s Options: spawn from a helper thread or "
        "process; on cgroup v2, clone3 with CLONE_INTO_CGROUP." % lat)
    fdt = ""
    if have("reap"):
        fdt = (" With %s jobs running that is %s of 8d's self time." % (
            n, spc("reap", "dup_fd", "fput_close", "dnotify_flush")))
    L.append(
        "- **The fd table.** schedd holds a pidfd per running job; every "
        "clone copies the fd table (`dup_fd`) and every execve closes the "
        "close-on-exec fds (`fput_close`, `dnotify_flush`).%s Option: spawn "
        "from a small helper process that holds few fds." % fdt)
    L.append(
        "- **SQLite.** Not changed: one BEGIN…COMMIT per state change, four "
        "per job: `sqlite3_step` %s, `store_commit()` %s. Every ~1,000 WAL "
        "pages an auto-checkpoint's fdatasync lands in whatever change comes "
        "next. Options: commit once per loop turn and announce the events "
        "after it; checkpoint from an idle timer." % (
            share("sqlite3_step"), pc(incl("spawn", "store_commit"))))
    bare = rmed("spawn.static.c1.bare")
    L.append(
        "- **Two HTTP round trips per job** (POST, then `/wait`)%s. An API "
        "that creates a job and waits for it in one request would halve "
        "them." % (
            "" if bare != bare else
            ": the bare no-libc loop spends ~%s µs per job in all" %
            fmt(1e6 / bare)))
    return "\n".join(L)


def missed_notes():
    L = []
    r = rmed

    if "done.spawn" in R:
        disk = r("spawn.true.c1.ratio")
        tm = r("spawn.tmpfs.true.c1.ratio")
        L.append(
            "- **Spawn ≥ 50 %% of the bare loop** — missed: `/bin/true` "
            "reaches %s (C=1) and %s (C=8), the no-libc `true` %s and %s "
            "(at %s: 7 %%, 5 %%, 2 %% and 1 %%). The bare loop does nothing "
            "per job but clone, exec and wait (%s µs per `/bin/true`, %s µs "
            "per no-libc `true`); schedd adds two HTTP round trips, four "
            "SQLite transactions, two log files and the job's cgroups: %s µs "
            "of its own CPU per job with the state on disk (2,539 µs at %s). "
            "With the state on tmpfs `/bin/true` reaches %s (C=1) and %s "
            "(C=8)%s. What would close more is in the profile's list of "
            "what remains. The no-libc ratio cannot reach 50 %% with an API "
            "request per job: the bare loop spends ~%s µs per job, less "
            "than one HTTP request and answer. Note that BASELINE.md's ~950 "
            "`/bin/true` per second (CPUID traps) does not hold on this VM "
            "today: the bare loop did %s/s, so glibc's start-up no longer "
            "hides the supervisor's cost." % (
                pc(100 * disk), pc(100 * r("spawn.true.c8.ratio")),
                pc(100 * r("spawn.static.c1.ratio")),
                pc(100 * r("spawn.static.c8.ratio")), BEFORE_COMMIT,
                fmt(1e6 / r("spawn.true.c1.bare")),
                fmt(1e6 / r("spawn.static.c1.bare")),
                fmt(r("spawn.static.c1.cpu_us")), BEFORE_COMMIT,
                pc(100 * tm), pc(100 * r("spawn.tmpfs.true.c8.ratio")),
                ": new inodes on this disk are much of the difference "
                "(profile: log files)" if tm == tm and disk == disk and
                tm > 1.2 * disk else "",
                fmt(1e6 / r("spawn.static.c1.bare")),
                fmt(r("spawn.true.c1.bare"))))
    if "done.latency" in R:
        p99 = pct(POOL["lat.exit_to_event_us"], 99)
        if p99 >= 2000:
            L.append(
                "- **Reap → event p99 < 2 ms** — missed: pooled p99 %s µs "
                "(p50 %s µs); the per-round p99s were %s µs. Two likely "
                "causes: the machine (the bare reference's own max was %s µs "
                "in the same rounds) and schedd's WAL auto-checkpoint, whose "
                "fdatasync runs inside whichever commit crosses the "
                "1,000-page mark, the exit's included (profile: SQLite, "
                "under what remains). Checkpoints from an idle timer would "
                "remove schedd's part." % (
                    fmt(p99), fmt(pct(POOL["lat.exit_to_event_us"], 50)),
                    spread(R["lat.exit_to_event_us.p99"]),
                    fmt(max(POOL["lat.bare.exit_to_reap_us"]))))
        elif "done.scale" in R and \
                pct(POOL["size.loaded.exit_to_event_us"], 99) >= 2000:
            L.append(
                "- Reap → event p99 < 2 ms is met with few jobs (%s µs), but "
                "not with %s running (see below)." % (
                    fmt(p99), thousands(R["scale.n"][0])))
    if "done.api" in R:
        if r("api.job.ratio") < 0.7:
            L.append(
                "- **`GET /v1/jobs/{id}` ≥ 70 %% of bare evhttp** — missed: "
                "%s (23 %% at %s). The bare server sends a fixed %d-byte "
                "buffer; schedd finds the job, builds its spec as a jansson "
                "tree and writes the reply (8b: `job_reply()` %s, "
                "`api_reply_json()` %s: headers and send). What would close "
                "it: write the spec straight from `struct job_spec`, or keep "
                "each job's encoded reply until the job changes." % (
                    pc(100 * r("api.job.ratio")), BEFORE_COMMIT,
                    R["api.body.job"][0], ipc("api", "job_reply"),
                    ipc("api", "api_reply_json")))
        if r("api.health.ratio") < 0.7:
            L.append(
                "- **`GET /v1/health` ≥ 70 %%** — missed this run: %s (the "
                "spread shows how close it is to the line). The router's "
                "fixed costs (credentials, route match, headers) and the JSON "
                "writer are all there is to cut." %
                pc(100 * r("api.health.ratio")))
    if "done.scale" in R:
        n = int(R["scale.n"][0])
        if R["scale.rss_per_job_b"][0] > 2048:
            L.append(
                "- **RSS ≤ 2 KiB per job** — missed: %s B per job." %
                fmt(R["scale.rss_per_job_b"][0]))
        if pct(POOL["scale.list_ms"], 50) >= 100:
            L.append(
                "- **`GET /v1/jobs` < 100 ms with %s jobs** — missed: %s ms "
                "for %s MB (77.4 ms for 4,338 jobs at %s). The list is "
                "written one job at a time (8c: `api_jobs_list()` %s; "
                "`jobspec_to_json` %s of the self time). What would close "
                "it: write each spec without a jansson tree; optionally a "
                "paginated list (`?limit=&after=`), which is an API "
                "addition." % (
                    thousands(n), fmt(pct(POOL["scale.list_ms"], 50)),
                    fmt(R["scale.list_bytes"][0] / 1e6), BEFORE_COMMIT,
                    ipc("list", "api_jobs_list"),
                    spc("list", "jobspec_to_json")))
        e = pct(POOL["size.empty.create_to_exec_us"], 50)
        ld = pct(POOL["size.loaded.create_to_exec_us"], 50)
        if ld / e >= 1.5:
            L.append(
                "- **Spawn latency flat with %s jobs loaded** — missed: POST "
                "→ first instruction p50 %s µs against %s µs empty (×%.1f; "
                "×48.7 with 4,338 jobs at %s, from the RT budget walk that "
                "is gone). What can still grow with the jobs: the %s-entry "
                "fd table that clone copies and execve closes (`dup_fd`, "
                "`fput_close`, `dnotify_flush`: %s of 8d's self time); "
                "`sup_res_prepare()` is %s of 8d. Spawning from a small "
                "helper process that holds few fds would remove the fd "
                "table's part (profile, what remains)." % (
                    thousands(n), fmt(ld), fmt(e), ld / e, BEFORE_COMMIT,
                    thousands(n),
                    spc("reap", "dup_fd", "fput_close", "dnotify_flush"),
                    ipc("reap", "sup_res_prepare")))
        el = pct(POOL["size.loaded.exit_to_event_us"], 99)
        ee = pct(POOL["size.empty.exit_to_event_us"], 99)
        if el >= 2000:
            grows = el / ee >= 2
            L.append(
                "- **Reap → event p99 < 2 ms with %s jobs running** — "
                "missed: p50 %s µs, p99 %s µs (with no jobs: p99 %s µs; "
                "2,586 µs with 4,338 jobs at %s). A job's exit is now "
                "collected through its pidfd, whatever the number of "
                "children (profile, item 5). %s" % (
                    thousands(n),
                    fmt(pct(POOL["size.loaded.exit_to_event_us"], 50)),
                    fmt(el), fmt(ee), BEFORE_COMMIT,
                    "The p99 still grows with the jobs (×%.1f): the exit "
                    "waits while the loop does other work that costs more "
                    "with more jobs (8d shows where the loop's time goes)." % (
                        el / ee) if grows else
                    "The p99 is about that of the empty daemon (×%.1f): the "
                    "tail is most likely the loop being busy when the exit "
                    "comes (a "
                    "spawn's vfork window, a commit's fdatasync) and the "
                    "machine, not the number of jobs." % (el / ee)))
    if "done.peer" in R and "peer.sup.c1" in R:
        if r("peer.ratio.c1") < 20:
            b = r("peer.bare_ratio.c1")
            if b < 20:
                ceiling = ("even the bare posix_spawn loop is only ×%s of it "
                           "on this machine, so no supervisor can reach ×20 "
                           "with `/bin/true` here" % fmt(b))
            else:
                ceiling = ("the bare posix_spawn loop is ×%s of it, so ×20 "
                           "asks schedd for %s of the bare loop's rate" % (
                               fmt(b), pc(2000.0 / b)))
            L.append(
                "- **schedd ≥ 20× supervisord** — missed: ×%s (C=1) and ×%s "
                "(C=8). supervisord does ~%s one-shot programs per second "
                "here (start → EXITED p50 %s ms, much faster than "
                "BASELINE.md's 9.2 ms), and %s. schedd with its state on "
                "tmpfs would be at about ×%s (section 1's tmpfs `/bin/true` "
                "C=1 rate against this supervisord rate). What remains for "
                "schedd is the spawn list above." % (
                    fmt(r("peer.ratio.c1")), fmt(r("peer.ratio.c8")),
                    fmt(r("peer.sup.c1")), fmt(pct(POOL["peer.sup.lat_ms"], 50)),
                    ceiling,
                    fmt(r("spawn.tmpfs.true.c1.schedd") / r("peer.sup.c1"))))
    if not L:
        L.append("None.")
    return "\n".join(L)


def machine():
    try:
        with open("/proc/cpuinfo") as f:
            model = [l.split(":", 1)[1].strip() for l in f
                     if l.startswith("model name")][0]
    except (OSError, IndexError):
        model = "?"
    return "%d CPUs (%s), Linux %s, %s GiB RAM" % (
        os.cpu_count(), model, os.uname().release,
        round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") /
              2**30))


MACHINE = ""
T0 = time.monotonic()


def main():
    global MACHINE
    if os.environ.get("BENCH_REPORT_FROM"):
        # Re-render a report from a BENCH_DUMP of an earlier run.
        with open(os.environ["BENCH_REPORT_FROM"]) as f:
            d = json.load(f)
        R.update(d["R"])
        POOL.update(d["POOL"])
        commands.update(d["commands"])
        log_lines.extend(d["log"])
        MACHINE = d["machine"]
        write_report(d["t_total"], d["load_start"], d["load_end"],
                     d["commit"], d["dirty"])
        return 0
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    MACHINE = machine()
    become_subreaper()
    load_start = subprocess.run(["uptime"], stdout=subprocess.PIPE,
                                text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", SRCDIR, "rev-parse", "--short",
                             "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", SRCDIR, "status", "--porcelain",
                            "--untracked-files=no"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL,
                           text=True).stdout.strip() != ""
    if os.environ.get("BENCH_COMMIT"):
        # schedd was built elsewhere, from a clean export of this commit.
        commit, dirty = os.environ["BENCH_COMMIT"], False
    log("start: %s; commit %s%s" % (load_start, commit or "?",
                                    " (dirty)" if dirty else ""))
    sections = [("spawn", bench_spawn), ("latency", bench_latency),
                ("api", bench_api), ("scale", bench_scale),
                ("durability", bench_durability), ("peer", bench_peer),
                ("profile", bench_profile)]
    failures = []
    try:
        for name, fn in sections:
            if ONLY and name not in ONLY:
                continue
            try:
                fn()
                R["done." + name] = [1]
            except (BenchError, subprocess.TimeoutExpired, OSError) as e:
                log("%s FAILED: %s" % (name, e))
                failures.append(name)
    finally:
        cleanup()
        if PERF_DIR is not None:
            shutil.rmtree(PERF_DIR, ignore_errors=True)
    load_end = subprocess.run(["uptime"], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
    t_total = time.monotonic() - T0
    log("done in %.0f s; end: %s" % (t_total, load_end))
    if os.environ.get("BENCH_DUMP"):
        with open(os.environ["BENCH_DUMP"], "w") as f:
            json.dump({"R": R, "POOL": POOL, "commands": commands,
                       "log": log_lines, "machine": MACHINE,
                       "t_total": t_total, "load_start": load_start,
                       "load_end": load_end, "commit": commit or "?",
                       "dirty": dirty}, f)
    write_report(t_total, load_start, load_end, commit or "?", dirty)
    print("wrote " + OUT, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
