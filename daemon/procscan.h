/* SPDX-License-Identifier: ISC */
/*
 * Reading /proc off the event loop. Reading /proc/PID/cmdline takes the
 * target's mmap lock, which a process that forks hard holds for a long
 * time (0.2-0.4 s per read in a fork bomb), so the loop must never do it.
 * The loop submits a list of pids with a tag; one worker thread reads each
 * process's stat and cmdline and posts one result per submission back to
 * the loop, which calls done with it in submission order. The worker never
 * touches libevent (it only writes an eventfd), never logs and never
 * allocates more than the bounds below; everything else, and every call
 * here, happens in the loop thread.
 */
#ifndef SCHEDD_PROCSCAN_H
#define SCHEDD_PROCSCAN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "daemon/procfs.h"
#include "proto/errors.h"

struct event_base;
struct procscan;

/*
 * The bounds. Memory held is at most PROCSCAN_QUEUE_MAX pid lists plus
 * PROCSCAN_DONE_MAX + 1 results (each at most PROCSCAN_PIDS_MAX entries
 * and PROCSCAN_ARGV_BYTES_MAX bytes of argv): about 12 MiB.
 */
#define PROCSCAN_QUEUE_MAX      256     /* submissions not yet delivered */
#define PROCSCAN_PIDS_MAX       4096    /* pids per submission */
#define PROCSCAN_CMDLINE_MAX    4096    /* argv bytes kept per process */
#define PROCSCAN_ARGV_BYTES_MAX 1048576 /* argv bytes per result (1 MiB) */
#define PROCSCAN_DONE_MAX       4       /* results the loop has not taken */
#define PROCSCAN_BUDGET_MS      100     /* cmdline reading per submission */

/* Why a process's cmdline is short or empty (bits of procscan_proc.flags). */
enum procscan_flag {
	/* argv filled PROCSCAN_CMDLINE_MAX bytes; there may be more. */
	PROCSCAN_TRUNCATED = 1 << 0,
	/* Not read this time: the submission's PROCSCAN_BUDGET_MS was spent
	 * or its result's PROCSCAN_ARGV_BYTES_MAX was full. Ask again. */
	PROCSCAN_SKIPPED = 1 << 1,
	/* Reading it failed (not because the process ended): EACCES, ... */
	PROCSCAN_UNREADABLE = 1 << 2,
};

/* One process as the worker found it. */
struct procscan_proc {
	struct proc_stat stat; /* pid, ppid, state, comm, starttime,
				  utime, stime, rss_pages, ... */
	int flags;             /* enum procscan_flag bits */
	const char *cmdline;   /* argv, NUL-separated, lent; never
				  NULL, always NUL-terminated */
	size_t cmdline_len;    /* bytes of argv ("" of a zombie or a
				  kernel thread: 0) */
};

/* One submission's answer; lent to done for the length of the call. */
struct procscan_result {
	int64_t tag;                       /* as submitted */
	int error;                         /* 0, or ENOMEM: nothing was read */
	size_t npids;                      /* pids submitted */
	size_t n;                          /* processes found, n <= npids */
	const struct procscan_proc *procs; /* in the submitted pids' order */
	int64_t scan_us;                   /* time the worker spent on it */
};

/*
 * Start the worker thread (with every signal blocked, so that signals stay
 * with the loop) and watch its eventfd on base. done(arg, r) is called in
 * the loop thread, once per accepted submission, in submission order, at
 * most one per loop turn. Returns the scanner, or NULL with err filled
 * (SERR_INTERNAL: no thread, no eventfd). Free with procscan_free.
 */
struct procscan *procscan_new(struct event_base *base,
    void (*done)(void *arg, const struct procscan_result *r), void *arg,
    struct serr *err);

/*
 * Stop the worker and join it: if it is inside a slow read, that read is
 * finished first (a read of /proc cannot be interrupted), then the rest of
 * its submission is dropped. Pending submissions and undelivered results
 * are freed; done is never called again. Accepts NULL. May be called from
 * done: the memory goes when done returns.
 */
void procscan_free(struct procscan *ps);

/*
 * Queue a scan of n pids (copied; n may be 0) under tag, which the result
 * carries back. A pid that does not exist (any more) when the worker gets
 * to it is absent from the result, as is one whose stat cannot be read or
 * that ends between its stat and cmdline reads. Returns 0, or -1 with
 * errno EAGAIN (PROCSCAN_QUEUE_MAX submissions not yet delivered: retry
 * after a done) or E2BIG (n > PROCSCAN_PIDS_MAX). Never blocks.
 */
int procscan_submit(
    struct procscan *ps, int64_t tag, const pid_t *pids, size_t n);

/* Submissions accepted and not yet delivered. */
size_t procscan_pending(const struct procscan *ps);

/*
 * Read ROOT/PID/{stat,cmdline} instead of /proc/PID/... (tests: a tree
 * with a FIFO for a read that blocks). Only before the first submission.
 * Returns 0, or -1 with errno ENAMETOOLONG.
 */
int procscan_set_root(struct procscan *ps, const char *root);

#endif
