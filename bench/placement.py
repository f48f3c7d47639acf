#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Does pinning help, and do schedd's figures show it? (issue 17)

The same cyclictest workload (1 ms interval, a histogram to 20 ms) while
`stress-ng --cpu 2` loads both CPUs, four ways in every round (the order
rotates from round to round):

  schedd OTHER  schedctl run on the shared pool; cyclictest's measuring
                thread SCHED_OTHER (--policy=other). The job itself is FIFO 1
                because cyclictest refuses to start unless it can take an RT
                policy (rt-utils check_privs), which a job cgroup without RT
                budget forbids; its main thread only sleeps.
  schedd FIFO   schedctl run --exclusive-cpus 1 --policy fifo --priority 80,
                measuring thread FIFO 80.
  hand OTHER    chrt -f 1 taskset -c 0-1 cyclictest --policy=other (the same
                set-up without schedd).
  hand FIFO     chrt -f 80 taskset -c C cyclictest -p 80, C being the CPU
                `schedctl plan --exclusive-cpus 1` says schedd would grant.

For each: p50, p99 and p99.9 of cyclictest's latencies (histograms pooled
over the rounds), and the scheduling figures: for schedd runs the job's
usage (runq_delay_us, involuntary_switches, migrations, nr_throttled,
throttled_us) from GET /v1/jobs/NAME, sampled while it runs; for the hand
runs the same counters read here from /proc/PID/task/TID/{schedstat,sched}.
schedd's percentiles are compared with the hand-made ones (the goal: within
10 %). cyclictest sleeps between wake-ups, so no RT task busy-loops;
stress-ng is SCHED_OTHER and bounded by --timeout. Writes the "Placement"
section of bench/RESULTS.md between its markers.

Usage: flock /work/.heavy.lock python3 bench/placement.py [BUILD_DIR]
Environment: PLACEMENT_LOOPS (10000), PLACEMENT_ROUNDS (3).
Needs root, rt-tests and stress-ng.
"""
import datetime
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else TOP
SCHEDD = os.path.join(BUILD, "schedd")
SCHEDCTL = os.path.join(BUILD, "schedctl")
LOOPS = int(os.environ.get("PLACEMENT_LOOPS", "10000"))
ROUNDS = int(os.environ.get("PLACEMENT_ROUNDS", "3"))
HIST_US = 20000
RESULTS = os.path.join(TOP, "bench", "RESULTS.md")
CONFIGS = ["schedd OTHER", "schedd FIFO", "hand OTHER", "hand FIFO"]


def die(msg):
    print("placement: " + msg, file=sys.stderr)
    sys.exit(1)


class Daemon:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="schedd-placement.")
        self.sock = os.path.join(self.dir, "s.sock")
        open(os.path.join(self.dir, "schedd.conf"), "w").close()
        self.log = open(os.path.join(self.dir, "schedd.log"), "w")
        self.proc = subprocess.Popen(
            [SCHEDD, "--foreground", "--config",
             os.path.join(self.dir, "schedd.conf"), "--socket", self.sock,
             "--state-dir", os.path.join(self.dir, "state"),
             "--log-level", "warn"], stderr=self.log)
        for _ in range(100):
            if self.ctl("health", check=False).returncode == 0:
                return
            time.sleep(0.1)
        die("schedd did not answer")

    def ctl(self, *args, check=True):
        r = subprocess.run([SCHEDCTL, "--socket", self.sock] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if check and r.returncode != 0:
            die("schedctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def cyclictest_args(rt):
    a = ["cyclictest", "-m", "-q", "-i", "1000", "-l", str(LOOPS),
         "-h", str(HIST_US)]
    return a + (["-p", "80"] if rt else ["--policy=other"])


def histogram(text):
    """Bucket counts (us -> count) and overflows from cyclictest -h."""
    hist = {}
    over = 0
    for line in text.splitlines():
        m = re.match(r"^(\d+)\s+(\d+)\s*$", line)
        if m:
            n = int(m.group(2))
            if n:
                hist[int(m.group(1))] = hist.get(int(m.group(1)), 0) + n
            continue
        m = re.match(r"^# Histogram Overflows:\s+(\d+)", line)
        if m:
            over += int(m.group(1))
    return hist, over


def percentile(hist, over, q):
    total = sum(hist.values()) + over
    if total == 0:
        return None
    want = q * total
    seen = 0
    for us in sorted(hist):
        seen += hist[us]
        if seen >= want:
            return us
    return ">%d" % HIST_US


def proc_figures(pid):
    """The counters schedd reads, read by hand: sums over the threads."""
    f = {"runq_delay_us": 0, "involuntary_switches": 0, "migrations": 0}
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(task + "/schedstat") as s:
                f["runq_delay_us"] += int(s.read().split()[1]) // 1000
            with open(task + "/sched") as s:
                text = s.read()
        except OSError:
            continue
        for key, name in (("nr_involuntary_switches", "involuntary_switches"),
                          ("se.nr_migrations", "migrations")):
            m = re.search(r"^%s\s*:\s*(\d+)" % re.escape(key), text, re.M)
            if m:
                f[name] += int(m.group(1))
    return f


def run_schedd(d, name, rt, rnd):
    jname = "%s-%d" % (name, rnd)
    args = ["run", "--name", jname]
    if rt:
        args += ["--exclusive-cpus", "1", "--policy", "fifo", "--priority",
                 "80"]
    else:
        args += ["--policy", "fifo", "--priority", "1"]
    d.ctl(*(args + ["--"] + cyclictest_args(rt)))
    last = None
    cpus = None
    check = None
    while True:
        j = d.json("show", jname)
        cpus = j.get("cpus_effective") or cpus
        if j["state"] != "running":
            break
        u = j.get("usage") or {}
        if u.get("nprocs"):
            last = u
            # The same counters read here, right after the daemon did.
            if j.get("pid"):
                check = (u, proc_figures(j["pid"]))
        time.sleep(0.5)
    out = d.ctl("logs", jname).stdout
    err = d.ctl("logs", "--stderr", jname).stdout
    if j["state"] != "exited" or "Total" not in out:
        die("%s: %s %s" % (jname, j["state"], err.strip()))
    d.ctl("rm", jname)
    fig = {k: (last or {}).get(k) for k in (
        "runq_delay_us", "involuntary_switches", "migrations",
        "nr_throttled", "throttled_us")}
    if check is not None:
        fig["hand_runq_delay_us"] = check[1]["runq_delay_us"]
        fig["hand_involuntary_switches"] = check[1]["involuntary_switches"]
        fig["hand_migrations"] = check[1]["migrations"]
    return out, fig, cpus


def run_hand(rt, cpu):
    if rt:
        cmd = ["chrt", "-f", "80", "taskset", "-c", cpu]
    else:
        cmd = ["chrt", "-f", "1", "taskset", "-c", "0-1"]
    # Output to a file: the histogram is larger than a pipe holds.
    with tempfile.TemporaryFile(mode="w+") as o, \
            tempfile.TemporaryFile(mode="w+") as e:
        p = subprocess.Popen(cmd + cyclictest_args(rt), stdout=o, stderr=e)
        last = None
        # chrt and taskset exec: the pid is cyclictest's.
        while p.poll() is None:
            f = proc_figures(p.pid)
            if f["runq_delay_us"] or f["involuntary_switches"]:
                last = f
            time.sleep(0.5)
        o.seek(0)
        e.seek(0)
        out, err = o.read(), e.read()
    if p.returncode != 0:
        die("hand run: %s" % err.strip())
    fig = dict(last or {})
    fig["nr_throttled"] = None
    fig["throttled_us"] = None
    return out, fig


def main():
    if os.geteuid() != 0:
        die("needs root")
    for t in ("cyclictest", "stress-ng", "chrt", "taskset"):
        if shutil.which(t) is None:
            die("%s missing (apt-get install rt-tests stress-ng)" % t)
    d = Daemon()
    pooled = {c: [{}, 0] for c in CONFIGS}
    figs = {c: [] for c in CONFIGS}
    log = []
    stress = None
    try:
        plan = d.json("plan", "--exclusive-cpus", "1", "--policy", "fifo",
                      "--priority", "80", "--", "cyclictest")
        cpu = plan["cpus"]["cpus"]
        for rnd in range(ROUNDS):
            stress = subprocess.Popen(
                ["stress-ng", "--cpu", "2", "--quiet", "--timeout",
                 "%ds" % (4 * (LOOPS // 1000 + 10) + 30)])
            time.sleep(2)
            order = CONFIGS[rnd % 4:] + CONFIGS[:rnd % 4]
            for c in order:
                rt = c.endswith("FIFO")
                if c.startswith("schedd"):
                    out, fig, got = run_schedd(d, c.split()[1].lower(), rt,
                                               rnd)
                    if rt and got != cpu:
                        log.append("round %d: the grant was CPU %s, the "
                                   "plan said %s" % (rnd, got, cpu))
                else:
                    out, fig = run_hand(rt, cpu)
                hist, over = histogram(out)
                for us, n in hist.items():
                    pooled[c][0][us] = pooled[c][0].get(us, 0) + n
                pooled[c][1] += over
                figs[c].append(fig)
                log.append("round %d %-12s p50 %s p99 %s p99.9 %s fig %s" % (
                    rnd, c, percentile(hist, over, .5),
                    percentile(hist, over, .99),
                    percentile(hist, over, .999), json.dumps(fig)))
                print(log[-1], flush=True)
            stress.terminate()
            stress.wait()
            stress = None
    finally:
        if stress is not None:
            stress.terminate()
            stress.wait()
        d.stop()

    def med(c, k):
        v = sorted(f[k] for f in figs[c] if f.get(k) is not None)
        return v[len(v) // 2] if v else None

    rows = []
    pct = {}
    for c in CONFIGS:
        h, o = pooled[c]
        p = [percentile(h, o, q) for q in (.5, .99, .999)]
        pct[c] = p
        rq = med(c, "runq_delay_us")
        rows.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c, p[0], p[1], p[2],
            "-" if rq is None else "%d (%.1f per wake-up)" % (rq, rq / LOOPS),
            med(c, "involuntary_switches"), med(c, "migrations"),
            "-" if med(c, "nr_throttled") is None else med(c, "nr_throttled"),
            "-" if med(c, "throttled_us") is None else med(c, "throttled_us")))

    def ratio(a, b):
        if not isinstance(a, int) or not isinstance(b, int) or b == 0:
            return "n/a"
        return "%+.0f %%" % (100.0 * (a - b) / b)

    # schedd's usage against the same counters read by hand, same moment.
    acc_rows = []
    for c in ("schedd OTHER", "schedd FIFO"):
        for k in ("runq_delay_us", "involuntary_switches", "migrations"):
            pairs = [(f.get(k), f.get("hand_" + k)) for f in figs[c]
                     if f.get(k) is not None and
                     f.get("hand_" + k) is not None]
            worst = 0.0
            for a, b in pairs:
                if b:
                    worst = max(worst, abs(a - b) / b)
                elif a:
                    worst = max(worst, 1.0)
            acc_rows.append("| %s | %s | %s | %.1f %% |" % (
                c, k, ", ".join("%d/%d" % p for p in pairs), 100 * worst))

    cmp_rows = []
    for kind in ("OTHER", "FIFO"):
        s, h = pct["schedd " + kind], pct["hand " + kind]
        cmp_rows.append("| %s | %s | %s | %s |" % (
            kind, ratio(s[0], h[0]), ratio(s[1], h[1]), ratio(s[2], h[2])))
    commit = subprocess.run(["git", "-C", TOP, "rev-parse", "--short",
                             "HEAD"], stdout=subprocess.PIPE,
                            text=True).stdout.strip() or "unknown"
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    section = """<!-- placement begin -->
## Placement: does pinning help, and do the figures show it? (issue 17)

`flock /work/.heavy.lock python3 bench/placement.py build` at commit
`%s`, %s: cyclictest (1 ms interval, %d loops per run, histogram to
%d us) while `stress-ng --cpu 2` loads both CPUs, %d rounds, each running
the four set-ups in a rotating order; percentiles from the histograms pooled
over the rounds, figures the median of the rounds. The exclusive CPU was
CPU %s (as `schedctl plan` said before the first run). schedd OTHER is a
FIFO 1 job whose measuring thread is SCHED_OTHER (cyclictest will not start
without an RT policy); hand OTHER is the same with `chrt -f 1 taskset -c
0-1`. Figures: schedd's from the job's `usage` sampled while it ran, the
hand runs' read by the script from the same /proc files; runq delay and
switches are totals over the run.

| set-up | p50 us | p99 us | p99.9 us | runq delay us | involuntary switches | migrations | nr_throttled | throttled us |
|---|---|---|---|---|---|---|---|---|
%s

schedd's figures against the same counters read by the script from
/proc/PID/task/TID/{schedstat,sched} right after each sample (last sample
of each round, schedd/by hand; the reads are a few ms apart, and the
counters keep growing in between):

| job | figure | schedd/hand per round | largest gap |
|---|---|---|---|
%s

schedd against the hand-made set-up (positive: schedd's latency is higher):

| policy | p50 | p99 | p99.9 |
|---|---|---|---|
%s

Per-round log:
```
%s
```
Maximum latencies in this VM are the hypervisor's (BASELINE.md); p99.9
over %d wake-ups rests on the %d slowest, so it moves from run to run.
<!-- placement end -->""" % (commit, now, LOOPS, HIST_US, ROUNDS, cpu,
                            "\n".join(rows), "\n".join(acc_rows),
                            "\n".join(cmp_rows),
                            "\n".join(log), LOOPS * ROUNDS,
                            LOOPS * ROUNDS // 1000)
    text = open(RESULTS).read() if os.path.exists(RESULTS) else ""
    if "<!-- placement begin -->" in text:
        text = re.sub(r"<!-- placement begin -->.*<!-- placement end -->",
                      lambda m: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(RESULTS, "w") as f:
        f.write(text)
    print(section)


if __name__ == "__main__":
    main()
