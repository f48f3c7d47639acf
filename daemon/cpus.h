/* SPDX-License-Identifier: ISC */
/*
 * CPUs: the topology (online CPUs, SMT siblings, cores, packages, last-level
 * cache, NUMA nodes, isolated CPUs) read from sysfs, the CPUs this daemon
 * may use (its own cpuset), and exclusive grants. The shared pool is every
 * usable CPU not granted; grants are chosen topology-aware in the order of
 * Kubernetes' CPU manager (kubelet cpu_assignment.go): whole packages when
 * the request is that large, then whole physical cores (all SMT siblings)
 * before single threads, packing into one LLC, then one NUMA node, lowest
 * ids first. At least shared_min CPUs always stay shared. Pure bookkeeping:
 * it reads sysfs in cpus_new() and never writes anything.
 */
#ifndef SCHEDD_CPUS_H
#define SCHEDD_CPUS_H

#include <stdint.h>

#include "proto/cpulist.h"
#include "proto/errors.h"

struct cpus;

struct cpu_info {
	int		 cpu;
	int		 online;
	int		 usable;	/* online, ours, not isolated */
	int		 isolated;	/* in /sys/devices/system/cpu/isolated */
	int		 core;		/* topology/core_id */
	int		 package;	/* topology/physical_package_id */
	int		 llc;		/* lowest CPU of its LLC's shared_cpu_list */
	int		 node;		/* NUMA node, 0 without NUMA */
	int64_t		 granted_to;	/* job id holding it exclusively; 0 */
};

/*
 * Read the topology under sys_cpu ("/sys/devices/system/cpu") and
 * sys_node ("/sys/devices/system/node"; may be missing). allowed is the
 * daemon's own cpuset (NULL: every online CPU). Isolated CPUs are usable
 * only when named explicitly (cpus_check_list), never pooled or granted.
 */
struct cpus *cpus_new(const char *sys_cpu, const char *sys_node,
    const struct cpulist *allowed, int shared_min, struct serr *err);
void cpus_free(struct cpus *c);

/* Usable CPUs (online, allowed, not isolated). */
const struct cpulist *cpus_usable(const struct cpus *c);
/* The shared pool: usable minus granted. */
const struct cpulist *cpus_shared(const struct cpus *c);
/* Number of CPUs described (highest id + 1) and one CPU's facts. */
int cpus_count(const struct cpus *c);
int cpus_info(const struct cpus *c, int cpu, struct cpu_info *out);

/* An explicit list is usable when every CPU exists, is online and is
 * allowed (isolated ones are fine here); else SERR_UNSATISFIABLE naming
 * the CPUs that are not, field "cpus". */
int cpus_check_list(const struct cpus *c, const struct cpulist *want,
    struct serr *err);
/* 0 if n exclusive CPUs could ever be granted (n <= usable - shared_min),
 * else SERR_UNSATISFIABLE, field "exclusive_cpus", saying the maximum. */
int cpus_grant_possible(const struct cpus *c, int n, struct serr *err);
/*
 * Grant n CPUs to job now. Returns 0 with the set in out; -1 with
 * SERR_UNSATISFIABLE when too few are free now (the caller queues the
 * job) or ever. A job holds at most one grant.
 */
int cpus_grant(struct cpus *c, int64_t job, int n, struct cpulist *out,
    struct serr *err);
/* The same, choosing none of the CPUs in avoid (those running pinned
 * jobs use); they count as not free for "now". */
int cpus_grant_avoid(struct cpus *c, int64_t job, int n,
    const struct cpulist *avoid, struct cpulist *out, struct serr *err);
/* Re-take a known grant (after a daemon restart). -1 if any is taken. */
int cpus_grant_exact(struct cpus *c, int64_t job, const struct cpulist *set,
    struct serr *err);
/* Release job's grant (no-op without one). */
void cpus_release(struct cpus *c, int64_t job);
/* The set granted to job; 0 if it holds one, else -1. */
int cpus_granted(const struct cpus *c, int64_t job, struct cpulist *out);

#endif
