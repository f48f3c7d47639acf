#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The cost of one GET /metrics scrape (issue 15), beside GET /v1/jobs.

Starts ./schedd on a temporary socket and state directory, creates N jobs
(`sleep 3600`, default 100), then times scrapes over one keep-alive-less
Unix-socket request each, ROUNDS rounds of SCRAPES requests, alternating
/metrics and /v1/jobs back to back. The handler runs in the event loop, so
the time of one answer is also how long a scrape holds the loop. Rewrites
only its own section, "Metrics scrape (issue 15)", of bench/RESULTS.md
(BENCH_OUT), or prints it with --print.

usage: BENCH_BUILDDIR=build flock /work/.heavy.lock bench/metrics.py
environment: BENCH_JOBS (100), BENCH_ROUNDS (5), BENCH_SCRAPES (40)
"""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("BENCH_BUILDDIR", SRC))
NJOBS = int(os.environ.get("BENCH_JOBS", "100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SCRAPES = int(os.environ.get("BENCH_SCRAPES", "40"))
OUT = os.environ.get("BENCH_OUT", os.path.join(SRC, "bench", "RESULTS.md"))
TITLE = "## Metrics scrape (issue 15)"


def request(sock, method, path, body=None):
    """One request on a fresh connection; (status, body bytes, seconds)."""
    t0 = time.perf_counter()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    head = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (method,
                                                                   path)
    data = b""
    if body is not None:
        data = body.encode()
        head += "Content-Type: application/json\r\n"
    head += "Content-Length: %d\r\n\r\n" % len(data)
    s.sendall(head.encode() + data)
    chunks = []
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        chunks.append(b)
    s.close()
    el = time.perf_counter() - t0
    raw = b"".join(chunks)
    status = int(raw.split(b" ", 2)[1])
    return status, raw.split(b"\r\n\r\n", 1)[1], el


def main():
    d = tempfile.mkdtemp(prefix="schedd-bench-metrics.")
    sock = os.path.join(d, "s.sock")
    conf = os.path.join(d, "schedd.conf")
    open(conf, "w").close()
    log = open(os.path.join(d, "schedd.log"), "w")
    proc = subprocess.Popen([os.path.join(BUILD, "schedd"), "--socket", sock,
                             "--state-dir", os.path.join(d, "state"),
                             "--config", conf, "--foreground"],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if request(sock, "GET", "/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit("schedd did not start")
            time.sleep(0.02)
        for i in range(NJOBS):
            st, b, _ = request(sock, "POST", "/v1/jobs",
                               '{"name":"m%d","argv":["sleep","3600"]}' % i)
            if st != 201:
                sys.exit("create: %d %s" % (st, b[:200]))
        met, lst, size = [], [], 0
        for _ in range(ROUNDS):
            rm, rl = [], []
            for _ in range(SCRAPES):
                st, b, el = request(sock, "GET", "/metrics")
                assert st == 200
                size = len(b)
                rm.append(el * 1e3)
                st, b, el = request(sock, "GET", "/v1/jobs")
                assert st == 200
                rl.append(el * 1e3)
            met.append(rm)
            lst.append(rl)
        lines = [l for l in request(sock, "GET", "/metrics")[1].decode()
                 .splitlines() if l and not l.startswith("#")]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(d, ignore_errors=True)

    def fig(rounds):
        meds = [statistics.median(r) for r in rounds]
        pooled = sorted(x for r in rounds for x in r)
        p99 = pooled[min(len(pooled) - 1, int(len(pooled) * 0.99))]
        return "%.2f (%.2f–%.2f); p99 %.2f" % (statistics.median(meds),
                                               min(meds), max(meds), p99)

    try:
        commit = subprocess.run(["git", "-C", SRC, "rev-parse", "--short",
                                 "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = "?"
    load = open("/proc/loadavg").read().split()[:3]
    sec = [TITLE, "",
           "Written by `bench/metrics.py` (`BENCH_BUILDDIR=build flock "
           "/work/.heavy.lock bench/metrics.py`), commit `%s`, %s UTC, load "
           "%s. %d running jobs (`sleep 3600`), %d rounds of %d requests, "
           "each on a new Unix-socket connection from Python, `/metrics` and "
           "`/v1/jobs` alternating; median of the round medians (spread) "
           "and the pooled p99, in ms. The answer is built in the event "
           "loop in one go, so this is also how long one scrape holds "
           "the loop." % (commit, time.strftime("%Y-%m-%d %H:%M",
                                                 time.gmtime()),
                          " ".join(load), NJOBS, ROUNDS, SCRAPES),
           "",
           "| request | ms per answer | body |",
           "|---|---|---|",
           "| `GET /metrics`, %d jobs | %s | %d bytes, %d samples |" % (
               NJOBS, fig(met), size, len(lines)),
           "| `GET /v1/jobs`, %d jobs (reference: no usage read) | %s | |" % (
               NJOBS, fig(lst)),
           ""]
    text = "\n".join(sec)
    if "--print" in sys.argv:
        print(text)
        return
    old = open(OUT).read()
    m = re.search(r"^" + re.escape(TITLE) + r"\n.*?(?=^## |\Z)", old,
                  re.S | re.M)
    new = (old[:m.start()] + text + "\n" + old[m.end():] if m
           else old.rstrip("\n") + "\n\n" + text)
    open(OUT, "w").write(new)
    print(text)


if __name__ == "__main__":
    main()
