/* SPDX-License-Identifier: ISC */
/*
 * policy: a job's "sched" as struct sched_attr (every field exact), the
 * admission books' arithmetic (RT pool, DEADLINE bandwidth mirrored from
 * the kernel's to_ratio(), claims released and replaced), and the real
 * kernel: a forked child applies each policy and sleeps while the parent
 * reads it back with sched_getattr and sched_getscheduler. Children never
 * spin under RT (a 2-CPU machine); they pause until killed. Cases that need
 * root skip without it, and RT cases skip when our cpu cgroup has no RT
 * budget.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/policy.h"
#include "daemon/supervisor-int.h"
#include "proto/errors.h"
#include "proto/jobspec.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#define FLAG_RESET_ON_FORK 0x01 /* SCHED_FLAG_RESET_ON_FORK */

/* What a child should do around policy_apply. */
#define KID_UNPIN      0x01 /* full affinity first (DEADLINE needs it) */
#define KID_PIN0       0x02 /* pin to CPU 0 first */
#define KID_GRANDCHILD 0x04 /* fork a sleeping grandchild after applying */

struct kid {
	pid_t pid;
	pid_t grandchild; /* -1 if none */
	int err; /* policy_apply's errno in the child, 0 if it worked */
};

struct kid_report {
	int err;
	pid_t grandchild;
};

static struct job_sched
sched_of(enum jobspec_policy policy)
{
	struct job_sched s;

	memset(&s, 0, sizeof(s));
	s.set = 1;
	s.policy = policy;
	return (s);
}

static struct job_sched
sched_deadline(uint64_t runtime_us, uint64_t deadline_us, uint64_t period_us)
{
	struct job_sched s;

	s = sched_of(POLICY_DEADLINE);
	s.runtime_us = runtime_us;
	s.deadline_us = deadline_us;
	s.period_us = period_us;
	return (s);
}

/* What the supervisor hands the books for s (NULL: no policy asked);
 * a few live at once, for calls that take two. */
static const struct policy_attr *
A(const struct job_sched *s)
{
	static struct policy_attr ring[4];
	static unsigned int next;
	struct policy_attr *a = &ring[next++ % 4];

	if (s == NULL || !s->set)
		return (NULL);
	sup_policy_attr(s, a);
	return (a);
}

/* Sleep until killed; die with the parent, and after 60 s at the latest. */
static void __attribute__((noreturn)) kid_sleep(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(60);
	for (;;)
		pause();
}

static int
kid_start(struct kid *k, const struct policy_attr *a, int how)
{
	struct kid_report r;
	cpu_set_t set;
	long i, n;
	int p[2];

	k->pid = -1;
	k->grandchild = -1;
	k->err = 0;
	if (pipe2(p, O_CLOEXEC) == -1)
		return (-1);
	if ((k->pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if (k->pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		r.err = 0;
		r.grandchild = -1;
		CPU_ZERO(&set);
		if (how & KID_UNPIN) {
			n = sysconf(_SC_NPROCESSORS_CONF);
			for (i = 0; i < n && i < CPU_SETSIZE; i++)
				CPU_SET(i, &set);
		} else if (how & KID_PIN0)
			CPU_SET(0, &set);
		if ((how & (KID_UNPIN | KID_PIN0)) &&
		    sched_setaffinity(0, sizeof(set), &set) == -1)
			r.err = errno;
		if (r.err == 0 && policy_apply(a) == -1)
			r.err = errno;
		if (r.err == 0 && (how & KID_GRANDCHILD) &&
		    (r.grandchild = fork()) == 0)
			kid_sleep();
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		close(p[1]);
		kid_sleep();
	}
	close(p[1]);
	if (read(p[0], &r, sizeof(r)) != sizeof(r)) {
		close(p[0]);
		return (-1);
	}
	close(p[0]);
	k->err = r.err;
	k->grandchild = r.grandchild;
	return (0);
}

static void
kid_stop(struct kid *k)
{
	int st;

	if (k->grandchild > 0)
		kill(k->grandchild, SIGKILL);
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		while (waitpid(k->pid, &st, 0) == -1 && errno == EINTR)
			;
	}
	/* Reparented to us (a subreaper) when its parent died. */
	if (k->grandchild > 0)
		while (waitpid(k->grandchild, &st, 0) == -1 && errno == EINTR)
			;
	k->pid = -1;
	k->grandchild = -1;
}

static int
need_root(void)
{
	if (geteuid() == 0)
		return (1);
	print_message("skipped: needs root for RT and DEADLINE policies\n");
	return (0);
}

/* The child for a on the kernel; 0 if the case must be skipped. */
static int
kid_start_or_skip(struct kid *k, const struct policy_attr *a, int how)
{
	assert_int_equal(kid_start(k, a, how), 0);
	if (k->err == EPERM &&
	    (a->sched_policy == SCHED_FIFO || a->sched_policy == SCHED_RR)) {
		print_message("skipped: %s gives EPERM: our cpu cgroup has no "
			      "RT budget (cpu.rt_runtime_us 0)\n",
		    policy_kernel_name(a->sched_policy));
		kid_stop(k);
		return (0);
	}
	if (k->err == EBUSY && a->sched_policy == SCHED_DEADLINE) {
		print_message("skipped: DEADLINE gives EBUSY: the bandwidth is "
			      "in use by others\n");
		kid_stop(k);
		return (0);
	}
	if (k->err != 0)
		print_message("policy_apply(%s) in the child: %s\n",
		    policy_kernel_name(a->sched_policy), strerror(k->err));
	assert_int_equal(k->err, 0);
	return (1);
}

static int64_t
read_sysctl(const char *path)
{
	FILE *f;
	long long v = -2;

	if ((f = fopen(path, "r")) == NULL)
		return (-2);
	if (fscanf(f, "%lld", &v) != 1)
		v = -2;
	fclose(f);
	return ((int64_t)v);
}

/* --- struct sched_attr from a job's sched --- */

static void
sup_policy_attr__null_and_unset__other_nice0(void **state)
{
	struct policy_attr a;
	struct job_sched s;

	(void)state;
	memset(&a, 0xa5, sizeof(a));
	sup_policy_attr(NULL, &a);
	assert_int_equal(sizeof(a), 48);
	assert_int_equal(a.size, 48);
	assert_int_equal(a.sched_policy, SCHED_OTHER);
	assert_int_equal(a.sched_flags, 0);
	assert_int_equal(a.sched_nice, 0);
	assert_int_equal(a.sched_priority, 0);
	assert_int_equal(a.sched_runtime, 0);
	assert_int_equal(a.sched_deadline, 0);
	assert_int_equal(a.sched_period, 0);

	/* Unset wins over whatever the other fields say. */
	s = sched_of(POLICY_FIFO);
	s.set = 0;
	s.priority = 50;
	s.reset_on_fork = 1;
	memset(&a, 0xa5, sizeof(a));
	sup_policy_attr(&s, &a);
	assert_int_equal(a.sched_policy, SCHED_OTHER);
	assert_int_equal(a.sched_priority, 0);
	assert_int_equal(a.sched_flags, 0);
}

static void
sup_policy_attr__other_and_batch__nice(void **state)
{
	struct policy_attr a;
	struct job_sched s;

	(void)state;
	s = sched_of(POLICY_OTHER);
	s.nice = -7;
	s.has_nice = 1;
	sup_policy_attr(&s, &a);
	assert_int_equal(a.size, 48);
	assert_int_equal(a.sched_policy, SCHED_OTHER);
	assert_int_equal(a.sched_nice, -7);
	assert_int_equal(a.sched_priority, 0);
	assert_int_equal(a.sched_flags, 0);
	assert_int_equal(a.sched_runtime, 0);

	s = sched_of(POLICY_BATCH);
	s.nice = 19;
	s.has_nice = 1;
	sup_policy_attr(&s, &a);
	assert_int_equal(a.sched_policy, SCHED_BATCH);
	assert_int_equal(a.sched_nice, 19);
	assert_int_equal(a.sched_priority, 0);

	/* No nice given: 0, whatever the field holds. */
	s = sched_of(POLICY_BATCH);
	s.nice = 5;
	sup_policy_attr(&s, &a);
	assert_int_equal(a.sched_policy, SCHED_BATCH);
	assert_int_equal(a.sched_nice, 0);
}

static void
sup_policy_attr__idle__no_nice_no_priority(void **state)
{
	struct policy_attr a;
	struct job_sched s;

	(void)state;
	s = sched_of(POLICY_IDLE);
	s.nice = 3;
	s.has_nice = 1;
	sup_policy_attr(&s, &a);
	assert_int_equal(a.size, 48);
	assert_int_equal(a.sched_policy, SCHED_IDLE);
	assert_int_equal(a.sched_nice, 0);
	assert_int_equal(a.sched_priority, 0);
	assert_int_equal(a.sched_flags, 0);
}

static void
sup_policy_attr__fifo_and_rr__priority(void **state)
{
	struct policy_attr a;
	struct job_sched s;

	(void)state;
	s = sched_of(POLICY_FIFO);
	s.priority = 99;
	sup_policy_attr(&s, &a);
	assert_int_equal(a.size, 48);
	assert_int_equal(a.sched_policy, SCHED_FIFO);
	assert_int_equal(a.sched_priority, 99);
	assert_int_equal(a.sched_nice, 0);
	assert_int_equal(a.sched_flags, 0);
	assert_int_equal(a.sched_runtime, 0);
	assert_int_equal(a.sched_deadline, 0);
	assert_int_equal(a.sched_period, 0);

	s = sched_of(POLICY_RR);
	s.priority = 1;
	sup_policy_attr(&s, &a);
	assert_int_equal(a.sched_policy, SCHED_RR);
	assert_int_equal(a.sched_priority, 1);
}

static void
sup_policy_attr__deadline__ns(void **state)
{
	struct policy_attr a;
	struct job_sched s;

	(void)state;
	s = sched_deadline(1000, 10000, 4194304);
	sup_policy_attr(&s, &a);
	assert_int_equal(a.size, 48);
	assert_int_equal(a.sched_policy, SCHED_DEADLINE);
	assert_int_equal(a.sched_runtime, 1000000);
	assert_int_equal(a.sched_deadline, 10000000);
	assert_int_equal(a.sched_period, UINT64_C(4194304000));
	assert_int_equal(a.sched_priority, 0);
	assert_int_equal(a.sched_nice, 0);
	assert_int_equal(a.sched_flags, 0);
}

static void
sup_policy_attr__reset_on_fork__flag(void **state)
{
	struct policy_attr a;
	struct job_sched s;
	enum jobspec_policy p;

	(void)state;
	for (p = POLICY_OTHER; p <= POLICY_DEADLINE; p++) {
		s = sched_of(p);
		s.reset_on_fork = 1;
		sup_policy_attr(&s, &a);
		assert_int_equal(a.sched_flags, FLAG_RESET_ON_FORK);
	}
}

static void
policy_kernel_name__all__names_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(policy_kernel_name(0), "other");
	assert_string_equal(policy_kernel_name(1), "fifo");
	assert_string_equal(policy_kernel_name(2), "rr");
	assert_string_equal(policy_kernel_name(3), "batch");
	assert_string_equal(policy_kernel_name(5), "idle");
	assert_string_equal(policy_kernel_name(6), "deadline");
	assert_string_equal(policy_kernel_name(4), "unknown");
	assert_string_equal(policy_kernel_name(7), "unknown");
	assert_string_equal(policy_kernel_name(UINT32_MAX), "unknown");
}

/* --- the books --- */

static void
policy_admit__other_batch_idle__no_claim(void **state)
{
	struct policy_books *b;
	struct job_sched s;
	struct serr err;
	enum jobspec_policy p;
	int64_t rt = -1;

	(void)state;
	b = policy_books_new(1000000, 950000, 100000, 100000);
	for (p = POLICY_OTHER; p <= POLICY_IDLE; p++) {
		s = sched_of(p);
		assert_int_equal(policy_admit(b, 1, A(&s), 0, &rt, &err), 0);
		assert_int_equal(rt, 0);
	}
	assert_int_equal(policy_admit(b, 2, NULL, 1, &rt, &err), 0);
	assert_int_equal(rt, 0);
	assert_int_equal(policy_rt_used(b), 0);
	policy_books_free(b);
	policy_books_free(NULL);
}

static void
policy_admit__rt_pool_exhausted__422_policy_field(void **state)
{
	struct policy_books *b;
	struct job_sched fifo, rr;
	struct serr err;
	int64_t rt;

	(void)state;
	b = policy_books_new(1000000, 950000, 250000, 100000);
	fifo = sched_of(POLICY_FIFO);
	fifo.priority = 10;
	rr = sched_of(POLICY_RR);
	rr.priority = 20;
	assert_int_equal(policy_admit(b, 1, A(&fifo), 2, &rt, &err), 0);
	assert_int_equal(rt, 100000);
	assert_int_equal(policy_admit(b, 2, A(&rr), 2, &rt, &err), 0);
	assert_int_equal(rt, 100000);
	assert_int_equal(policy_rt_used(b), 200000);

	serr_clear(&err);
	rt = -1;
	assert_int_equal(policy_admit(b, 3, A(&fifo), 2, &rt, &err), -1);
	assert_int_equal(rt, 0);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_int_equal(serr_code_status(err.code), 422);
	assert_string_equal(err.field, "sched.policy");
	assert_string_equal(err.message,
	    "RT budget exhausted: 50000 us of 250000 left in the pool (each RT "
	    "job needs 100000 us)");
	assert_int_equal(policy_rt_used(b), 200000);
	policy_books_free(b);
}

static void
policy_release__rt_and_deadline__claims_returned(void **state)
{
	struct policy_books *b;
	struct job_sched fifo, dl;
	struct serr err;
	int64_t rt;

	(void)state;
	b = policy_books_new(1000000, 950000, 100000, 100000);
	fifo = sched_of(POLICY_FIFO);
	fifo.priority = 1;
	dl = sched_deadline(90000, 100000, 100000);
	assert_int_equal(policy_admit(b, 1, A(&fifo), 1, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 2, A(&fifo), 1, &rt, &err), -1);
	assert_int_equal(policy_admit(b, 3, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(rt, 0); /* DEADLINE takes no RT budget */
	assert_int_equal(policy_admit(b, 4, A(&dl), 1, &rt, &err), -1);

	policy_release(b, 1);
	policy_release(b, 3);
	policy_release(b, 3);   /* twice: nothing */
	policy_release(b, 999); /* never admitted: nothing */
	assert_int_equal(policy_rt_used(b), 0);
	assert_int_equal(policy_admit(b, 2, A(&fifo), 1, &rt, &err), 0);
	assert_int_equal(rt, 100000);
	assert_int_equal(policy_admit(b, 4, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_rt_used(b), 100000);
	policy_books_free(b); /* frees live claims (ASan checks) */
}

/*
 * A DEADLINE task that ended: the kernel may hold its bandwidth until its
 * 0-lag time, at most its relative deadline later, so the books do too;
 * policy_dl_wait says how long until what a new job needs is given back.
 * A claim released unused (a plan) and other policies hold nothing.
 */
static void
policy_ended__deadline__held_for_its_deadline(void **state)
{
	struct policy_books *b;
	struct job_sched dl, dl_long, fifo;
	struct serr err;
	int64_t rt;

	(void)state;
	b = policy_books_new(1000000, 950000, 100000, 100000);
	dl = sched_deadline(80000, 100000, 100000);
	dl_long = sched_deadline(160000, 200000, 200000);
	fifo = sched_of(POLICY_FIFO);
	fifo.priority = 1;

	/* One CPU, 95%: the 80% of an ended job is held 100 ms (+1). */
	assert_int_equal(policy_admit(b, 1, A(&dl), 1, &rt, &err), 0);
	policy_ended(b, 1, 1000);
	assert_int_equal(policy_admit(b, 2, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 1, 1000), 101);
	assert_int_equal(policy_dl_wait(b, 1, 1050), 51);
	assert_int_equal(policy_dl_wait(b, 1, 1101), 0);
	assert_int_equal(policy_dl_wait(b, 1, 1000), 0); /* pruned */

	/* Released, not ended (a plan's dry run): nothing is held. */
	policy_release(b, 2);
	assert_int_equal(policy_admit(b, 3, A(&dl), 1, &rt, &err), 0);
	policy_release(b, 3);
	assert_int_equal(policy_admit(b, 4, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 1, 2000), 0);
	policy_release(b, 4);

	/* Ended FIFO and unknown jobs hold no DEADLINE bandwidth. */
	assert_int_equal(policy_admit(b, 5, A(&fifo), 1, &rt, &err), 0);
	policy_ended(b, 5, 3000);
	policy_ended(b, 999, 3000);
	assert_int_equal(policy_admit(b, 6, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 1, 3000), 0);
	assert_int_equal(policy_rt_used(b), 0);
	policy_release(b, 6);

	/* Two CPUs, 190%: two ended 80% jobs held until 4101 and 4251;
	 * a new 80% fits once the first is given back. */
	assert_int_equal(policy_admit(b, 7, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 8, A(&dl_long), 2, &rt, &err), 0);
	policy_ended(b, 7, 4000);
	policy_ended(b, 8, 4050);
	assert_int_equal(policy_admit(b, 9, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 2, 4060), 41);
	/* With a second new one both must go. */
	assert_int_equal(policy_admit(b, 10, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 2, 4060), 191);
	assert_int_equal(policy_dl_wait(b, 2, 4251), 0);
	policy_books_free(b); /* frees what is held (ASan checks) */

	/* sched_rt_runtime_us -1: the kernel admits anything at once. */
	b = policy_books_new(1000000, -1, 0, 0);
	assert_int_equal(policy_admit(b, 1, A(&dl), 1, &rt, &err), 0);
	policy_ended(b, 1, 0);
	assert_int_equal(policy_admit(b, 2, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 1, 0), 0);
	policy_books_free(b);
}

/*
 * After a daemon restart the books are new: a DEADLINE run stored as
 * ended at ended_ms is held for what is left of its deadline; one that
 * ended longer ago, or any other policy, holds nothing.
 */
static void
policy_ended_before__restart__held_for_what_is_left(void **state)
{
	struct policy_books *b;
	struct job_sched dl, fifo;
	struct serr err;
	int64_t rt;

	(void)state;
	b = policy_books_new(1000000, 950000, 100000, 100000);
	dl = sched_deadline(80000, 100000, 100000);
	fifo = sched_of(POLICY_FIFO);

	/* Ended at 1000, books made at 1040: held until 1101. */
	policy_ended_before(b, A(&dl), 1000, 1040);
	assert_int_equal(policy_admit(b, 1, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 1, 1040), 61);
	assert_int_equal(policy_dl_wait(b, 1, 1101), 0);
	policy_release(b, 1);

	/* Ended 101 ms or more before: given back already. */
	policy_ended_before(b, A(&dl), 2000, 2101);
	policy_ended_before(b, A(&fifo), 2100, 2101);
	policy_ended_before(b, NULL, 2100, 2101);
	assert_int_equal(policy_admit(b, 2, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_dl_wait(b, 1, 2101), 0);
	policy_books_free(b);
}

static void
policy_admit__readmit__replaces_claim(void **state)
{
	struct policy_books *b;
	struct job_sched fifo, other, dl, dl2;
	struct serr err;
	int64_t rt;

	(void)state;
	/* A pool of exactly one job: the same job fits again. */
	b = policy_books_new(1000000, 950000, 100000, 100000);
	fifo = sched_of(POLICY_FIFO);
	fifo.priority = 5;
	other = sched_of(POLICY_OTHER);
	assert_int_equal(policy_admit(b, 7, A(&fifo), 1, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 7, A(&fifo), 1, &rt, &err), 0);
	assert_int_equal(rt, 100000);
	assert_int_equal(policy_rt_used(b), 100000);
	/* Re-admitted as SCHED_OTHER: the budget comes back. */
	assert_int_equal(policy_admit(b, 7, A(&other), 1, &rt, &err), 0);
	assert_int_equal(rt, 0);
	assert_int_equal(policy_rt_used(b), 0);
	assert_int_equal(policy_admit(b, 8, A(&fifo), 1, &rt, &err), 0);

	/* DEADLINE: 90% then 50% of one CPU for the same job both fit. */
	dl = sched_deadline(9000, 10000, 10000);
	dl2 = sched_deadline(5000, 10000, 10000);
	assert_int_equal(policy_admit(b, 9, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 9, A(&dl), 1, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 9, A(&dl2), 1, &rt, &err), 0);
	/* ... and 45% more now fits beside its 50%. */
	dl = sched_deadline(4500, 10000, 10000);
	assert_int_equal(policy_admit(b, 10, A(&dl), 1, &rt, &err), 0);
	policy_books_free(b);
}

static void
policy_admit__readmit_refused__keeps_old_claim(void **state)
{
	struct policy_books *b;
	struct job_sched half, big, fifo;
	struct serr err;
	int64_t rt;

	(void)state;
	b = policy_books_new(1000000, 950000, 100000, 100000);
	half = sched_deadline(5000, 10000, 10000);
	big = sched_deadline(9900, 10000, 10000);
	assert_int_equal(policy_admit(b, 1, A(&half), 1, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 1, A(&big), 1, &rt, &err), -1);
	assert_string_equal(err.field, "sched.runtime_us");
	/* The 50% claim is still there: another 50% does not fit. */
	assert_int_equal(policy_admit(b, 2, A(&half), 1, &rt, &err), -1);
	policy_release(b, 1);
	assert_int_equal(policy_admit(b, 2, A(&half), 1, &rt, &err), 0);

	/* RT: a refused re-admission leaves the job's budget in place. */
	fifo = sched_of(POLICY_FIFO);
	fifo.priority = 1;
	assert_int_equal(policy_admit(b, 3, A(&fifo), 1, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 3, A(&big), 1, &rt, &err), -1);
	assert_int_equal(policy_rt_used(b), 100000);
	policy_books_free(b);
}

static void
policy_admit__rt_pool_zero__unlimited(void **state)
{
	struct policy_books *b;
	struct job_sched fifo;
	struct serr err;
	int64_t rt, job;

	(void)state;
	b = policy_books_new(1000000, 950000, 0, 100000);
	fifo = sched_of(POLICY_FIFO);
	fifo.priority = 99;
	for (job = 1; job <= 1000; job++) {
		rt = -1;
		assert_int_equal(
		    policy_admit(b, job, A(&fifo), 1, &rt, &err), 0);
		assert_int_equal(rt, 0);
	}
	assert_int_equal(policy_rt_used(b), 0);
	policy_books_free(b);
}

static void
policy_admit__deadline_over_capacity__422_runtime_field(void **state)
{
	struct policy_books *b;
	struct job_sched dl;
	struct serr err;
	int64_t rt, job;

	(void)state;
	/* One CPU at 95%: nine 10% jobs, not ten. */
	b = policy_books_new(1000000, 950000, 0, 0);
	dl = sched_deadline(1000, 10000, 10000);
	for (job = 1; job <= 9; job++)
		assert_int_equal(policy_admit(b, job, A(&dl), 1, &rt, &err), 0);
	serr_clear(&err);
	assert_int_equal(policy_admit(b, 10, A(&dl), 1, &rt, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "sched.runtime_us");
	assert_string_equal(err.message,
	    "DEADLINE bandwidth exhausted: the job asks 10%, 5% of 95% is "
	    "left on 1 CPU");
	/* A 5% job still fits in what is left. */
	dl = sched_deadline(500, 10000, 10000);
	assert_int_equal(policy_admit(b, 10, A(&dl), 1, &rt, &err), 0);
	policy_books_free(b);
}

static void
policy_admit__deadline_two_cpus__190_percent(void **state)
{
	struct policy_books *b;
	struct job_sched dl;
	struct serr err;
	int64_t rt, job;

	(void)state;
	b = policy_books_new(1000000, 950000, 0, 0);
	dl = sched_deadline(1000, 10000, 10000);
	for (job = 1; job <= 19; job++)
		assert_int_equal(policy_admit(b, job, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 20, A(&dl), 2, &rt, &err), -1);
	assert_string_equal(err.field, "sched.runtime_us");
	assert_string_equal(err.message,
	    "DEADLINE bandwidth exhausted: the job asks 10%, 0% of 190% is "
	    "left on 2 CPUs");
	/* The same books seen from one CPU: already over. */
	assert_int_equal(policy_admit(b, 21, A(&dl), 1, &rt, &err), -1);
	assert_string_equal(err.message,
	    "DEADLINE bandwidth exhausted: the job asks 10%, 0% of 95% is "
	    "left on 1 CPU");
	policy_books_free(b);
}

/*
 * With the fair server's 5% per CPU reserved, the books match what this
 * kernel (6.18) admitted when tried: two 90% tasks on 2 CPUs fit exactly
 * (to_ratio() rounds each down), two 90.1% tasks do not.
 */
static void
policy_admit__deadline_fair_server_reserved__90_percent_per_cpu(void **state)
{
	struct policy_books *b;
	struct job_sched dl;
	struct serr err;
	int64_t rt, job;

	(void)state;
	b = policy_books_new(1000000, 950000, 0, 0);
	policy_books_reserve_dl(b, 50000, 1000000);
	dl = sched_deadline(1000, 10000, 10000);
	for (job = 1; job <= 18; job++)
		assert_int_equal(policy_admit(b, job, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 19, A(&dl), 2, &rt, &err), -1);
	assert_string_equal(err.message,
	    "DEADLINE bandwidth exhausted: the job asks 10%, 0% of 180% is "
	    "left on 2 CPUs (95% per CPU less 5% for the kernel's fair "
	    "server)");
	policy_books_free(b);

	b = policy_books_new(1000000, 950000, 0, 0);
	policy_books_reserve_dl(b, 50000, 1000000);
	dl = sched_deadline(9000, 10000, 10000);
	assert_int_equal(policy_admit(b, 1, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 2, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 3, A(&dl), 2, &rt, &err), -1);
	policy_release(b, 1);
	policy_release(b, 2);
	dl = sched_deadline(9010, 10000, 10000);
	assert_int_equal(policy_admit(b, 1, A(&dl), 2, &rt, &err), 0);
	assert_int_equal(policy_admit(b, 2, A(&dl), 2, &rt, &err), -1);
	/* Reserving nothing again restores 95% per CPU. */
	policy_books_reserve_dl(b, 0, 0);
	assert_int_equal(policy_admit(b, 2, A(&dl), 2, &rt, &err), 0);
	policy_books_free(b);
}

static void
policy_admit__deadline_no_cpus__422_cpus_field(void **state)
{
	struct policy_books *b;
	struct job_sched dl, fifo;
	struct serr err;
	int64_t rt;

	(void)state;
	b = policy_books_new(1000000, 950000, 0, 0);
	dl = sched_deadline(1000, 10000, 10000);
	assert_int_equal(policy_admit(b, 1, A(&dl), 0, &rt, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "cpus");
	assert_int_equal(policy_admit(b, 1, A(&dl), -1, &rt, &err), -1);
	assert_string_equal(err.field, "cpus");
	/* Other policies do not care how many CPUs there are. */
	fifo = sched_of(POLICY_FIFO);
	fifo.priority = 1;
	assert_int_equal(policy_admit(b, 2, A(&fifo), 0, &rt, &err), 0);
	policy_books_free(b);
}

static void
policy_admit__deadline_rt_runtime_unlimited__always(void **state)
{
	struct policy_books *b;
	struct job_sched dl;
	struct serr err;
	int64_t rt, job;

	(void)state;
	/* sched_rt_runtime_us -1: the kernel does no DEADLINE admission. */
	b = policy_books_new(1000000, -1, 0, 0);
	dl = sched_deadline(9000, 10000, 10000);
	for (job = 1; job <= 100; job++)
		assert_int_equal(policy_admit(b, job, A(&dl), 1, &rt, &err), 0);
	policy_books_free(b);
}

static void
policy_dl_server_probe__this_kernel__sane(void **state)
{
	int64_t rt = -1, per = -1;
	int from_debugfs;

	(void)state;
	from_debugfs = policy_dl_server_probe(&rt, &per);
	print_message("fair server: %" PRId64 " us every %" PRId64 " us (%s)\n",
	    rt, per, from_debugfs ? "debugfs" : "assumed from the release");
	assert_true(from_debugfs == 0 || from_debugfs == 1);
	assert_true(rt >= 0 && per >= 0);
	assert_true(rt <= per);
	if (from_debugfs)
		assert_true(per > 0);
}

/* --- the kernel --- */

static void
policy_apply__batch_nice5__kernel_reads_back(void **state)
{
	struct policy_attr a, got;
	struct job_sched s;
	struct kid k;

	(void)state;
	s = sched_of(POLICY_BATCH);
	s.nice = 5;
	s.has_nice = 1;
	sup_policy_attr(&s, &a);
	assert_int_equal(kid_start_or_skip(&k, &a, 0), 1);
	memset(&got, 0xa5, sizeof(got));
	assert_int_equal(policy_get(k.pid, &got), 0);
	assert_int_equal(got.size, 48);
	assert_int_equal(got.sched_policy, SCHED_BATCH);
	assert_int_equal(got.sched_nice, 5);
	assert_int_equal(got.sched_priority, 0);
	assert_int_equal(got.sched_flags, 0);
	assert_int_equal(sched_getscheduler(k.pid), SCHED_BATCH);
	errno = 0;
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)k.pid), 5);
	kid_stop(&k);
}

static void
policy_apply__idle__kernel_reads_back(void **state)
{
	struct policy_attr a, got;
	struct job_sched s;
	struct kid k;

	(void)state;
	s = sched_of(POLICY_IDLE);
	sup_policy_attr(&s, &a);
	assert_int_equal(kid_start_or_skip(&k, &a, 0), 1);
	assert_int_equal(policy_get(k.pid, &got), 0);
	assert_int_equal(got.sched_policy, SCHED_IDLE);
	assert_int_equal(got.sched_priority, 0);
	assert_int_equal(got.sched_flags, 0);
	assert_int_equal(sched_getscheduler(k.pid), SCHED_IDLE);
	kid_stop(&k);
}

static void
policy_apply__fifo_prio10__kernel_reads_back(void **state)
{
	struct policy_attr a, got;
	struct sched_param sp;
	struct job_sched s;
	struct kid k;

	(void)state;
	if (!need_root())
		skip();
	s = sched_of(POLICY_FIFO);
	s.priority = 10;
	sup_policy_attr(&s, &a);
	if (!kid_start_or_skip(&k, &a, 0))
		skip();
	assert_int_equal(policy_get(k.pid, &got), 0);
	assert_int_equal(got.sched_policy, SCHED_FIFO);
	assert_int_equal(got.sched_priority, 10);
	assert_int_equal(got.sched_flags, 0);
	assert_int_equal(sched_getscheduler(k.pid), SCHED_FIFO);
	assert_int_equal(sched_getparam(k.pid, &sp), 0);
	assert_int_equal(sp.sched_priority, 10);
	kid_stop(&k);
}

static void
policy_apply__rr_prio20__kernel_reads_back(void **state)
{
	struct policy_attr a, got;
	struct sched_param sp;
	struct job_sched s;
	struct kid k;

	(void)state;
	if (!need_root())
		skip();
	s = sched_of(POLICY_RR);
	s.priority = 20;
	sup_policy_attr(&s, &a);
	if (!kid_start_or_skip(&k, &a, 0))
		skip();
	assert_int_equal(policy_get(k.pid, &got), 0);
	assert_int_equal(got.sched_policy, SCHED_RR);
	assert_int_equal(got.sched_priority, 20);
	assert_int_equal(sched_getscheduler(k.pid), SCHED_RR);
	assert_int_equal(sched_getparam(k.pid, &sp), 0);
	assert_int_equal(sp.sched_priority, 20);
	kid_stop(&k);
}

static void
policy_apply__fifo_reset_on_fork__grandchild_is_other(void **state)
{
	struct policy_attr a, got;
	struct job_sched s;
	struct kid k;

	(void)state;
	if (!need_root())
		skip();
	s = sched_of(POLICY_FIFO);
	s.priority = 10;
	s.reset_on_fork = 1;
	sup_policy_attr(&s, &a);
	if (!kid_start_or_skip(&k, &a, KID_GRANDCHILD))
		skip();
	assert_true(k.grandchild > 0);
	assert_int_equal(policy_get(k.pid, &got), 0);
	assert_int_equal(got.sched_policy, SCHED_FIFO);
	assert_int_equal(got.sched_priority, 10);
	assert_int_equal(got.sched_flags, FLAG_RESET_ON_FORK);
	assert_int_equal(
	    sched_getscheduler(k.pid), SCHED_FIFO | SCHED_RESET_ON_FORK);
	assert_int_equal(policy_get(k.grandchild, &got), 0);
	assert_int_equal(got.sched_policy, SCHED_OTHER);
	assert_int_equal(got.sched_priority, 0);
	assert_int_equal(got.sched_flags, 0);
	assert_int_equal(sched_getscheduler(k.grandchild), SCHED_OTHER);
	kid_stop(&k);
}

static void
policy_apply__deadline_1ms_10ms__kernel_reads_back(void **state)
{
	struct policy_attr a, got;
	struct job_sched s;
	struct kid k;

	(void)state;
	if (!need_root())
		skip();
	s = sched_deadline(1000, 10000, 10000);
	sup_policy_attr(&s, &a);
	if (!kid_start_or_skip(&k, &a, KID_UNPIN))
		skip();
	assert_int_equal(policy_get(k.pid, &got), 0);
	assert_int_equal(got.size, 48);
	assert_int_equal(got.sched_policy, SCHED_DEADLINE);
	assert_int_equal(got.sched_runtime, 1000000);
	assert_int_equal(got.sched_deadline, 10000000);
	assert_int_equal(got.sched_period, 10000000);
	assert_int_equal(got.sched_priority, 0);
	assert_int_equal(got.sched_flags, 0);
	assert_int_equal(sched_getscheduler(k.pid), SCHED_DEADLINE);
	kid_stop(&k);
}

/* BASELINE: DEADLINE on a task pinned below its root domain is EPERM. */
static void
policy_apply__deadline_pinned__eperm(void **state)
{
	struct policy_attr a;
	struct job_sched s;
	struct kid k;

	(void)state;
	if (!need_root())
		skip();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		print_message("skipped: one CPU cannot be a strict subset\n");
		skip();
	}
	s = sched_deadline(1000, 10000, 10000);
	sup_policy_attr(&s, &a);
	assert_int_equal(kid_start(&k, &a, KID_PIN0), 0);
	assert_int_equal(k.err, EPERM);
	assert_int_equal(sched_getscheduler(k.pid), SCHED_OTHER);
	kid_stop(&k);
}

static void
policy_apply__deadline_runtime_over_deadline__einval(void **state)
{
	struct policy_attr a;
	struct job_sched s;
	struct kid k;

	(void)state;
	/* Bypasses jobspec's validation: the kernel has the last word. */
	s = sched_deadline(2000, 1000, 10000);
	sup_policy_attr(&s, &a);
	assert_int_equal(kid_start(&k, &a, KID_UNPIN), 0);
	assert_int_equal(k.err, EINVAL);
	assert_int_equal(sched_getscheduler(k.pid), SCHED_OTHER);
	kid_stop(&k);
}

static void
policy_get__reaped_pid__esrch(void **state)
{
	struct policy_attr got;
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	errno = 0;
	assert_int_equal(policy_get(pid, &got), -1);
	assert_int_equal(errno, ESRCH);
}

/* Tasks outside our children running SCHED_DEADLINE right now. */
static int
count_other_deadline_tasks(void)
{
	DIR *procd, *taskd;
	struct dirent *pe, *te;
	char path[64];
	pid_t tid;
	int n = 0, pol;

	if ((procd = opendir("/proc")) == NULL)
		return (0);
	while ((pe = readdir(procd)) != NULL) {
		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task",
		    strtol(pe->d_name, NULL, 10));
		if ((taskd = opendir(path)) == NULL)
			continue;
		while ((te = readdir(taskd)) != NULL) {
			if (te->d_name[0] < '1' || te->d_name[0] > '9')
				continue;
			tid = (pid_t)strtol(te->d_name, NULL, 10);
			pol = sched_getscheduler(tid);
			if (pol != -1 &&
			    (pol & ~SCHED_RESET_ON_FORK) == SCHED_DEADLINE)
				n++;
		}
		closedir(taskd);
	}
	closedir(procd);
	return (n);
}

/*
 * Start 10% DEADLINE children until the kernel says no. Returns how many
 * it took and the errno that stopped it.
 */
static int
kernel_deadline_count(int max, int *err_last)
{
	struct policy_attr a;
	struct job_sched s;
	struct kid kids[64];
	int i, n;

	s = sched_deadline(1000, 10000, 10000);
	sup_policy_attr(&s, &a);
	*err_last = 0;
	for (n = 0; n < max && n < 64; n++) {
		assert_int_equal(kid_start(&kids[n], &a, KID_UNPIN), 0);
		if ((*err_last = kids[n].err) != 0) {
			kid_stop(&kids[n]);
			break;
		}
	}
	for (i = 0; i < n; i++)
		kid_stop(&kids[i]);
	return (n);
}

/*
 * The books never admit more 10% DEADLINE tasks than the kernel takes on
 * this machine. Seen on 6.18: with the fair server counted the kernel
 * takes exactly as many as the books (18 on 2 CPUs), but a root-domain
 * rebuild (any cpuset.cpus write on cgroup v1, from anyone) sometimes
 * leaves the fair server out of the kernel's sum until the next rebuild,
 * and then it takes more (19). The kernel's count is machine-wide, so one
 * lower than the books is retried, and is a skip while others run
 * DEADLINE tasks.
 */
static void
policy_admit__deadline_books__never_above_kernel(void **state)
{
	struct policy_books *b;
	struct job_sched s;
	struct serr err;
	int64_t rt, rsv_rt, rsv_per, period, runtime;
	int try, nbooks, nkernel = 0, ncpus, err_last = 0, others = 0;

	(void)state;
	if (!need_root())
		skip();
	period = read_sysctl("/proc/sys/kernel/sched_rt_period_us");
	runtime = read_sysctl("/proc/sys/kernel/sched_rt_runtime_us");
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	assert_true(period > 0);
	if (runtime < 0) {
		print_message("skipped: sched_rt_runtime_us %" PRId64
			      ": no DEADLINE admission\n",
		    runtime);
		skip();
	}
	b = policy_books_new(period, runtime, 0, 0);
	policy_dl_server_probe(&rsv_rt, &rsv_per);
	policy_books_reserve_dl(b, rsv_rt, rsv_per);
	s = sched_deadline(1000, 10000, 10000);
	for (nbooks = 0; nbooks < 60; nbooks++)
		if (policy_admit(b, nbooks + 1, A(&s), ncpus, &rt, &err) == -1)
			break;
	policy_books_free(b);
	assert_true(nbooks < 60);

	for (try = 0; try < 5; try++) {
		/* Tasks killed just before free their bandwidth at 0-lag. */
		usleep(try == 0 ? 100000 : 500000);
		others += count_other_deadline_tasks();
		nkernel = kernel_deadline_count(nbooks + ncpus + 2, &err_last);
		print_message("10%% DEADLINE tasks on %d CPUs: books %d, "
			      "kernel %d (then %s)\n",
		    ncpus, nbooks, nkernel, strerror(err_last));
		if (nkernel == 0 && err_last == EPERM) {
			print_message("skipped: DEADLINE gives EPERM here\n");
			skip();
		}
		if (nkernel >= nbooks && err_last == EBUSY)
			return;
	}
	if (others > 0) {
		print_message(
		    "skipped: %d DEADLINE tasks of others seen\n", others);
		skip();
	}
	assert_int_equal(err_last, EBUSY);
	assert_true(nkernel >= nbooks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sup_policy_attr__null_and_unset__other_nice0),
	    cmocka_unit_test(sup_policy_attr__other_and_batch__nice),
	    cmocka_unit_test(sup_policy_attr__idle__no_nice_no_priority),
	    cmocka_unit_test(sup_policy_attr__fifo_and_rr__priority),
	    cmocka_unit_test(sup_policy_attr__deadline__ns),
	    cmocka_unit_test(sup_policy_attr__reset_on_fork__flag),
	    cmocka_unit_test(policy_kernel_name__all__names_and_unknown),
	    cmocka_unit_test(policy_admit__other_batch_idle__no_claim),
	    cmocka_unit_test(policy_admit__rt_pool_exhausted__422_policy_field),
	    cmocka_unit_test(policy_release__rt_and_deadline__claims_returned),
	    cmocka_unit_test(policy_ended__deadline__held_for_its_deadline),
	    cmocka_unit_test(
		policy_ended_before__restart__held_for_what_is_left),
	    cmocka_unit_test(policy_admit__readmit__replaces_claim),
	    cmocka_unit_test(policy_admit__readmit_refused__keeps_old_claim),
	    cmocka_unit_test(policy_admit__rt_pool_zero__unlimited),
	    cmocka_unit_test(
		policy_admit__deadline_over_capacity__422_runtime_field),
	    cmocka_unit_test(policy_admit__deadline_two_cpus__190_percent),
	    cmocka_unit_test(
		policy_admit__deadline_fair_server_reserved__90_percent_per_cpu),
	    cmocka_unit_test(policy_admit__deadline_no_cpus__422_cpus_field),
	    cmocka_unit_test(
		policy_admit__deadline_rt_runtime_unlimited__always),
	    cmocka_unit_test(policy_dl_server_probe__this_kernel__sane),
	    cmocka_unit_test(policy_apply__batch_nice5__kernel_reads_back),
	    cmocka_unit_test(policy_apply__idle__kernel_reads_back),
	    cmocka_unit_test(policy_apply__fifo_prio10__kernel_reads_back),
	    cmocka_unit_test(policy_apply__rr_prio20__kernel_reads_back),
	    cmocka_unit_test(
		policy_apply__fifo_reset_on_fork__grandchild_is_other),
	    cmocka_unit_test(
		policy_apply__deadline_1ms_10ms__kernel_reads_back),
	    cmocka_unit_test(policy_apply__deadline_pinned__eperm),
	    cmocka_unit_test(
		policy_apply__deadline_runtime_over_deadline__einval),
	    cmocka_unit_test(policy_get__reaped_pid__esrch),
	    cmocka_unit_test(policy_admit__deadline_books__never_above_kernel),
	};

	/* Orphaned grandchildren come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
