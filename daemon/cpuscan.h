/* SPDX-License-Identifier: ISC */
/*
 * The CPU drift scanner: one worker thread that walks every task of the
 * machine (/proc/PID/task/TID) and reports the ones that matter for CPUs
 * granted exclusively: tasks of the jobs being checked (all their threads,
 * with affinity and policy), and tasks outside them that are allowed on,
 * or were seen on, a watched CPU. Walking /proc means thousands of small
 * reads, and reading a task's stat can wait on its memory lock, so the loop
 * never does it: it submits one request at a time and gets the result back
 * through an eventfd, in the loop, as procscan does. The worker only reads:
 * it never changes a task (sched_getaffinity(2) and /proc reads), never
 * calls libevent, the logger or xmalloc, and allocates within the bounds
 * below.
 */
#ifndef SCHEDD_CPUSCAN_H
#define SCHEDD_CPUSCAN_H

#include <sys/types.h>

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/errors.h"

struct event_base;
struct cpuscan;

#define CPUSCAN_TASKS_MAX   4096  /* tasks reported per scan */
#define CPUSCAN_MEMBERS_MAX 65536 /* member pids per request */

/* Why a task is in a result. */
enum cpuscan_kind {
	CPUSCAN_MEMBER = 0, /* a thread of a member pid (a job's) */
	CPUSCAN_PINNED,     /* user task allowed only on watched CPUs */
	CPUSCAN_MOVED,      /* user task whose affinity was narrowed from
			       the online CPUs and still holds a watched
			       one: someone placed it there */
	CPUSCAN_RAN,        /* user task allowed everywhere, found running
			       (state R) on a watched CPU */
	CPUSCAN_KERNEL,     /* kernel thread bound to watched CPUs (per-CPU
			       threads: ksoftirqd, migration, kworker/N) */
};

struct cpuscan_task {
	pid_t tid;
	pid_t tgid;
	char comm[32];
	char state; /* the kernel's letter */
	int cpu;    /* last CPU it ran on */
	enum cpuscan_kind kind;
	uint32_t policy; /* SCHED_* */
	unsigned int rt_priority;
	int nice;
	uint64_t starttime; /* ticks after boot: (tid, starttime) is it */
	cpu_set_t allowed;  /* its affinity */
};

struct cpuscan_result {
	int error;     /* 0, or errno: nothing was read */
	size_t ntasks; /* tasks looked at */
	size_t n;      /* tasks reported (<= MAX) */
	int truncated; /* more matched than CPUSCAN_TASKS_MAX */
	const struct cpuscan_task *tasks; /* lent to done for the call */
	int64_t scan_us;                  /* the worker's time */
};

/*
 * Start the worker (every signal blocked in it) and watch its eventfd on
 * base; done(arg, r) runs in the loop thread once per accepted request.
 * Returns NULL with err (SERR_INTERNAL) when no thread or eventfd.
 */
struct cpuscan *cpuscan_new(struct event_base *base,
    void (*done)(void *arg, const struct cpuscan_result *r), void *arg,
    struct serr *err);
/* Stop and join the worker (a read under way finishes first); done is
 * never called again. Accepts NULL. Not from done. */
void cpuscan_free(struct cpuscan *cs);
/*
 * Ask for a scan: watch is the CPUs to guard, members (copied, any order)
 * the processes whose threads are reported as CPUSCAN_MEMBER (and never as
 * intruders), online the machine's online CPUs (a user task allowed on
 * all of them has not been placed by anyone). Returns 0, or -1 with errno
 * EBUSY (a scan is under way) or E2BIG (too many members).
 */
int cpuscan_submit(struct cpuscan *cs, const cpu_set_t *watch,
    const cpu_set_t *online, const pid_t *members, size_t nmembers);
/* 1 while a request is under way. */
int cpuscan_busy(const struct cpuscan *cs);

/* Parse a /proc/PID/task/TID/stat text into t (tid, comm, state, cpu,
 * policy, rt_priority, nice, starttime) and *kthread (PF_KTHREAD). For
 * tests. Returns 0 or -1. */
int cpuscan_parse_stat(const char *buf, struct cpuscan_task *t, int *kthread);

#endif
