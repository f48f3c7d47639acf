/* SPDX-License-Identifier: ISC */
/*
 * Drift: placement that is checked, not assumed. Every DRIFT_PERIOD_MS,
 * while a job with pinned or exclusive CPUs runs, the cpuscan worker walks
 * the machine's tasks (never the loop: see cpuscan.h) and this file reads
 * its answer in the loop:
 *
 * - A job's own threads must keep the affinity schedd gave them (its CPU
 *   list or grant; a narrower or different set is drift) and, when the
 *   spec sets sched, its policy and priority or nice (with reset_on_fork,
 *   the main thread only: its children are meant to differ). Its cgroup's
 *   cpuset.cpus must still be its CPUs: a wider cpuset leaves the threads'
 *   affinity as it was (the kernel keeps the affinity they were given) and
 *   would go unseen otherwise.
 * - An intruder is a thread outside schedd's jobs on a granted CPU, of one
 *   of four kinds. On a machine where every process may run on every CPU
 *   (exclusive here means exclusive among schedd's jobs, as Kubernetes'
 *   CPU manager's does among pods), "allowed on a granted CPU" alone is
 *   every process, so only these count: "pinned", a user thread allowed
 *   on granted CPUs only; "moved", a user thread whose affinity someone
 *   narrowed from all online CPUs to a set that still holds a granted one.
 *   Both are placements someone made, and raise events. "ran", a user
 *   thread allowed everywhere found running on a granted CPU, and
 *   "kernel", a kernel thread bound to a granted CPU (ksoftirqd, kworker,
 *   migration: they cannot move), are listed in GET /v1/cpus so that the
 *   interference shows, but raise nothing: they are the machine's normal
 *   state until the CPUs are isolated (isolcpus, a cpuset partition).
 *
 * Each change is one "drift" event of the job concerned (the one holding
 * the CPU, for an intruder): when a drift appears, when what is found
 * changes, and "cleared" when it is gone. With on_drift "restore" a job's
 * own threads are put back (sched_setaffinity, sched_setattr; a thread is
 * checked by (tid, start time) first) and the event says so. Nothing here
 * ever changes a process outside schedd's jobs.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/clock.h"
#include "daemon/conf.h"
#include "daemon/cpus.h"
#include "daemon/cpuscan.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/policy.h"
#include "daemon/procfs.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/cpulist.h"
#include "proto/jobspec.h"

#define DRIFT_PERIOD_MS 1000

enum drift_what {
	DRIFT_AFFINITY = 0, /* a job's thread: its CPUs */
	DRIFT_POLICY,       /* a job's thread: its scheduling */
	DRIFT_INTRUDER,     /* a thread outside the jobs */
	DRIFT_CPUSET,       /* a job's cgroup: its cpuset.cpus */
};

static const char *const drift_what_names[] = {
    "affinity", "policy", "intruder", "cpuset"};
static const char *const drift_kind_names[] = {
    "member", "pinned", "moved", "ran", "kernel"};

struct drift_item {
	TAILQ_ENTRY(drift_item) entry;
	enum drift_what what;
	enum cpuscan_kind kind; /* intruders */
	pid_t tid;
	pid_t tgid;
	uint64_t start;
	char comm[32];
	int64_t job_id; /* the job concerned; 0: none */
	char expected[64];
	char found[64];
	int cpu;
	int64_t since_ms;
	int seen;
	int restored; /* times put back */
};
TAILQ_HEAD(drift_items, drift_item);

struct drift_member {
	pid_t pid;
	int64_t job;
};

struct sup_drift {
	struct event *timer;
	struct cpuscan *scan;
	/* The jobs that may be checked (placed, their cpuset known), by id:
	 * the ticks walk these, not every job. All jobs are walked again only
	 * when a job has been placed since (rescan). */
	int64_t *cand;
	size_t ncand, capcand;
	int rescan;
	struct drift_items items;
	size_t nitems;
	/* The scan under way: its members' jobs, sorted by pid. */
	struct drift_member *members;
	pid_t *mpids; /* the same pids, for the worker */
	size_t nm;
	cpu_set_t watch;
	/* The last scan's figures. */
	int64_t last_ms;
	int64_t scan_us;
	size_t ntasks;
	int truncated;
	int cut;        /* the scan under way lacks members (too many) */
	int cut_logged; /* said once, until a scan sees everything again */
	unsigned long scans;
	unsigned long events;
	unsigned long restores;
};

static void drift_done(void *, const struct cpuscan_result *);

/* The contract's time: RFC 3339 UTC with milliseconds. */
static const char *
rfc3339(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	char day[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(day, sizeof(day), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
	return (buf);
}

/* A job placed by its spec (cpus or exclusive_cpus), its cpuset known. */
static int
job_placed(const struct job *job)
{
	return ((job->spec.cpus != NULL || job->spec.exclusive_cpus > 0) &&
		job->cpuset_valid);
}

/* A placed job that runs: its placement is checked. */
static int
job_checked(const struct job *job)
{
	return (job_placed(job) &&
		(job->state == JOB_RUNNING || job->state == JOB_PAUSED));
}

void
sup_drift_placed(struct supervisor *sup, const struct job *job)
{
	if (sup->drift != NULL && job_placed(job))
		sup->drift->rescan = 1;
}

/*
 * Bring the candidates up to date: every job walked after a placement,
 * else those that are gone or no longer placed dropped. Bounded by the
 * placed jobs, not by all jobs (10,000 sleeping jobs cost a tick nothing).
 */
static void
drift_cands(struct supervisor *sup)
{
	struct sup_drift *d = sup->drift;
	struct job *job;
	size_t i, k;

	if (d->rescan) {
		d->rescan = 0;
		d->ncand = 0;
		TAILQ_FOREACH (job, &sup->jobs, entry) {
			if (!job_placed(job))
				continue;
			if (d->ncand == d->capcand) {
				d->capcand = d->capcand ? d->capcand * 2 : 16;
				d->cand = xreallocarray(
				    d->cand, d->capcand, sizeof(*d->cand));
			}
			d->cand[d->ncand++] = job->id;
		}
		return;
	}
	for (i = k = 0; i < d->ncand; i++)
		if ((job = htab_get_int(&sup->by_id, d->cand[i])) != NULL &&
		    job_placed(job))
			d->cand[k++] = d->cand[i];
	d->ncand = k;
}

static void
set_from_list(const struct cpulist *cl, cpu_set_t *set)
{
	unsigned int i;

	CPU_ZERO(set);
	for (i = cpulist_next_set(cl, 0); i < CPULIST_MAX && i < CPU_SETSIZE;
	     i = cpulist_next_set(cl, i + 1))
		CPU_SET(i, set);
}

static const char *
set_text(const cpu_set_t *set, char *buf, size_t len)
{
	struct cpulist cl;
	int i;

	cpulist_zero(&cl);
	for (i = 0; i < CPU_SETSIZE && i < CPULIST_MAX; i++)
		if (CPU_ISSET(i, set))
			cpulist_set(&cl, (unsigned int)i);
	if (cpulist_format(&cl, buf, len) == -1)
		snprintf(buf, len, "?");
	return (buf);
}

static int
member_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct drift_member *)a)->pid;
	pid_t y = ((const struct drift_member *)b)->pid;

	return (x < y ? -1 : x > y);
}

static void
drift_arm(struct supervisor *sup)
{
	struct timeval tv = {
	    DRIFT_PERIOD_MS / 1000, (DRIFT_PERIOD_MS % 1000) * 1000};

	if (sup->drift->timer != NULL)
		evtimer_add(sup->drift->timer, &tv);
}

static void
item_free_all(struct sup_drift *d)
{
	struct drift_item *it;

	while ((it = TAILQ_FIRST(&d->items)) != NULL) {
		TAILQ_REMOVE(&d->items, it, entry);
		free(it);
	}
	d->nitems = 0;
}

/* What was found against what was meant, as the API says it: an
 * intruder's kind, CPU and affinity beside the granted CPUs; a job
 * thread's expected and found affinity or policy. */
static void
drift_fields(json_t *o, const struct drift_item *it)
{
	if (it->what == DRIFT_INTRUDER) {
		json_object_set_new(
		    o, "kind", json_string(drift_kind_names[it->kind]));
		json_object_set_new(o, "cpu", json_integer(it->cpu));
		json_object_set_new(o, "cpus_allowed", json_string(it->found));
		json_object_set_new(o, "granted", json_string(it->expected));
	} else {
		json_object_set_new(o, "expected", json_string(it->expected));
		json_object_set_new(o, "found", json_string(it->found));
	}
}

/* One "drift" event of the job, stored then told; dropped (and logged)
 * when the store cannot take it (GET /v1/cpus still lists the drift). */
static void
drift_event(struct supervisor *sup, struct drift_item *it, const char *change,
    const char *restore_err)
{
	struct job *job = htab_get_int(&sup->by_id, it->job_id);
	struct event_rec ev;
	struct serr err;
	char *text = NULL, since[40];
	json_t *data;

	if (job == NULL)
		return;
	data = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "what",
	    drift_what_names[it->what], "change", change, "pid", (int)it->tgid,
	    "tid", (int)it->tid, "comm", it->comm, "since",
	    rfc3339(it->since_ms, since, sizeof(since)));
	if (data == NULL)
		return;
	drift_fields(data, it);
	if (job->spec.on_drift == DRIFT_RESTORE && it->what != DRIFT_INTRUDER &&
	    strcmp(change, "cleared") != 0) {
		json_object_set_new(
		    data, "restored", json_boolean(restore_err == NULL));
		if (restore_err != NULL)
			json_object_set_new(
			    data, "restore_error", json_string(restore_err));
	}
	serr_clear(&err);
	if (sup_writable(sup, &err) == -1 || store_begin(sup->st, &err) == -1) {
		json_decref(data);
		goto fail;
	}
	if (sup_event_write(sup, &ev, job, job->run.number, "drift", data,
		&text, &err) == -1 ||
	    store_commit(sup->st, &err) == -1) {
		store_rollback(sup->st);
		goto fail;
	}
	sup_event_announce(sup, &ev);
	free(text);
	sup->drift->events++;
	return;
fail:
	free(text);
	if (err.code == SERR_UNAVAILABLE && !sup->degraded)
		sup_degrade(sup, &err);
	log_warnx("%s: drift (%s %s, tid %d) not stored: %s", job->name,
	    drift_what_names[it->what], change, (int)it->tid, err.message);
}

static void
drift_tick(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct sup_drift *d = sup->drift;
	const struct cpus *c = sup_res_cpus(sup);
	struct cpu_info ci;
	struct job *job;
	cpu_set_t online, js;
	pid_t *pids;
	size_t cap = 0, k;
	int n, i, any = 0;

	(void)fd;
	(void)what;
	if (d->scan != NULL && cpuscan_busy(d->scan)) {
		drift_arm(sup);
		return;
	}
	CPU_ZERO(&d->watch);
	d->nm = 0;
	d->cut = 0;
	drift_cands(sup);
	pids = d->ncand > 0 ? xcalloc(JOB_PIDS_MAX + 1, sizeof(*pids)) : NULL;
	for (k = 0; k < d->ncand; k++) {
		if ((job = htab_get_int(&sup->by_id, d->cand[k])) == NULL ||
		    !job_checked(job))
			continue;
		any = 1;
		if (job->spec.exclusive_cpus > 0) {
			set_from_list(job->cpuset, &js);
			CPU_OR(&d->watch, &d->watch, &js);
		}
		/* One more than it takes: to know that there were more. */
		if ((n = sup_res_pids(sup, job, pids, JOB_PIDS_MAX + 1)) <= 0)
			continue;
		if (n > JOB_PIDS_MAX) {
			d->cut = 1;
			n = JOB_PIDS_MAX;
		}
		if (d->nm + (size_t)n > CPUSCAN_MEMBERS_MAX) {
			d->cut = 1;
			continue;
		}
		if (d->nm + (size_t)n > cap) {
			cap = (d->nm + (size_t)n) * 2;
			d->members =
			    xreallocarray(d->members, cap, sizeof(*d->members));
			d->mpids =
			    xreallocarray(d->mpids, cap, sizeof(*d->mpids));
		}
		for (i = 0; i < n; i++) {
			d->mpids[d->nm] = pids[i];
			d->members[d->nm].pid = pids[i];
			d->members[d->nm++].job = job->id;
		}
	}
	free(pids);
	if (d->nm > 0)
		qsort(d->members, d->nm, sizeof(*d->members), member_cmp);
	if (!any) {
		/* Nothing to guard: what was seen is history now. */
		item_free_all(d);
		drift_arm(sup);
		return;
	}
	CPU_ZERO(&online);
	for (i = 0; c != NULL && i < cpus_count(c); i++)
		if (cpus_info(c, i, &ci) == 0 && ci.online && i < CPU_SETSIZE)
			CPU_SET(i, &online);
	if (d->scan == NULL) {
		struct serr e;

		serr_clear(&e);
		if ((d->scan = cpuscan_new(
			 sup->sd->base, drift_done, sup, &e)) == NULL) {
			log_warnx("drift scan: %s", e.message);
			drift_arm(sup);
			return;
		}
	}
	if (cpuscan_submit(d->scan, &d->watch, &online, d->mpids, d->nm) ==
	    -1) {
		log_warn("drift scan");
		drift_arm(sup);
	}
}

static struct job *
member_job(struct supervisor *sup, pid_t tgid)
{
	struct sup_drift *d = sup->drift;
	struct drift_member key, *m;

	key.pid = tgid;
	if (d->nm == 0 || (m = bsearch(&key, d->members, d->nm,
			       sizeof(*d->members), member_cmp)) == NULL)
		return (NULL);
	return (htab_get_int(&sup->by_id, m->job));
}

/*
 * Is the process tgid the job's own, though it was not in the member
 * list the scan was given (forked after that list was read, or a job
 * without cgroups, whose list is its main process alone)? Its cgroup
 * says so; without cgroups, its parents up to the job's main process.
 */
static int
job_owns(struct supervisor *sup, struct job *job, pid_t tgid)
{
	struct proc_stat ps;
	pid_t p = tgid;
	int depth;

	if (job->has_cgroup)
		return (procfs_in_job_cgroup(
		    tgid, sup->sd->conf->cgroup_root, job->id));
	for (depth = 0; depth < 32 && p > 1; depth++) {
		if (p == job->run.pid || member_job(sup, p) == job)
			return (1);
		if (procfs_stat(p, &ps) == -1)
			return (0);
		p = ps.ppid;
	}
	return (0);
}

/* The job holding the task's CPU, or the first granted CPU it may use. */
static int64_t
holder(struct supervisor *sup, const struct cpuscan_task *t, int *cpu)
{
	const struct cpus *c = sup_res_cpus(sup);
	struct cpu_info ci;
	int i;

	if (c == NULL)
		return (0);
	if (t->cpu >= 0 && CPU_ISSET(t->cpu, &sup->drift->watch) &&
	    cpus_info(c, t->cpu, &ci) == 0 && ci.granted_to != 0) {
		*cpu = t->cpu;
		return (ci.granted_to);
	}
	for (i = 0; i < cpus_count(c) && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &t->allowed) &&
		    CPU_ISSET(i, &sup->drift->watch) &&
		    cpus_info(c, i, &ci) == 0 && ci.granted_to != 0) {
			*cpu = i;
			return (ci.granted_to);
		}
	return (0);
}

static void
sched_text(uint32_t policy, unsigned int prio, int nice, char *buf, size_t len)
{
	const char *name = policy_kernel_name(policy);

	if (policy == SCHED_FIFO || policy == SCHED_RR)
		snprintf(buf, len, "%s %u", name, prio);
	else if (policy == SCHED_OTHER || policy == SCHED_BATCH)
		snprintf(buf, len, "%s nice %d", name, nice);
	else
		snprintf(buf, len, "%s", name);
}

/* Put a job's thread back; NULL, or why it could not be. */
static const char *
restore(struct job *job, const struct drift_item *it, char *buf, size_t len)
{
	struct proc_stat ps;
	struct policy_attr a;
	cpu_set_t set;

	if (it->what == DRIFT_CPUSET) {
		struct serr err;

		serr_clear(&err);
		if (sup_res_cpuset_restore(job->sup, job, &err) == -1) {
			snprintf(buf, len, "%.100s", err.message);
			return (buf);
		}
		return (NULL);
	}
	/* The thread the scan saw, not one that took its id since. */
	if (procfs_stat(it->tid, &ps) == -1 || ps.starttime != it->start)
		return ("the thread is gone");
	if (it->what == DRIFT_AFFINITY) {
		set_from_list(job->cpuset, &set);
		if (sched_setaffinity(it->tid, sizeof(set), &set) == -1) {
			snprintf(
			    buf, len, "sched_setaffinity: %s", strerror(errno));
			return (buf);
		}
		return (NULL);
	}
	sup_policy_attr(&job->spec.sched, &a);
	if (policy_set(it->tid, &a) == -1) {
		snprintf(buf, len, "sched_setattr: %s", strerror(errno));
		return (buf);
	}
	return (NULL);
}

/* Note what the scan found: an event if it is new or changed. */
static void
drift_found(struct supervisor *sup, const struct drift_item *want)
{
	struct sup_drift *d = sup->drift;
	struct drift_item *it;
	struct job *job;
	const char *why = NULL;
	char buf[128];
	int noisy = want->what != DRIFT_INTRUDER ||
		    want->kind == CPUSCAN_PINNED || want->kind == CPUSCAN_MOVED;

	TAILQ_FOREACH (it, &d->items, entry)
		if (it->what == want->what && it->tid == want->tid &&
		    it->start == want->start)
			break;
	if (it != NULL && strcmp(it->found, want->found) == 0 &&
	    it->kind == want->kind) {
		it->seen = 1;
		it->cpu = want->cpu;
		return;
	}
	if (it == NULL) {
		if (d->nitems >= CPUSCAN_TASKS_MAX)
			return;
		it = xcalloc(1, sizeof(*it));
		*it = *want;
		it->since_ms = now_ms();
		TAILQ_INSERT_TAIL(&d->items, it, entry);
		d->nitems++;
	} else {
		int64_t since = it->since_ms;
		int restored = it->restored;
		struct drift_item keep = *it;

		*it = *want;
		it->entry = keep.entry;
		it->since_ms = since;
		it->restored = restored;
	}
	it->seen = 1;
	if (!noisy)
		return;
	job = htab_get_int(&sup->by_id, it->job_id);
	if (job != NULL && it->what != DRIFT_INTRUDER &&
	    job->spec.on_drift == DRIFT_RESTORE) {
		why = restore(job, it, buf, sizeof(buf));
		if (why == NULL) {
			it->restored++;
			d->restores++;
			log_info("%s: %s of tid %d (%s) restored to %s",
			    job->name, drift_what_names[it->what], (int)it->tid,
			    it->comm, it->expected);
		}
	}
	log_info("drift: %s %s tid %d (%s): %s, expected %s",
	    drift_what_names[it->what],
	    it->what == DRIFT_INTRUDER ? drift_kind_names[it->kind] : "",
	    (int)it->tid, it->comm, it->found, it->expected);
	drift_event(sup, it, "appeared", why);
}

/* A comm is any bytes a process chose: printable ASCII for JSON. */
static void
comm_copy(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static void
drift_done(void *arg, const struct cpuscan_result *r)
{
	struct supervisor *sup = arg;
	struct sup_drift *d = sup->drift;
	struct drift_item want, *it, *tmp;
	struct policy_attr a;
	const struct cpuscan_task *t;
	struct job *job;
	cpu_set_t exp;
	char e[64];
	size_t i, c;
	int check;

	d->last_ms = now_ms();
	d->scan_us = r->scan_us;
	d->ntasks = r->ntasks;
	d->truncated = r->truncated || d->cut;
	d->scans++;
	drift_arm(sup);
	if (r->error != 0) {
		log_warnx("drift scan: %s", strerror(r->error));
		return;
	}
	if (d->truncated && !d->cut_logged)
		log_warnx("drift scan: more tasks than one scan reports (%d) "
			  "or members than it takes (%d per job): drift of the "
			  "rest is not seen, and none is called cleared until "
			  "a scan sees every task again",
		    CPUSCAN_TASKS_MAX, JOB_PIDS_MAX);
	d->cut_logged = d->truncated;
	TAILQ_FOREACH (it, &d->items, entry)
		it->seen = 0;
	for (i = 0; i < r->n; i++) {
		t = &r->tasks[i];
		memset(&want, 0, sizeof(want));
		want.tid = t->tid;
		want.tgid = t->tgid;
		want.start = t->starttime;
		want.kind = t->kind;
		want.cpu = t->cpu;
		comm_copy(want.comm, sizeof(want.comm), t->comm);
		if (t->kind != CPUSCAN_MEMBER) {
			want.what = DRIFT_INTRUDER;
			if ((want.job_id = holder(sup, t, &want.cpu)) == 0)
				continue;
			/* A child the member list did not have yet. */
			if ((job = htab_get_int(&sup->by_id, want.job_id)) !=
				NULL &&
			    job_owns(sup, job, t->tgid))
				continue;
			set_text(
			    &d->watch, want.expected, sizeof(want.expected));
			set_text(&t->allowed, want.found, sizeof(want.found));
			drift_found(sup, &want);
			continue;
		}
		if ((job = member_job(sup, t->tgid)) == NULL ||
		    !job_checked(job))
			continue;
		want.job_id = job->id;
		set_from_list(job->cpuset, &exp);
		if (!CPU_EQUAL(&exp, &t->allowed)) {
			want.what = DRIFT_AFFINITY;
			set_text(&exp, want.expected, sizeof(want.expected));
			set_text(&t->allowed, want.found, sizeof(want.found));
			drift_found(sup, &want);
		}
		check =
		    job->spec.sched.set &&
		    (!job->spec.sched.reset_on_fork || t->tid == job->run.pid);
		if (!check)
			continue;
		sup_policy_attr(&job->spec.sched, &a);
		if (t->policy != a.sched_policy ||
		    ((a.sched_policy == SCHED_FIFO ||
			 a.sched_policy == SCHED_RR) &&
			t->rt_priority != a.sched_priority) ||
		    ((a.sched_policy == SCHED_OTHER ||
			 a.sched_policy == SCHED_BATCH) &&
			t->nice != a.sched_nice)) {
			want.what = DRIFT_POLICY;
			sched_text(a.sched_policy, a.sched_priority,
			    a.sched_nice, e, sizeof(e));
			snprintf(want.expected, sizeof(want.expected), "%s", e);
			sched_text(t->policy, t->rt_priority, t->nice,
			    want.found, sizeof(want.found));
			drift_found(sup, &want);
		}
	}
	/* Each job's cpuset, as its cgroup has it now. */
	for (c = 0; c < d->ncand; c++) {
		struct cpulist now;

		if ((job = htab_get_int(&sup->by_id, d->cand[c])) == NULL ||
		    !job_checked(job) ||
		    sup_res_cpuset_now(sup, job, &now) == -1 ||
		    (cpulist_subset(&now, job->cpuset) &&
			cpulist_subset(job->cpuset, &now)))
			continue;
		memset(&want, 0, sizeof(want));
		want.what = DRIFT_CPUSET;
		want.tid = want.tgid = job->run.pid;
		want.start = job->run.pid_start;
		want.job_id = job->id;
		snprintf(want.comm, sizeof(want.comm), "%.31s", job->name);
		if (cpulist_format(job->cpuset, want.expected,
			sizeof(want.expected)) == -1 ||
		    cpulist_format(&now, want.found, sizeof(want.found)) == -1)
			continue;
		drift_found(sup, &want);
	}
	/* What is gone: said once, for what was said when it came. A scan
	 * that did not see every task cannot tell gone from not looked at. */
	TAILQ_FOREACH_SAFE (it, &d->items, entry, tmp) {
		if (it->seen || d->truncated)
			continue;
		if (it->what != DRIFT_INTRUDER || it->kind == CPUSCAN_PINNED ||
		    it->kind == CPUSCAN_MOVED)
			drift_event(sup, it, "cleared", NULL);
		TAILQ_REMOVE(&d->items, it, entry);
		d->nitems--;
		free(it);
	}
}

void
sup_drift_start(struct supervisor *sup)
{
	struct sup_drift *d;

	d = sup->drift = xcalloc(1, sizeof(*d));
	TAILQ_INIT(&d->items);
	d->rescan = 1;
	d->timer = sup_evtimer_new(sup, drift_tick, sup);
	drift_arm(sup);
}

void
sup_drift_free(struct supervisor *sup)
{
	struct sup_drift *d = sup->drift;

	if (d == NULL)
		return;
	if (d->timer != NULL)
		event_free(d->timer);
	cpuscan_free(d->scan);
	item_free_all(d);
	free(d->cand);
	free(d->mpids);
	free(d->members);
	free(d);
	sup->drift = NULL;
}

json_t *
supervisor_drift_json(struct supervisor *sup)
{
	struct sup_drift *d = sup->drift;
	struct drift_item *it;
	struct job *job;
	json_t *intruders, *drift, *o;
	char since[40], last[40];

	intruders = json_array();
	drift = json_array();
	if (d != NULL) {
		TAILQ_FOREACH (it, &d->items, entry) {
			job = htab_get_int(&sup->by_id, it->job_id);
			o = json_pack("{s:i, s:i, s:s, s:o, s:I, s:s}", "pid",
			    (int)it->tgid, "tid", (int)it->tid, "comm",
			    it->comm, "job",
			    job != NULL ? json_string(job->name) : json_null(),
			    "job_id", (json_int_t)it->job_id, "since",
			    rfc3339(it->since_ms, since, sizeof(since)));
			if (o == NULL)
				continue;
			drift_fields(o, it);
			if (it->what == DRIFT_INTRUDER)
				json_array_append_new(intruders, o);
			else {
				json_object_set_new(o, "what",
				    json_string(drift_what_names[it->what]));
				json_object_set_new(
				    o, "restored", json_integer(it->restored));
				json_array_append_new(drift, o);
			}
		}
	}
	return (json_pack("{s:o, s:o, s:{s:i, s:o, s:I, s:I, s:b, s:I, s:I, "
			  "s:I}}",
	    "intruders", intruders, "drift", drift, "drift_scan", "period_ms",
	    DRIFT_PERIOD_MS, "last",
	    d != NULL && d->last_ms != 0
		? json_string(rfc3339(d->last_ms, last, sizeof(last)))
		: json_null(),
	    "scan_us", (json_int_t)(d != NULL ? d->scan_us : 0), "tasks",
	    (json_int_t)(d != NULL ? d->ntasks : 0), "truncated",
	    d != NULL && d->truncated, "scans",
	    (json_int_t)(d != NULL ? d->scans : 0), "events",
	    (json_int_t)(d != NULL ? d->events : 0), "restores",
	    (json_int_t)(d != NULL ? d->restores : 0)));
}
