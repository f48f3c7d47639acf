#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""POST -> the job's first instruction, empty and with N `sleep 3600` jobs
running, on schedd and on the floor reference (bench/floor.c), with the same
probe (schedd-bench latency; against the floor with -o: its stamps are read
from the file the floor gives its jobs as stdout). Each round starts a fresh
daemon of each kind, in an order that alternates between rounds.

usage: BENCH_BUILDDIR=build p99.py   (env: N=6000, ROUNDS=2, LAT_N=200,
WHO=schedd,floor or LABEL=schedd:BINARY,..., DUMP=FILE for the raw
samples as JSON)
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

BD = os.path.abspath(os.environ.get("BENCH_BUILDDIR", "build"))
B = BD + "/bench"
N = int(os.environ.get("N", "6000"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
LAT_N = os.environ.get("LAT_N", "200")
WHO = os.environ.get("WHO", "schedd,floor").split(",")


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode:
        sys.stderr.write(r.stderr[-2000:])
        raise SystemExit("failed: %s" % " ".join(args))
    return r.stdout


def parse(out):
    vals = {}
    for line in out.splitlines():
        p = line.split()
        if len(p) >= 2:
            try:
                vals.setdefault(p[0], []).extend(float(x) for x in p[1:])
            except ValueError:
                pass
    return vals


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


# schedd holds 3 fds per running job (a pidfd and its two output pipes).
# Where RLIMIT_NOFILE's hard limit is lower (20,000 here, and root cannot
# raise it), schedd's jobs are logs.direct, which cost it their pidfd alone.
NEED = 3 * max(N, 1000) + 1024
HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
DIRECT = HARD != resource.RLIM_INFINITY and HARD < NEED


def lim():
    n = HARD if DIRECT else NEED
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def start(who, d, binary=None):
    sock = d + "/sock"
    if who == "schedd":
        with open(d + "/conf", "w") as f:
            f.write("jobs_dir = %s/jobs\n" % d)
        os.mkdir(d + "/jobs")
        p = subprocess.Popen([binary or BD + "/schedd", "-f", "-s", sock, "-S",
                              d + "/state", "-c", d + "/conf", "-l", "warn"],
                             preexec_fn=lim, stdin=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
    else:
        env = dict(os.environ, FLOOR_STDOUT=d + "/stamps")
        p = subprocess.Popen([B + "/floor", sock, d], preexec_fn=lim,
                             env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
        if p.stdout.readline().strip() != "ready":
            raise SystemExit("floor did not start")
    return p, sock


def floor_cgroups_rm(pid):
    name = "floor-%d" % pid
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        if name in dirs:
            for dp, _, _ in os.walk(os.path.join(root, name), topdown=False):
                try:
                    os.rmdir(dp)
                except OSError:
                    pass
        dirs[:] = [x for x in dirs if not x.startswith(("job-", "schedd-",
                                                        "floor-"))]


def stop(who, p, d):
    """End a daemon start() made (by its pid), its cgroups and its folder."""
    p.terminate()
    p.wait(timeout=900)
    if who == "floor":
        floor_cgroups_rm(p.pid)
    shutil.rmtree(d, ignore_errors=True)


def one(spec, res):
    label, _, kind = spec.partition("=")
    who, _, binary = (kind or label).partition(":")
    d = tempfile.mkdtemp(prefix="p99.%s." % who, dir="/var/tmp")
    p, sock = start(who, d, binary or None)
    probe = [B + "/schedd-bench", "latency", "-s", sock, "-n", LAT_N]
    if who == "floor":
        probe += ["-o", d + "/stamps"]
    probe += ["--", B + "/stamp-static"]
    try:
        run([B + "/schedd-bench", "spawn", "-s", sock, "-n", "1000", "-c",
             "2", "--", B + "/true-static"])
        for tag in ("empty", "loaded"):
            if tag == "loaded":
                t = time.monotonic()
                spec = (["-j", '"logs":{"direct":true}']
                        if DIRECT and who == "schedd" else [])
                out = parse(run([B + "/schedd-bench", "create", "-s", sock,
                                 "-n", str(N), "-c", "8", "-p", str(p.pid)] +
                                spec + ["--", "/usr/bin/sleep", "3600"],
                                timeout=1200))
                print("  %s: %d jobs created in %.1f s" % (
                    label, out["created"][0], time.monotonic() - t),
                    file=sys.stderr)
                time.sleep(2)
            for _ in range(2):
                v = parse(run(probe))
                for k in ("create_to_running_resp_us", "create_to_exec_us"):
                    res.setdefault("%s.%s.%s" % (label, tag, k),
                                   []).append(v[k])
                x = v["create_to_exec_us"]
                print("  %s %s: exec p50 %.0f p99 %.0f" % (
                    label, tag, pct(x, .5), pct(x, .99)), file=sys.stderr)
    finally:
        stop(who, p, d)


def main():
    res = {}
    for r in range(ROUNDS):
        order = WHO if r % 2 == 0 else WHO[::-1]
        for who in order:
            print("round %d: %s" % (r + 1, who), file=sys.stderr)
            one(who, res)
    if os.environ.get("DUMP"):
        with open(os.environ["DUMP"], "w") as f:
            json.dump(res, f)
    print("%-44s %8s %8s %8s %6s" % ("figure (us)", "p50", "p99", "max", "n"))
    for k in sorted(res):
        xs = [x for runs in res[k] for x in runs]
        print("%-44s %8.0f %8.0f %8.0f %6d" % (k, pct(xs, .5), pct(xs, .99),
                                               max(xs), len(xs)))
        per = ["%.0f/%.0f" % (pct(x, .5), pct(x, .99)) for x in res[k]]
        print("    per run p50/p99: " + " ".join(per))


if __name__ == "__main__":
    main()
