#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Where schedd's time goes per create+wait job, in instructions (issue 18);
run it through `bench/run.sh callgrind`.

schedd and the floor reference (bench/floor) each run under
`valgrind --tool=callgrind` on a temporary socket and state directory. After
a warm-up of W jobs the counters are zeroed (callgrind_control -z), N jobs
of /bin/true are created and waited for one at a time (POST /v1/jobs, GET
/v1/jobs/ID/wait on one keep-alive connection), the counters are dumped
(callgrind_control -d), then every job is DELETEd and they are dumped
again. Instruction counts do not depend on the machine's load, which the
timings here do.

Every instruction is put in a group: the function's own code by the library
or the source file it is in (HTTP/libevent, JSON/jansson, SQLite, cgroups,
spawn, /proc reads, logs, the API handlers, the store, the supervisor), and
what a function calls in libc (malloc, snprintf, the system call stubs...)
goes to the caller's group, from the call edges of the profile. The kernel's
share (mkdir, clone, execve, fsync, ...) is not in callgrind's counts: the
CPU time split into user and system, from /proc/PID/stat of a daemon run
without valgrind, is shown beside.

Prints a markdown section and puts it into BENCH_OUT (default
bench/RESULTS.md) between <!-- callgrind begin --> and <!-- callgrind end
-->, which a full run keeps. Environment: BENCH_BUILDDIR, BENCH_CG_N (300),
BENCH_CG_WARM (50), BENCH_CG_KEEP=DIR (keep the callgrind.out files there),
BENCH_CG_LOAD=N (N jobs of sleep 3600 left running before the count: the
cost of a job beside many; then the report goes only to stdout).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import http.client

BUILD = os.path.abspath(os.environ.get("BENCH_BUILDDIR", "."))
SRCDIR = os.environ.get("BENCH_SRCDIR",
                        os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__))))
BINDIR = os.environ.get("BENCH_BINDIR", os.path.join(BUILD, "bench"))
OUT = os.environ.get("BENCH_OUT", os.path.join(SRCDIR, "bench", "RESULTS.md"))
N = int(os.environ.get("BENCH_CG_N", "300"))
WARM = int(os.environ.get("BENCH_CG_WARM", "50"))
KEEP = os.environ.get("BENCH_CG_KEEP", "")
LOAD = int(os.environ.get("BENCH_CG_LOAD", "0"))  # sleep jobs running
TICK = os.sysconf("SC_CLK_TCK")
TRUE = "/bin/true"

GROUPS = ["HTTP (libevent)", "API handlers", "JSON (jansson, jsonout.c)",
          "SQLite",
          "store (own code)", "cgroups", "spawn", "/proc reads", "logs",
          "supervisor, other own code", "other libraries", "unattributed"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class UConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=600)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def call(c, method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)


def wait_up(sock, p, timeout=120):
    end = time.time() + timeout
    while True:
        try:
            c = UConn(sock)
            st, _ = call(c, "GET", "/v1/health")
            c.close()
            if st == 200:
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        if p.poll() is not None or time.time() > end:
            raise RuntimeError("daemon did not come up")
        time.sleep(0.1)


def jobs(sock, n):
    """n create+wait jobs on one connection; their ids."""
    c = UConn(sock)
    ids = []
    for _ in range(n):
        st, j = call(c, "POST", "/v1/jobs", {"argv": [TRUE]})
        if st != 201:
            raise RuntimeError("POST: %d %s" % (st, j))
        st, w = call(c, "GET", "/v1/jobs/%d/wait" % j["id"])
        code = w.get("exit_code", (w.get("last_run") or {}).get(
            "exit_code")) if st == 200 else None
        if w.get("state") != "exited" or code != 0:
            raise RuntimeError("wait: %d %s" % (st, w))
        ids.append(j["id"])
    c.close()
    return ids


def delete(sock, ids):
    c = UConn(sock)
    for i in ids:
        st, j = call(c, "DELETE", "/v1/jobs/%d" % i)
        if st != 200:
            raise RuntimeError("DELETE: %d %s" % (st, j))
    c.close()


def cg_control(pid, flag):
    p = subprocess.run(["callgrind_control", flag, str(pid)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("callgrind_control %s: %s" % (flag, p.stdout))


class Daemon:
    def __init__(self, who, valgrind, d):
        self.who, self.dir = who, d
        self.sock = os.path.join(d, "s.sock")
        if who == "schedd":
            os.makedirs(os.path.join(d, "jobs.d"), exist_ok=True)
            conf = os.path.join(d, "schedd.conf")
            with open(conf, "w") as f:
                f.write("jobs_dir = %s/jobs.d\n" % d)
            args = [os.path.join(BUILD, "schedd"), "--foreground", "--socket",
                    self.sock, "--state-dir", os.path.join(d, "state"),
                    "--config", conf, "--log-level", "warn"]
        else:
            args = [os.path.join(BINDIR, "floor"), self.sock,
                    os.path.join(d, "state")]
            os.makedirs(os.path.join(d, "state"), exist_ok=True)
        if valgrind:
            args = ["valgrind", "--tool=callgrind", "--quiet",
                    "--callgrind-out-file=%s/cg.out" % d] + args
        self.args = args
        self.err = open(os.path.join(d, "daemon.log"), "w")
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=self.err)
        wait_up(self.sock, self.p)

    def stat(self):
        with open("/proc/%d/stat" % self.p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]), int(fields[12])

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(300)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.err.close()
        # schedd removes its own cgroup subtree; the floor its own.


# Parsing callgrind's output format (valgrind's docs/cl-format).

def parse(path):
    """Self cost per function and inclusive cost per call edge:
    ({fn: (ob, fl, self)}, {(caller, callee): inclusive})."""
    names = {"ob": {}, "fl": {}, "fn": {}}
    kind = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl",
            "cfl": "fl", "cfi": "fl", "fn": "fn", "cfn": "fn"}
    selfc, edges, info = {}, {}, {}
    ob = fl = fn = None
    cob = cfn = None
    in_call = False
    rx = re.compile(r"^\((\d+)\)(?: (.*))?$")

    def name(k, v):
        m = rx.match(v)
        if not m:
            return v
        if m.group(2) is not None:
            names[kind[k]][m.group(1)] = m.group(2)
            return m.group(2)
        return names[kind[k]].get(m.group(1), v)

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c0 = line[0]
            if c0.isdigit() or c0 in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if in_call:
                    key = (fn, cfn)
                    edges[key] = edges.get(key, 0) + cost
                    in_call = False
                    cob = cfn = None
                else:
                    selfc[fn] = selfc.get(fn, 0) + cost
                continue
            if "=" not in line:
                continue
            k, v = line.split("=", 1)
            if k == "ob":
                ob = name(k, v)
            elif k == "fl":
                fl = name(k, v)
            elif k in ("fi", "fe"):
                name(k, v)
            elif k == "fn":
                fn = name(k, v)
                info.setdefault(fn, (ob, fl))
            elif k == "cob":
                cob = name(k, v)
            elif k in ("cfl", "cfi"):
                name(k, v)
            elif k == "cfn":
                cfn = name(k, v)
            elif k == "calls":
                in_call = True
    return selfc, edges, info


LIBC = ("libc.so", "libc-", "ld-linux", "libm.so", "libpthread", "vdso",
        "???", "libdl", "librt")


ROOTS = ("(below main)", "start_thread", "clone", "__libc_start")


def group_of(name, info):
    """A function's group, from where it was defined (its object and
    source file); None for libc, whose cost goes to its callers."""
    ob, fl = info.get(name, ("?", "?"))
    ob, fl = ob or "?", fl or "?"
    base = os.path.basename(ob)
    if name.startswith(ROOTS) or \
            any(base.startswith(x) or x in base for x in LIBC):
        return None  # libc: charged to the caller
    if "libevent" in base:
        return "HTTP (libevent)"
    if "jansson" in base:
        return "JSON (jansson, jsonout.c)"
    if "sqlite" in base:
        return "SQLite"
    if base in ("schedd", "floor"):
        if base == "floor":
            n = name.split("'")[0]
            if n.startswith(("cgroups_", "own_cgroup", "v1_mount", "pathf",
                             "write_file", "copy_file")):
                return "cgroups"
            if n.startswith(("spawn", "child_")):
                return "spawn"
            if n.startswith("db_"):
                return "store (own code)"
            if n in ("on_request", "post_job", "reply", "reply_job",
                     "on_exit_"):
                return "API handlers"
            return "supervisor, other own code"
        f = os.path.basename(fl)
        if f.startswith("cgroup"):
            return "cgroups"
        if f == "spawn.c":
            return "spawn"
        if f.startswith(("procfs", "procscan")):
            return "/proc reads"
        if f.startswith(("joblog", "api-logs")):
            return "logs"
        if f == "jsonout.c":
            return "JSON (jansson, jsonout.c)"
        if f.startswith("api") or f.startswith("json"):
            return "API handlers"
        if f in ("store.c", "supervisor-store.c"):
            return "store (own code)"
        return "supervisor, other own code"
    return "other libraries"


def grouped(path):
    selfc, edges, info = parse(path)
    total = sum(selfc.values())
    g = dict((k, 0) for k in GROUPS)
    fns = {}
    for fnkey, c in selfc.items():
        grp = group_of(fnkey, info)
        if grp is not None:
            g[grp] += c
            fns[fnkey] = fns.get(fnkey, 0) + c
    for (caller, callee), c in edges.items():
        if caller is None or callee is None:
            continue
        gc, ge = group_of(caller, info), group_of(callee, info)
        if gc is not None and ge is None:
            g[gc] += c
            fns[caller] = fns.get(caller, 0) + c
        elif gc is None and ge is not None and not caller.startswith(
                ROOTS):
            # A callback from libc (qsort's comparison, say): its cost is
            # in the callee's own and in the edge into libc already.
            g[ge] -= c
    g["unattributed"] = total - sum(v for k, v in g.items()
                                    if k != "unattributed")
    top = sorted(fns.items(), key=lambda kv: -kv[1])[:15]
    return total, g, top, info


def cpu_split(who, n):
    """user and system CPU µs per create+wait job, without valgrind."""
    d = tempfile.mkdtemp(prefix="cg-cpu.")
    dm = None
    try:
        dm = Daemon(who, False, d)
        jobs(dm.sock, 200)
        u0, s0 = dm.stat()
        ids = jobs(dm.sock, n)
        u1, s1 = dm.stat()
        delete(dm.sock, ids)
        return ((u1 - u0) * 1e6 / TICK / n, (s1 - s0) * 1e6 / TICK / n)
    finally:
        if dm is not None:
            dm.stop()
        shutil.rmtree(d, ignore_errors=True)


def profile(who):
    d = tempfile.mkdtemp(prefix="cg-%s." % who)
    dm = None
    try:
        dm = Daemon(who, True, d)
        log("%s: warm-up, %d jobs" % (who, WARM))
        jobs(dm.sock, WARM)
        if LOAD:
            log("%s: %d jobs of sleep 3600 left running" % (who, LOAD))
            c = UConn(dm.sock)
            for _ in range(LOAD):
                st, j = call(c, "POST", "/v1/jobs",
                             {"argv": ["/bin/sleep", "3600"]})
                if st != 201:
                    raise RuntimeError("POST: %d %s" % (st, j))
            c.close()
        cg_control(dm.p.pid, "-z")
        log("%s: %d create+wait jobs under callgrind" % (who, N))
        ids = jobs(dm.sock, N)
        cg_control(dm.p.pid, "-d")
        cg_control(dm.p.pid, "-z")
        delete(dm.sock, ids)
        cg_control(dm.p.pid, "-d")
        dm.stop()
        dm = None
        outs = sorted((f for f in os.listdir(d) if f.startswith("cg.out")),
                      key=lambda f: int(f.rsplit(".", 1)[1])
                      if f.rsplit(".", 1)[1].isdigit() else 0)
        # cg.out.1: the jobs; cg.out.2: the deletes; cg.out: at exit.
        dumps = [os.path.join(d, f) for f in outs if f != "cg.out"]
        if len(dumps) < 2:
            raise RuntimeError("callgrind dumps missing: %s" % outs)
        if KEEP:
            os.makedirs(KEEP, exist_ok=True)
            for i, f in enumerate(dumps[:2]):
                shutil.copy(f, os.path.join(KEEP, "callgrind.%s.%s" % (
                    who, ("jobs", "deletes")[i])))
        return grouped(dumps[0]), grouped(dumps[1])
    finally:
        if dm is not None:
            dm.stop()
        shutil.rmtree(d, ignore_errors=True)


def fmtk(v):
    return "{:,.0f}".format(v / 1000.0)


def main():
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        log("callgrind.py: valgrind is not installed")
        return 1
    commit = subprocess.run(["git", "-C", SRCDIR, "rev-parse", "--short",
                             "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip()
    res, cpu = {}, {}
    for who in ("schedd", "floor"):
        res[who] = profile(who)
        cpu[who] = cpu_split(who, 1000)
        log("%s: %.0f k instructions per job" % (who, res[who][0][0] / N /
                                                 1000))
    L = []
    w = L.append
    w("<!-- callgrind begin -->")
    w("## Where the time goes: instructions per create+wait job (issue 18)")
    w("")
    w("Written by `bench/run.sh callgrind` (bench/callgrind.py) at `%s`: "
      "schedd and the floor reference under `valgrind --tool=callgrind`, "
      "%d warm-up jobs, then the counters zeroed and %d jobs of `/bin/true` "
      "created and waited for one at a time on one connection, then the "
      "counters dumped; the DELETEs of those jobs are counted apart. User "
      "space only: the kernel's work (mkdir and rmdir of cgroups, clone, "
      "execve, writes, fdatasync) is not in these counts; the CPU split "
      "below (1,000 jobs without valgrind, /proc/PID/stat, 10 ms ticks) "
      "shows how much of the daemon's time it is. A function's calls into "
      "libc are charged to the function's group (from the call edges); "
      "\"unattributed\" is what libc did that no group called (thread "
      "start-up and the like). Under valgrind, pidfd_open(2) is missing "
      "(valgrind 3.19), so both daemons reap through SIGCHLD there, as "
      "schedd's reaper does on kernels without pidfds." % (
          commit or "?", WARM, N))
    w("")
    w("| group | schedd k instr/job | share | floor k instr/job | share |")
    w("|---|---|---|---|---|")
    ts, gs = res["schedd"][0][:2]
    tf, gf = res["floor"][0][:2]
    for grp in GROUPS:
        w("| %s | %s | %.1f %% | %s | %.1f %% |" % (
            grp, fmtk(gs[grp] / N), 100.0 * gs[grp] / ts, fmtk(gf[grp] / N),
            100.0 * gf[grp] / tf))
    w("| **total** | **%s** | | **%s** | |" % (fmtk(ts / N), fmtk(tf / N)))
    w("| DELETE, total per job | %s | | %s | |" % (
        fmtk(res["schedd"][1][0] / N), fmtk(res["floor"][1][0] / N)))
    w("| CPU per job without valgrind: user / system µs | %.0f / %.0f | | "
      "%.0f / %.0f | |" % (cpu["schedd"] + cpu["floor"]))
    w("")
    for who in ("schedd", "floor"):
        w("%s's largest functions (own instructions plus what they call in "
          "libc), k instructions per job:" % who)
        w("")
        w("| function | object | k instr/job |")
        w("|---|---|---|")
        info = res[who][0][3]
        for fn, c in res[who][0][2]:
            w("| `%s` | %s | %s |" % (fn, os.path.basename(
                info.get(fn, ("?",))[0] or "?"), fmtk(c / N)))
        w("")
    w("Reproduce: `BENCH_BUILDDIR=build bench/run.sh callgrind` (about 3 "
      "minutes; `BENCH_CG_KEEP=DIR` keeps the callgrind.out files for "
      "`callgrind_annotate`).")
    w("<!-- callgrind end -->")
    text = "\n".join(L)
    print(text)
    if LOAD:
        return 0
    old = open(OUT).read() if os.path.exists(OUT) else ""
    a = old.find("<!-- callgrind begin -->")
    b = old.find("<!-- callgrind end -->")
    if 0 <= a < b:
        old = old[:a] + text + old[b + len("<!-- callgrind end -->"):]
    else:
        old = old.rstrip("\n") + "\n\n" + text + "\n"
    with open(OUT + ".tmp", "w") as f:
        f.write(old)
    os.replace(OUT + ".tmp", OUT)
    log("wrote " + OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
