/* SPDX-License-Identifier: ISC */
/*
 * The cgroup v2 backend: the unified hierarchy, OWN/SUBTREE/job-ID. The
 * no-internal-processes rule shapes it: the daemon first moves itself to
 * the leaf SUBTREE/daemon, so that OWN and SUBTREE hold no processes and
 * may enable controllers for their children. A controller that cannot be
 * enabled is left out, never fatal. It creates directories only beneath
 * OWN, writes only OWN's and SUBTREE's cgroup.subtree_control outside the
 * jobs' own cgroups, and signals only pids read from a job's cgroup.procs.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/types.h>

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
#include "proto/errors.h"
#include "proto/jobspec.h"
#include "proto/util.h"

enum v2_ctl {
	V2_CPU,    /* cpu.max, cpu.weight */
	V2_CPUSET, /* cpuset.cpus */
	V2_MEMORY, /* memory.max, memory.swap.max, memory.events */
	V2_PIDS,   /* pids.max */
	V2_NCTL
};

static const char *const v2_names[V2_NCTL] = {
    "cpu", "cpuset", "memory", "pids"};

static struct {
	int ready;
	int moved;          /* we live in SUBTREE/daemon */
	int freezer;        /* cgroup.freeze exists (5.2+) */
	int has[V2_NCTL];   /* enabled in SUBTREE's subtree_control */
	char own[PATH_MAX]; /* the cgroup we were started in */
	char sub[PATH_MAX]; /* OWN/SUBTREE */
	char names[64];
	char pool[1024]; /* the shared pool's CPUs (set_shared) */
} v2;

static int
v2_ready(int64_t job, struct serr *err)
{
	if (!v2.ready) {
		serr_set(err, SERR_UNAVAILABLE, NULL,
		    "cgroup v2 is not initialised");
		return (-1);
	}
	if (job <= 0) {
		serr_set(err, SERR_INVALID, NULL, "cgroup: bad job id %" PRId64,
		    job);
		return (-1);
	}
	return (0);
}

static int
v2_dir(int64_t job, char *buf, size_t len)
{
	return (cgroup_job_dir(buf, len, v2.sub, job));
}

static void
v2_add_name(const char *name)
{
	if (v2.names[0] != '\0')
		strncat(v2.names, " ", sizeof(v2.names) - strlen(v2.names) - 1);
	strncat(v2.names, name, sizeof(v2.names) - strlen(v2.names) - 1);
}

/* Leave OWN for the leaf SUBTREE/daemon, so OWN has no processes. */
static void
v2_move_self(void)
{
	char leaf[PATH_MAX];

	if (cgroup_join(leaf, sizeof(leaf), v2.sub, "daemon") == -1 ||
	    cgroup_mkdir(leaf, NULL) == -1 ||
	    cgroup_writef(leaf, "cgroup.procs", "%ld", (long)getpid()) == -1) {
		log_warn("cannot move into %s/daemon; controllers may stay off",
		    v2.sub);
		return;
	}
	v2.moved = 1;
	log_debug("moved into %s", leaf);
}

/* "+ctl" in OWN's (unless there already) and SUBTREE's subtree_control. */
static int
v2_enable(const char *ctl)
{
	char on[1024];

	if (cgroup_read(v2.own, "cgroup.subtree_control", on, sizeof(on)) ==
		-1 ||
	    !cgroup_has_token(on, ctl)) {
		if (cgroup_writef(
			v2.own, "cgroup.subtree_control", "+%s", ctl) == -1) {
			log_warn("%s: +%s in %s", ctl, ctl, v2.own);
			return (-1);
		}
	}
	if (cgroup_writef(v2.sub, "cgroup.subtree_control", "+%s", ctl) == -1) {
		log_warn("%s: +%s in %s", ctl, ctl, v2.sub);
		return (-1);
	}
	return (0);
}

static int
v2_init(const struct cgroup_env *env, struct serr *err)
{
	struct cgroup_env e;
	char offers[1024];
	int c;

	cgroup_env_defaults(env, &e);
	memset(&v2, 0, sizeof(v2));
	if (!cgroup_name_valid(e.subtree)) {
		serr_set(err, SERR_INVALID, "cgroup_root",
		    "cgroup_root: \"%s\" is not a single directory name",
		    e.subtree);
		return (-1);
	}
	if (cgroup_locate(&e, NULL, v2.own, sizeof(v2.own)) == -1) {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "cgroup v2: no unified hierarchy holding our cgroup (%s)",
		    strerror(errno));
		return (-1);
	}
	if (cgroup_join(v2.sub, sizeof(v2.sub), v2.own, e.subtree) == -1 ||
	    cgroup_mkdir(v2.sub, NULL) == -1) {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "cgroup v2: cannot create %s/%s: %s", v2.own, e.subtree,
		    strerror(errno));
		return (-1);
	}
	if (e.move_self)
		v2_move_self();
	if (cgroup_base_add(v2.sub) == -1)
		log_warn("%s", v2.sub);
	if (cgroup_read(v2.own, "cgroup.controllers", offers, sizeof(offers)) ==
	    -1)
		offers[0] = '\0';
	for (c = 0; c < V2_NCTL; c++) {
		if (!cgroup_has_token(offers, v2_names[c])) {
			log_debug("%s: not offered to %s", v2_names[c], v2.own);
			continue;
		}
		if (v2_enable(v2_names[c]) == -1)
			continue;
		v2.has[c] = 1;
		v2_add_name(v2_names[c]);
	}
	if ((v2.freezer = cgroup_exists(v2.sub, "cgroup.freeze")))
		v2_add_name("freezer");
	if (v2.names[0] == '\0') {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "cgroup v2: no controller could be enabled in %s", v2.sub);
		return (-1);
	}
	v2.ready = 1;
	return (0);
}

static const char *
v2_controllers(void)
{
	return (v2.names);
}

static int
v2_create(int64_t job, struct serr *err)
{
	char dir[PATH_MAX];
	int created;

	if (v2_ready(job, err) == -1)
		return (-1);
	if (v2_dir(job, dir, sizeof(dir)) == -1 ||
	    cgroup_mkdir(dir, &created) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "mkdir %s: %s", dir,
		    strerror(errno));
		return (-1);
	}
	return (created);
}

/* Each job's cpuset says the pool's CPUs itself: remembered here for
 * set_cpus, and set on each job by the caller. */
static int
v2_set_shared(const char *cpus, struct serr *err)
{
	(void)err;
	util_strlcpy(v2.pool, cpus, sizeof(v2.pool));
	return (0);
}

/* A write to the job's dir failed: name the field and the reason. */
static int
v2_failed(const char *field, const char *dir, const char *file, const char *val,
    struct serr *err)
{
	if (errno == EINVAL || errno == EBUSY || errno == ERANGE)
		serr_set(err, SERR_UNSATISFIABLE, field,
		    "%s: the kernel refused \"%s\" for %s (%s)", field, val,
		    file, strerror(errno));
	else if (errno == ENOENT)
		serr_set(err, SERR_NOT_FOUND, field, "%s/%s: %s", dir, file,
		    strerror(errno));
	else
		serr_set(err, SERR_INTERNAL, field, "%s/%s: %s", dir, file,
		    strerror(errno));
	return (-1);
}

static int
v2_get_cpus(int64_t job, char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (!v2.ready || job <= 0 || !v2.has[V2_CPUSET] ||
	    v2_dir(job, dir, sizeof(dir)) == -1) {
		errno = ENOENT;
		return (-1);
	}
	return (cgroup_read(dir, "cpuset.cpus", buf, len) == -1 ? -1 : 0);
}

static int
v2_set_cpus(int64_t job, const char *cpus, struct serr *err)
{
	char dir[PATH_MAX];

	if (v2_ready(job, err) == -1)
		return (-1);
	if (!v2.has[V2_CPUSET]) {
		if (cpus == NULL || *cpus == '\0')
			return (0);
		return (cgroup_missing(v2_names[V2_CPUSET], "cpus", err));
	}
	/* Empty: the shared pool; before set_shared, the parent's CPUs. */
	if (cpus == NULL || *cpus == '\0')
		cpus = v2.pool[0] != '\0' ? v2.pool : "\n";
	if (v2_dir(job, dir, sizeof(dir)) == -1 ||
	    cgroup_write(dir, "cpuset.cpus", cpus) == -1)
		return (v2_failed("cpus", dir, "cpuset.cpus", cpus, err));
	return (0);
}

static int
v2_set_limits(int64_t job, const struct job_limits *l, struct serr *err)
{
	char dir[PATH_MAX], val[64];

	if (v2_ready(job, err) == -1)
		return (-1);
	if (v2_dir(job, dir, sizeof(dir)) == -1)
		return (v2_failed("limits", dir, "", "", err));

	if (!v2.has[V2_MEMORY]) {
		if (l->memory_max != 0)
			return (cgroup_missing(
			    v2_names[V2_MEMORY], "limits.memory_max", err));
	} else {
		if (l->memory_max != 0)
			snprintf(val, sizeof(val), "%" PRIu64, l->memory_max);
		else
			util_strlcpy(val, "max", sizeof(val));
		if (cgroup_write(dir, "memory.max", val) == -1)
			return (v2_failed(
			    "limits.memory_max", dir, "memory.max", val, err));
		/* No swap beyond the limit; absent without swap accounting. */
		util_strlcpy(
		    val, l->memory_max != 0 ? "0" : "max", sizeof(val));
		if (cgroup_write(dir, "memory.swap.max", val) == -1 &&
		    errno != ENOENT)
			return (v2_failed("limits.memory_max", dir,
			    "memory.swap.max", val, err));
	}

	if (!v2.has[V2_PIDS]) {
		if (l->pids_max != 0)
			return (cgroup_missing(
			    v2_names[V2_PIDS], "limits.pids_max", err));
	} else {
		if (l->pids_max != 0)
			snprintf(val, sizeof(val), "%" PRId64, l->pids_max);
		else
			util_strlcpy(val, "max", sizeof(val));
		if (cgroup_write(dir, "pids.max", val) == -1)
			return (v2_failed(
			    "limits.pids_max", dir, "pids.max", val, err));
	}

	if (!v2.has[V2_CPU]) {
		if (l->cpu_quota_pct != 0)
			return (cgroup_missing(
			    v2_names[V2_CPU], "limits.cpu_quota_pct", err));
		if (l->cpu_weight != 0)
			return (cgroup_missing(
			    v2_names[V2_CPU], "limits.cpu_weight", err));
		return (0);
	}
	if (l->cpu_quota_pct != 0)
		snprintf(
		    val, sizeof(val), "%d 100000", l->cpu_quota_pct * 1000);
	else
		util_strlcpy(val, "max 100000", sizeof(val));
	if (cgroup_write(dir, "cpu.max", val) == -1)
		return (v2_failed(
		    "limits.cpu_quota_pct", dir, "cpu.max", val, err));
	snprintf(
	    val, sizeof(val), "%d", l->cpu_weight != 0 ? l->cpu_weight : 100);
	if (cgroup_write(dir, "cpu.weight", val) == -1)
		return (v2_failed(
		    "limits.cpu_weight", dir, "cpu.weight", val, err));
	return (0);
}

/* v2 has no RT group scheduling: RT tasks need no cgroup budget. */
static int
v2_set_rt_runtime(int64_t job, int64_t us, struct serr *err)
{
	(void)job;
	(void)us;
	(void)err;
	return (0);
}

static int
v2_attach_fds(int64_t job, int *fds, int max, int *dirfd, struct serr *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int saved;

	*dirfd = -1;
	if (v2_ready(job, err) == -1)
		return (-1);
	if (max < 1) {
		serr_set(err, SERR_INTERNAL, NULL, "attach: no room for an fd");
		return (-1);
	}
	if (v2_dir(job, dir, sizeof(dir)) == -1 ||
	    cgroup_join(path, sizeof(path), dir, "cgroup.procs") == -1)
		goto fail;
	if ((*dirfd = cgroup_open(dir, O_PATH | O_DIRECTORY)) == -1)
		goto fail;
	if ((fds[0] = cgroup_open(path, O_WRONLY)) == -1) {
		saved = errno;
		close(*dirfd);
		*dirfd = -1;
		errno = saved;
		goto fail;
	}
	return (1);
fail:
	serr_set(err, errno == ENOENT ? SERR_NOT_FOUND : SERR_INTERNAL, NULL,
	    "%s: %s", dir, strerror(errno));
	return (-1);
}

static int
v2_procs(int64_t job, pid_t *pids, int max)
{
	char dir[PATH_MAX];

	if (!v2.ready || job <= 0 || v2_dir(job, dir, sizeof(dir)) == -1)
		return (-1);
	return (cgroup_procs_copy(dir, pids, max));
}

static int
v2_procs_all(int64_t job, pid_t **pids)
{
	char dir[PATH_MAX];
	size_t n;

	*pids = NULL;
	if (!v2.ready || job <= 0 || v2_dir(job, dir, sizeof(dir)) == -1)
		return (-1);
	if (cgroup_read_pids(dir, pids, &n) == -1)
		return (-1);
	return ((int)n);
}

static int
v2_freeze(int64_t job, int frozen, struct serr *err)
{
	char dir[PATH_MAX];

	if (v2_ready(job, err) == -1)
		return (-1);
	if (!v2.freezer) {
		serr_set(err, SERR_UNSATISFIABLE, NULL,
		    "pause and resume need cgroup.freeze (Linux 5.2), which is not available");
		return (-1);
	}
	if (v2_dir(job, dir, sizeof(dir)) == -1 ||
	    cgroup_write(dir, "cgroup.freeze", frozen ? "1" : "0") == -1) {
		serr_set(err, errno == ENOENT ? SERR_NOT_FOUND : SERR_INTERNAL,
		    NULL, "%s/cgroup.freeze: %s", dir, strerror(errno));
		return (-1);
	}
	/* Frozen at once, as a rule; the kernel finishes what it cannot
	 * freeze at once by itself (see v1_freeze). */
	if (cgroup_line_is(
		dir, "cgroup.events", frozen ? "frozen 1" : "frozen 0") != 1)
		log_debug("%s/cgroup.events: not frozen %d yet", dir, frozen);
	return (0);
}

static int
v2_kill(int64_t job, int sig, struct serr *err)
{
	char dir[PATH_MAX];
	pid_t *pids;
	size_t n;
	int count;

	if (v2_ready(job, err) == -1)
		return (-1);
	if (v2_dir(job, dir, sizeof(dir)) == -1)
		goto fail;
	if (sig == SIGKILL && cgroup_exists(dir, "cgroup.kill")) {
		/* The kernel kills the whole tree, forks included (5.14+). */
		if (cgroup_read_pids(dir, &pids, &n) == -1)
			goto fail;
		free(pids);
		if (cgroup_write(dir, "cgroup.kill", "1") == -1)
			goto fail;
		return ((int)n);
	}
	/* Rounds until none is new (see v1_kill). */
	count = cgroup_signal_all(dir, sig);
	if (count == -1)
		goto fail;
	return (count);
fail:
	serr_set(err, errno == ENOENT ? SERR_NOT_FOUND : SERR_INTERNAL, NULL,
	    "signal %d to job %" PRId64 ": %s", sig, job, strerror(errno));
	return (-1);
}

/* The "some" line's total= of DIR/cpu.pressure, in us; -1 without. */
static int64_t
v2_pressure_total(const char *dir)
{
	char buf[512], *p;
	long long v;

	if (cgroup_read(dir, "cpu.pressure", buf, sizeof(buf)) == -1 ||
	    strncmp(buf, "some ", 5) != 0 ||
	    (p = strstr(buf, " total=")) == NULL ||
	    sscanf(p + 7, "%lld", &v) != 1)
		return (-1);
	return ((int64_t)v);
}

static int
v2_usage(int64_t job, struct cgroup_usage *u)
{
	/* cpu.stat once for all four (cgroup_read_keys). */
	static const char *const stat_keys[] = {
	    "usage_usec", "nr_periods", "nr_throttled", "throttled_usec"};
	int64_t stat[4] = {-1, -1, -1, -1};
	char dir[PATH_MAX];
	pid_t *pids;
	size_t n;
	int64_t v;

	u->memory_current = u->memory_peak = u->cpu_usage_us = -1;
	u->nprocs = u->oom_kills = -1;
	u->nr_periods = u->nr_throttled = u->throttled_us = -1;
	u->cpu_pressure_us = -1;
	if (!v2.ready || job <= 0 || v2_dir(job, dir, sizeof(dir)) == -1 ||
	    cgroup_read_pids(dir, &pids, &n) == -1)
		return (-1);
	free(pids);
	u->nprocs = (int64_t)n;
	if (cgroup_read_i64(dir, "memory.current", &v) == 0)
		u->memory_current = v;
	if (cgroup_read_i64(dir, "memory.peak", &v) == 0)
		u->memory_peak = v;
	if (cgroup_read_keys(dir, "cpu.stat", stat_keys, stat, 4) >= 0) {
		u->cpu_usage_us = stat[0];
		u->nr_periods = stat[1];
		u->nr_throttled = stat[2];
		u->throttled_us = stat[3];
	}
	if (cgroup_read_key(dir, "memory.events", "oom_kill", &v) == 0)
		u->oom_kills = v;
	u->cpu_pressure_us = v2_pressure_total(dir);
	return (0);
}

static int
v2_oom_kills(int64_t job, int64_t *n)
{
	char dir[PATH_MAX];

	if (!v2.ready || job <= 0 || v2_dir(job, dir, sizeof(dir)) == -1)
		return (-1);
	return (cgroup_read_key(dir, "memory.events", "oom_kill", n));
}

/*
 * An inotify fd that turns readable whenever memory.events changes (the
 * kernel's file notification; a plain fd on memory.events would always
 * poll readable and only flag POLLPRI, which libevent cannot wait for).
 * Read it, then compare usage's oom_kills with what was seen before.
 */
static int
v2_oom_fd(int64_t job)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd;

	if (!v2.ready || job <= 0 || !v2.has[V2_MEMORY] ||
	    v2_dir(job, dir, sizeof(dir)) == -1 ||
	    cgroup_join(path, sizeof(path), dir, "memory.events") == -1)
		return (-1);
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return (-1);
	if (inotify_add_watch(fd, path, IN_MODIFY) == -1) {
		log_warn("inotify %s", path);
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
v2_destroy(int64_t job, struct serr *err)
{
	char dir[PATH_MAX];

	if (v2_ready(job, err) == -1)
		return (-1);
	if (v2_dir(job, dir, sizeof(dir)) == -1 || cgroup_rmdir(dir) == -1) {
		serr_set(err, errno == EBUSY ? SERR_CONFLICT : SERR_INTERNAL,
		    NULL, "rmdir %s: %s", dir,
		    errno == EBUSY ? "processes remain in it"
				   : strerror(errno));
		return (-1);
	}
	return (0);
}

static int
v2_list(int64_t **ids)
{
	int n = 0, cap = 0;

	*ids = NULL;
	if (!v2.ready)
		return (0);
	cgroup_list_jobs(v2.sub, ids, &n, &cap);
	return (cgroup_ids_unique(*ids, n));
}

static void
v2_fini(void)
{
	if (!v2.ready)
		return;
	/* We live in SUBTREE/daemon until we exit; both stay behind then. */
	cgroup_base_clear();
	if (!v2.moved && cgroup_rmdir(v2.sub) == -1)
		log_warn("rmdir %s", v2.sub);
	v2.ready = 0;
}

const struct cgroup_ops cgroup_v2_ops = {
    .name = "v2",
    .init = v2_init,
    .controllers = v2_controllers,
    .create = v2_create,
    .set_cpus = v2_set_cpus,
    .get_cpus = v2_get_cpus,
    .set_shared = v2_set_shared,
    .set_limits = v2_set_limits,
    .set_rt_runtime = v2_set_rt_runtime,
    .attach_fds = v2_attach_fds,
    .procs = v2_procs,
    .procs_all = v2_procs_all,
    .freeze = v2_freeze,
    .kill = v2_kill,
    .usage = v2_usage,
    .oom_kills = v2_oom_kills,
    .oom_fd = v2_oom_fd,
    .destroy = v2_destroy,
    .list = v2_list,
    .fini = v2_fini,
};
