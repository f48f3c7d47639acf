/* SPDX-License-Identifier: ISC */
/*
 * The cgroup v1 backend: one hierarchy per controller (cpu, cpuset,
 * memory, pids, freezer, plus cpuacct for CPU time where it is mounted),
 * OWN/SUBTREE/job-ID in each. Jobs on the shared pool share one cpuset
 * cgroup, SUBTREE/shared, whose CPUs follow the pool; only pinned and
 * exclusive jobs get a cpuset cgroup of their own. It owns the v1 quirks:
 * a cpuset cgroup is unusable until cpuset.cpus and cpuset.mems are set,
 * memsw must stay at or above limit_in_bytes, and with RT group
 * scheduling a parent's cpu.rt_runtime_us must cover the sum of its
 * children's. It creates and
 * removes directories only beneath SUBTREE (SUBTREE itself at init and
 * fini), and signals only pids read from a job's own cgroup.procs.
 */
#include "config.h"

#include <sys/eventfd.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cgroup-int.h"
#include "daemon/cgroup.h"
#include "daemon/log.h"
#include "daemon/procfs.h"
#include "proto/errors.h"
#include "proto/jobspec.h"
#include "proto/util.h"

/* Controllers in the order controllers() lists them. */
enum v1_ctl {
	V1_CPU,     /* quota, shares, RT budget */
	V1_CPUSET,  /* pinning */
	V1_MEMORY,  /* limit, usage, OOM */
	V1_PIDS,    /* pids.max */
	V1_FREEZER, /* pause and resume */
	V1_CPUACCT, /* CPU time (a mount of its own on some machines) */
	V1_NCTL
};

static const char *const v1_names[V1_NCTL] = {
    "cpu", "cpuset", "memory", "pids", "freezer", "cpuacct"};

/* One mounted hierarchy; co-mounted controllers ("cpu,cpuacct") share one. */
struct v1_hier {
	char own[PATH_MAX]; /* the cgroup we were started in */
	char sub[PATH_MAX]; /* OWN/SUBTREE */
};

static struct {
	struct v1_hier hier[V1_NCTL];
	int nhier;
	int ctl[V1_NCTL]; /* index into hier, or -1 */
	int rt;           /* cpu.rt_runtime_us exists */
	int shared;       /* shared-pool jobs live in SUBTREE/shared */
	char shared_dir[PATH_MAX];
	int memsw; /* memory.memsw.* exists */
	char subtree[PATH_MAX];
	char names[64];
} v1;

static int
v1_ready(struct serr *err)
{
	if (v1.nhier > 0)
		return (0);
	serr_set(err, SERR_UNAVAILABLE, NULL, "cgroup v1 is not initialised");
	return (-1);
}

/* The job's directory in controller c's hierarchy; -1 if c is missing. */
static int
v1_dir(enum v1_ctl c, int64_t job, char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	if (v1.ctl[c] < 0) {
		errno = ENOENT;
		return (-1);
	}
	return (cgroup_job_dir(buf, len, v1.hier[v1.ctl[c]].sub, job));
}

static int
v1_bad_job(int64_t job, struct serr *err)
{
	if (job > 0)
		return (0);
	serr_set(err, SERR_INVALID, NULL, "cgroup: bad job id %" PRId64, job);
	return (-1);
}

/* Copy cpuset.cpus and cpuset.mems from dir from to dir to, where the
 * target's are empty (or always, if force). */
static int
v1_cpuset_copy(const char *from, const char *to, int force)
{
	static const char *const files[] = {"cpuset.mems", "cpuset.cpus"};
	char val[1024];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!force && cgroup_read(to, files[i], val, sizeof(val)) > 0)
			continue;
		if (cgroup_read(from, files[i], val, sizeof(val)) == -1 ||
		    cgroup_write(to, files[i], val) == -1)
			return (-1);
	}
	return (0);
}

/* What controller c needs in SUBTREE before jobs can use it. */
static int
v1_setup(enum v1_ctl c, const struct v1_hier *h)
{
	switch (c) {
	case V1_CPUSET:
		if (v1_cpuset_copy(h->own, h->sub, 1) == 0)
			return (0);
		/* A SUBTREE kept from an earlier run may hold pinned jobs. */
		log_warn("cpuset %s", h->sub);
		return (v1_cpuset_copy(h->own, h->sub, 0));
	case V1_MEMORY:
		/* Always 1 on recent kernels, which refuse to change it. */
		if (cgroup_write(h->sub, "memory.use_hierarchy", "1") == -1 &&
		    errno != EINVAL && errno != EBUSY)
			log_warn("memory.use_hierarchy %s", h->sub);
		v1.memsw = cgroup_exists(h->sub, "memory.memsw.limit_in_bytes");
		return (
		    cgroup_exists(h->sub, "memory.limit_in_bytes") ? 0 : -1);
	case V1_CPU:
		v1.rt = cgroup_exists(h->sub, "cpu.rt_runtime_us");
		return (cgroup_exists(h->sub, "cpu.shares") ? 0 : -1);
	case V1_PIDS:
		return (cgroup_exists(h->sub, "pids.max") ? 0 : -1);
	case V1_FREEZER:
		return (cgroup_exists(h->sub, "freezer.state") ? 0 : -1);
	case V1_CPUACCT:
		return (cgroup_exists(h->sub, "cpuacct.usage") ? 0 : -1);
	case V1_NCTL:
		break;
	}
	return (-1);
}

/*
 * SUBTREE/shared in the cpuset hierarchy: one cgroup for every shared-pool
 * job, so that a job on the pool costs no cpuset cgroup of its own and the
 * pool changes with one write. Only where cpuset has a hierarchy to itself
 * and another hierarchy can list a job's members.
 */
static void
v1_shared_init(void)
{
	const struct v1_hier *h;
	int c, cs = v1.ctl[V1_CPUSET];

	v1.shared = 0;
	if (cs < 0 || v1.nhier < 2)
		return;
	for (c = 0; c < V1_NCTL; c++)
		if (c != V1_CPUSET && v1.ctl[c] == cs)
			return; /* co-mounted: its job dirs serve others too */
	h = &v1.hier[cs];
	if (cgroup_join(
		v1.shared_dir, sizeof(v1.shared_dir), h->sub, "shared") == -1 ||
	    cgroup_mkdir(v1.shared_dir, NULL) == -1 ||
	    v1_cpuset_copy(h->sub, v1.shared_dir, 1) == -1) {
		log_warn("%s: one cpuset per job instead", v1.shared_dir);
		return;
	}
	v1.shared = 1;
}

static int
v1_init(const struct cgroup_env *env, struct serr *err)
{
	struct cgroup_env e;
	struct v1_hier *h;
	char own[PATH_MAX];
	int c, i, created, usable = 0;

	cgroup_env_defaults(env, &e);
	memset(&v1, 0, sizeof(v1));
	for (c = 0; c < V1_NCTL; c++)
		v1.ctl[c] = -1;
	if (!cgroup_name_valid(e.subtree)) {
		serr_set(err, SERR_INVALID, "cgroup_root",
		    "cgroup_root: \"%s\" is not a single directory name",
		    e.subtree);
		return (-1);
	}
	util_strlcpy(v1.subtree, e.subtree, sizeof(v1.subtree));

	for (c = 0; c < V1_NCTL; c++) {
		if (cgroup_locate(&e, v1_names[c], own, sizeof(own)) == -1) {
			log_debug(
			    "%s: not found (%s)", v1_names[c], strerror(errno));
			continue;
		}
		for (i = 0; i < v1.nhier && strcmp(v1.hier[i].own, own) != 0;
		     i++)
			;
		h = &v1.hier[i];
		created = 0;
		if (i == v1.nhier) {
			util_strlcpy(h->own, own, sizeof(h->own));
			if (cgroup_join(
				h->sub, sizeof(h->sub), own, e.subtree) == -1 ||
			    cgroup_mkdir(h->sub, &created) == -1) {
				log_warn("%s: cannot create %s/%s", v1_names[c],
				    own, e.subtree);
				continue;
			}
		}
		if (v1_setup((enum v1_ctl)c, h) == -1) {
			log_warnx("%s: %s is not usable; leaving it out",
			    v1_names[c], h->sub);
			if (created)
				cgroup_rmdir(h->sub);
			continue;
		}
		if (i == v1.nhier)
			v1.nhier++;
		v1.ctl[c] = i;
		if (c != V1_CPUACCT)
			usable++;
		if (v1.names[0] != '\0')
			strncat(v1.names, " ",
			    sizeof(v1.names) - strlen(v1.names) - 1);
		strncat(v1.names, v1_names[c],
		    sizeof(v1.names) - strlen(v1.names) - 1);
		log_debug("%s: %s", v1_names[c], h->sub);
	}
	if (usable == 0) {
		for (i = 0; i < v1.nhier; i++)
			cgroup_rmdir(v1.hier[i].sub);
		v1.nhier = 0;
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "cgroup v1: none of cpu, cpuset, memory, pids, freezer is usable beneath our own cgroups");
		return (-1);
	}
	for (i = 0; i < v1.nhier; i++)
		if (cgroup_base_add(v1.hier[i].sub) == -1)
			log_warn("%s", v1.hier[i].sub);
	v1_shared_init();
	return (0);
}

static const char *
v1_controllers(void)
{
	return (v1.names);
}

/* mkdir the job's directory in hierarchy i; SUBTREE too if it was
 * removed under us (by hand). Returns 0 (*created set) or -1. */
static int
v1_mkjob(int i, int64_t job, int *created)
{
	struct v1_hier *h = &v1.hier[i];
	char dir[PATH_MAX];

	if (cgroup_job_dir(dir, sizeof(dir), h->sub, job) == -1)
		return (-1);
	if (cgroup_mkdir(dir, created) == 0)
		return (0);
	if (errno != ENOENT)
		return (-1);
	if (cgroup_mkdir(h->sub, NULL) == -1)
		return (-1);
	log_warnx("%s was gone: made again", h->sub);
	if (cgroup_base_add(h->sub) == -1)
		log_warn("%s", h->sub);
	if (v1.ctl[V1_CPUSET] == i) {
		v1_cpuset_copy(h->own, h->sub, 1);
		if (v1.shared &&
		    (cgroup_mkdir(v1.shared_dir, NULL) == -1 ||
			v1_cpuset_copy(h->sub, v1.shared_dir, 1) == -1))
			log_warn("%s", v1.shared_dir);
	}
	return (cgroup_mkdir(dir, created));
}

/* The job's own cpuset cgroup, usable (cpus and mems from SUBTREE). */
static int
v1_cpuset_own(int64_t job, char *dir, size_t len, int *created)
{
	int i = v1.ctl[V1_CPUSET], saved;

	if (v1_mkjob(i, job, created) == -1 ||
	    cgroup_job_dir(dir, len, v1.hier[i].sub, job) == -1)
		return (-1);
	if (*created && v1_cpuset_copy(v1.hier[i].sub, dir, 0) == -1) {
		saved = errno;
		cgroup_rmdir(dir);
		*created = 0;
		errno = saved;
		return (-1);
	}
	return (0);
}

static int
v1_create(int64_t job, struct serr *err)
{
	char dir[PATH_MAX];
	int made[V1_NCTL], i, created, fresh = 1;

	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	for (i = 0; i < v1.nhier; i++) {
		made[i] = 0;
		/* The shared pool's jobs: see v1_set_cpus. */
		if (v1.shared && i == v1.ctl[V1_CPUSET])
			continue;
		created = 0;
		if (i == v1.ctl[V1_CPUSET]
			? v1_cpuset_own(job, dir, sizeof(dir), &created) == -1
			: v1_mkjob(i, job, &created) == -1) {
			cgroup_job_dir(dir, sizeof(dir), v1.hier[i].sub, job);
			serr_set(err, SERR_INTERNAL, NULL, "mkdir %s: %s", dir,
			    strerror(errno));
			goto fail;
		}
		made[i] = created;
		fresh &= created;
	}
	return (fresh);
fail:
	while (--i >= 0)
		if (made[i] &&
		    cgroup_job_dir(dir, sizeof(dir), v1.hier[i].sub, job) == 0)
			cgroup_rmdir(dir);
	return (-1);
}

static int
v1_get_cpus(int64_t job, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int i;

	if (v1.nhier == 0 || job <= 0 || (i = v1.ctl[V1_CPUSET]) < 0) {
		errno = ENOENT;
		return (-1);
	}
	/* With the shared cgroup, a pinned job's cpuset is its own dir. */
	if ((v1.shared ? cgroup_job_dir(dir, sizeof(dir), v1.hier[i].sub, job)
		       : v1_dir(V1_CPUSET, job, dir, sizeof(dir))) == -1 ||
	    cgroup_read(dir, "cpuset.cpus", buf, len) == -1)
		return (-1);
	return (0);
}

static int
v1_set_cpus(int64_t job, const char *cpus, struct serr *err)
{
	char dir[PATH_MAX], parent[1024];
	int i, created, saved;

	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	if ((i = v1.ctl[V1_CPUSET]) < 0) {
		if (cpus == NULL || *cpus == '\0')
			return (0);
		serr_set(err, SERR_UNSATISFIABLE, "cpus",
		    "cpus: the cpuset controller is not available");
		return (-1);
	}
	if (v1.shared && (cpus == NULL || *cpus == '\0')) {
		/* Joins SUBTREE/shared; a cpuset of its own from an earlier
		 * pinned run (empty now) goes. */
		if (cgroup_job_dir(dir, sizeof(dir), v1.hier[i].sub, job) ==
			0 &&
		    cgroup_rmdir(dir) == -1)
			log_warn("rmdir %s", dir);
		return (0);
	}
	parent[0] = '\0';
	if (cpus == NULL || *cpus == '\0') {
		if (cgroup_read(v1.hier[i].sub, "cpuset.cpus", parent,
			sizeof(parent)) == -1)
			util_strlcpy(parent, "?", sizeof(parent));
		cpus = parent;
	}
	if ((v1.shared ? v1_cpuset_own(job, dir, sizeof(dir), &created)
		       : v1_dir(V1_CPUSET, job, dir, sizeof(dir))) == -1 ||
	    cgroup_write(dir, "cpuset.cpus", cpus) == -1) {
		/* ERANGE: past the highest possible CPU; EINVAL: not ours. */
		saved = errno;
		/* The daemon's CPUs, for the message. */
		if (parent[0] == '\0' &&
		    cgroup_read(v1.hier[i].sub, "cpuset.cpus", parent,
			sizeof(parent)) == -1)
			util_strlcpy(parent, "?", sizeof(parent));
		errno = saved;
		if (errno == EINVAL || errno == ERANGE)
			serr_set(err, SERR_UNSATISFIABLE, "cpus",
			    "cpus: \"%s\" is not within the daemon's CPUs (%s)",
			    cpus, parent);
		else if (errno == ENOENT)
			serr_set(err, SERR_NOT_FOUND, NULL,
			    "cgroup of job %" PRId64 " does not exist", job);
		else
			serr_set(err, SERR_INTERNAL, NULL, "%s/cpuset.cpus: %s",
			    dir, strerror(errno));
		return (-1);
	}
	return (0);
}

/* The shared pool's CPUs: 1 if SUBTREE/shared holds every shared-pool
 * job (done), 0 if the caller must set each job's, -1 on error. */
static int
v1_set_shared(const char *cpus, struct serr *err)
{
	if (v1_ready(err) == -1)
		return (-1);
	if (!v1.shared)
		return (0);
	if (cgroup_write(v1.shared_dir, "cpuset.cpus", cpus) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "%s/cpuset.cpus %s: %s",
		    v1.shared_dir, cpus, strerror(errno));
		return (-1);
	}
	return (1);
}

/* A write of set_limits failed: say which value and why. */
static int
v1_limit_failed(const char *field, const char *dir, const char *file,
    const char *val, struct serr *err)
{
	if (errno == EINVAL || errno == EBUSY || errno == ERANGE)
		serr_set(err, SERR_UNSATISFIABLE, field,
		    "%s: the kernel refused %s for %s (%s)", field, val, file,
		    errno == EBUSY ? "the job already uses more than that"
				   : strerror(errno));
	else
		serr_set(err, SERR_INTERNAL, field, "%s/%s: %s", dir, file,
		    strerror(errno));
	return (-1);
}

static int
v1_set_memory(int64_t job, uint64_t max, struct serr *err)
{
	static const char *const f = "limits.memory_max";
	char dir[PATH_MAX], val[32];

	if (v1.ctl[V1_MEMORY] < 0)
		return (
		    max != 0 ? cgroup_missing(v1_names[V1_MEMORY], f, err) : 0);
	if (max != 0)
		snprintf(val, sizeof(val), "%" PRIu64, max);
	else
		util_strlcpy(val, "-1", sizeof(val));
	if (v1_dir(V1_MEMORY, job, dir, sizeof(dir)) == -1)
		return (v1_limit_failed(f, dir, "", val, err));
	if (!v1.memsw) {
		if (cgroup_write(dir, "memory.limit_in_bytes", val) == -1)
			return (v1_limit_failed(
			    f, dir, "memory.limit_in_bytes", val, err));
		return (0);
	}
	/*
	 * memsw (memory + swap) may never be below the memory limit: when
	 * raising, memsw goes first; when lowering, memsw fails with EINVAL
	 * and goes after the limit. Equal values: no swap beyond the limit.
	 */
	if (cgroup_write(dir, "memory.memsw.limit_in_bytes", val) == 0) {
		if (cgroup_write(dir, "memory.limit_in_bytes", val) == -1)
			return (v1_limit_failed(
			    f, dir, "memory.limit_in_bytes", val, err));
		return (0);
	}
	if (errno != EINVAL)
		return (v1_limit_failed(
		    f, dir, "memory.memsw.limit_in_bytes", val, err));
	if (cgroup_write(dir, "memory.limit_in_bytes", val) == -1)
		return (
		    v1_limit_failed(f, dir, "memory.limit_in_bytes", val, err));
	if (cgroup_write(dir, "memory.memsw.limit_in_bytes", val) == -1)
		return (v1_limit_failed(
		    f, dir, "memory.memsw.limit_in_bytes", val, err));
	return (0);
}

static int
v1_set_limits(int64_t job, const struct job_limits *l, struct serr *err)
{
	char dir[PATH_MAX], val[32];
	int64_t shares;

	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	if (v1_set_memory(job, l->memory_max, err) == -1)
		return (-1);

	if (v1.ctl[V1_PIDS] < 0) {
		if (l->pids_max != 0)
			return (cgroup_missing(
			    v1_names[V1_PIDS], "limits.pids_max", err));
	} else {
		if (l->pids_max != 0)
			snprintf(val, sizeof(val), "%" PRId64, l->pids_max);
		else
			util_strlcpy(val, "max", sizeof(val));
		if (v1_dir(V1_PIDS, job, dir, sizeof(dir)) == -1 ||
		    cgroup_write(dir, "pids.max", val) == -1)
			return (v1_limit_failed(
			    "limits.pids_max", dir, "pids.max", val, err));
	}

	if (v1.ctl[V1_CPU] < 0) {
		if (l->cpu_quota_pct != 0)
			return (cgroup_missing(
			    v1_names[V1_CPU], "limits.cpu_quota_pct", err));
		if (l->cpu_weight != 0)
			return (cgroup_missing(
			    v1_names[V1_CPU], "limits.cpu_weight", err));
		return (0);
	}
	if (v1_dir(V1_CPU, job, dir, sizeof(dir)) == -1)
		return (
		    v1_limit_failed("limits.cpu_quota_pct", dir, "", "", err));
	/* The period first: the quota is checked against it. */
	if (cgroup_write(dir, "cpu.cfs_period_us", "100000") == -1)
		return (v1_limit_failed("limits.cpu_quota_pct", dir,
		    "cpu.cfs_period_us", "100000", err));
	if (l->cpu_quota_pct != 0)
		snprintf(val, sizeof(val), "%d", l->cpu_quota_pct * 1000);
	else
		util_strlcpy(val, "-1", sizeof(val));
	if (cgroup_write(dir, "cpu.cfs_quota_us", val) == -1)
		return (v1_limit_failed(
		    "limits.cpu_quota_pct", dir, "cpu.cfs_quota_us", val, err));
	shares = 1024;
	if (l->cpu_weight != 0) {
		shares = (int64_t)l->cpu_weight * 1024 / 100;
		if (shares < 2)
			shares = 2;
	}
	snprintf(val, sizeof(val), "%" PRId64, shares);
	if (cgroup_write(dir, "cpu.shares", val) == -1)
		return (v1_limit_failed(
		    "limits.cpu_weight", dir, "cpu.shares", val, err));
	return (0);
}

/* RT budget OWN can still give SUBTREE: OWN's less its other children's. */
static int64_t
v1_rt_available(void)
{
	const struct v1_hier *h = &v1.hier[v1.ctl[V1_CPU]];
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int64_t avail, v;

	if (cgroup_read_i64(h->own, "cpu.rt_runtime_us", &avail) == -1)
		return (-1);
	if ((d = opendir(h->own)) == NULL)
		return (avail);
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, v1.subtree) == 0)
			continue;
		if (cgroup_join(dir, sizeof(dir), h->own, de->d_name) == 0 &&
		    cgroup_read_i64(dir, "cpu.rt_runtime_us", &v) == 0)
			avail -= v;
	}
	closedir(d);
	return (avail);
}

/*
 * Give the job us of RT runtime and SUBTREE exactly the sum of its jobs':
 * the kernel wants a parent to cover its children at every moment, so a
 * growing SUBTREE grows before the job, a shrinking one after.
 */
static int
v1_rt_apply(int64_t job, int64_t us, struct serr *err)
{
	const char *sub = v1.hier[v1.ctl[V1_CPU]].sub;
	char dir[PATH_MAX], child[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int64_t sum = 0, old = 0, v, id, total, cur;

	if (v1_dir(V1_CPU, job, dir, sizeof(dir)) == -1 ||
	    cgroup_read_i64(dir, "cpu.rt_runtime_us", &old) == -1) {
		serr_set(err, SERR_NOT_FOUND, NULL,
		    "cpu cgroup of job %" PRId64 ": %s", job, strerror(errno));
		return (-1);
	}
	if ((d = opendir(sub)) == NULL ||
	    cgroup_read_i64(sub, "cpu.rt_runtime_us", &cur) == -1) {
		serr_set(
		    err, SERR_INTERNAL, NULL, "%s: %s", sub, strerror(errno));
		if (d != NULL)
			closedir(d);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if ((id = cgroup_job_id(de->d_name)) == -1 ||
		    cgroup_join(child, sizeof(child), sub, de->d_name) == -1 ||
		    cgroup_read_i64(child, "cpu.rt_runtime_us", &v) == -1)
			continue;
		sum += v;
	}
	closedir(d);
	total = sum - old + us;

	if (total > cur &&
	    cgroup_writef(sub, "cpu.rt_runtime_us", "%" PRId64, total) == -1) {
		if (errno == EINVAL || errno == EBUSY)
			serr_set(err, SERR_UNSATISFIABLE, "sched",
			    "RT budget: the parent cgroup has only %" PRId64
			    " us of RT budget for schedd's jobs; they would need %" PRId64
			    " us",
			    v1_rt_available(), total);
		else
			serr_set(err, SERR_INTERNAL, NULL,
			    "%s/cpu.rt_runtime_us: %s", sub, strerror(errno));
		return (-1);
	}
	if (cgroup_writef(dir, "cpu.rt_runtime_us", "%" PRId64, us) == -1) {
		if (errno == EBUSY)
			serr_set(err, SERR_UNSATISFIABLE, "sched",
			    "RT budget: job %" PRId64
			    " still has real-time tasks, so its budget cannot drop to 0",
			    job);
		else if (errno == EINVAL)
			serr_set(err, SERR_UNSATISFIABLE, "sched",
			    "RT budget: the kernel refused %" PRId64
			    " us for job %" PRId64 " (more than its period?)",
			    us, job);
		else
			serr_set(err, SERR_INTERNAL, NULL,
			    "%s/cpu.rt_runtime_us: %s", dir, strerror(errno));
		if (total > cur)
			cgroup_writef(
			    sub, "cpu.rt_runtime_us", "%" PRId64, cur);
		return (-1);
	}
	if (total < cur &&
	    cgroup_writef(sub, "cpu.rt_runtime_us", "%" PRId64, total) == -1)
		log_warn("%s/cpu.rt_runtime_us %" PRId64, sub, total);
	return (0);
}

static int
v1_set_rt_runtime(int64_t job, int64_t us, struct serr *err)
{
	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	if (us < 0) {
		serr_set(
		    err, SERR_INVALID, NULL, "RT budget %" PRId64 " < 0", us);
		return (-1);
	}
	/* Without RT group scheduling no budget is needed. */
	if (v1.ctl[V1_CPU] < 0 || !v1.rt)
		return (0);
	return (v1_rt_apply(job, us, err));
}

static int
v1_attach_fds(int64_t job, int *fds, int max, int *dirfd, struct serr *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int i, saved;

	*dirfd = -1;
	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	if (max < v1.nhier) {
		serr_set(err, SERR_INTERNAL, NULL,
		    "attach: %d hierarchies but room for %d fds", v1.nhier,
		    max);
		return (-1);
	}
	for (i = 0; i < v1.nhier; i++) {
		if (cgroup_job_dir(dir, sizeof(dir), v1.hier[i].sub, job) ==
			-1 ||
		    cgroup_join(path, sizeof(path), dir, "cgroup.procs") == -1)
			fds[i] = -1;
		else if ((fds[i] = cgroup_open(path, O_WRONLY)) == -1 &&
			 errno == ENOENT && v1.shared &&
			 i == v1.ctl[V1_CPUSET]) {
			/* No cpuset of its own: the shared pool's. */
			util_strlcpy(dir, v1.shared_dir, sizeof(dir));
			fds[i] = cgroup_open_in(dir, "cgroup.procs", O_WRONLY);
		}
		if (fds[i] == -1) {
			saved = errno;
			serr_set(err,
			    saved == ENOENT ? SERR_NOT_FOUND : SERR_INTERNAL,
			    NULL, "%s/cgroup.procs: %s", dir, strerror(saved));
			while (--i >= 0)
				close(fds[i]);
			return (-1);
		}
	}
	return (v1.nhier);
}

/* Where to read members from: every member is in every hierarchy. */
static int
v1_procs_dir(int64_t job, char *buf, size_t len)
{
	static const enum v1_ctl pref[] = {
	    V1_FREEZER, V1_PIDS, V1_MEMORY, V1_CPUSET, V1_CPU, V1_CPUACCT};
	size_t i;

	for (i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (v1.ctl[pref[i]] >= 0 &&
		    !(v1.shared && pref[i] == V1_CPUSET))
			return (v1_dir(pref[i], job, buf, len));
	errno = ENOENT;
	return (-1);
}

static int
v1_procs(int64_t job, pid_t *pids, int max)
{
	char dir[PATH_MAX];

	if (v1.nhier == 0 || job <= 0 ||
	    v1_procs_dir(job, dir, sizeof(dir)) == -1)
		return (-1);
	return (cgroup_procs_copy(dir, pids, max));
}

static int
v1_procs_all(int64_t job, pid_t **pids)
{
	char dir[PATH_MAX];
	size_t n;

	*pids = NULL;
	if (v1.nhier == 0 || job <= 0 ||
	    v1_procs_dir(job, dir, sizeof(dir)) == -1)
		return (-1);
	if (cgroup_read_pids(dir, pids, &n) == -1)
		return (-1);
	return ((int)n);
}

static int
v1_freeze(int64_t job, int frozen, struct serr *err)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	char dir[PATH_MAX];

	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	if (v1.ctl[V1_FREEZER] < 0) {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "pause and resume need the freezer controller, which is not available");
		return (-1);
	}
	if (v1_dir(V1_FREEZER, job, dir, sizeof(dir)) == -1 ||
	    cgroup_write(dir, "freezer.state", want) == -1) {
		serr_set(err, errno == ENOENT ? SERR_NOT_FOUND : SERR_INTERNAL,
		    NULL, "%s/freezer.state: %s", dir, strerror(errno));
		return (-1);
	}
	/*
	 * "FREEZING" until every task has stopped: usually at once. Nothing
	 * waits for it: a task in uninterruptible sleep is frozen by the
	 * kernel when it wakes, which it keeps trying on its own.
	 */
	if (cgroup_line_is(dir, "freezer.state", want) != 1)
		log_debug("%s/freezer.state: not %s yet", dir, want);
	return (0);
}

static int
v1_kill(int64_t job, int sig, struct serr *err)
{
	char dir[PATH_MAX];
	int n;

	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	if (v1_procs_dir(job, dir, sizeof(dir)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL,
		    "cgroup of job %" PRId64 ": %s", job, strerror(errno));
		return (-1);
	}
	/*
	 * Read until no member is new (cgroup_signal_all); what forks faster
	 * is caught by the next signal, which the supervisor's timers send
	 * until the cgroup is empty. A frozen job gets the signal when it is
	 * thawed.
	 */
	n = cgroup_signal_all(dir, sig);
	if (n == -1)
		serr_set(err, errno == ENOENT ? SERR_NOT_FOUND : SERR_INTERNAL,
		    NULL, "signal %d to job %" PRId64 ": %s", sig, job,
		    strerror(errno));
	return (n);
}

/* CPU time without cpuacct: the members' own, which forgets the dead. */
static int64_t
v1_cpu_from_proc(const pid_t *pids, size_t n)
{
	struct proc_stat ps;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks = 0;
	size_t i;

	if (hz <= 0)
		return (-1);
	for (i = 0; i < n; i++)
		if (procfs_stat(pids[i], &ps) == 0)
			ticks += ps.utime + ps.stime;
	return ((int64_t)(ticks * 1000000 / (uint64_t)hz));
}

static int
v1_usage(int64_t job, struct cgroup_usage *u)
{
	char dir[PATH_MAX];
	pid_t *pids;
	size_t n;
	int64_t v;

	u->memory_current = u->memory_peak = u->cpu_usage_us = -1;
	u->nprocs = u->oom_kills = -1;
	u->nr_periods = u->nr_throttled = u->throttled_us = -1;
	u->cpu_pressure_us = -1;
	if (v1.nhier == 0 || job <= 0 ||
	    v1_procs_dir(job, dir, sizeof(dir)) == -1 ||
	    cgroup_read_pids(dir, &pids, &n) == -1)
		return (-1);
	u->nprocs = (int64_t)n;
	if (v1_dir(V1_MEMORY, job, dir, sizeof(dir)) == 0) {
		if (cgroup_read_i64(dir, "memory.usage_in_bytes", &v) == 0)
			u->memory_current = v;
		if (cgroup_read_i64(dir, "memory.max_usage_in_bytes", &v) == 0)
			u->memory_peak = v;
		if (cgroup_read_key(
			dir, "memory.oom_control", "oom_kill", &v) == 0)
			u->oom_kills = v;
	}
	if (v1_dir(V1_CPUACCT, job, dir, sizeof(dir)) == 0 &&
	    cgroup_read_i64(dir, "cpuacct.usage", &v) == 0)
		u->cpu_usage_us = v / 1000;
	else
		u->cpu_usage_us = v1_cpu_from_proc(pids, n);
	if (v1_dir(V1_CPU, job, dir, sizeof(dir)) == 0) {
		static const char *const keys[] = {
		    "nr_periods", "nr_throttled", "throttled_time"};
		int64_t vals[3] = {-1, -1, -1};

		cgroup_read_keys(dir, "cpu.stat", keys, vals, 3);
		u->nr_periods = vals[0];
		u->nr_throttled = vals[1];
		u->throttled_us = vals[2] >= 0 ? vals[2] / 1000 : -1;
	}
	free(pids);
	return (0);
}

static int
v1_oom_kills(int64_t job, int64_t *n)
{
	char dir[PATH_MAX];

	if (v1.nhier == 0 || job <= 0 ||
	    v1_dir(V1_MEMORY, job, dir, sizeof(dir)) == -1)
		return (-1);
	return (cgroup_read_key(dir, "memory.oom_control", "oom_kill", n));
}

/*
 * An eventfd the kernel signals on an OOM in the job's memory cgroup
 * (and also when the cgroup is removed): read it, then compare usage's
 * oom_kills with what was seen before.
 */
static int
v1_oom_fd(int64_t job)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int efd, ofd;

	if (v1.nhier == 0 || job <= 0 ||
	    v1_dir(V1_MEMORY, job, dir, sizeof(dir)) == -1 ||
	    cgroup_join(path, sizeof(path), dir, "memory.oom_control") == -1)
		return (-1);
	if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return (-1);
	if ((ofd = cgroup_open(path, O_RDONLY)) == -1) {
		close(efd);
		return (-1);
	}
	if (cgroup_writef(dir, "cgroup.event_control", "%d %d", efd, ofd) ==
	    -1) {
		log_warn("%s/cgroup.event_control", dir);
		close(ofd);
		close(efd);
		return (-1);
	}
	/* The registration holds what it needs; ofd is ours to close. */
	close(ofd);
	return (efd);
}

static int
v1_destroy(int64_t job, struct serr *err)
{
	char dir[PATH_MAX];
	struct serr rterr;
	int64_t rt;
	int i, rc = 0;

	if (v1_ready(err) == -1 || v1_bad_job(job, err) == -1)
		return (-1);
	/*
	 * Hand the RT budget back first: budget that goes away with rmdir
	 * is released late (BASELINE.md), and SUBTREE shrinks with it.
	 */
	if (v1.ctl[V1_CPU] >= 0 && v1.rt &&
	    v1_dir(V1_CPU, job, dir, sizeof(dir)) == 0 &&
	    cgroup_read_i64(dir, "cpu.rt_runtime_us", &rt) == 0 && rt > 0 &&
	    v1_rt_apply(job, 0, &rterr) == -1)
		log_warnx("%s", rterr.message);
	for (i = 0; i < v1.nhier; i++) {
		if (cgroup_job_dir(dir, sizeof(dir), v1.hier[i].sub, job) ==
			0 &&
		    cgroup_rmdir(dir) == 0)
			continue;
		if (rc == 0)
			serr_set(err,
			    errno == EBUSY ? SERR_CONFLICT : SERR_INTERNAL,
			    NULL, "rmdir %s: %s", dir,
			    errno == EBUSY ? "processes remain in it"
					   : strerror(errno));
		rc = -1;
	}
	return (rc);
}

static int
v1_list(int64_t **ids)
{
	int i, n = 0, cap = 0;

	*ids = NULL;
	for (i = 0; i < v1.nhier; i++)
		cgroup_list_jobs(v1.hier[i].sub, ids, &n, &cap);
	return (cgroup_ids_unique(*ids, n));
}

static void
v1_fini(void)
{
	int i;

	if (v1.nhier == 0)
		return;
	if (v1.ctl[V1_CPU] >= 0 && v1.rt)
		cgroup_write(
		    v1.hier[v1.ctl[V1_CPU]].sub, "cpu.rt_runtime_us", "0");
	if (v1.shared && cgroup_rmdir(v1.shared_dir) == -1)
		log_warn("rmdir %s", v1.shared_dir);
	v1.shared = 0;
	cgroup_base_clear();
	for (i = 0; i < v1.nhier; i++)
		if (cgroup_rmdir(v1.hier[i].sub) == -1)
			log_warn("rmdir %s", v1.hier[i].sub);
	v1.nhier = 0;
	for (i = 0; i < V1_NCTL; i++)
		v1.ctl[i] = -1;
}

const struct cgroup_ops cgroup_v1_ops = {
    .name = "v1",
    .init = v1_init,
    .controllers = v1_controllers,
    .create = v1_create,
    .set_cpus = v1_set_cpus,
    .get_cpus = v1_get_cpus,
    .set_shared = v1_set_shared,
    .set_limits = v1_set_limits,
    .set_rt_runtime = v1_set_rt_runtime,
    .attach_fds = v1_attach_fds,
    .procs = v1_procs,
    .procs_all = v1_procs_all,
    .freeze = v1_freeze,
    .kill = v1_kill,
    .usage = v1_usage,
    .oom_kills = v1_oom_kills,
    .oom_fd = v1_oom_fd,
    .destroy = v1_destroy,
    .list = v1_list,
    .fini = v1_fini,
};
