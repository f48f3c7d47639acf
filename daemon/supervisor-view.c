/* SPDX-License-Identifier: ISC */
/*
 * What the supervisor shows of its jobs' processes: usage, the live tree
 * (read by a worker thread: a forking process's command line can take the
 * kernel seconds to give, and the loop must not wait for it), the tree as
 * recorded, and the tracker that records every member of a running job's
 * cgroup once, so that orphans are attributed and ended runs can be read.
 * What a scan sees, the tracker's or a live listing's, is recorded for the
 * run (every process ever seen in a job is kept); those records are not
 * state changes and are dropped while the store cannot write.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/cgroup.h"
#include "daemon/conf.h"
#include "daemon/cpus.h"
#include "daemon/log.h"
#include "daemon/policy.h"
#include "daemon/procfs.h"
#include "daemon/procscan.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/jsonout.h"
#include "proto/util.h"

#define TRACK_PERIOD_MS 1000 /* the process tracker's tick */
#define TRACK_JOBS_MAX  64   /* running jobs looked at per tick */
#define PROCESSES_ALL_MAX 100000 /* rows of a listing with all=true */

/* A live listing under way (supervisor_job_processes). */
struct sup_query {
	int64_t tag;
	int64_t job_id;
	int64_t run_id; /* the run it lists */
	pid_t *members; /* the cgroup's, when asked */
	int nmembers;
	int cut; /* more members or children than were listed */
	void (*cb)(
	    void *, const struct proc_entry *, int, int, const struct serr *);
	void *arg;
	TAILQ_ENTRY(sup_query) entry;
};

struct sup_view {
	struct event *track_ev; /* records jobs' processes */
	int64_t track_next;     /* the job id to look at next */
	struct procscan *scan;  /* reads /proc for it, off the loop */
	struct procscan *qscan; /* the same for live listings */
	TAILQ_HEAD(, sup_query) queries;
	int64_t query_seq;
};

static void usage_read(
    struct supervisor *, const struct job *, struct job_usage *);

void
sup_view_init(struct supervisor *sup)
{
	sup->view = xcalloc(1, sizeof(*sup->view));
	TAILQ_INIT(&sup->view->queries);
}

void
sup_view_free(struct supervisor *sup)
{
	struct sup_view *v = sup->view;
	struct sup_query *q;

	if (v == NULL)
		return;
	procscan_free(v->scan);
	procscan_free(v->qscan);
	while ((q = TAILQ_FIRST(&v->queries)) != NULL) {
		TAILQ_REMOVE(&v->queries, q, entry);
		free(q->members);
		free(q);
	}
	if (v->track_ev != NULL)
		event_free(v->track_ev);
	free(v);
	sup->view = NULL;
}

/*
 * The usage of the job now. Once a run has ended and its cgroup is empty
 * the figures stay as they are, so they are read once and kept until the
 * next run begins.
 */
void
supervisor_job_usage(
    struct supervisor *sup, struct job *job, struct job_usage *u)
{
	int ended = job->state != JOB_STARTING && job->state != JOB_RUNNING &&
		    job->state != JOB_PAUSED && job->state != JOB_STOPPING;

	if (ended && job->usage_end != NULL) {
		*u = *job->usage_end;
		return;
	}
	usage_read(sup, job, u);
	/* Not while what outlived the main process is being stopped. */
	if (ended && u->nprocs <= 0) {
		job->usage_end = xmalloc(sizeof(*job->usage_end));
		*job->usage_end = *u;
	}
}

static void
usage_read(struct supervisor *sup, const struct job *job, struct job_usage *u)
{
	struct cgroup_usage cu;
	struct proc_stat ps;
	struct proc_sched_sum ss;
	pid_t *pids;
	int64_t ticks = 0;
	int n, i;

	u->cpu_ms = u->memory_current = u->memory_peak = -1;
	u->nprocs = u->oom_kills = u->runq_delay_us = -1;
	u->involuntary_switches = u->migrations = -1;
	u->nr_periods = u->nr_throttled = u->throttled_us = -1;
	u->cpu_pressure_us = -1;
	if (sup_res_usage(sup, job, &cu) == 0) {
		u->memory_current = cu.memory_current;
		u->memory_peak = cu.memory_peak;
		u->nprocs = cu.nprocs;
		u->oom_kills = cu.oom_kills;
		if (cu.cpu_usage_us >= 0)
			u->cpu_ms = cu.cpu_usage_us / 1000;
		u->nr_periods = cu.nr_periods;
		u->nr_throttled = cu.nr_throttled;
		u->throttled_us = cu.throttled_us;
		u->cpu_pressure_us = cu.cpu_pressure_us;
	}
	pids = xcalloc(JOB_PIDS_MAX, sizeof(*pids));
	if ((n = sup_res_pids(sup, job, pids, JOB_PIDS_MAX)) >= 0) {
		if (u->nprocs < 0)
			u->nprocs = n;
		memset(&ss, 0, sizeof(ss));
		for (i = 0; i < n; i++) {
			procfs_sched_sum(pids[i], &ss);
			if (u->cpu_ms < 0 && procfs_stat(pids[i], &ps) == 0)
				ticks += (int64_t)(ps.utime + ps.stime);
		}
		u->runq_delay_us = ss.runq_wait_ns / 1000;
		u->involuntary_switches = ss.involuntary;
		u->migrations = ss.migrations;
		if (u->cpu_ms < 0 && n > 0)
			u->cpu_ms = ticks * 1000 / procfs_hz();
	}
	free(pids);
}

/* An entry from a process's stat; the few cheap reads that need no
 * lock of the process's memory (affinity, policy) are made here. */
static void
entry_from_stat(const struct proc_stat *ps, struct proc_entry *e)
{
	struct policy_attr a;
	pid_t pid = ps->pid;

	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->ppid = ps->ppid;
	e->state = ps->state;
	util_strlcpy(e->comm, ps->comm, sizeof(e->comm));
	if (ps->state == 'Z' || procfs_cpus_allowed(pid, e->cpus_allowed,
				    sizeof(e->cpus_allowed)) == -1)
		e->cpus_allowed[0] = '\0';
	e->policy = policy_kernel_name(ps->policy);
	e->priority = (int)ps->rt_priority;
	e->nice = (int)ps->nice;
	if (ps->state != 'Z' && policy_get(pid, &a) == 0) {
		e->policy = policy_kernel_name(a.sched_policy);
		e->priority = (int)a.sched_priority;
	}
	e->user_cpu_ms = (int64_t)ps->utime * 1000 / procfs_hz();
	e->system_cpu_ms = (int64_t)ps->stime * 1000 / procfs_hz();
	e->rss_kb = ps->rss_pages * procfs_pagesize() / 1024;
	e->started_ms = procfs_start_ms(ps->starttime);
	e->exit_code = -1;
}

static int
pid_in(const pid_t *pids, int n, pid_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return (1);
	return (0);
}

/* argv from a NUL-separated command line, as JSON text; caller frees. */
static char *
cmdline_json(const char *buf, size_t len)
{
	json_t *a = json_array();
	char *text;
	size_t off = 0, n;

	while (off < len) {
		n = strnlen(buf + off, len - off);
		json_array_append_new(a, json_stringn(buf + off, n));
		off += n + 1;
	}
	text = json_out_text(a, 0);
	json_decref(a);
	return (text);
}

/*
 * Record what a scan read of the job's current run, the tracker's or a
 * live listing's: every process ever seen in a job is kept (pid, start
 * time, parent, comm, argv), once; one whose argv the worker skipped is
 * asked for again. Observations, not state changes: dropped while the
 * store cannot write.
 */
static void
record_procs(
    struct supervisor *sup, struct job *job, const struct procscan_result *res)
{
	const struct procscan_proc *p;
	struct serr e;
	char *argv;
	size_t i;
	int64_t now = now_ms();

	if (job->run.id == 0 || sup->degraded || store_begin(sup->st, &e) == -1)
		return;
	if (job->scan_run != job->run.id) {
		htab_clear(&job->seen);
		job->scan_run = job->run.id;
	}
	for (i = 0; i < res->n; i++) {
		p = &res->procs[i];
		argv = (p->flags & PROCSCAN_SKIPPED) != 0
			   ? NULL
			   : cmdline_json(p->cmdline, p->cmdline_len);
		if (store_process_insert(sup->st, job->run.id, p->stat.pid,
			p->stat.starttime, p->stat.ppid, p->stat.comm, argv,
			now, &e) == -1) {
			free(argv);
			store_rollback(sup->st);
			return;
		}
		free(argv);
	}
	if (store_commit(sup->st, &e) == -1) {
		log_debug(
		    "%s: processes not recorded: %s", job->name, e.message);
		return;
	}
	/* Only what is stored is seen: the rest is asked for again. */
	for (i = 0; i < res->n; i++)
		if ((res->procs[i].flags & PROCSCAN_SKIPPED) == 0)
			htab_put_int(&job->seen, res->procs[i].stat.pid,
			    (void *)(uintptr_t)(res->procs[i].stat.starttime |
						1));
}

static void
query_done(void *arg, const struct procscan_result *res)
{
	struct supervisor *sup = arg;
	struct sup_view *r = sup->view;
	struct proc_entry *ents;
	struct sup_query *q;
	struct serr err;
	struct job *job;
	size_t i;
	int n = 0;

	TAILQ_FOREACH (q, &r->queries, entry)
		if (q->tag == res->tag)
			break;
	if (q == NULL)
		return; /* cancelled */
	TAILQ_REMOVE(&r->queries, q, entry);
	if (res->error != 0) {
		serr_set(&err, SERR_INTERNAL, NULL, "cannot read /proc: %s",
		    strerror(res->error));
		q->cb(q->arg, NULL, -1, 0, &err);
		free(q->members);
		free(q);
		return;
	}
	ents = xcalloc(res->n + 1, sizeof(*ents));
	for (i = 0; i < res->n; i++) {
		const struct procscan_proc *p = &res->procs[i];

		/* Children outside the cgroup are listed only as zombies. */
		if (p->stat.state != 'Z' &&
		    !pid_in(q->members, q->nmembers, p->stat.pid))
			continue;
		entry_from_stat(&p->stat, &ents[n]);
		if ((p->flags & PROCSCAN_SKIPPED) == 0) {
			ents[n].cmdline_len =
			    p->cmdline_len < sizeof(ents[n].cmdline)
				? p->cmdline_len
				: sizeof(ents[n].cmdline);
			memcpy(
			    ents[n].cmdline, p->cmdline, ents[n].cmdline_len);
		}
		n++;
	}
	/* What was seen is recorded for the run, as the tracker would. */
	if ((job = htab_get_int(&sup->by_id, q->job_id)) != NULL &&
	    job->run.id == q->run_id)
		record_procs(sup, job, res);
	q->cb(q->arg, ents, n, q->cut, NULL);
	free(ents);
	free(q->members);
	free(q);
}

struct sup_query *
supervisor_job_processes(struct supervisor *sup, struct job *job,
    void (*cb)(
	void *, const struct proc_entry *, int, int, const struct serr *),
    void *arg, struct serr *err)
{
	struct sup_view *r = sup->view;
	struct sup_query *q;
	pid_t *pids;
	int n, i, nk = 0, cut;

	if (r->qscan == NULL && (r->qscan = procscan_new(sup->sd->base,
				     query_done, sup, err)) == NULL)
		return (NULL);
	/* Room for one more than is listed: to know that there were more. */
	pids = xcalloc(JOB_PIDS_MAX + 1, sizeof(*pids));
	if ((n = sup_res_pids(sup, job, pids, JOB_PIDS_MAX + 1)) < 0) {
		serr_set(err, SERR_INTERNAL, NULL,
		    "cannot list the job's processes");
		free(pids);
		return (NULL);
	}
	if ((cut = n > JOB_PIDS_MAX))
		n = JOB_PIDS_MAX;
	/* Their children: a zombie has left the cgroup but not the tree. */
	for (i = 0; i < n && !cut; i++) {
		pid_t *kids = pids + n + nk;
		int room = JOB_PIDS_MAX - n - nk;
		int k = procfs_children(pids[i], kids, room + 1);
		int j, m = 0;

		/* Only those outside the cgroup (members are listed). */
		for (j = 0; j < k; j++)
			if (!pid_in(pids, n, kids[j]))
				kids[m++] = kids[j];
		if ((cut = m > room))
			m = room;
		nk += m;
	}
	q = xcalloc(1, sizeof(*q));
	q->cut = cut;
	q->tag = ++r->query_seq;
	q->job_id = job->id;
	q->run_id = job->run.id;
	q->members = xcalloc((size_t)n + 1, sizeof(*q->members));
	memcpy(q->members, pids, (size_t)n * sizeof(*pids));
	q->nmembers = n;
	q->cb = cb;
	q->arg = arg;
	if (procscan_submit(r->qscan, q->tag, pids, (size_t)(n + nk)) == -1) {
		serr_set(err, SERR_UNAVAILABLE, NULL,
		    "too many process listings under way; try again");
		free(q->members);
		free(q);
		free(pids);
		return (NULL);
	}
	free(pids);
	TAILQ_INSERT_TAIL(&r->queries, q, entry);
	return (q);
}

void
supervisor_query_cancel(struct supervisor *sup, struct sup_query *q)
{
	if (q == NULL)
		return;
	TAILQ_REMOVE(&sup->view->queries, q, entry);
	free(q->members);
	free(q);
}

struct all_ctx {
	int (*cb)(void *, const struct proc_entry *);
	void *arg;
	struct proc_entry e;
	int n;   /* rows given to cb */
	int cut; /* a row past PROCESSES_ALL_MAX was read */
};

static int
all_cb(void *arg, const struct store_process *p)
{
	struct all_ctx *c = arg;
	struct proc_entry *e = &c->e;
	struct proc_stat ps;

	if (c->n == PROCESSES_ALL_MAX) {
		c->cut = 1;
		return (0);
	}
	c->n++;
	memset(e, 0, sizeof(*e));
	e->pid = p->pid;
	e->ppid = p->ppid;
	util_strlcpy(e->comm, p->comm != NULL ? p->comm : "", sizeof(e->comm));
	e->argv_json = p->argv;
	e->user_cpu_ms = e->system_cpu_ms = e->rss_kb = -1;
	e->started_ms = p->pid_start != 0 ? procfs_start_ms(p->pid_start)
					  : p->first_seen_ms;
	e->run = p->run;
	e->exited_ms = p->exited_ms;
	e->exit_code = p->exit_code;
	e->signal = p->signal;
	/* Still the same process? Then it is live. */
	if (p->exited_ms == 0 && procfs_stat(p->pid, &ps) == 0 &&
	    ps.starttime == p->pid_start && ps.state != 'Z')
		e->state = ps.state;
	return (c->cb(c->arg, e));
}

int
supervisor_job_processes_all(struct supervisor *sup, struct job *job,
    int (*cb)(void *, const struct proc_entry *), void *arg, int *truncated,
    struct serr *err)
{
	struct all_ctx *c;
	int n;

	c = xcalloc(1, sizeof(*c));
	c->cb = cb;
	c->arg = arg;
	/* One more than is listed: to know that there were more. */
	n = store_process_list(
	    sup->st, job->id, PROCESSES_ALL_MAX + 1, all_cb, c, err);
	*truncated = c->cut;
	if (n >= 0)
		n = c->n;
	free(c);
	return (n);
}

/*
 * A scan came back: record each new member of the run (pid, start time,
 * parent, comm, argv) and remember it, so that the next tick asks only for
 * what is new. Cheap: the slow reads were the worker's.
 */
static void
track_done(void *arg, const struct procscan_result *res)
{
	struct supervisor *sup = arg;
	struct job *job;

	if ((job = htab_get_int(&sup->by_id, res->tag)) == NULL)
		return;
	job->scan_out = 0;
	if (res->error == 0 && job->run.id == job->scan_run)
		record_procs(sup, job, res);
}

/*
 * The tracker: every tick, the next TRACK_JOBS_MAX running jobs (round
 * robin by id) have their cgroup members recorded, so that the tree of a
 * run can be read after it ended even if nobody asked while it ran, and
 * so that orphans are attributed to their job. The loop reads only the
 * member lists; /proc of the members is read by a worker thread (a
 * forking process's command line can take the kernel a second to give),
 * and only for members not seen before. The cost per tick is bounded
 * however many jobs and processes there are.
 */
static void
sup_res_track(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct sup_view *r = sup->view;
	struct job *job;
	struct htab keep;
	pid_t *pids;
	void *v;
	int n = 0, wrapped = 0, np, i, k;

	(void)fd;
	(void)what;
	if (sup->degraded || r->scan == NULL)
		return; /* nothing could be recorded */
	pids = xcalloc(JOB_PIDS_MAX, sizeof(*pids));
	/* Where the last tick stopped, found by id (the list is in id
	 * order), not by walking past the jobs before it: else the head. */
	if (r->track_next == 0 ||
	    (job = htab_get_int(&sup->by_id, r->track_next)) == NULL)
		job = TAILQ_FIRST(&sup->jobs);
again:
	for (; job != NULL; job = TAILQ_NEXT(job, entry)) {
		if (job->id < r->track_next || !job->has_cgroup ||
		    job->scan_out ||
		    (job->state != JOB_STARTING && job->state != JOB_RUNNING &&
			job->state != JOB_STOPPING))
			continue;
		if (n == TRACK_JOBS_MAX) {
			r->track_next = job->id;
			goto out;
		}
		n++;
		if (job->scan_run != job->run.id) {
			htab_clear(&job->seen);
			job->scan_run = job->run.id;
		}
		if ((np = sup_res_pids(sup, job, pids, JOB_PIDS_MAX)) <= 0)
			continue;
		/* What was seen and is still a member stays seen; the rest is
		 * forgotten, so the set never outgrows the cgroup. The main
		 * process was recorded when it was spawned: a mass start does
		 * not send every new run's to the worker and a transaction. */
		htab_init(&keep);
		for (i = k = 0; i < np; i++) {
			if (pids[i] == job->run.pid)
				continue;
			if ((v = htab_get_int(&job->seen, pids[i])) != NULL)
				htab_put_int(&keep, pids[i], v);
			else
				pids[k++] = pids[i];
		}
		htab_clear(&job->seen);
		job->seen = keep;
		if (k == 0)
			continue;
		if (procscan_submit(r->scan, job->id, pids, (size_t)k) == -1)
			goto out; /* the worker is behind: next tick */
		job->scan_out = 1;
	}
	r->track_next = 0;
	if (!wrapped && n < TRACK_JOBS_MAX && n > 0) {
		wrapped = 1;
		job = TAILQ_FIRST(&sup->jobs);
		goto again;
	}
out:
	free(pids);
}

void
sup_view_start(struct supervisor *sup)
{
	struct sup_view *r = sup->view;
	struct timeval tv = {
	    TRACK_PERIOD_MS / 1000, (TRACK_PERIOD_MS % 1000) * 1000};

	struct serr e;

	if (!sup_res_tracked(sup) || r->track_ev != NULL)
		return;
	if ((r->scan = procscan_new(sup->sd->base, track_done, sup, &e)) ==
	    NULL) {
		log_warnx("process tracker: %s", e.message);
		return;
	}
	r->track_ev =
	    event_new(sup->sd->base, -1, EV_PERSIST, sup_res_track, sup);
	event_priority_set(r->track_ev, SCHEDD_PRIO_WORK);
	event_add(r->track_ev, &tv);
}

/* GET /v1/cpus's CPUs, pools and queue: see supervisor.h. */
json_t *
supervisor_cpus_json(struct supervisor *sup, struct serr *err)
{
	const struct cpus *c;
	const struct job *job, *holder;
	struct cpu_info ci;
	json_t *a, *q, *out;
	char usable[4096], shared[4096];
	const char *state;
	int i, n;

	if ((c = sup_res_cpus(sup)) == NULL) {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "the CPU topology could not be read on this machine");
		return (NULL);
	}
	a = json_array();
	n = cpus_count(c);
	for (i = 0; i < n; i++) {
		if (cpus_info(c, i, &ci) == -1)
			continue;
		if (!ci.online)
			state = "offline";
		else if (ci.granted_to != 0)
			state = "granted";
		else if (ci.isolated)
			state = "isolated";
		else if (!ci.usable)
			state = "unavailable";
		else
			state = "shared";
		holder = ci.granted_to != 0
			     ? htab_get_int(&sup->by_id, ci.granted_to)
			     : NULL;
		json_array_append_new(a,
		    json_pack("{s:i, s:s, s:i, s:i, s:i, s:i, s:o, s:o}", "cpu",
			ci.cpu, "state", state, "core", ci.core, "package",
			ci.package, "llc", ci.llc, "node", ci.node, "job",
			holder != NULL ? json_string(holder->name)
				       : json_null(),
			"job_id",
			ci.granted_to != 0 ? json_integer(ci.granted_to)
					   : json_null()));
	}
	/* In the order they will start. */
	q = json_array();
	TAILQ_FOREACH (job, &sup->jobs, entry) {
		if (job->state != JOB_QUEUED || !job->queued_for_cpus)
			continue;
		json_array_append_new(
		    q, json_pack("{s:s, s:I, s:i, s:s}", "job", job->name,
			   "job_id", (json_int_t)job->id, "exclusive_cpus",
			   job->spec.exclusive_cpus, "reason",
			   job_text(job->reason)));
	}
	if (cpulist_format(cpus_usable(c), usable, sizeof(usable)) == -1 ||
	    cpulist_format(cpus_shared(c), shared, sizeof(shared)) == -1)
		usable[0] = shared[0] = '\0';
	if ((out = json_pack("{s:o, s:s, s:s, s:i, s:o}", "cpus", a, "usable",
		 usable, "shared", shared, "shared_cpus_min",
		 sup->sd->conf->shared_cpus_min, "queue", q)) == NULL)
		serr_set(err, SERR_INTERNAL, NULL, "out of memory");
	return (out);
}
