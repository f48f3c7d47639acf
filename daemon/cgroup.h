/* SPDX-License-Identifier: ISC */
/*
 * The cgroup backend: one interface, a v1 and a v2 implementation, picked
 * at start-up by cgroup_detect(). Every cgroup it makes lies beneath the
 * cgroup the daemon was started in (its delegated subtree, read from
 * /proc/self/cgroup): OWN/schedd/job-ID, in every controller the machine
 * offers (v1: cpu, cpuset, memory, pids, freezer, each its own hierarchy;
 * v2: the unified one). On v2 the daemon first moves itself into the leaf
 * OWN/schedd/daemon, as the no-internal-processes rule demands. Paths are
 * built from job ids only. All functions return 0 or -1 with err filled,
 * unless they say otherwise, and never touch a process they were not
 * given by pid or found in a job's own cgroup.
 */
#ifndef SCHEDD_CGROUP_H
#define SCHEDD_CGROUP_H

#include <sys/types.h>

#include <stdint.h>

#include "proto/errors.h"

struct job_limits;

#define CGROUP_FDS_MAX 8

/* Where to look: the real system, or a temporary tree in unit tests. */
struct cgroup_env {
	const char	*fs_root;	/* "/sys/fs/cgroup" */
	const char	*self_cgroup;	/* "/proc/self/cgroup" */
	const char	*mountinfo;	/* "/proc/self/mountinfo" */
	const char	*subtree;	/* "schedd" (config cgroup_root) */
	int		 move_self;	/* v2: move the daemon into a leaf */
};

/* The usage figures of one job's cgroup; -1 where unknown. */
struct cgroup_usage {
	int64_t		 memory_current;	/* bytes */
	int64_t		 memory_peak;		/* bytes (v1 max_usage) */
	int64_t		 cpu_usage_us;		/* user + system */
	int64_t		 nprocs;
	int64_t		 oom_kills;		/* memory oom_kill count */
	/* cpu.stat: CFS bandwidth periods, those that ran out of quota, and
	 * the time spent throttled (v1 throttled_time, v2 throttled_usec). */
	int64_t		 nr_periods;
	int64_t		 nr_throttled;
	int64_t		 throttled_us;
	/* cpu.pressure "some" total: time some member waited for a CPU
	 * (v2 only; -1 on v1, where PSI is per machine). */
	int64_t		 cpu_pressure_us;
};

struct cgroup_ops {
	const char	*name;			/* "v1" or "v2" */

	/* Find the hierarchies and create OWN/SUBTREE in each. */
	int	(*init)(const struct cgroup_env *env, struct serr *err);
	/* Which controllers are usable: "cpu cpuset memory pids freezer". */
	const char *(*controllers)(void);

	/* Make the job's cgroups (idempotent: an existing one is reused).
	 * Returns 1 if they are new (every setting at its default), 0 if
	 * they existed, -1 on error. */
	int	(*create)(int64_t job, struct serr *err);
	/* The job's CPUs (v1: a cpuset of its own, cpus and mems set). NULL
	 * or "": the shared pool's, as the last set_shared gave them (v1:
	 * the job joins SUBTREE/shared), or SUBTREE's before any. */
	int	(*set_cpus)(int64_t job, const char *cpus, struct serr *err);
	/* The cpuset.cpus of a job with CPUs of its own (pinned or
	 * exclusive), as the kernel has it now, into buf: 0, or -1 with
	 * errno (ENOENT: no cpuset of its own). For the drift check. */
	int	(*get_cpus)(int64_t job, char *buf, size_t len);
	/* The shared pool's CPUs, where the backend keeps every shared-pool
	 * job in one cgroup: returns 1 (done), or 0 when each job's cpuset
	 * must be set through set_cpus instead, or -1. */
	int	(*set_shared)(const char *cpus, struct serr *err);
	/* memory_max (and no swap beyond it), pids_max, cpu_quota_pct
	 * (cfs quota per 100 ms period / cpu.max), cpu_weight (cpu.weight, or
	 * cpu.shares = weight * 1024 / 100 on v1). Zero fields: unlimited. */
	int	(*set_limits)(int64_t job, const struct job_limits *l,
		    struct serr *err);
	/* v1 with RT group scheduling: cpu.rt_runtime_us of the job's cgroup
	 * (and of SUBTREE, which must hold the sum first). v2: no-op. */
	int	(*set_rt_runtime)(int64_t job, int64_t us, struct serr *err);

	/*
	 * Open what the child needs to join its cgroups before execve: v1,
	 * one O_WRONLY|O_CLOEXEC fd on cgroup.procs per hierarchy (the child
	 * writes "0"); v2, the job directory's O_PATH fd for
	 * clone3(CLONE_INTO_CGROUP) in *dirfd and its cgroup.procs in fds as
	 * the fallback. Returns the number of fds (caller closes them all).
	 */
	int	(*attach_fds)(int64_t job, int *fds, int max, int *dirfd,
		    struct serr *err);

	/* Member pids, up to max; returns the count (more may exist when it
	 * equals max) or -1. */
	int	(*procs)(int64_t job, pid_t *pids, int max);
	/* Every member pid, however many: *pids is malloc'd (the caller
	 * frees it; NULL on -1). Returns the count or -1. */
	int	(*procs_all)(int64_t job, pid_t **pids);
	/* Freeze (1) or thaw (0) the whole tree. Never waits: the kernel
	 * finishes what it cannot freeze at once by itself. */
	int	(*freeze)(int64_t job, int frozen, struct serr *err);
	/* Signal every member, one round: what forks meanwhile is caught by
	 * the next round (v2 SIGKILL: cgroup.kill takes forks too). Never
	 * waits. Returns the number signalled or -1. */
	int	(*kill)(int64_t job, int sig, struct serr *err);
	/* Fill usage. */
	int	(*usage)(int64_t job, struct cgroup_usage *u);
	/* The OOM kills in the job's cgroup so far (one file, where usage
	 * reads six): 0, or -1 if the machine cannot tell. */
	int	(*oom_kills)(int64_t job, int64_t *n);
	/* An fd that becomes readable when the job is OOM-killed (v1:
	 * eventfd on memory.oom_control; v2: memory.events, POLLPRI), or -1
	 * if the machine cannot tell. */
	int	(*oom_fd)(int64_t job);
	/* Remove the job's cgroups (they must be empty). */
	int	(*destroy)(int64_t job, struct serr *err);
	/* Ids of the job cgroups that exist now (stale ones after a crash),
	 * all of them, ascending, each once: *ids is malloc'd (NULL if
	 * none) and the caller frees it. Returns the count. */
	int	(*list)(int64_t **ids);
	/* Remove SUBTREE itself (at shutdown, once every job's is gone). */
	void	(*fini)(void);
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/*
 * Choose the backend: v2 when the unified hierarchy offers the cpu,
 * memory and pids controllers to our cgroup, else v1 when those live on
 * v1 hierarchies, else NULL (no cgroups: jobs run without them, and what
 * needs them answers 422). Calls the chosen backend's init.
 */
const struct cgroup_ops *cgroup_detect(const struct cgroup_env *env,
    struct serr *err);

#endif
