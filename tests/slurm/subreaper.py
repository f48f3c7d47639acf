#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# subreaper.py CMD [ARG...]: run CMD as a child subreaper's child, and reap
# every process that is reparented here until none is left. It stands in
# for what starts schedd on a real node (systemd, an init): when schedd is
# killed with -9, its jobs become this process's children, and it reaps
# them when they end, which is what lets a restarted schedd learn their
# real exit status from the kernel (PIDFD_GET_INFO).
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("subreaper: prctl: %s" % os.strerror(ctypes.get_errno()))
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
    except InterruptedError:
        continue
