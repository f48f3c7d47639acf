/* SPDX-License-Identifier: ISC */
/*
 * A job's resources: its cgroups, its CPUs (an explicit list, an exclusive
 * grant, or the shared pool, whose cpusets shrink and grow as grants come
 * and go) and its scheduling policy with admission. What can never be
 * granted is refused when the job is created (422 with the reason); what
 * cannot be granted now queues the job. Without a cgroup backend jobs run
 * without cgroups, and what needs them is refused.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/cgroup.h"
#include "daemon/conf.h"
#include "daemon/cpus.h"
#include "daemon/log.h"
#include "daemon/policy.h"
#include "daemon/procfs.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

/* 1 if the backend offers the controller (a whole word of its list). */
static int
has_ctl(const struct cgroup_ops *cg, const char *ctl)
{
	const char *p, *list;
	size_t n = strlen(ctl);

	if (cg == NULL)
		return (0);
	for (list = p = cg->controllers(); (p = strstr(p, ctl)) != NULL;
	     p += n) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return (1);
	}
	return (0);
}

/*
 * Jobs' cpusets, shared: nearly every running job has the shared pool's
 * CPUs, and a 128-byte bitmap in each was a twentieth of what a running
 * job cost. One entry per distinct set in use, counted by the jobs that
 * hold it; there are few (the pool, the exclusive grants), so a list,
 * the last one used first.
 */
struct sup_cpuset {
	struct cpulist cl; /* first: a job's cpuset points at it */
	size_t refs;
	LIST_ENTRY(sup_cpuset) entry;
};
static LIST_HEAD(, sup_cpuset) sup_cpusets = LIST_HEAD_INITIALIZER(sup_cpusets);
static const struct cpulist sup_cpuset_none;

static void grave_add(struct supervisor *, int64_t);
static void grave_forget(struct supervisor *, int64_t);

void
sup_cpuset_set(struct job *job, const struct cpulist *cl)
{
	struct sup_cpuset *c;

	LIST_FOREACH (c, &sup_cpusets, entry)
		if (memcmp(&c->cl, cl, sizeof(c->cl)) == 0)
			break;
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->cl = *cl; /* before the drop: cl may be the job's own */
	} else
		LIST_REMOVE(c, entry);
	/* The last one used first: a repool sets every job to the same. */
	LIST_INSERT_HEAD(&sup_cpusets, c, entry);
	c->refs++;
	sup_cpuset_drop(job);
	job->cpuset = &c->cl;
}

void
sup_cpuset_drop(struct job *job)
{
	struct sup_cpuset *c;

	if (job->cpuset != NULL && job->cpuset != &sup_cpuset_none) {
		c = (struct sup_cpuset *)(uintptr_t)job->cpuset;
		if (--c->refs == 0) {
			LIST_REMOVE(c, entry);
			free(c);
		}
	}
	job->cpuset = &sup_cpuset_none;
}

#define GRAVE_PERIOD_MS 50  /* a removed job's cgroup, tried again */
#define GRAVE_TRIES     400 /* for 20 s */

struct sup_res {
	struct event *grave_ev; /* removes cgroups that were not empty */
	int64_t *grave;         /* their job ids */
	int *grave_tries;
	int ngrave;
	const struct cgroup_ops *cg; /* NULL: no cgroups */
	struct cpus *cpus;           /* NULL: topology unreadable */
	struct policy_books *books;
	int rt_groups; /* RT jobs need a cgroup budget */
};

/* What this machine's kernel allows for RT tasks, per period. */
static void
read_rt_limits(int64_t *period, int64_t *runtime)
{
	FILE *f;
	long long v;

	*period = 1000000;
	*runtime = 950000;
	if ((f = fopen("/proc/sys/kernel/sched_rt_period_us", "re")) != NULL) {
		if (fscanf(f, "%lld", &v) == 1 && v > 0)
			*period = v;
		fclose(f);
	}
	if ((f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "re")) != NULL) {
		if (fscanf(f, "%lld", &v) == 1)
			*runtime = v < 0 ? *period : v;
		fclose(f);
	}
}

/* The daemon's own CPUs: its affinity (what its cpuset allows). */
static void
own_cpus(struct cpulist *cl)
{
	cpu_set_t set;
	int i;

	cpulist_zero(cl);
	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		return;
	for (i = 0; i < CPU_SETSIZE && i < CPULIST_MAX; i++)
		if (CPU_ISSET(i, &set))
			cpulist_set(cl, (unsigned int)i);
}

/* Books with the kernel's own DEADLINE share (its fair server, 6.12+)
 * taken off every CPU, so that we never admit what it would refuse. */
static struct policy_books *
new_books(struct supervisor *sup, int64_t period, int64_t runtime)
{
	struct policy_books *b;
	int64_t dl_rt, dl_period;

	b = policy_books_new(period, runtime,
	    sup->res->rt_groups ? sup->sd->conf->rt_pool_us : 0,
	    sup->sd->conf->rt_job_us);
	if (policy_dl_server_probe(&dl_rt, &dl_period) == 0 && dl_rt > 0)
		policy_books_reserve_dl(b, dl_rt, dl_period);
	return (b);
}

int
sup_res_init(struct supervisor *sup, struct serr *err)
{
	struct config *conf = sup->sd->conf;
	struct sup_res *r;
	struct cgroup_env env;
	struct cpulist mine;
	struct serr e;
	struct stat sb;
	int64_t period, runtime;

	r = xcalloc(1, sizeof(*r));
	sup->res = r;
	memset(&env, 0, sizeof(env));
	env.fs_root = "/sys/fs/cgroup";
	env.self_cgroup = "/proc/self/cgroup";
	env.mountinfo = "/proc/self/mountinfo";
	env.subtree = conf->cgroup_root;
	env.move_self = 1;
	serr_clear(&e);
	if ((r->cg = cgroup_detect(&env, &e)) == NULL)
		log_warnx("no usable cgroups (%s): jobs run without them",
		    e.message[0] != '\0' ? e.message : "none found");
	else
		log_info(
		    "cgroup %s backend: %s", r->cg->name, r->cg->controllers());
	if (r->cg != NULL) {
		static const char *const want[] = {
		    "cpu", "cpuset", "memory", "pids", "freezer"};
		char missing[64] = "";
		size_t i;

		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!has_ctl(r->cg, want[i]))
				snprintf(missing + strlen(missing),
				    sizeof(missing) - strlen(missing), "%s%s",
				    missing[0] != '\0' ? " " : "", want[i]);
		if (missing[0] != '\0')
			log_warnx(
			    "cgroup controllers not available: %s; jobs "
			    "that need them are refused (422). On cgroup "
			    "v2, give schedd a cgroup of its own (the unit "
			    "with Delegate=yes, or systemd-run -p "
			    "Delegate=yes) to have them",
			    missing);
	}
	r->rt_groups = r->cg != NULL && strcmp(r->cg->name, "v1") == 0 &&
		       has_ctl(r->cg, "cpu") &&
		       stat("/sys/fs/cgroup/cpu/cpu.rt_runtime_us", &sb) == 0;

	own_cpus(&mine);
	serr_clear(&e);
	if ((r->cpus = cpus_new("/sys/devices/system/cpu",
		 "/sys/devices/system/node", &mine, conf->shared_cpus_min,
		 &e)) == NULL)
		log_warnx("CPU topology: %s", e.message);
	read_rt_limits(&period, &runtime);
	r->books = new_books(sup, period, runtime);
	(void)err;
	return (0);
}

/* Destroy whatever job cgroups remain, then our subtree. */
void
sup_res_free(struct supervisor *sup)
{
	struct sup_res *r = sup->res;
	struct serr e;
	int64_t *ids;
	int n, i;

	if (r == NULL)
		return;
	if (r->grave_ev != NULL)
		event_free(r->grave_ev);
	free(r->grave);
	free(r->grave_tries);
	/* What sup_res_release_all() could not remove in the loop (every
	 * job cgroup is empty by then, as a rule). */
	if (r->cg != NULL) {
		n = r->cg->list(&ids);
		for (i = 0; i < n; i++)
			if (r->cg->destroy(ids[i], &e) == -1)
				log_warnx("cgroup of job %" PRId64 ": %s",
				    ids[i], e.message);
		free(ids);
		r->cg->fini();
	}
	cpus_free(r->cpus);
	policy_books_free(r->books);
	free(r);
	sup->res = NULL;
}

static int
sched_is_rt(const struct job_spec *s)
{
	return (s->sched.set && (s->sched.policy == POLICY_FIFO ||
				    s->sched.policy == POLICY_RR));
}

static int
sched_is_dl(const struct job_spec *s)
{
	return (s->sched.set && s->sched.policy == POLICY_DEADLINE);
}

void
sup_policy_attr(const struct job_sched *s, struct policy_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->sched_policy = SCHED_OTHER;
	if (s == NULL || !s->set)
		return;
	switch (s->policy) {
	case POLICY_OTHER:
	case POLICY_BATCH:
		a->sched_policy =
		    s->policy == POLICY_BATCH ? SCHED_BATCH : SCHED_OTHER;
		a->sched_nice = s->has_nice ? s->nice : 0;
		break;
	case POLICY_IDLE:
		a->sched_policy = SCHED_IDLE;
		break;
	case POLICY_FIFO:
	case POLICY_RR:
		a->sched_policy =
		    s->policy == POLICY_RR ? SCHED_RR : SCHED_FIFO;
		a->sched_priority = (uint32_t)s->priority;
		break;
	case POLICY_DEADLINE:
		a->sched_policy = SCHED_DEADLINE;
		a->sched_runtime = s->runtime_us * 1000;
		a->sched_deadline = s->deadline_us * 1000;
		a->sched_period = s->period_us * 1000;
		break;
	}
	if (s->reset_on_fork)
		a->sched_flags |= SCHED_FLAG_RESET_ON_FORK;
}

/* What the books are given for s: its attributes in a, or NULL when the
 * job asks for no policy. */
static const struct policy_attr *
books_attr(const struct job_sched *s, struct policy_attr *a)
{
	if (!s->set)
		return (NULL);
	sup_policy_attr(s, a);
	return (a);
}

/*
 * A job's cpus_within as a set: every CPU when it has none. An outer
 * scheduler (Slurm) allotted these; schedd grants nothing outside them.
 */
static void
within_cpus(const struct job_spec *spec, struct cpulist *out)
{
	const char *why;
	unsigned int x;

	if (spec->cpus_within != NULL &&
	    cpulist_parse(spec->cpus_within, out, 0, &why) == 0)
		return;
	cpulist_zero(out);
	for (x = 0; x < CPULIST_MAX; x++)
		cpulist_set(out, x);
}

/* a &= b; returns how many are left. */
static unsigned int
cpus_and(struct cpulist *a, const struct cpulist *b)
{
	cpulist_and(a, b);
	return (cpulist_count(a));
}

/* The grant may never leave cpus_within: refuse what cannot fit it. */
static int
within_check(struct sup_res *r, const struct job_spec *spec, struct serr *err)
{
	struct cpulist within, want, in;
	char text[1024];
	const char *why;
	unsigned int n;

	if (spec->cpus_within == NULL)
		return (0);
	within_cpus(spec, &within);
	if (spec->cpus != NULL &&
	    cpulist_parse(spec->cpus, &want, 0, &why) == 0 &&
	    !cpulist_subset(&want, &within)) {
		serr_set(err, SERR_UNSATISFIABLE, "cpus",
		    "cpus %s is not within cpus_within %s", spec->cpus,
		    spec->cpus_within);
		return (-1);
	}
	if (r->cpus == NULL)
		return (0);
	in = *cpus_usable(r->cpus);
	n = cpus_and(&in, &within);
	if (cpulist_format(&in, text, sizeof(text)) == -1)
		text[0] = '\0';
	if (n == 0) {
		serr_set(err, SERR_UNSATISFIABLE, "cpus_within",
		    "none of cpus_within %s is a CPU schedd may use",
		    spec->cpus_within);
		return (-1);
	}
	if (spec->exclusive_cpus > 0 &&
	    (unsigned int)spec->exclusive_cpus > n) {
		serr_set(err, SERR_UNSATISFIABLE, "exclusive_cpus",
		    "%d exclusive CPUs asked, cpus_within %s holds %u schedd "
		    "may use (%s)",
		    spec->exclusive_cpus, spec->cpus_within, n, text);
		return (-1);
	}
	return (0);
}

/*
 * The CPUs a grant must keep away from: those pinned jobs use and, for a
 * job with cpus_within, every CPU outside it.
 */
static void
avoid_outside(const struct job_spec *spec, struct cpulist *avoid)
{
	struct cpulist within;
	unsigned int x;

	if (spec->cpus_within == NULL)
		return;
	within_cpus(spec, &within);
	for (x = 0; x < CPULIST_MAX; x++)
		if (!cpulist_isset(&within, x))
			cpulist_set(avoid, x);
}

int
sup_res_check(
    struct supervisor *sup, const struct job_spec *spec, struct serr *err)
{
	struct sup_res *r = sup->res;
	struct policy_attr pa;
	struct cpulist want;
	const char *why;
	int ncpus;
	int64_t rt;

	if (spec->limits.set &&
	    (r->cg == NULL ||
		(spec->limits.memory_max != 0 && !has_ctl(r->cg, "memory")) ||
		(spec->limits.pids_max != 0 && !has_ctl(r->cg, "pids")))) {
		serr_set(err, SERR_UNSATISFIABLE, "limits",
		    "limits need cgroup controllers this machine does not give "
		    "schedd");
		return (-1);
	}
	if (spec->limits.set && r->cg != NULL &&
	    (spec->limits.cpu_quota_pct != 0 || spec->limits.cpu_weight != 0) &&
	    !has_ctl(r->cg, "cpu")) {
		serr_set(err, SERR_UNSATISFIABLE,
		    spec->limits.cpu_quota_pct != 0 ? "limits.cpu_quota_pct"
						    : "limits.cpu_weight",
		    "the cpu cgroup controller is not available to schedd");
		return (-1);
	}
	if ((spec->cpus != NULL || spec->exclusive_cpus > 0) && r->cg != NULL &&
	    !has_ctl(r->cg, "cpuset")) {
		serr_set(err, SERR_UNSATISFIABLE,
		    spec->cpus != NULL ? "cpus" : "exclusive_cpus",
		    "the cpuset cgroup controller is not available to schedd "
		    "(on cgroup v2: schedd shares its cgroup with other "
		    "processes; run it in a cgroup of its own, as the unit "
		    "with Delegate=yes does)");
		return (-1);
	}
	if (spec->cpus != NULL) {
		if (cpulist_parse(spec->cpus, &want, 0, &why) == -1) {
			serr_set(err, SERR_INVALID, "cpus", "%s", why);
			return (-1);
		}
		if (r->cpus == NULL) {
			serr_set(err, SERR_UNSATISFIABLE, "cpus",
			    "the CPU topology could not be read");
			return (-1);
		}
		if (cpus_check_list(r->cpus, &want, err) == -1)
			return (-1);
	}
	if (within_check(r, spec, err) == -1)
		return (-1);
	if (spec->exclusive_cpus > 0 &&
	    (r->cpus == NULL || cpus_grant_possible(r->cpus,
				    spec->exclusive_cpus, err) == -1)) {
		if (r->cpus == NULL)
			serr_set(err, SERR_UNSATISFIABLE, "exclusive_cpus",
			    "the CPU topology could not be read");
		return (-1);
	}
	if (sched_is_dl(spec) &&
	    (spec->cpus != NULL || spec->exclusive_cpus > 0)) {
		serr_set(err, SERR_UNSATISFIABLE, "sched.policy",
		    "a DEADLINE job cannot be pinned: the kernel refuses "
		    "SCHED_DEADLINE for a task whose CPUs are a strict subset of "
		    "its root domain, and schedd does not make exclusive cpuset "
		    "partitions; leave cpus and exclusive_cpus unset");
		return (-1);
	}
	if (sched_is_rt(spec) && r->rt_groups == 0 && r->cg == NULL &&
	    geteuid() != 0) {
		serr_set(err, SERR_UNSATISFIABLE, "sched.policy",
		    "real-time policies need privilege schedd does not have");
		return (-1);
	}
	/* A dry run of admission: what can never fit is refused now. */
	if (sched_is_rt(spec) || sched_is_dl(spec)) {
		struct policy_books *probe;
		int64_t period, runtime;

		read_rt_limits(&period, &runtime);
		probe = new_books(sup, period, runtime);
		ncpus = r->cpus != NULL
			    ? (int)cpulist_count(cpus_shared(r->cpus))
			    : 1;
		if (policy_admit(probe, 0, books_attr(&spec->sched, &pa), ncpus,
			&rt, err) == -1) {
			policy_books_free(probe);
			return (-1);
		}
		policy_books_free(probe);
		/* And against what is admitted now. */
		if (policy_admit(r->books, -1, books_attr(&spec->sched, &pa),
			ncpus, &rt, err) == -1)
			return (-1);
		policy_release(r->books, -1);
	}
	return (0);
}

/*
 * A shared-pool job with cpus_within has a cpuset of its own: the pool
 * within its bound. When the pool leaves it nothing there, it keeps what
 * it had rather than leave its bound (a cpuset cannot be empty).
 */
static void
repool_within(struct sup_res *r, struct job *job, const struct cpulist *shared)
{
	struct cpulist set = *shared, within;
	struct serr e;
	char buf[4096];

	within_cpus(&job->spec, &within);
	if (cpus_and(&set, &within) == 0 ||
	    cpulist_format(&set, buf, sizeof(buf)) == -1)
		return;
	if (r->cg->set_cpus(job->id, buf, &e) == -1)
		log_warnx("%s: cpuset %s: %s", job->name, buf, e.message);
	sup_cpuset_set(job, &set);
	job->cpuset_valid = 1;
}

/* Shared-pool jobs follow the pool: set their cpusets to it. */
static void
sup_res_repool(struct supervisor *sup)
{
	struct sup_res *r = sup->res;
	const struct cpulist *shared;
	struct job *job;
	struct serr e;
	char buf[4096];
	int all;

	if (r->cg == NULL || r->cpus == NULL)
		return;
	shared = cpus_shared(r->cpus);
	if (cpulist_format(shared, buf, sizeof(buf)) == -1)
		return;
	if ((all = r->cg->set_shared(buf, &e)) == -1)
		log_warnx("shared pool %s: %s", buf, e.message);
	TAILQ_FOREACH (job, &sup->jobs, entry) {
		if (!job->has_cgroup || job->spec.cpus != NULL ||
		    job->spec.exclusive_cpus > 0)
			continue;
		if (job->spec.cpus_within != NULL) {
			repool_within(r, job, shared);
			continue;
		}
		if (all == 0 && r->cg->set_cpus(job->id, buf, &e) == -1)
			log_warnx(
			    "%s: cpuset %s: %s", job->name, buf, e.message);
		sup_cpuset_set(job, shared);
		job->cpuset_valid = 1;
	}
}

/* 1 if a running DEADLINE job would lose CPUs when the pool shrinks. */
static int
dl_on_shared_pool(struct supervisor *sup)
{
	struct job *job;

	TAILQ_FOREACH (job, &sup->jobs, entry)
		if (sched_is_dl(&job->spec) &&
		    (job->state == JOB_STARTING || job->state == JOB_RUNNING ||
			job->state == JOB_PAUSED || job->state == JOB_STOPPING))
			return (1);
	return (0);
}

int
sup_res_oom_poll(struct supervisor *sup, struct job *job)
{
	int64_t n;

	if (sup->res->cg == NULL || !job->has_cgroup ||
	    sup->res->cg->oom_kills(job->id, &n) == -1 || n <= job->oom_base)
		return (0);
	job->oom_base = n;
	job->run.oom_killed = 1;
	log_warnx(
	    "%s: OOM kill in its cgroup (%" PRId64 " so far)", job->name, n);
	return (1);
}

/*
 * An exclusive CPU is used by nothing else schedd runs: a pinned job's
 * list must not hold a granted CPU, and a grant must not take a CPU a
 * running pinned job uses. On a clash, why says which and the job queues.
 */
/* 1 if l asks for any limit (a new cgroup needs no writes otherwise). */
static int
limits_set(const struct job_limits *l)
{
	return (l->memory_max != 0 || l->pids_max != 0 ||
		l->cpu_quota_pct != 0 || l->cpu_weight != 0);
}

static int
pinned_clash(struct supervisor *sup, const struct job *self,
    const struct cpulist *set, char *why, size_t whylen)
{
	const struct cpus *c = sup->res->cpus;
	struct cpu_info ci;
	struct job *j;
	unsigned int cpu;

	for (cpu = cpulist_next_set(set, 0); c != NULL && cpu < CPULIST_MAX;
	     cpu = cpulist_next_set(set, cpu + 1)) {
		if (self->spec.cpus != NULL &&
		    cpus_info(c, (int)cpu, &ci) == 0 && ci.granted_to != 0 &&
		    ci.granted_to != self->id) {
			snprintf(why, whylen,
			    "waiting for CPU %u: it is granted "
			    "exclusively to job %lld",
			    cpu, (long long)ci.granted_to);
			return (1);
		}
		if (self->spec.exclusive_cpus == 0)
			continue;
		TAILQ_FOREACH (j, &sup->jobs, entry) {
			if (j == self || j->spec.cpus == NULL ||
			    !j->cpuset_valid ||
			    !cpulist_isset(j->cpuset, cpu) ||
			    (j->state != JOB_STARTING &&
				j->state != JOB_RUNNING &&
				j->state != JOB_PAUSED &&
				j->state != JOB_STOPPING))
				continue;
			snprintf(why, whylen,
			    "waiting for %d exclusive CPUs: "
			    "CPU %u is pinned by job %s",
			    self->spec.exclusive_cpus, cpu, j->name);
			return (1);
		}
	}
	return (0);
}

/*
 * 1 if a running shared-pool job with cpus_within has no shared CPU left
 * within its bound (a grant just took them): its cpuset cannot follow the
 * pool, so the grant must wait rather than share its CPUs with it.
 */
static int
within_starved(struct supervisor *sup, const struct job *self, int n, char *why,
    size_t whylen)
{
	struct cpulist set, within;
	struct job *j;

	if (sup->res->cpus == NULL)
		return (0);
	TAILQ_FOREACH (j, &sup->jobs, entry) {
		if (j == self || j->spec.cpus_within == NULL ||
		    j->spec.cpus != NULL || j->spec.exclusive_cpus > 0 ||
		    (j->state != JOB_STARTING && j->state != JOB_RUNNING &&
			j->state != JOB_PAUSED && j->state != JOB_STOPPING))
			continue;
		set = *cpus_shared(sup->res->cpus);
		within_cpus(&j->spec, &within);
		if (cpus_and(&set, &within) > 0)
			continue;
		snprintf(why, whylen,
		    "waiting for %d exclusive CPUs: job %s would have no CPU "
		    "left within its cpus_within %s",
		    n, j->name, j->spec.cpus_within);
		return (1);
	}
	return (0);
}

/* The CPUs running pinned jobs use: grants keep away from them. */
static void
pinned_cpus(struct supervisor *sup, struct cpulist *out)
{
	struct job *j;

	cpulist_zero(out);
	TAILQ_FOREACH (j, &sup->jobs, entry) {
		if (j->spec.cpus == NULL || !j->cpuset_valid ||
		    (j->state != JOB_STARTING && j->state != JOB_RUNNING &&
			j->state != JOB_PAUSED && j->state != JOB_STOPPING))
			continue;
		cpulist_or(out, j->cpuset);
	}
}

/* Why a DEADLINE job waits for bandwidth the books admit. */
#define SUP_DL_SETTLING                                                        \
	"waiting for the kernel to give back the DEADLINE bandwidth of a job " \
	"that ended (it does within that job's deadline)"

int
sup_res_prepare(struct supervisor *sup, struct job *job,
    struct sup_spawn_res *sr, char *why, size_t whylen, struct serr *err)
{
	struct sup_res *r = sup->res;
	struct cpulist set, avoid;
	int64_t oom;
	const char *w;
	char buf[4096];
	int ncpus, fresh, dirfd = -1;
	unsigned int x;
	int64_t rt_us = 0;

	memset(sr, 0, sizeof(*sr));
	sr->nfds = 0;
	free(job->usage_end);
	job->usage_end = NULL;
	job->cpuset_valid = 0;
	job->queued_for_cpus = 0;

	/* CPUs. */
	if (job->spec.cpus != NULL) {
		if (cpulist_parse(job->spec.cpus, &set, 0, &w) == -1 ||
		    (r->cpus != NULL &&
			cpus_check_list(r->cpus, &set, err) == -1))
			return (-1);
		if (pinned_clash(sup, job, &set, why, whylen)) {
			job->queued_for_cpus = 1;
			return (1);
		}
	} else if (job->spec.exclusive_cpus > 0) {
		if (r->cpus == NULL) {
			serr_set(err, SERR_UNSATISFIABLE, "exclusive_cpus",
			    "the CPU topology could not be read");
			return (-1);
		}
		if (cpus_granted(r->cpus, job->id, &set) == -1) {
			if (cpus_grant_possible(
				r->cpus, job->spec.exclusive_cpus, err) == -1)
				return (-1);
			if (dl_on_shared_pool(sup)) {
				snprintf(why, whylen,
				    "waiting for %d exclusive "
				    "CPUs: a DEADLINE job runs on the shared "
				    "pool",
				    job->spec.exclusive_cpus);
				job->queued_for_cpus = 1;
				return (1);
			}
			pinned_cpus(sup, &avoid);
			avoid_outside(&job->spec, &avoid);
			if (cpus_grant_avoid(r->cpus, job->id,
				job->spec.exclusive_cpus, &avoid, &set,
				err) == -1) {
				snprintf(why, whylen,
				    "waiting for %d exclusive "
				    "CPUs: %s",
				    job->spec.exclusive_cpus, err->message);
				serr_clear(err);
				job->queued_for_cpus = 1;
				return (1);
			}
			if (pinned_clash(sup, job, &set, why, whylen) ||
			    within_starved(sup, job, job->spec.exclusive_cpus,
				why, whylen)) {
				cpus_release(r->cpus, job->id);
				job->queued_for_cpus = 1;
				return (1);
			}
			sup_res_repool(sup);
		}
	} else if (r->cpus != NULL) {
		set = *cpus_shared(r->cpus);
		if (job->spec.cpus_within != NULL) {
			struct cpulist within;

			within_cpus(&job->spec, &within);
			if (cpus_and(&set, &within) == 0) {
				snprintf(why, whylen,
				    "waiting for a shared CPU within "
				    "cpus_within %s: all are granted "
				    "exclusively",
				    job->spec.cpus_within);
				job->queued_for_cpus = 1;
				return (1);
			}
		}
	} else
		cpulist_zero(&set);
	ncpus = (int)cpulist_count(&set);
	if (ncpus > 0) {
		sup_cpuset_set(job, &set);
		job->cpuset_valid = 1;
		CPU_ZERO(&sr->affinity);
		for (x = cpulist_next_set(&set, 0);
		     x < CPU_SETSIZE && x < CPULIST_MAX;
		     x = cpulist_next_set(&set, x + 1))
			CPU_SET(x, &sr->affinity);
		/*
		 * A DEADLINE task must keep its whole root domain. A
		 * shared-pool job is confined by its cpuset alone: since Linux
		 * 6.2 the kernel keeps the affinity a task asked for and
		 * intersects later cpuset changes with it, so the pool growing
		 * back would never reach it.
		 */
		sr->has_affinity =
		    !sched_is_dl(&job->spec) &&
		    (job->spec.cpus != NULL || job->spec.exclusive_cpus > 0 ||
			job->spec.cpus_within != NULL || r->cg == NULL);
	}

	/* Policy and admission. */
	if (job->spec.sched.set) {
		if (policy_admit(r->books, job->id,
			books_attr(&job->spec.sched, &sr->attr),
			ncpus > 0 ? ncpus : 1, &rt_us, err) == -1)
			goto fail;
		if (sched_is_dl(&job->spec) &&
		    (sr->retry_ms = policy_dl_wait(
			 r->books, ncpus > 0 ? ncpus : 1, now_ms())) > 0) {
			policy_release(r->books, job->id);
			job->cpuset_valid = 0;
			snprintf(why, whylen, "%s", SUP_DL_SETTLING);
			return (1);
		}
		sr->has_attr = 1;
	}

	/* Cgroups. */
	if (r->cg == NULL) {
		if (job->spec.limits.set) {
			serr_set(err, SERR_UNSATISFIABLE, "limits",
			    "no cgroups: limits cannot be applied");
			goto fail;
		}
		return (0);
	}
	/* Its cgroup is in use again: no longer to be removed. */
	grave_forget(sup, job->id);
	if ((fresh = r->cg->create(job->id, err)) == -1)
		goto fail;
	job->has_cgroup = 1;
	/* Empty: the shared pool, which set_shared keeps. */
	buf[0] = '\0';
	if (job->spec.cpus != NULL || job->spec.exclusive_cpus > 0 ||
	    job->spec.cpus_within != NULL)
		cpulist_format(&set, buf, sizeof(buf));
	/* A new cgroup has every limit at its default already. */
	if (r->cg->set_cpus(job->id, buf, err) == -1 ||
	    ((!fresh || limits_set(&job->spec.limits)) &&
		r->cg->set_limits(job->id, &job->spec.limits, err) == -1) ||
	    /* Only RT jobs touch the RT budget: each change is O(jobs). */
	    (r->rt_groups && rt_us > 0 &&
		r->cg->set_rt_runtime(job->id, rt_us, err) == -1))
		goto fail;
	if ((sr->nfds = r->cg->attach_fds(
		 job->id, sr->fds, CGROUP_FDS_MAX, &dirfd, err)) == -1) {
		sr->nfds = 0;
		goto fail;
	}
	if (dirfd != -1)
		close(dirfd);
	job->oom_base =
	    !fresh && r->cg->oom_kills(job->id, &oom) == 0 && oom > 0 ? oom : 0;
	return (0);
fail:
	sup_res_spawn_done(sup, job, sr);
	sup_res_run_ended(sup, job);
	return (-1);
}

int
sup_res_plan(struct supervisor *sup, const struct job_spec *spec, int64_t id,
    struct sup_res_plan *p, struct serr *err)
{
	struct sup_res *r = sup->res;
	struct policy_attr pa;
	struct job self;
	struct cpulist avoid;
	const char *w;
	int rc = 0, granted = 0;

	memset(p, 0, sizeof(*p));
	memset(&self, 0, sizeof(self));
	self.spec = *spec; /* a shallow copy: read only */
	self.id = id;
	p->backend = r->cg != NULL ? r->cg->name : NULL;
	p->rt_groups = r->rt_groups;
	policy_figures(r->books, &p->before);
	p->after = p->before;
	if (spec->cpus != NULL) {
		p->kind = 1;
		if (cpulist_parse(spec->cpus, &p->cpus, 0, &w) == -1) {
			serr_set(err, SERR_INVALID, "cpus", "%s", w);
			return (-1);
		}
		if (r->cpus != NULL &&
		    cpus_check_list(r->cpus, &p->cpus, err) == -1)
			return (-1);
		if (pinned_clash(sup, &self, &p->cpus, p->why, sizeof(p->why)))
			return (1);
	} else if (spec->exclusive_cpus > 0) {
		p->kind = 2;
		if (r->cpus == NULL) {
			serr_set(err, SERR_UNSATISFIABLE, "exclusive_cpus",
			    "the CPU topology could not be read");
			return (-1);
		}
		if (cpus_grant_possible(r->cpus, spec->exclusive_cpus, err) ==
		    -1)
			return (-1);
		if (dl_on_shared_pool(sup)) {
			snprintf(p->why, sizeof(p->why),
			    "waiting for %d exclusive CPUs: a DEADLINE job runs "
			    "on the shared pool",
			    spec->exclusive_cpus);
			return (1);
		}
		pinned_cpus(sup, &avoid);
		avoid_outside(spec, &avoid);
		if (cpus_grant_avoid(r->cpus, id, spec->exclusive_cpus, &avoid,
			&p->cpus, err) == -1) {
			snprintf(p->why, sizeof(p->why),
			    "waiting for %d exclusive CPUs: %.200s",
			    spec->exclusive_cpus, err->message);
			serr_clear(err);
			return (1);
		}
		granted = 1;
		if (pinned_clash(
			sup, &self, &p->cpus, p->why, sizeof(p->why)) ||
		    within_starved(sup, &self, spec->exclusive_cpus, p->why,
			sizeof(p->why))) {
			cpus_release(r->cpus, id);
			return (1);
		}
		snprintf(p->order, sizeof(p->order),
		    "topology order: whole packages, then whole cores (all "
		    "SMT siblings), packed into one LLC, then one NUMA node, "
		    "lowest ids first; CPUs pinned jobs use are avoided, and "
		    "%d CPU%s stay%s shared",
		    sup->sd->conf->shared_cpus_min,
		    sup->sd->conf->shared_cpus_min == 1 ? "" : "s",
		    sup->sd->conf->shared_cpus_min == 1 ? "s" : "");
	} else if (r->cpus != NULL) {
		struct cpulist within;

		p->cpus = *cpus_shared(r->cpus);
		within_cpus(spec, &within);
		if (cpus_and(&p->cpus, &within) == 0) {
			snprintf(p->why, sizeof(p->why),
			    "waiting for a shared CPU within cpus_within %s: "
			    "all are granted exclusively",
			    spec->cpus_within);
			return (1);
		}
	} else
		cpulist_zero(&p->cpus);
	p->ncpus = (int)cpulist_count(&p->cpus);
	if (spec->sched.set) {
		if (policy_admit(r->books, id, books_attr(&spec->sched, &pa),
			p->ncpus > 0 ? p->ncpus : 1, &p->rt_us, err) == -1)
			rc = -1;
		else {
			policy_figures(r->books, &p->after);
			if (sched_is_dl(spec) &&
			    policy_dl_wait(r->books,
				p->ncpus > 0 ? p->ncpus : 1, now_ms()) > 0) {
				snprintf(p->why, sizeof(p->why), "%s",
				    SUP_DL_SETTLING);
				rc = 1;
			}
			policy_release(r->books, id);
		}
	}
	if (rc == 0 && r->cg == NULL && spec->limits.set) {
		serr_set(err, SERR_UNSATISFIABLE, "limits",
		    "no cgroups: limits cannot be applied");
		rc = -1;
	}
	if (granted)
		cpus_release(r->cpus, id);
	return (rc);
}

void
sup_res_spawn_done(
    struct supervisor *sup, struct job *job, struct sup_spawn_res *sr)
{
	int i;

	(void)sup;
	(void)job;
	for (i = 0; i < sr->nfds; i++)
		close(sr->fds[i]);
	sr->nfds = 0;
}

void
sup_res_started(struct supervisor *sup, struct job *job,
    void (*oom_cb)(evutil_socket_t, short, void *))
{
	struct sup_res *r = sup->res;

	/*
	 * Watched live only under a limit of its own (where OOMs happen, and
	 * one fd per job would cap how many jobs RLIMIT_NOFILE allows); any
	 * other job's OOM kills are counted when its run ends.
	 */
	if (r->cg == NULL || !job->has_cgroup || job->oom_ev != NULL ||
	    job->spec.limits.memory_max == 0)
		return;
	if ((job->oom_fd = r->cg->oom_fd(job->id)) == -1)
		return;
	job->oom_ev = event_new(
	    sup->sd->base, job->oom_fd, EV_READ | EV_PERSIST, oom_cb, job);
	event_add(job->oom_ev, NULL);
}

/*
 * The run is over: its grant and policy claim are released. Returns 1 if
 * there was one (queued jobs may fit now).
 */
int
sup_res_run_ended(struct supervisor *sup, struct job *job)
{
	struct sup_res *r = sup->res;
	struct cpulist held;
	int released = job->spec.sched.set;

	if (r->cpus != NULL && cpus_granted(r->cpus, job->id, &held) == 0) {
		cpus_release(r->cpus, job->id);
		sup_res_repool(sup);
		released = 1;
	}
	policy_ended(r->books, job->id, now_ms());
	if (job->oom_ev != NULL) {
		event_free(job->oom_ev);
		job->oom_ev = NULL;
	}
	if (job->oom_fd != -1) {
		close(job->oom_fd);
		job->oom_fd = -1;
	}
	return (released);
}

static int
proc_id_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct proc_id *)a)->pid;
	pid_t y = ((const struct proc_id *)b)->pid;

	return ((x > y) - (x < y));
}

/* A stop's reads of cgroup.procs at most, per call (sup_res_stop_signal). */
#define SUP_STOP_ROUNDS 8

/* A round cut short: the members it read, and where it stopped. */
struct sup_stop_todo {
	pid_t *pids;
	int n, at;
};

void
sup_res_stop_forget(struct job *job)
{
	free(job->stop_procs);
	job->stop_procs = NULL;
	job->nstop_procs = 0;
	if (job->stop_todo != NULL) {
		free(job->stop_todo->pids);
		free(job->stop_todo);
		job->stop_todo = NULL;
	}
}

/*
 * One round of a stop: sig to each member not yet signalled (stop_procs,
 * kept in pid order), which is then remembered with its start time; with
 * orphans, only to members whose parent is not one. At most *budget are
 * signalled (each costs a /proc read and a kill(2): 10,000 members held
 * the loop 231 ms); *budget is what is left of it, and 0 with *cut set
 * when members were left unexamined. Returns how many were signalled.
 */
static int
sup_stop_round(struct sup_res *r, struct job *job, int sig, int orphans,
    int *budget, int *cut)
{
	struct proc_id key;
	struct proc_stat ps;
	pid_t *pids, self = getpid();
	int n, i = 0, count = 0;

	/* A stop's round cut short goes on where it stopped: reading 10,000
	 * members again (v1 loads and sorts them) cost as much as the
	 * signals. The catch-up (orphans) reads afresh. */
	if (!orphans && job->stop_todo != NULL) {
		pids = job->stop_todo->pids;
		n = job->stop_todo->n;
		i = job->stop_todo->at;
		free(job->stop_todo);
		job->stop_todo = NULL;
	} else if ((n = r->cg->procs_all(job->id, &pids)) > 0)
		/* All of them: a round that read some (4,096 once) sent
		 * nothing to the rest, and the next read the same ones
		 * again. */
		qsort(pids, (size_t)n, sizeof(*pids), util_pid_cmp);
	for (; i < n; i++) {
		/* Known by pid alone: no /proc read for what was signalled. */
		key.pid = pids[i];
		if (job->nstop_procs > 0 &&
		    bsearch(&key, job->stop_procs, (size_t)job->nstop_procs,
			sizeof(*job->stop_procs), proc_id_cmp) != NULL)
			continue;
		if (*budget <= 0) {
			*cut = 1;
			if (!orphans) {
				job->stop_todo =
				    xcalloc(1, sizeof(*job->stop_todo));
				job->stop_todo->pids = pids;
				job->stop_todo->n = n;
				job->stop_todo->at = i;
				pids = NULL;
			}
			break;
		}
		if (pids[i] == self || procfs_stat(pids[i], &ps) == -1 ||
		    (orphans && bsearch(&ps.ppid, pids, (size_t)n,
				    sizeof(*pids), util_pid_cmp) != NULL) ||
		    kill(pids[i], sig) == -1)
			continue;
		(*budget)--;
		/* Room for 8, then doubled: 10,000 reallocs were a copy
		 * each. */
		if (job->nstop_procs == 0 ||
		    (job->nstop_procs >= 8 &&
			(job->nstop_procs & (job->nstop_procs - 1)) == 0))
			job->stop_procs = xreallocarray(job->stop_procs,
			    job->nstop_procs > 0 ? (size_t)job->nstop_procs * 2
						 : 8,
			    sizeof(*job->stop_procs));
		job->stop_procs[job->nstop_procs].pid = pids[i];
		job->stop_procs[job->nstop_procs++].start = ps.starttime;
		count++;
	}
	if (count > 0)
		qsort(job->stop_procs, (size_t)job->nstop_procs,
		    sizeof(*job->stop_procs), proc_id_cmp);
	free(pids);
	return (count);
}

/* A stop begins: nothing signalled yet. 0, or -1 without a cgroup. */
static int
sup_stop_begin(struct sup_res *r, struct job *job)
{
	sup_res_stop_forget(job);
	return (r->cg == NULL || !job->has_cgroup ? -1 : 0);
}

void
sup_res_snapshot(struct supervisor *sup, struct job *job)
{
	int budget = INT_MAX, cut = 0;

	/* Signal 0 sends nothing: every member is remembered. */
	if (sup_stop_begin(sup->res, job) == 0)
		sup_stop_round(sup->res, job, 0, 0, &budget, &cut);
}

/* Rounds until one finds no one new, SUP_STOP_BATCH signals at most. */
static int
sup_stop_rounds(struct sup_res *r, struct job *job, int sig, int *more)
{
	int round, n, count = 0, budget = SUP_STOP_BATCH, cut = 0, resumed;

	for (round = 0; round < SUP_STOP_ROUNDS; round++) {
		/* The rest of a round cut short is not a round of its own:
		 * finding no one new in it ends nothing. */
		resumed = job->stop_todo != NULL;
		n = sup_stop_round(r, job, sig, 0, &budget, &cut);
		count += n;
		if (cut)
			break;
		if (resumed)
			round--;
		else if (n == 0)
			break;
	}
	*more = cut;
	return (count);
}

int
sup_res_stop_signal(struct supervisor *sup, struct job *job, int sig, int *more)
{
	*more = 0;
	if (sup_stop_begin(sup->res, job) == -1)
		return (-1);
	return (sup_stop_rounds(sup->res, job, sig, more));
}

int
sup_res_stop_more(struct supervisor *sup, struct job *job, int sig, int *more)
{
	*more = 0;
	if (sup->res->cg == NULL || !job->has_cgroup)
		return (-1);
	return (sup_stop_rounds(sup->res, job, sig, more));
}

void
sup_res_stop_catchup(struct supervisor *sup, struct job *job, int sig)
{
	struct sup_res *r = sup->res;
	int n, budget = SUP_STOP_BATCH, cut = 0;

	if (r->cg == NULL || !job->has_cgroup ||
	    (n = sup_stop_round(r, job, sig, 1, &budget, &cut)) == 0)
		return;
	log_info("%s: %s to %d process%s the stop signal missed", job->name,
	    util_signal_name(sig), n, n == 1 ? "" : "es");
}

int
sup_res_tree_gone(struct supervisor *sup, struct job *job)
{
	struct proc_id *p;
	int i;

	/* A process leaves its cgroup a moment before it is a zombie. */
	if (sup_res_nprocs(sup, job) > 0)
		return (0);
	/* Without cgroups: the job's process group (its main process led
	 * it; a group id is not reused while any member lives). */
	if ((sup->res->cg == NULL || !job->has_cgroup) && job->run.pid > 1 &&
	    kill(-job->run.pid, 0) == 0)
		return (0);
	/*
	 * The members the stop signalled, until one is still alive; those
	 * seen gone are dropped, so that the next look starts there. A pid
	 * no process has is gone without a /proc read: with 10,000 members
	 * the reads alone held the loop 30-170 ms.
	 */
	for (i = 0; i < job->nstop_procs; i++) {
		p = &job->stop_procs[i];
		if ((kill(p->pid, 0) == 0 || errno != ESRCH) &&
		    procfs_alive(p->pid, p->start))
			break;
	}
	if (i > 0) {
		memmove(job->stop_procs, job->stop_procs + i,
		    (size_t)(job->nstop_procs - i) * sizeof(*job->stop_procs));
		job->nstop_procs -= i;
	}
	return (job->nstop_procs == 0);
}

int
sup_res_nprocs(struct supervisor *sup, const struct job *job)
{
	struct sup_res *r = sup->res;
	pid_t pids[1];

	if (r->cg == NULL || !job->has_cgroup)
		return (-1);
	return (r->cg->procs(job->id, pids, 1));
}

int
sup_res_signal(struct supervisor *sup, struct job *job, int sig)
{
	struct sup_res *r = sup->res;
	struct serr e;

	if (r->cg == NULL || !job->has_cgroup)
		return (-1);
	return (r->cg->kill(job->id, sig, &e));
}

int
sup_res_freeze(
    struct supervisor *sup, struct job *job, int frozen, struct serr *err)
{
	struct sup_res *r = sup->res;

	if (r->cg == NULL || !job->has_cgroup || !has_ctl(r->cg, "freezer")) {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "pause needs the cgroup freezer, which this machine does "
		    "not give schedd");
		return (-1);
	}
	return (r->cg->freeze(job->id, frozen, err));
}

/* The job is being removed: nothing of it may stay behind. */
void
sup_res_remove(struct supervisor *sup, struct job *job)
{
	struct sup_res *r = sup->res;
	struct serr e;

	sup_res_run_ended(sup, job);
	if (r->cg == NULL || !job->has_cgroup)
		return;
	job->has_cgroup = 0;
	if (r->cg->procs(job->id, &(pid_t){0}, 1) > 0) {
		/* What is left is killed; the cgroup goes once empty. */
		r->cg->kill(job->id, SIGKILL, &e);
		grave_add(sup, job->id);
	} else if (r->cg->destroy(job->id, &e) == -1)
		log_warnx("%s: cgroup: %s", job->name, e.message);
}

static void
grave_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct sup_res *r = sup->res;
	struct timeval tv = {0, GRAVE_PERIOD_MS * 1000};
	struct serr e;
	pid_t pid;
	int i, n = 0;

	(void)fd;
	(void)what;
	for (i = 0; i < r->ngrave; i++) {
		if (r->cg->procs(r->grave[i], &pid, 1) > 0 &&
		    ++r->grave_tries[i] < GRAVE_TRIES) {
			r->cg->kill(r->grave[i], SIGKILL, &e);
			r->grave[n] = r->grave[i];
			r->grave_tries[n++] = r->grave_tries[i];
			continue;
		}
		if (r->cg->destroy(r->grave[i], &e) == -1)
			log_warnx("cgroup of job %" PRId64 ": %s", r->grave[i],
			    e.message);
	}
	r->ngrave = n;
	if (n > 0)
		evtimer_add(r->grave_ev, &tv);
}

static void
grave_forget(struct supervisor *sup, int64_t id)
{
	struct sup_res *r = sup->res;
	int i;

	for (i = 0; i < r->ngrave; i++)
		if (r->grave[i] == id) {
			r->grave[i] = r->grave[r->ngrave - 1];
			r->grave_tries[i] = r->grave_tries[--r->ngrave];
			return;
		}
}

int
sup_res_release_all(struct supervisor *sup)
{
	struct sup_res *r = sup->res;
	struct job *job;
	struct serr e;
	int64_t *ids;
	int n, i;

	if (r == NULL || r->cg == NULL)
		return (0);
	n = r->cg->list(&ids);
	for (i = 0; i < n; i++) {
		if ((job = htab_get_int(&sup->by_id, ids[i])) != NULL)
			job->has_cgroup = 0;
		if (r->cg->procs(ids[i], &(pid_t){0}, 1) > 0) {
			r->cg->kill(ids[i], SIGKILL, &e);
			grave_add(sup, ids[i]);
		} else if (r->cg->destroy(ids[i], &e) == -1)
			log_warnx(
			    "cgroup of job %" PRId64 ": %s", ids[i], e.message);
	}
	free(ids);
	return (r->ngrave);
}

/* The cgroup of a job that is gone: removed by a timer once empty. */
static void
grave_add(struct supervisor *sup, int64_t id)
{
	struct sup_res *r = sup->res;
	struct timeval tv = {0, GRAVE_PERIOD_MS * 1000};
	int i;

	for (i = 0; i < r->ngrave; i++)
		if (r->grave[i] == id)
			return;
	r->grave =
	    xreallocarray(r->grave, (size_t)r->ngrave + 1, sizeof(*r->grave));
	r->grave_tries = xreallocarray(
	    r->grave_tries, (size_t)r->ngrave + 1, sizeof(*r->grave_tries));
	r->grave[r->ngrave] = id;
	r->grave_tries[r->ngrave++] = 0;
	if (r->grave_ev == NULL) {
		/* Not sup_evtimer_new: resources call nothing above them. */
		r->grave_ev = evtimer_new(sup->sd->base, grave_cb, sup);
		event_priority_set(r->grave_ev, SCHEDD_PRIO_WORK);
	}
	if (!evtimer_pending(r->grave_ev, NULL))
		evtimer_add(r->grave_ev, &tv);
}

/*
 * An adopted job's cgroup settings, written again: on cgroup v2 under
 * systemd before 254, the unit's stop-post takes the controllers back when
 * schedd dies (so that the next one may start in the unit's cgroup), and
 * the job cgroups lose their limits until now.
 */
static void
reapply(struct supervisor *sup, struct job *job)
{
	struct sup_res *r = sup->res;
	struct serr e;
	char buf[4096];

	buf[0] = '\0';
	if ((job->spec.cpus != NULL || job->spec.exclusive_cpus > 0) &&
	    job->cpuset_valid)
		cpulist_format(job->cpuset, buf, sizeof(buf));
	if (r->cg->set_cpus(job->id, buf, &e) == -1 ||
	    (limits_set(&job->spec.limits) &&
		r->cg->set_limits(job->id, &job->spec.limits, &e) == -1))
		log_warnx("%s: cgroup settings: %s", job->name, e.message);
}

/*
 * Start-up: job cgroups without a live job are left from a crash; live
 * jobs' grants and claims are made again. A DEADLINE run that ended just
 * before this start may still have its bandwidth held by the kernel (see
 * policy_ended): the books hold it too, for what is left of the time.
 */
void
sup_res_reconcile(struct supervisor *sup)
{
	struct sup_res *r = sup->res;
	struct policy_attr pa;
	struct job *job;
	struct serr e;
	int64_t *ids, now = now_ms();
	int n, i, live;

	TAILQ_FOREACH (job, &sup->jobs, entry)
		if (job->run.exited_ms > 0)
			policy_ended_before(r->books,
			    books_attr(&job->spec.sched, &pa),
			    job->run.exited_ms, now);
	if (r->cg == NULL)
		return;
	/* All of them: a job whose cgroup is not seen here would be run
	 * and stopped as one without (its process group only). */
	n = r->cg->list(&ids);
	for (i = 0; i < n; i++) {
		live = 0;
		if ((job = htab_get_int(&sup->by_id, ids[i])) != NULL) {
			job->has_cgroup = 1;
			/* Starting is stored only with a live run (one
			 * that has yet to say it is ready). */
			live = job->state == JOB_STARTING ||
			       job->state == JOB_RUNNING ||
			       job->state == JOB_PAUSED ||
			       job->state == JOB_STOPPING;
		}
		if (live && job->spec.exclusive_cpus > 0 && job->cpuset_valid &&
		    r->cpus != NULL &&
		    cpus_grant_exact(r->cpus, job->id, job->cpuset, &e) == -1)
			log_warnx("%s: grant: %s", job->name, e.message);
		if (live && job->spec.sched.set) {
			int64_t rt;

			policy_admit(r->books, job->id,
			    books_attr(&job->spec.sched, &pa),
			    job->cpuset_valid ? (int)cpulist_count(job->cpuset)
					      : 1,
			    &rt, &e);
		}
		if (live) {
			reapply(sup, job);
			continue;
		}
		log_info("removing the stale cgroup of job %" PRId64, ids[i]);
		if (r->cg->procs(ids[i], &(pid_t){0}, 1) > 0) {
			r->cg->kill(ids[i], SIGKILL, &e);
			grave_add(sup, ids[i]);
		} else if (r->cg->destroy(ids[i], &e) == -1)
			log_warnx("stale cgroup of job %" PRId64 ": %s", ids[i],
			    e.message);
		if (job != NULL)
			job->has_cgroup = 0;
	}
	free(ids);
	sup_res_repool(sup);
}

const struct cpus *
sup_res_cpus(struct supervisor *sup)
{
	return (sup->res != NULL ? sup->res->cpus : NULL);
}

/* The job's member pids now (cgroup, or the main process without one). */
int
sup_res_pids(
    struct supervisor *sup, const struct job *job, pid_t *pids, int max)
{
	struct sup_res *r = sup->res;

	if (r->cg != NULL && job->has_cgroup)
		return (r->cg->procs(job->id, pids, max));
	if (job->run.pid != 0 && job->run.exited_ms == 0 && max > 0) {
		pids[0] = job->run.pid;
		return (1);
	}
	return (0);
}

int
sup_res_usage(
    struct supervisor *sup, const struct job *job, struct cgroup_usage *u)
{
	struct sup_res *r = sup->res;

	if (r->cg == NULL || !job->has_cgroup)
		return (-1);
	return (r->cg->usage(job->id, u));
}

int
sup_res_tracked(struct supervisor *sup)
{
	return (sup->res != NULL && sup->res->cg != NULL);
}

int
sup_res_cpuset_now(
    struct supervisor *sup, const struct job *job, struct cpulist *out)
{
	struct sup_res *r = sup->res;
	char buf[4096];
	const char *why;

	if (r->cg == NULL || r->cg->get_cpus == NULL || !job->has_cgroup ||
	    (job->spec.cpus == NULL && job->spec.exclusive_cpus == 0) ||
	    r->cg->get_cpus(job->id, buf, sizeof(buf)) == -1 ||
	    cpulist_parse(buf, out, 0, &why) == -1)
		return (-1);
	return (0);
}

int
sup_res_cpuset_restore(
    struct supervisor *sup, struct job *job, struct serr *err)
{
	struct sup_res *r = sup->res;
	char buf[4096];

	if (r->cg == NULL || !job->has_cgroup || !job->cpuset_valid ||
	    cpulist_format(job->cpuset, buf, sizeof(buf)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "no cpuset to restore");
		return (-1);
	}
	return (r->cg->set_cpus(job->id, buf, err));
}
