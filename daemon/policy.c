/* SPDX-License-Identifier: ISC */
/*
 * Scheduling policies: the raw sched_setattr/sched_getattr calls on the
 * kernel's struct sched_attr (the supervisor makes it from a job's
 * "sched"), and the admission books (RT
 * budget handed to RT jobs' cgroups, SCHED_DEADLINE bandwidth). The books
 * mirror the kernel's own arithmetic (to_ratio() with BW_SHIFT 20, less the
 * fair server's per-CPU share) so that what they admit the kernel admits
 * too. policy_apply() runs in a child
 * between vfork-style clone and execve: it must stay async-signal-safe and
 * never allocate, log or touch the books.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/policy.h"
#include "daemon/xmalloc.h"
#include "proto/errors.h"
#include "proto/util.h"

/* The first published struct sched_attr; ours has no util_min/util_max. */
#define POLICY_ATTR_SIZE_VER0 48

_Static_assert(sizeof(struct policy_attr) == POLICY_ATTR_SIZE_VER0,
    "struct policy_attr must match SCHED_ATTR_SIZE_VER0");

/* The fair server's debugfs files (ns) and its default since Linux 6.12. */
#define POLICY_FAIR_SERVER_DIR        "/sys/kernel/debug/sched/fair_server/cpu0"
#define POLICY_FAIR_SERVER_RUNTIME_US 50000
#define POLICY_FAIR_SERVER_PERIOD_US  1000000

/* The kernel's fixed-point unit for bandwidth (kernel/sched/sched.h). */
#define POLICY_BW_SHIFT 20
#define POLICY_BW_UNIT  ((uint64_t)1 << POLICY_BW_SHIFT)

/* One job's claim on the books. */
struct policy_claim {
	int64_t job;
	int64_t rt_us;  /* RT budget handed to its cgroup */
	uint64_t dl_bw; /* DEADLINE bandwidth, BW_UNIT = one CPU */
	int64_t dl_deadline_us;
	LIST_ENTRY(policy_claim) entry;
};

/*
 * The DEADLINE bandwidth of a task that ended. The kernel gives it back
 * at the task's 0-lag time, which can be up to its relative deadline
 * after it died (kernel/sched/deadline.c, inactive_task_timer); until
 * then sched_setattr answers EBUSY for what the books would admit.
 */
struct policy_settling {
	uint64_t dl_bw;
	int64_t until_ms;
	LIST_ENTRY(policy_settling) entry;
};

struct policy_books {
	int64_t rt_pool_us;      /* 0: RT jobs need no budget */
	int64_t rt_job_us;       /* each RT job's budget */
	int dl_unlimited;        /* sched_rt_runtime_us is -1 */
	uint64_t dl_cpu_bw;      /* DEADLINE capacity of one CPU */
	uint64_t dl_reserved_bw; /* held by the kernel on each CPU */
	int64_t rt_used_us;      /* sum of claims' rt_us */
	uint64_t dl_used_bw;     /* sum of claims' dl_bw */
	LIST_HEAD(, policy_claim) claims;
	LIST_HEAD(, policy_settling) settling;
};

/* Async-signal-safe: one raw syscall, errno left as the kernel set it. */
int
policy_apply(const struct policy_attr *a)
{
	return (syscall(SYS_sched_setattr, 0, a, 0) == -1 ? -1 : 0);
}

int
policy_get(pid_t pid, struct policy_attr *a)
{
	return (
	    syscall(SYS_sched_getattr, pid, a, sizeof(*a), 0) == -1 ? -1 : 0);
}

int
policy_set(pid_t tid, const struct policy_attr *a)
{
	return (syscall(SYS_sched_setattr, tid, a, 0) == -1 ? -1 : 0);
}

const char *
policy_kernel_name(uint32_t policy)
{
	switch (policy) {
	case SCHED_OTHER:
		return ("other");
	case SCHED_FIFO:
		return ("fifo");
	case SCHED_RR:
		return ("rr");
	case SCHED_BATCH:
		return ("batch");
	case SCHED_IDLE:
		return ("idle");
	case SCHED_DEADLINE:
		return ("deadline");
	}
	return ("unknown");
}

/* The kernel's to_ratio(): runtime/period in BW_UNITs, rounded down. */
static uint64_t
policy_to_ratio(uint64_t period, uint64_t runtime)
{
	if (period == 0)
		return (0);
	return ((runtime << POLICY_BW_SHIFT) / period);
}

/* A bandwidth as a percentage of one CPU, "10%" or "12.5%" (rounded). */
static const char *
policy_bw_pct(uint64_t bw, char *buf, size_t len)
{
	uint64_t hundredths;

	hundredths = (bw * 10000 + POLICY_BW_UNIT / 2) >> POLICY_BW_SHIFT;
	if (hundredths % 100 == 0)
		snprintf(buf, len, "%" PRIu64 "%%", hundredths / 100);
	else if (hundredths % 10 == 0)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%%",
		    hundredths / 100, hundredths % 100 / 10);
	else
		snprintf(buf, len, "%" PRIu64 ".%02" PRIu64 "%%",
		    hundredths / 100, hundredths % 100);
	return (buf);
}

struct policy_books *
policy_books_new(int64_t rt_period_us, int64_t rt_runtime_us,
    int64_t rt_pool_us, int64_t rt_job_us)
{
	struct policy_books *b;

	b = xcalloc(1, sizeof(*b));
	b->rt_pool_us = rt_pool_us > 0 ? rt_pool_us : 0;
	b->rt_job_us = rt_job_us > 0 ? rt_job_us : 0;
	/* sched_rt_runtime_us -1: the kernel admits any DEADLINE task. */
	b->dl_unlimited = rt_runtime_us < 0;
	if (!b->dl_unlimited && rt_period_us > 0)
		b->dl_cpu_bw = policy_to_ratio((uint64_t)rt_period_us * 1000,
		    (uint64_t)rt_runtime_us * 1000);
	LIST_INIT(&b->claims);
	LIST_INIT(&b->settling);
	return (b);
}

void
policy_books_free(struct policy_books *b)
{
	struct policy_claim *c;
	struct policy_settling *t;

	if (b == NULL)
		return;
	while ((c = LIST_FIRST(&b->claims)) != NULL) {
		LIST_REMOVE(c, entry);
		free(c);
	}
	while ((t = LIST_FIRST(&b->settling)) != NULL) {
		LIST_REMOVE(t, entry);
		free(t);
	}
	free(b);
}

void
policy_books_reserve_dl(
    struct policy_books *b, int64_t runtime_us, int64_t period_us)
{
	b->dl_reserved_bw = 0;
	if (runtime_us > 0 && period_us > 0)
		b->dl_reserved_bw = policy_to_ratio(
		    (uint64_t)period_us * 1000, (uint64_t)runtime_us * 1000);
}

/* One debugfs value in ns, as us; -1 if unreadable. */
static int64_t
policy_read_ns_as_us(const char *path)
{
	char buf[32];
	const char *errstr;
	ssize_t n;
	long long v;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	saved = errno;
	close(fd);
	errno = saved;
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	v = util_strtonum(buf, 0, INT64_MAX, &errstr);
	if (errstr != NULL)
		return (-1);
	return ((int64_t)(v / 1000));
}

int
policy_dl_server_probe(int64_t *runtime_us, int64_t *period_us)
{
	struct utsname u;
	int64_t rt, per;
	int major = 0, minor = 0;

	rt = policy_read_ns_as_us(POLICY_FAIR_SERVER_DIR "/runtime");
	per = policy_read_ns_as_us(POLICY_FAIR_SERVER_DIR "/period");
	if (rt >= 0 && per > 0) {
		*runtime_us = rt;
		*period_us = per;
		return (1);
	}
	/* debugfs is not mounted: the fair server came with 6.12. */
	*runtime_us = 0;
	*period_us = 0;
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major > 6 || (major == 6 && minor >= 12))) {
		*runtime_us = POLICY_FAIR_SERVER_RUNTIME_US;
		*period_us = POLICY_FAIR_SERVER_PERIOD_US;
	}
	return (0);
}

static struct policy_claim *
policy_claim_find(const struct policy_books *b, int64_t job)
{
	struct policy_claim *c;

	LIST_FOREACH (c, &b->claims, entry) {
		if (c->job == job)
			return (c);
	}
	return (NULL);
}

int
policy_admit(struct policy_books *b, int64_t job, const struct policy_attr *a,
    int ncpus, int64_t *rt_us, struct serr *err)
{
	struct policy_claim *old, *c;
	int64_t rt = 0, rt_free;
	uint64_t dl = 0, cap = 0, dl_used;
	char want[32], left[32], total[32], cpu[32], rsv[32];
	char note[128];

	*rt_us = 0;
	old = policy_claim_find(b, job);
	/* The old claim is not counted against its own replacement. */
	rt_free = b->rt_pool_us - b->rt_used_us + (old ? old->rt_us : 0);
	dl_used = b->dl_used_bw - (old ? old->dl_bw : 0);

	if (a != NULL &&
	    (a->sched_policy == SCHED_FIFO || a->sched_policy == SCHED_RR) &&
	    b->rt_pool_us > 0) {
		if (b->rt_job_us > rt_free) {
			serr_set(err, SERR_UNSATISFIABLE, "sched.policy",
			    "RT budget exhausted: %" PRId64 " us of %" PRId64
			    " left in the pool (each RT job needs %" PRId64
			    " us)",
			    rt_free, b->rt_pool_us, b->rt_job_us);
			return (-1);
		}
		rt = b->rt_job_us;
	}
	if (a != NULL && a->sched_policy == SCHED_DEADLINE) {
		if (ncpus <= 0) {
			serr_set(err, SERR_UNSATISFIABLE, "cpus",
			    "DEADLINE needs at least one CPU to run on, the "
			    "job has %d",
			    ncpus);
			return (-1);
		}
		dl = policy_to_ratio(a->sched_period, a->sched_runtime);
		if (b->dl_cpu_bw > b->dl_reserved_bw)
			cap = (b->dl_cpu_bw - b->dl_reserved_bw) *
			      (uint64_t)ncpus;
		if (!b->dl_unlimited && dl_used + dl > cap) {
			note[0] = '\0';
			if (b->dl_reserved_bw > 0)
				snprintf(note, sizeof(note),
				    " (%s per CPU less %s for the kernel's "
				    "fair server)",
				    policy_bw_pct(
					b->dl_cpu_bw, cpu, sizeof(cpu)),
				    policy_bw_pct(
					b->dl_reserved_bw, rsv, sizeof(rsv)));
			serr_set(err, SERR_UNSATISFIABLE, "sched.runtime_us",
			    "DEADLINE bandwidth exhausted: the job asks %s, %s "
			    "of %s is left on %d CPU%s%s",
			    policy_bw_pct(dl, want, sizeof(want)),
			    policy_bw_pct(dl_used < cap ? cap - dl_used : 0,
				left, sizeof(left)),
			    policy_bw_pct(cap, total, sizeof(total)), ncpus,
			    ncpus == 1 ? "" : "s", note);
			return (-1);
		}
	}

	policy_release(b, job);
	if (rt == 0 && dl == 0)
		return (0);
	c = xcalloc(1, sizeof(*c));
	c->job = job;
	c->rt_us = rt;
	c->dl_bw = dl;
	c->dl_deadline_us = dl > 0 ? (int64_t)(a->sched_deadline / 1000) : 0;
	LIST_INSERT_HEAD(&b->claims, c, entry);
	b->rt_used_us += rt;
	b->dl_used_bw += dl;
	*rt_us = rt;
	return (0);
}

void
policy_release(struct policy_books *b, int64_t job)
{
	struct policy_claim *c;

	if ((c = policy_claim_find(b, job)) == NULL)
		return;
	b->rt_used_us -= c->rt_us;
	b->dl_used_bw -= c->dl_bw;
	LIST_REMOVE(c, entry);
	free(c);
}

/* dl_bw held from ended_ms for the deadline, if that is later than now. */
static void
policy_settle(struct policy_books *b, uint64_t dl_bw, int64_t deadline_us,
    int64_t ended_ms, int64_t now_ms)
{
	struct policy_settling *t;
	/* Whole milliseconds, rounded up, and one more. */
	int64_t until_ms = ended_ms + (deadline_us + 999) / 1000 + 1;

	if (dl_bw == 0 || until_ms <= now_ms)
		return;
	t = xcalloc(1, sizeof(*t));
	t->dl_bw = dl_bw;
	t->until_ms = until_ms;
	LIST_INSERT_HEAD(&b->settling, t, entry);
}

void
policy_ended(struct policy_books *b, int64_t job, int64_t now_ms)
{
	struct policy_claim *c;

	if ((c = policy_claim_find(b, job)) != NULL)
		policy_settle(b, c->dl_bw, c->dl_deadline_us, now_ms, now_ms);
	policy_release(b, job);
}

void
policy_ended_before(struct policy_books *b, const struct policy_attr *a,
    int64_t ended_ms, int64_t now_ms)
{
	if (a == NULL || a->sched_policy != SCHED_DEADLINE)
		return;
	policy_settle(b, policy_to_ratio(a->sched_period, a->sched_runtime),
	    (int64_t)(a->sched_deadline / 1000), ended_ms, now_ms);
}

int64_t
policy_dl_wait(struct policy_books *b, int ncpus, int64_t now_ms)
{
	struct policy_settling *t, *tt, *u;
	uint64_t cap = 0, held = 0, later;
	int64_t wait = 0;

	for (t = LIST_FIRST(&b->settling); t != NULL; t = tt) {
		tt = LIST_NEXT(t, entry);
		if (t->until_ms <= now_ms) {
			LIST_REMOVE(t, entry);
			free(t);
		} else
			held += t->dl_bw;
	}
	if (b->dl_unlimited || held == 0)
		return (0);
	if (b->dl_cpu_bw > b->dl_reserved_bw)
		cap = (b->dl_cpu_bw - b->dl_reserved_bw) *
		      (uint64_t)(ncpus > 0 ? ncpus : 1);
	if (b->dl_used_bw + held <= cap)
		return (0);
	/* The first moment what is still held then fits: a few entries. */
	LIST_FOREACH (t, &b->settling, entry) {
		later = 0;
		LIST_FOREACH (u, &b->settling, entry) {
			if (u->until_ms > t->until_ms)
				later += u->dl_bw;
		}
		if (b->dl_used_bw + later <= cap &&
		    (wait == 0 || t->until_ms - now_ms < wait))
			wait = t->until_ms - now_ms;
	}
	return (wait);
}

int64_t
policy_rt_used(const struct policy_books *b)
{
	return (b->rt_used_us);
}

static int64_t
policy_bw_ppm(uint64_t bw)
{
	return (
	    (int64_t)((bw * 1000000 + POLICY_BW_UNIT / 2) >> POLICY_BW_SHIFT));
}

void
policy_figures(const struct policy_books *b, struct policy_figures *f)
{
	f->rt_pool_us = b->rt_pool_us;
	f->rt_used_us = b->rt_used_us;
	f->rt_job_us = b->rt_job_us;
	f->dl_used_ppm = policy_bw_ppm(b->dl_used_bw);
	f->dl_cpu_ppm = b->dl_cpu_bw > b->dl_reserved_bw
			    ? policy_bw_ppm(b->dl_cpu_bw - b->dl_reserved_bw)
			    : 0;
	f->dl_unlimited = b->dl_unlimited;
}
