/* SPDX-License-Identifier: ISC */
/*
 * Scheduling policies, on the kernel's struct sched_attr, which the
 * supervisor makes from a job's "sched" (sup_policy_attr): this module
 * knows no job spec. policy_apply() is the one async-signal-safe call the
 * child makes before execve (raw sched_setattr(2): glibc has no wrapper).
 * Admission keeps the books so that what the kernel would refuse later is
 * refused now with a reason: the RT budget pool handed to RT jobs' cpu cgroups
 * (where the kernel has RT group scheduling) and SCHED_DEADLINE bandwidth
 * against the CPUs a job may run on.
 */
#ifndef SCHEDD_POLICY_H
#define SCHEDD_POLICY_H

#include <sys/types.h>

#include <sched.h>
#include <stdint.h>

#include "proto/errors.h"

/* The kernel's, where libc's headers lack them. */
#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK 0x01
#endif

/*
 * The kernel's struct sched_attr (uapi/linux/sched/types.h) as first
 * published: SCHED_ATTR_SIZE_VER0, 48 bytes, without util_min/util_max.
 */
struct policy_attr {
	uint32_t	size;
	uint32_t	sched_policy;
	uint64_t	sched_flags;
	int32_t		sched_nice;
	uint32_t	sched_priority;
	uint64_t	sched_runtime;	/* ns */
	uint64_t	sched_deadline;	/* ns */
	uint64_t	sched_period;	/* ns */
};

/* sched_setattr(0, a, 0) in the child. Returns 0 or -1 with errno. */
int policy_apply(const struct policy_attr *a);
/* Read back a process's attributes (sched_getattr) for tests and the
 * process tree. Returns 0 or -1 with errno. */
int policy_get(pid_t pid, struct policy_attr *a);
/* Put a thread of a job back on its policy (sched_setattr(tid, a)), for
 * on_drift "restore". Returns 0 or -1 with errno. */
int policy_set(pid_t tid, const struct policy_attr *a);
/* "fifo" etc. for a kernel policy number; "unknown" otherwise. */
const char *policy_kernel_name(uint32_t policy);

/*
 * Admission books. rt_period_us and rt_runtime_us are the kernel's global
 * limits (/proc/sys/kernel/sched_rt_*), rt_pool_us the part of the
 * daemon's cpu cgroup budget it may hand out to RT jobs (0: no RT group
 * scheduling, RT jobs need no budget), rt_job_us what each RT job's
 * cgroup gets.
 */
struct policy_books;

struct policy_books *policy_books_new(int64_t rt_period_us,
    int64_t rt_runtime_us, int64_t rt_pool_us, int64_t rt_job_us);
void policy_books_free(struct policy_books *b);

/*
 * DEADLINE bandwidth the kernel itself holds on every CPU, runtime_us every
 * period_us, taken off each CPU's capacity. Since Linux 6.12 the fair
 * server (50 ms every 1 s per CPU by default) is in the same admission sum
 * as DEADLINE tasks, so without this the books admit 95% per CPU where the
 * kernel admits 90% and answers EBUSY. Default: none.
 */
void policy_books_reserve_dl(struct policy_books *b, int64_t runtime_us,
    int64_t period_us);
/*
 * The fair server's reservation on this kernel, for policy_books_reserve_dl:
 * read from debugfs (sched/fair_server/cpu0) when it is mounted, else the
 * running kernel's default (50000 us every 1000000 us from 6.12 on, 0 and
 * 0 before). Returns 1 if read from debugfs, 0 if assumed.
 */
int policy_dl_server_probe(int64_t *runtime_us, int64_t *period_us);

/*
 * Admit job with attributes a (NULL: the job asks for no policy, and
 * claims nothing) running on ncpus CPUs: FIFO/RR take rt_job_us from
 * the pool (422 "RT budget exhausted: N us of M left" when it would
 * exceed it); DEADLINE adds runtime/period and must stay within
 * rt_runtime/rt_period x ncpus summed over admitted DEADLINE jobs (422
 * naming "sched.runtime_us" with what is left). Other policies: always 0.
 * Admitting an already admitted job replaces its old claim, which is not
 * counted against the new one; a refused re-admission keeps the old claim.
 * ncpus <= 0 for DEADLINE: 422 naming "cpus". *rt_us gets the job's RT
 * budget (0 if none).
 */
int policy_admit(struct policy_books *b, int64_t job,
    const struct policy_attr *a, int ncpus, int64_t *rt_us, struct serr *err);
void policy_release(struct policy_books *b, int64_t job);
/*
 * The job's run ended at now_ms (its processes are reaped): its claim is
 * released, but DEADLINE bandwidth stays held, as the kernel holds it,
 * until the task's 0-lag time, which is at most its relative deadline
 * after it died.
 */
void policy_ended(struct policy_books *b, int64_t job, int64_t now_ms);
/*
 * The same for a run that ended at ended_ms, before the books were made
 * (a daemon restart): a's DEADLINE bandwidth is held until the kernel
 * gives it back, if that is after now_ms (a NULL a: nothing).
 */
void policy_ended_before(struct policy_books *b, const struct policy_attr *a,
    int64_t ended_ms, int64_t now_ms);
/*
 * After policy_admit of a DEADLINE job on ncpus CPUs: 0 if the kernel
 * will take it now, else how many ms until the bandwidth of ended tasks
 * it still holds is given back far enough that it will.
 */
int64_t policy_dl_wait(struct policy_books *b, int ncpus, int64_t now_ms);
/* RT budget handed out now (for the subtree's cpu.rt_runtime_us). */
int64_t policy_rt_used(const struct policy_books *b);

/* The books' figures now, for a plan (DEADLINE bandwidth in parts per
 * million of one CPU). */
struct policy_figures {
	int64_t		 rt_pool_us;	/* 0: RT jobs need no budget */
	int64_t		 rt_used_us;
	int64_t		 rt_job_us;
	int64_t		 dl_used_ppm;	/* summed over admitted jobs */
	int64_t		 dl_cpu_ppm;	/* one CPU's capacity, less the
					   kernel's own reservation */
	int		 dl_unlimited;	/* sched_rt_runtime_us is -1 */
};
void policy_figures(const struct policy_books *b, struct policy_figures *f);

#endif
