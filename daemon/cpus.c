/* SPDX-License-Identifier: ISC */
/*
 * CPU topology and exclusive grants. cpus_new() is the only function that
 * touches the file system: it reads sysfs once (online CPUs, SMT siblings,
 * cores, packages, the last-level cache, NUMA nodes, isolated CPUs) into
 * per-CPU facts and dense domain indices, and allocates every array a grant
 * will need. After that this module is bookkeeping on bitmaps: it never
 * reads or writes sysfs or cgroupfs again and never allocates, so granting
 * cannot fail for lack of memory. Grants follow Kubernetes' CPU manager:
 * whole packages when the request is that large, then whole physical cores,
 * then single threads, packed into one LLC, then one NUMA node, then one
 * package, lowest ids on ties; at least shared_min CPUs always stay shared.
 */
#include "config.h"

#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cpus.h"
#include "daemon/log.h"
#include "daemon/xmalloc.h"
#include "proto/cpulist.h"
#include "proto/errors.h"
#include "proto/util.h"

/* Topology levels, innermost first. */
enum cpus_level {
	LV_CORE, /* the SMT siblings of one physical core */
	LV_LLC,  /* CPUs sharing one last-level cache */
	LV_NODE, /* one NUMA node */
	LV_PKG,  /* one physical package (socket) */
	LV_N
};

/* The levels a grant packs into, innermost first. */
static const enum cpus_level cpus_pack_levels[] = {LV_LLC, LV_NODE, LV_PKG};
#define CPUS_NPACK ((int)(sizeof cpus_pack_levels / sizeof cpus_pack_levels[0]))

/* sysfs list files fit in a page; formatted lists of 1024 CPUs in ~4 KB. */
#define CPUS_TEXT_MAX 8192
/* cache/indexN directories looked at when index3 is missing. */
#define CPUS_CACHE_MAX 16

struct cpus {
	int ncpu;                /* highest described CPU + 1 */
	int shared_min;          /* CPUs that always stay shared */
	struct cpulist present;  /* has a cpuN directory or is online */
	struct cpulist online;   /* online list and cpuN/online agree */
	struct cpulist allowed;  /* the daemon's own cpuset */
	struct cpulist isolated; /* isolcpus= */
	struct cpulist usable;   /* online & allowed & !isolated */
	struct cpulist shared;   /* usable & !granted */
	struct cpu_info *info;   /* [ncpu] */
	int *dom[LV_N];          /* [ncpu] dense domain; -1 when offline */
	int ndom[LV_N];          /* domains per level */
	int *total[LV_N];        /* [ndom] online CPUs in each domain */
	int *first[LV_N];        /* [ndom] lowest online CPU of each domain */
	int max_core;            /* SMT threads of the largest core */
	/* Scratch for one grant, allocated here so granting never allocates. */
	int *free[LV_N]; /* [ndom] CPUs still free in each domain */
	int *colo[LV_N]; /* [ndom] CPUs of this grant in each domain */
};

/* One grant being assembled. */
struct cpus_acc {
	struct cpulist avail;  /* shared and not yet taken */
	struct cpulist target; /* the part of avail this grant packs into */
	struct cpulist result; /* taken so far */
	int need;              /* CPUs still to take */
};

static int cpus_read(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Read a small sysfs file into buf, NUL-terminated. -1 with errno set when
 * the file cannot be read or does not fit.
 */
static int
cpus_read(char *buf, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	ssize_t n;
	size_t off = 0;
	int fd, r, rc = -1, saved_errno;

	va_start(ap, fmt);
	r = vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	for (;;) {
		n = read(fd, buf + off, len - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == len - 1) {
			errno = EFBIG;
			goto out;
		}
	}
	buf[off] = '\0';
	rc = 0;
out:
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return (rc);
}

/* A sysfs number ("3\n"); -1 when it is not one in [min, INT_MAX]. */
static int
cpus_parse_int(char *buf, int min, int *out)
{
	const char *errstr;
	size_t len = strlen(buf);
	long long v;

	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	v = util_strtonum(buf, min, INT_MAX, &errstr);
	if (errstr != NULL)
		return (-1);
	*out = (int)v;
	return (0);
}

/* The lowest CPU of cl, or -1 when it is empty. */
static int
cpus_lowest(const struct cpulist *cl)
{
	unsigned int i;

	for (i = 0; i < CPULIST_MAX / 64; i++) {
		if (cl->bits[i] != 0)
			return ((int)(i * 64) + __builtin_ctzll(cl->bits[i]));
	}
	return (-1);
}

/* The lowest CPU of the list in a sysfs file, or -1. */
static int
cpus_read_lowest(
    char *buf, size_t len, const char *sys_cpu, int cpu, const char *file)
{
	struct cpulist cl;

	if (cpus_read(buf, len, "%s/cpu%d/%s", sys_cpu, cpu, file) == -1 ||
	    cpulist_parse(buf, &cl, 0, NULL) == -1)
		return (-1);
	return (cpus_lowest(&cl));
}

/*
 * The LLC of cpu as the lowest CPU sharing it: cache/index3, else the
 * highest-level data or unified cache at level 2 or more; -1 when there is
 * none (the caller falls back to the package).
 */
static int
cpus_read_llc(char *buf, size_t len, const char *sys_cpu, int cpu)
{
	char file[64];
	int i, level, best = -1, best_level = 2;

	if ((i = cpus_read_lowest(
		 buf, len, sys_cpu, cpu, "cache/index3/shared_cpu_list")) != -1)
		return (i);
	for (i = 0; i < CPUS_CACHE_MAX; i++) {
		if (cpus_read(buf, len, "%s/cpu%d/cache/index%d/level", sys_cpu,
			cpu, i) == -1 ||
		    cpus_parse_int(buf, 0, &level) == -1 || level < best_level)
			continue;
		if (cpus_read(buf, len, "%s/cpu%d/cache/index%d/type", sys_cpu,
			cpu, i) == 0 &&
		    strncmp(buf, "Instruction", 11) == 0)
			continue;
		best = i; /* ties: the highest index wins */
		best_level = level;
	}
	if (best == -1)
		return (-1);
	(void)snprintf(
	    file, sizeof file, "cache/index%d/shared_cpu_list", best);
	return (cpus_read_lowest(buf, len, sys_cpu, cpu, file));
}

/*
 * Every "cpuN" (prefix "cpu") or "nodeN" entry of dir into ids. Returns the
 * number of entries past CPULIST_MAX that were skipped, or -1 with errno
 * when dir cannot be read.
 */
static int
cpus_scan(const char *dir, const char *prefix, struct cpulist *ids)
{
	DIR *d;
	struct dirent *de;
	const char *errstr;
	size_t plen = strlen(prefix);
	long long v;
	int skipped = 0;

	cpulist_zero(ids);
	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    de->d_name[plen] < '0' || de->d_name[plen] > '9')
			continue;
		v = util_strtonum(de->d_name + plen, 0, INT_MAX, &errstr);
		if (errstr != NULL)
			continue;
		if (v >= CPULIST_MAX)
			skipped++;
		else
			cpulist_set(ids, (unsigned int)v);
	}
	closedir(d);
	return (skipped);
}

/*
 * Dense indices for one level: online CPUs with the same key share a
 * domain, numbered in order of their lowest CPU so that "lowest domain"
 * and "lowest CPU" agree. keys is scratch of ncpu ints.
 */
static void
cpus_map(struct cpus *c, enum cpus_level lv, const int *key, int *keys)
{
	int x, d;

	c->ndom[lv] = 0;
	for (x = 0; x < c->ncpu; x++) {
		c->dom[lv][x] = -1;
		if (!cpulist_isset(&c->online, (unsigned int)x))
			continue;
		for (d = 0; d < c->ndom[lv]; d++) {
			if (keys[d] == key[x])
				break;
		}
		if (d == c->ndom[lv]) {
			keys[d] = key[x];
			c->first[lv][d] = x;
			c->ndom[lv]++;
		}
		c->dom[lv][x] = d;
		c->total[lv][d]++;
	}
}

/* Per-CPU facts of an online or offline CPU; core_key is its SMT key. */
static void
cpus_read_cpu(struct cpus *c, const char *sys_cpu, int x, char *buf, size_t len,
    int *core_key)
{
	struct cpu_info *ci = &c->info[x];
	int v;

	ci->cpu = x;
	ci->core = ci->package = ci->llc = ci->node = -1;
	if (cpus_read(buf, len, "%s/cpu%d/topology/core_id", sys_cpu, x) == 0 &&
	    cpus_parse_int(buf, -1, &v) == 0)
		ci->core = v;
	if (cpus_read(buf, len, "%s/cpu%d/topology/physical_package_id",
		sys_cpu, x) == 0 &&
	    cpus_parse_int(buf, -1, &v) == 0)
		ci->package = v;
	*core_key = cpus_read_lowest(
	    buf, len, sys_cpu, x, "topology/thread_siblings_list");
	if (*core_key == -1)
		*core_key = x; /* no SMT information: a core of its own */
	ci->llc = cpus_read_llc(buf, len, sys_cpu, x);
	if (ci->online && (ci->core == -1 || ci->package == -1))
		log_debug("cpu%d: no core_id or physical_package_id", x);
}

/* NUMA nodes from sys_node/nodeN/cpulist; without them, everything is 0. */
static void
cpus_read_nodes(struct cpus *c, const char *sys_node, char *buf, size_t len)
{
	struct cpulist nodes, cl;
	int x, n;

	for (x = 0; x < c->ncpu; x++)
		c->info[x].node = c->info[x].online ? 0 : -1;
	if (sys_node == NULL || cpus_scan(sys_node, "node", &nodes) == -1)
		return;
	for (n = 0; n < CPULIST_MAX; n++) {
		if (!cpulist_isset(&nodes, (unsigned int)n))
			continue;
		if (cpus_read(buf, len, "%s/node%d/cpulist", sys_node, n) ==
			-1 ||
		    cpulist_parse(buf, &cl, 1, NULL) == -1) {
			log_debug("node%d: no readable cpulist", n);
			continue;
		}
		for (x = 0; x < c->ncpu; x++) {
			if (cpulist_isset(&cl, (unsigned int)x))
				c->info[x].node = n;
		}
	}
}

/* Format cl into buf, or a count when it does not fit. */
static const char *
cpus_fmt(const struct cpulist *cl, char *buf, size_t len)
{
	if (cpulist_format(cl, buf, len) == -1)
		(void)snprintf(buf, len, "(%u CPUs)", cpulist_count(cl));
	return (buf);
}

static const char *
cpus_plural(const struct cpulist *cl)
{
	return (cpulist_count(cl) == 1 ? "CPU" : "CPUs");
}

struct cpus *
cpus_new(const char *sys_cpu, const char *sys_node,
    const struct cpulist *allowed, int shared_min, struct serr *err)
{
	struct cpus *c = NULL;
	struct cpulist dirs;
	char *buf = NULL, *on = NULL, *al = NULL;
	const char *why;
	int *keys = NULL, *key[LV_N] = {NULL};
	int x, v, lv, skipped, hi, ok = 0;

	if (shared_min < 0) {
		serr_set(err, SERR_INVALID, "shared_min",
		    "shared_min must be 0 or more, not %d", shared_min);
		goto out;
	}
	buf = xmalloc(CPUS_TEXT_MAX);
	c = xcalloc(1, sizeof *c);
	c->shared_min = shared_min;

	if (cpus_read(buf, CPUS_TEXT_MAX, "%s/online", sys_cpu) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "%s/online: %s", sys_cpu,
		    strerror(errno));
		goto out;
	}
	if (cpulist_parse(buf, &c->online, 0, &why) == -1) {
		serr_set(
		    err, SERR_INTERNAL, NULL, "%s/online: %s", sys_cpu, why);
		goto out;
	}
	if (cpus_read(buf, CPUS_TEXT_MAX, "%s/isolated", sys_cpu) == 0 &&
	    cpulist_parse(buf, &c->isolated, 1, &why) == -1) {
		serr_set(
		    err, SERR_INTERNAL, NULL, "%s/isolated: %s", sys_cpu, why);
		goto out;
	}
	if ((skipped = cpus_scan(sys_cpu, "cpu", &dirs)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "%s: %s", sys_cpu,
		    strerror(errno));
		goto out;
	}
	if (skipped > 0)
		log_warnx(
		    "%d CPUs at or past %d ignored", skipped, CPULIST_MAX);
	c->present = dirs;
	for (x = 0; x < CPULIST_MAX; x++) {
		if (cpulist_isset(&c->online, (unsigned int)x))
			cpulist_set(&c->present, (unsigned int)x);
	}
	hi = -1;
	for (x = 0; x < CPULIST_MAX; x++) {
		if (cpulist_isset(&c->present, (unsigned int)x))
			hi = x;
	}
	if (hi == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "%s: no CPUs", sys_cpu);
		goto out;
	}
	c->ncpu = hi + 1;

	c->info = xcalloc((size_t)c->ncpu, sizeof *c->info);
	keys = xcalloc((size_t)c->ncpu, sizeof *keys);
	for (lv = 0; lv < LV_N; lv++) {
		key[lv] = xcalloc((size_t)c->ncpu, sizeof *key[lv]);
		c->dom[lv] = xcalloc((size_t)c->ncpu, sizeof *c->dom[lv]);
		c->total[lv] = xcalloc((size_t)c->ncpu, sizeof *c->total[lv]);
		c->first[lv] = xcalloc((size_t)c->ncpu, sizeof *c->first[lv]);
		c->free[lv] = xcalloc((size_t)c->ncpu, sizeof *c->free[lv]);
		c->colo[lv] = xcalloc((size_t)c->ncpu, sizeof *c->colo[lv]);
	}

	/* A CPU is online when the list says so and cpuN/online agrees. */
	for (x = 0; x < c->ncpu; x++) {
		if (!cpulist_isset(&c->online, (unsigned int)x))
			continue;
		if (cpus_read(buf, CPUS_TEXT_MAX, "%s/cpu%d/online", sys_cpu,
			x) == 0 &&
		    cpus_parse_int(buf, 0, &v) == 0 && v == 0)
			cpulist_clear(&c->online, (unsigned int)x);
	}
	for (x = 0; x < c->ncpu; x++) {
		if (!cpulist_isset(&c->present, (unsigned int)x)) {
			c->info[x].cpu = x;
			c->info[x].core = c->info[x].package = -1;
			c->info[x].llc = -1;
			key[LV_CORE][x] = x;
			continue;
		}
		c->info[x].online = cpulist_isset(&c->online, (unsigned int)x);
		c->info[x].isolated =
		    cpulist_isset(&c->isolated, (unsigned int)x);
		cpus_read_cpu(
		    c, sys_cpu, x, buf, CPUS_TEXT_MAX, &key[LV_CORE][x]);
	}
	cpus_read_nodes(c, sys_node, buf, CPUS_TEXT_MAX);
	/* No cache information: the package is the LLC. */
	for (x = 0; x < c->ncpu; x++) {
		if (!c->info[x].online || c->info[x].llc != -1)
			continue;
		for (v = 0; v < c->ncpu; v++) {
			if (c->info[v].online &&
			    c->info[v].package == c->info[x].package)
				break;
		}
		c->info[x].llc = v;
	}
	for (x = 0; x < c->ncpu; x++) {
		key[LV_LLC][x] = c->info[x].llc;
		key[LV_NODE][x] = c->info[x].node;
		key[LV_PKG][x] = c->info[x].package;
	}
	for (lv = 0; lv < LV_N; lv++)
		cpus_map(c, (enum cpus_level)lv, key[lv], keys);
	for (v = 0; v < c->ndom[LV_CORE]; v++) {
		if (c->total[LV_CORE][v] > c->max_core)
			c->max_core = c->total[LV_CORE][v];
	}

	if (allowed != NULL)
		c->allowed = *allowed;
	else
		c->allowed = c->online;
	for (x = 0; x < c->ncpu; x++) {
		if (cpulist_isset(&c->online, (unsigned int)x) &&
		    cpulist_isset(&c->allowed, (unsigned int)x) &&
		    !cpulist_isset(&c->isolated, (unsigned int)x)) {
			cpulist_set(&c->usable, (unsigned int)x);
			c->info[x].usable = 1;
		}
	}
	if (cpulist_count(&c->usable) == 0) {
		on = xmalloc(CPUS_TEXT_MAX);
		al = xmalloc(CPUS_TEXT_MAX);
		serr_set(err, SERR_INTERNAL, NULL,
		    "no usable CPUs: online %s, allowed %s, isolated %s",
		    cpus_fmt(&c->online, on, CPUS_TEXT_MAX),
		    cpus_fmt(&c->allowed, al, CPUS_TEXT_MAX),
		    cpus_fmt(&c->isolated, buf, CPUS_TEXT_MAX));
		goto out;
	}
	c->shared = c->usable;
	ok = 1;
out:
	if (!ok) {
		cpus_free(c);
		c = NULL;
	}
	for (lv = 0; lv < LV_N; lv++)
		free(key[lv]);
	free(keys);
	free(al);
	free(on);
	free(buf);
	return (c);
}

void
cpus_free(struct cpus *c)
{
	int lv;

	if (c == NULL)
		return;
	for (lv = 0; lv < LV_N; lv++) {
		free(c->dom[lv]);
		free(c->total[lv]);
		free(c->first[lv]);
		free(c->free[lv]);
		free(c->colo[lv]);
	}
	free(c->info);
	free(c);
}

const struct cpulist *
cpus_usable(const struct cpus *c)
{
	return (&c->usable);
}

const struct cpulist *
cpus_shared(const struct cpus *c)
{
	return (&c->shared);
}

int
cpus_count(const struct cpus *c)
{
	return (c->ncpu);
}

/* -1 for ids past cpus_count() and for holes in the numbering. */
int
cpus_info(const struct cpus *c, int cpu, struct cpu_info *out)
{
	if (cpu < 0 || cpu >= c->ncpu ||
	    !cpulist_isset(&c->present, (unsigned int)cpu))
		return (-1);
	*out = c->info[cpu];
	return (0);
}

int
cpus_check_list(
    const struct cpus *c, const struct cpulist *want, struct serr *err)
{
	struct cpulist missing, offline, denied;
	char msg[SERR_MESSAGE_MAX], list[CPUS_TEXT_MAX];
	const char *sep = "";
	size_t off = 0;
	unsigned int x;
	int n;

	if (cpulist_count(want) == 0) {
		serr_set(err, SERR_INVALID, "cpus", "empty CPU list");
		return (-1);
	}
	cpulist_zero(&missing);
	cpulist_zero(&offline);
	cpulist_zero(&denied);
	for (x = 0; x < CPULIST_MAX; x++) {
		if (!cpulist_isset(want, x))
			continue;
		if (x >= (unsigned int)c->ncpu ||
		    !cpulist_isset(&c->present, x))
			cpulist_set(&missing, x);
		else if (!cpulist_isset(&c->online, x))
			cpulist_set(&offline, x);
		else if (!cpulist_isset(&c->allowed, x))
			cpulist_set(&denied, x);
	}
	if (cpulist_count(&missing) + cpulist_count(&offline) +
		cpulist_count(&denied) ==
	    0)
		return (0);

	msg[0] = '\0';
	if (cpulist_count(&missing) > 0) {
		n = snprintf(msg + off, sizeof msg - off, "%s%s %s %s", sep,
		    cpus_plural(&missing),
		    cpus_fmt(&missing, list, sizeof list),
		    cpulist_count(&missing) == 1 ? "does not exist"
						 : "do not exist");
		if (n > 0 && (size_t)n < sizeof msg - off)
			off += (size_t)n;
		sep = "; ";
	}
	if (cpulist_count(&offline) > 0) {
		n = snprintf(msg + off, sizeof msg - off, "%s%s %s %s offline",
		    sep, cpus_plural(&offline),
		    cpus_fmt(&offline, list, sizeof list),
		    cpulist_count(&offline) == 1 ? "is" : "are");
		if (n > 0 && (size_t)n < sizeof msg - off)
			off += (size_t)n;
		sep = "; ";
	}
	if (cpulist_count(&denied) > 0) {
		n = snprintf(msg + off, sizeof msg - off,
		    "%s%s %s %s not allowed", sep, cpus_plural(&denied),
		    cpus_fmt(&denied, list, sizeof list),
		    cpulist_count(&denied) == 1 ? "is" : "are");
		if (n > 0 && (size_t)n < sizeof msg - off)
			off += (size_t)n;
		(void)snprintf(msg + off, sizeof msg - off,
		    " (schedd may use %s)",
		    cpus_fmt(&c->allowed, list, sizeof list));
	}
	serr_set(err, SERR_UNSATISFIABLE, "cpus", "%s", msg);
	return (-1);
}

/* The most CPUs that can ever be granted at once. */
static int
cpus_grant_max(const struct cpus *c)
{
	int n = (int)cpulist_count(&c->usable) - c->shared_min;

	return (n > 0 ? n : 0);
}

int
cpus_grant_possible(const struct cpus *c, int n, struct serr *err)
{
	if (n < 1) {
		serr_set(err, SERR_INVALID, "exclusive_cpus",
		    "exclusive_cpus must be at least 1, not %d", n);
		return (-1);
	}
	if (n > cpus_grant_max(c)) {
		serr_set(err, SERR_UNSATISFIABLE, "exclusive_cpus",
		    "at most %d CPUs can ever be granted (%u usable, %d kept "
		    "shared), %d asked",
		    cpus_grant_max(c), cpulist_count(&c->usable), c->shared_min,
		    n);
		return (-1);
	}
	return (0);
}

/* 1 when job holds a grant. */
static int
cpus_holds(const struct cpus *c, int64_t job)
{
	int x;

	for (x = 0; x < c->ncpu; x++) {
		if (c->info[x].granted_to == job)
			return (1);
	}
	return (0);
}

static void
acc_start(
    struct cpus *c, struct cpus_acc *a, int n, const struct cpulist *avoid)
{
	int lv, x;

	a->avail = c->shared;
	for (x = 0; x < c->ncpu; x++)
		if (avoid != NULL && cpulist_isset(avoid, (unsigned int)x))
			cpulist_clear(&a->avail, (unsigned int)x);
	cpulist_zero(&a->target);
	cpulist_zero(&a->result);
	a->need = n;
	for (lv = 0; lv < LV_N; lv++) {
		memset(c->free[lv], 0, (size_t)c->ndom[lv] * sizeof(int));
		memset(c->colo[lv], 0, (size_t)c->ndom[lv] * sizeof(int));
	}
	for (x = 0; x < c->ncpu; x++) {
		if (!cpulist_isset(&a->avail, (unsigned int)x))
			continue;
		for (lv = 0; lv < LV_N; lv++)
			c->free[lv][c->dom[lv][x]]++;
	}
}

static void
acc_take(struct cpus *c, struct cpus_acc *a, int x)
{
	int lv;

	cpulist_clear(&a->avail, (unsigned int)x);
	cpulist_clear(&a->target, (unsigned int)x);
	cpulist_set(&a->result, (unsigned int)x);
	a->need--;
	for (lv = 0; lv < LV_N; lv++) {
		c->free[lv][c->dom[lv][x]]--;
		c->colo[lv][c->dom[lv][x]]++;
	}
}

/* Take every CPU of x's domain at level lv (all of them are free). */
static void
acc_take_domain(struct cpus *c, struct cpus_acc *a, enum cpus_level lv, int d)
{
	int x;

	for (x = 0; x < c->ncpu; x++) {
		if (c->dom[lv][x] == d &&
		    cpulist_isset(&a->avail, (unsigned int)x))
			acc_take(c, a, x);
	}
}

/* 1 when every online CPU of domain d is free: no sibling is in use,
 * isolated or outside our cpuset. */
static int
acc_whole(const struct cpus *c, enum cpus_level lv, int d)
{
	return (c->free[lv][d] == c->total[lv][d]);
}

/*
 * How many of the CPUs still needed domain d could give as whole cores,
 * larger cores first (a core may be short of an offline sibling).
 */
static int
acc_cover(
    const struct cpus *c, const struct cpus_acc *a, enum cpus_level lv, int d)
{
	int x, core, size, left = a->need;

	for (size = c->max_core; size > 0 && left > 0; size--) {
		for (x = 0; x < c->ncpu && left >= size; x++) {
			if (c->dom[lv][x] != d ||
			    !cpulist_isset(&a->avail, (unsigned int)x))
				continue;
			core = c->dom[LV_CORE][x];
			if (c->first[LV_CORE][core] == x &&
			    c->total[LV_CORE][core] == size &&
			    acc_whole(c, LV_CORE, core))
				left -= size;
		}
	}
	return (a->need - left);
}

/*
 * Pick where the rest of the grant goes: the innermost level at which one
 * domain can hold all of it; among those, the one giving the most whole
 * cores, then the fullest (best fit, keeping large free domains whole),
 * then the lowest. Nothing holds it all: the whole machine.
 */
static void
acc_target(struct cpus *c, struct cpus_acc *a)
{
	enum cpus_level lv;
	int i, d, x, cov, best, best_cov = 0;

	for (i = 0; i < CPUS_NPACK; i++) {
		lv = cpus_pack_levels[i];
		best = -1;
		for (d = 0; d < c->ndom[lv]; d++) {
			if (c->free[lv][d] < a->need)
				continue;
			cov = acc_cover(c, a, lv, d);
			if (best == -1 || cov > best_cov ||
			    (cov == best_cov &&
				c->free[lv][d] < c->free[lv][best])) {
				best = d;
				best_cov = cov;
			}
		}
		if (best == -1)
			continue;
		cpulist_zero(&a->target);
		for (x = 0; x < c->ncpu; x++) {
			if (c->dom[lv][x] == best &&
			    cpulist_isset(&a->avail, (unsigned int)x))
				cpulist_set(&a->target, (unsigned int)x);
		}
		return;
	}
	a->target = a->avail;
}

/*
 * Order candidates x and y for the next CPUs of the grant: < 0 when x is
 * better. First the domain (LLC, node, package) that already holds most of
 * the grant; then one that can hold the rest, the fullest such one (best
 * fit), or when none can, the emptiest (fewest domains spanned); then, for
 * whole cores, the larger core, and for threads, the core with the fewest
 * free siblings (fill broken cores before breaking whole ones); then the
 * lower id.
 */
static int
acc_cmp(const struct cpus *c, const struct cpus_acc *a, int x, int y, int whole)
{
	enum cpus_level lv;
	int i, dx, dy, fx, fy;

	for (i = 0; i < CPUS_NPACK; i++) {
		lv = cpus_pack_levels[i];
		dx = c->dom[lv][x];
		dy = c->dom[lv][y];
		if (c->colo[lv][dx] != c->colo[lv][dy])
			return (c->colo[lv][dy] - c->colo[lv][dx]);
	}
	for (i = 0; i < CPUS_NPACK; i++) {
		lv = cpus_pack_levels[i];
		fx = c->free[lv][c->dom[lv][x]];
		fy = c->free[lv][c->dom[lv][y]];
		if ((fx >= a->need) != (fy >= a->need))
			return (fx >= a->need ? -1 : 1);
		if (fx != fy)
			return (fx >= a->need ? fx - fy : fy - fx);
	}
	dx = c->dom[LV_CORE][x];
	dy = c->dom[LV_CORE][y];
	if (whole && c->total[LV_CORE][dx] != c->total[LV_CORE][dy])
		return (c->total[LV_CORE][dy] - c->total[LV_CORE][dx]);
	if (!whole && c->free[LV_CORE][dx] != c->free[LV_CORE][dy])
		return (c->free[LV_CORE][dx] - c->free[LV_CORE][dy]);
	return (x - y);
}

/* Whole free cores that fit in what is still needed, best first. */
static void
acc_cores(struct cpus *c, struct cpus_acc *a)
{
	int x, core, best;

	while (a->need > 0) {
		best = -1;
		for (x = 0; x < c->ncpu; x++) {
			if (!cpulist_isset(&a->target, (unsigned int)x))
				continue;
			core = c->dom[LV_CORE][x];
			if (c->first[LV_CORE][core] != x ||
			    !acc_whole(c, LV_CORE, core) ||
			    c->total[LV_CORE][core] > a->need)
				continue;
			if (best == -1 || acc_cmp(c, a, x, best, 1) < 0)
				best = x;
		}
		if (best == -1)
			return;
		acc_take_domain(c, a, LV_CORE, c->dom[LV_CORE][best]);
	}
}

/* Single threads, best first. */
static void
acc_threads(struct cpus *c, struct cpus_acc *a)
{
	int x, best;

	while (a->need > 0) {
		best = -1;
		for (x = 0; x < c->ncpu; x++) {
			if (!cpulist_isset(&a->target, (unsigned int)x))
				continue;
			if (best == -1 || acc_cmp(c, a, x, best, 0) < 0)
				best = x;
		}
		if (best == -1)
			return;
		acc_take(c, a, best);
	}
}

/*
 * Grant n CPUs to job, none of them in avoid (those stay shared: a pinned
 * job runs there; they count for shared_min but are not chosen).
 */
static int
grant_impl(struct cpus *c, int64_t job, int n, const struct cpulist *avoid,
    struct cpulist *out, struct serr *err)
{
	struct cpus_acc a;
	char list[CPUS_TEXT_MAX];
	int d, x, now;

	if (out != NULL)
		cpulist_zero(out);
	if (job <= 0) {
		serr_set(err, SERR_INTERNAL, NULL, "no job id for a CPU grant");
		return (-1);
	}
	if (cpus_holds(c, job)) {
		(void)cpus_granted(c, job, &a.result);
		serr_set(err, SERR_CONFLICT, "exclusive_cpus",
		    "job %lld already holds CPUs %s", (long long)job,
		    cpus_fmt(&a.result, list, sizeof list));
		return (-1);
	}
	if (cpus_grant_possible(c, n, err) == -1)
		return (-1);
	now = (int)cpulist_count(&c->shared) - c->shared_min;
	{
		int x2, free_now = 0;

		for (x2 = 0; x2 < c->ncpu; x2++)
			if (cpulist_isset(&c->shared, (unsigned int)x2) &&
			    (avoid == NULL ||
				!cpulist_isset(avoid, (unsigned int)x2)))
				free_now++;
		if (free_now < now)
			now = free_now;
	}
	if (now < 0)
		now = 0;
	if (n > now) {
		serr_set(err, SERR_UNSATISFIABLE, "exclusive_cpus",
		    "%d %s free now, %d asked (%d kept shared)", now,
		    now == 1 ? "CPU" : "CPUs", n, c->shared_min);
		return (-1);
	}

	acc_start(c, &a, n, avoid);
	/* Whole packages, when the request is that large. */
	for (d = 0; d < c->ndom[LV_PKG] && a.need > 0; d++) {
		if (c->total[LV_PKG][d] <= a.need && acc_whole(c, LV_PKG, d))
			acc_take_domain(c, &a, LV_PKG, d);
	}
	if (a.need > 0) {
		acc_target(c, &a);
		acc_cores(c, &a);
		acc_threads(c, &a);
	}
	if (a.need > 0) {
		/* The count check above makes this impossible. */
		log_warnx(
		    "job %lld: %d CPUs short of %d", (long long)job, a.need, n);
		serr_set(err, SERR_INTERNAL, NULL, "CPU grant fell %d short",
		    a.need);
		return (-1);
	}
	for (x = 0; x < c->ncpu; x++) {
		if (!cpulist_isset(&a.result, (unsigned int)x))
			continue;
		c->info[x].granted_to = job;
		cpulist_clear(&c->shared, (unsigned int)x);
	}
	if (out != NULL)
		*out = a.result;
	log_debug("job %lld: granted CPUs %s", (long long)job,
	    cpus_fmt(&a.result, list, sizeof list));
	return (0);
}

int
cpus_grant_exact(
    struct cpus *c, int64_t job, const struct cpulist *set, struct serr *err)
{
	struct cpulist bad, held;
	char list[CPUS_TEXT_MAX];
	int64_t holder = 0;
	unsigned int x, n;
	int left;

	if (job <= 0) {
		serr_set(err, SERR_INTERNAL, NULL, "no job id for a CPU grant");
		return (-1);
	}
	if ((n = cpulist_count(set)) == 0) {
		serr_set(err, SERR_INVALID, "cpus", "empty CPU grant");
		return (-1);
	}
	if (cpus_granted(c, job, &held) == 0) {
		if (memcmp(&held, set, sizeof held) == 0)
			return (0);
		serr_set(err, SERR_CONFLICT, "cpus",
		    "job %lld already holds CPUs %s", (long long)job,
		    cpus_fmt(&held, list, sizeof list));
		return (-1);
	}
	cpulist_zero(&bad);
	for (x = 0; x < CPULIST_MAX; x++) {
		if (cpulist_isset(set, x) && !cpulist_isset(&c->usable, x))
			cpulist_set(&bad, x);
	}
	if (cpulist_count(&bad) > 0) {
		serr_set(err, SERR_UNSATISFIABLE, "cpus",
		    "%s %s cannot be granted (offline, not allowed or "
		    "isolated)",
		    cpus_plural(&bad), cpus_fmt(&bad, list, sizeof list));
		return (-1);
	}
	for (x = 0; x < (unsigned int)c->ncpu; x++) {
		if (cpulist_isset(set, x) && c->info[x].granted_to != 0) {
			cpulist_set(&bad, x);
			if (holder == 0)
				holder = c->info[x].granted_to;
		}
	}
	if (cpulist_count(&bad) > 0) {
		serr_set(err, SERR_CONFLICT, "cpus",
		    "%s %s %s already granted (to job %lld)", cpus_plural(&bad),
		    cpus_fmt(&bad, list, sizeof list),
		    cpulist_count(&bad) == 1 ? "is" : "are", (long long)holder);
		return (-1);
	}
	left = (int)cpulist_count(&c->shared) - (int)n;
	if (left < c->shared_min) {
		serr_set(err, SERR_UNSATISFIABLE, "cpus",
		    "granting %u CPUs would leave %d shared, %d must stay", n,
		    left, c->shared_min);
		return (-1);
	}
	for (x = 0; x < (unsigned int)c->ncpu; x++) {
		if (!cpulist_isset(set, x))
			continue;
		c->info[x].granted_to = job;
		cpulist_clear(&c->shared, x);
	}
	return (0);
}

void
cpus_release(struct cpus *c, int64_t job)
{
	int x;

	if (job <= 0)
		return;
	for (x = 0; x < c->ncpu; x++) {
		if (c->info[x].granted_to != job)
			continue;
		c->info[x].granted_to = 0;
		cpulist_set(&c->shared, (unsigned int)x);
	}
}

int
cpus_granted(const struct cpus *c, int64_t job, struct cpulist *out)
{
	int x, found = 0;

	cpulist_zero(out);
	if (job <= 0)
		return (-1);
	for (x = 0; x < c->ncpu; x++) {
		if (c->info[x].granted_to == job) {
			cpulist_set(out, (unsigned int)x);
			found = 1;
		}
	}
	return (found ? 0 : -1);
}

int
cpus_grant(
    struct cpus *c, int64_t job, int n, struct cpulist *out, struct serr *err)
{
	return (grant_impl(c, job, n, NULL, out, err));
}

int
cpus_grant_avoid(struct cpus *c, int64_t job, int n,
    const struct cpulist *avoid, struct cpulist *out, struct serr *err)
{
	return (grant_impl(c, job, n, avoid, out, err));
}
