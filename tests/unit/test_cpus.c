/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for daemon/cpus.c over fake sysfs trees that this file writes
 * into a temporary directory from a small topology description (packages,
 * cores, SMT threads, LLCs per package, NUMA, isolated and offline CPUs),
 * numbered the way Intel machines are (a core's siblings are N and N plus
 * the number of cores), plus one run against this machine's real sysfs.
 * Grants are asserted as exact CPU sets: the choice must be deterministic.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/cpus.h"
#include "proto/cpulist.h"
#include "proto/errors.h"

#define TEXT_MAX 4096

/* A machine to fake. CPU id = thread * packages * cores + package * cores
 * + core, so core c of package p has the siblings N and N + P*C. */
struct topo {
	int packages;
	int cores;            /* per package */
	int threads;          /* per core */
	int llcs;             /* LLCs per package; 0: no cache directory */
	int numa;             /* 1: a NUMA node per package; 0: no node dir */
	int no_index3;        /* caches index0-2 only (L2 per core) */
	const char *isolated; /* or NULL */
	const char *offline;  /* or NULL */
};

struct fake {
	char root[PATH_MAX];
	char cpu[PATH_MAX];
	char node[PATH_MAX];
};

static struct cpulist
list(const char *s)
{
	struct cpulist cl;
	const char *why;

	assert_int_equal(cpulist_parse(s, &cl, 1, &why), 0);
	return (cl);
}

static void
assert_list(const struct cpulist *cl, const char *want)
{
	char buf[TEXT_MAX];

	assert_int_equal(cpulist_format(cl, buf, sizeof buf), 0);
	assert_string_equal(buf, want);
}

static void fake_write(const char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Write text to the file named by fmt, creating its directories. */
static void
fake_write(const char *text, const char *fmt, ...)
{
	char path[PATH_MAX];
	char *p;
	va_list ap;
	FILE *f;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof path);
	for (p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) == -1)
			assert_int_equal(errno, EEXIST);
		*p = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	assert_true(fprintf(f, "%s\n", text) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
fake_write_list(
    const struct cpulist *cl, const char *dir, int cpu, const char *file)
{
	char buf[TEXT_MAX];

	assert_int_equal(cpulist_format(cl, buf, sizeof buf), 0);
	fake_write(buf, "%s/cpu%d/%s", dir, cpu, file);
}

static void
fake_build(const struct topo *t, struct fake *f)
{
	struct cpulist online, offline, sib, llc, pkg;
	char buf[TEXT_MAX];
	int ncpu = t->packages * t->cores * t->threads;
	int per = t->packages * t->cores; /* CPUs per thread rank */
	int x, y, p, cr, cpl;

	snprintf(f->root, sizeof f->root, "%s/test_cpus.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->root));
	assert_true(snprintf(f->cpu, sizeof f->cpu, "%s/cpu", f->root) <
		    (int)sizeof f->cpu);
	assert_true(snprintf(f->node, sizeof f->node, "%s/node", f->root) <
		    (int)sizeof f->node);

	offline = list(t->offline != NULL ? t->offline : "");
	cpulist_zero(&online);
	for (x = 0; x < ncpu; x++) {
		if (!cpulist_isset(&offline, (unsigned int)x))
			cpulist_set(&online, (unsigned int)x);
	}
	assert_int_equal(cpulist_format(&online, buf, sizeof buf), 0);
	fake_write(buf, "%s/online", f->cpu);
	fake_write(
	    t->isolated != NULL ? t->isolated : "", "%s/isolated", f->cpu);
	fake_write("0-1023", "%s/possible", f->cpu); /* must be ignored */

	for (x = 0; x < ncpu; x++) {
		p = (x % per) / t->cores;
		cr = x % t->cores;
		if (x > 0)
			fake_write(
			    cpulist_isset(&online, (unsigned int)x) ? "1" : "0",
			    "%s/cpu%d/online", f->cpu, x);
		else
			fake_write("", "%s/cpu0/uevent", f->cpu);
		if (!cpulist_isset(&online, (unsigned int)x))
			continue; /* the kernel removes topology/ when offline
				   */
		cpulist_zero(&sib);
		cpulist_zero(&llc);
		cpulist_zero(&pkg);
		cpl = t->llcs > 0 ? t->cores / t->llcs : t->cores;
		for (y = 0; y < ncpu; y++) {
			if (!cpulist_isset(&online, (unsigned int)y) ||
			    (y % per) / t->cores != p)
				continue;
			cpulist_set(&pkg, (unsigned int)y);
			if (y % t->cores == cr)
				cpulist_set(&sib, (unsigned int)y);
			if ((y % t->cores) / cpl == cr / cpl)
				cpulist_set(&llc, (unsigned int)y);
		}
		snprintf(buf, sizeof buf, "%d", cr);
		fake_write(buf, "%s/cpu%d/topology/core_id", f->cpu, x);
		snprintf(buf, sizeof buf, "%d", p);
		fake_write(
		    buf, "%s/cpu%d/topology/physical_package_id", f->cpu, x);
		fake_write_list(
		    &sib, f->cpu, x, "topology/thread_siblings_list");
		fake_write_list(&pkg, f->cpu, x, "topology/core_siblings_list");
		if (t->llcs == 0)
			continue;
		fake_write("1", "%s/cpu%d/cache/index0/level", f->cpu, x);
		fake_write("Data", "%s/cpu%d/cache/index0/type", f->cpu, x);
		fake_write_list(
		    &sib, f->cpu, x, "cache/index0/shared_cpu_list");
		fake_write("1", "%s/cpu%d/cache/index1/level", f->cpu, x);
		fake_write(
		    "Instruction", "%s/cpu%d/cache/index1/type", f->cpu, x);
		fake_write_list(
		    &sib, f->cpu, x, "cache/index1/shared_cpu_list");
		fake_write("2", "%s/cpu%d/cache/index2/level", f->cpu, x);
		fake_write("Unified", "%s/cpu%d/cache/index2/type", f->cpu, x);
		fake_write_list(
		    &sib, f->cpu, x, "cache/index2/shared_cpu_list");
		if (t->no_index3)
			continue;
		fake_write("3", "%s/cpu%d/cache/index3/level", f->cpu, x);
		fake_write("Unified", "%s/cpu%d/cache/index3/type", f->cpu, x);
		fake_write_list(
		    &llc, f->cpu, x, "cache/index3/shared_cpu_list");
	}
	if (!t->numa)
		return;
	for (p = 0; p < t->packages; p++) {
		cpulist_zero(&pkg);
		for (x = 0; x < ncpu; x++) {
			if (cpulist_isset(&online, (unsigned int)x) &&
			    (x % per) / t->cores == p)
				cpulist_set(&pkg, (unsigned int)x);
		}
		assert_int_equal(cpulist_format(&pkg, buf, sizeof buf), 0);
		fake_write(buf, "%s/node%d/cpulist", f->node, p);
	}
	fake_write("", "%s/has_cpu", f->node); /* not a node directory */
}

static int
fake_unlink(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

static void
fake_remove(struct fake *f)
{
	assert_int_equal(
	    nftw(f->root, fake_unlink, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Build t, read it with allowed (NULL: all) and shared_min, remove it. */
static struct cpus *
fake_cpus(const struct topo *t, const char *allowed, int shared_min)
{
	struct fake f;
	struct cpulist al;
	struct serr err;
	struct cpus *c;

	fake_build(t, &f);
	if (allowed != NULL)
		al = list(allowed);
	serr_clear(&err);
	c = cpus_new(
	    f.cpu, f.node, allowed != NULL ? &al : NULL, shared_min, &err);
	if (c == NULL)
		fail_msg("cpus_new: %s", err.message);
	fake_remove(&f);
	return (c);
}

/* Grant n to job and check the set; want NULL: must fail with code. */
static void
grant(struct cpus *c, int64_t job, int n, const char *want)
{
	struct cpulist got, again;
	struct serr err;

	serr_clear(&err);
	if (cpus_grant(c, job, n, &got, &err) == -1)
		fail_msg(
		    "grant %d to job %lld: %s", n, (long long)job, err.message);
	assert_list(&got, want);
	assert_int_equal(cpus_granted(c, job, &again), 0);
	assert_memory_equal(&got, &again, sizeof got);
}

static const struct topo topo_2cpu = {1, 2, 1, 1, 1, 0, NULL, NULL};
static const struct topo topo_4c8t = {1, 4, 2, 1, 0, 0, NULL, NULL};
static const struct topo topo_2p16t = {2, 4, 2, 1, 1, 0, NULL, NULL};

static void
cpus_new__two_cpus_no_smt__facts(void **state)
{
	struct cpus *c = fake_cpus(&topo_2cpu, NULL, 1);
	struct cpu_info ci;

	(void)state;
	assert_int_equal(cpus_count(c), 2);
	assert_list(cpus_usable(c), "0-1");
	assert_list(cpus_shared(c), "0-1");
	assert_int_equal(cpus_info(c, 1, &ci), 0);
	assert_int_equal(ci.cpu, 1);
	assert_int_equal(ci.online, 1);
	assert_int_equal(ci.usable, 1);
	assert_int_equal(ci.isolated, 0);
	assert_int_equal(ci.core, 1);
	assert_int_equal(ci.package, 0);
	assert_int_equal(ci.llc, 0);
	assert_int_equal(ci.node, 0);
	assert_int_equal(ci.granted_to, 0);
	assert_int_equal(cpus_info(c, 2, &ci), -1);
	assert_int_equal(cpus_info(c, -1, &ci), -1);
	cpus_free(c);
}

static void
cpus_new__two_packages_ht__domains(void **state)
{
	struct cpus *c = fake_cpus(&topo_2p16t, NULL, 1);
	struct cpu_info ci;

	(void)state;
	assert_int_equal(cpus_count(c), 16);
	assert_int_equal(cpus_info(c, 12, &ci), 0);
	assert_int_equal(ci.core, 0);
	assert_int_equal(ci.package, 1);
	assert_int_equal(ci.llc, 4);
	assert_int_equal(ci.node, 1);
	assert_int_equal(cpus_info(c, 11, &ci), 0);
	assert_int_equal(ci.core, 3);
	assert_int_equal(ci.package, 0);
	assert_int_equal(ci.llc, 0);
	assert_int_equal(ci.node, 0);
	cpus_free(c);
}

static void
cpus_new__no_node_dir__node_zero(void **state)
{
	struct topo t = topo_2p16t;
	struct cpus *c;
	struct cpu_info ci;

	(void)state;
	t.numa = 0;
	c = fake_cpus(&t, NULL, 1);
	assert_int_equal(cpus_info(c, 15, &ci), 0);
	assert_int_equal(ci.package, 1);
	assert_int_equal(ci.node, 0);
	cpus_free(c);
}

static void
cpus_new__no_index3__llc_from_level2(void **state)
{
	struct topo t = topo_4c8t;
	struct cpus *c;
	struct cpu_info ci;

	(void)state;
	t.no_index3 = 1;
	c = fake_cpus(&t, NULL, 1);
	assert_int_equal(cpus_info(c, 5, &ci), 0);
	assert_int_equal(ci.llc, 1); /* the L2 that 1 and 5 share */
	cpus_free(c);
}

static void
cpus_new__no_cache__llc_is_package(void **state)
{
	struct topo t = topo_2p16t;
	struct cpus *c;
	struct cpu_info ci;

	(void)state;
	t.llcs = 0;
	c = fake_cpus(&t, NULL, 1);
	assert_int_equal(cpus_info(c, 13, &ci), 0);
	assert_int_equal(ci.llc, 4);
	assert_int_equal(cpus_info(c, 9, &ci), 0);
	assert_int_equal(ci.llc, 0);
	/* The package stands in for the LLC: asking 2 still packs. */
	grant(c, 1, 2, "0,8");
	cpus_free(c);
}

static void
cpus_new__missing_online__internal(void **state)
{
	char root[PATH_MAX];
	struct serr err;

	(void)state;
	snprintf(root, sizeof root, "%s/test_cpus.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	serr_clear(&err);
	assert_null(cpus_new(root, NULL, NULL, 1, &err));
	assert_int_equal(err.code, SERR_INTERNAL);
	assert_non_null(strstr(err.message, "online"));
	assert_int_equal(rmdir(root), 0);
}

static void
cpus_new__nothing_usable__internal(void **state)
{
	struct topo t = topo_2cpu;
	struct fake f;
	struct cpulist al = list("1");
	struct serr err;

	(void)state;
	t.isolated = "1";
	fake_build(&t, &f);
	serr_clear(&err);
	assert_null(cpus_new(f.cpu, f.node, &al, 1, &err));
	assert_int_equal(err.code, SERR_INTERNAL);
	assert_string_equal(
	    err.message, "no usable CPUs: online 0-1, allowed 1, isolated 1");
	serr_clear(&err);
	assert_null(cpus_new(f.cpu, f.node, NULL, -1, &err));
	assert_int_equal(err.code, SERR_INVALID);
	fake_remove(&f);
}

static void
cpus_new__offline_cpu__not_usable_core_shrinks(void **state)
{
	struct topo t = topo_4c8t;
	struct cpus *c;
	struct cpu_info ci;

	(void)state;
	t.offline = "5";
	c = fake_cpus(&t, NULL, 1);
	assert_int_equal(cpus_count(c), 8);
	assert_list(cpus_usable(c), "0-4,6-7");
	assert_int_equal(cpus_info(c, 5, &ci), 0);
	assert_int_equal(ci.online, 0);
	assert_int_equal(ci.usable, 0);
	assert_int_equal(ci.core, -1);
	/* Core 1 is CPU 1 alone now: two-thread cores are preferred. */
	grant(c, 1, 2, "0,4");
	grant(c, 2, 2, "2,6");
	grant(c, 3, 1, "1");
	cpus_free(c);
}

static void
cpus_new__online_file_zero__offline(void **state)
{
	struct topo t = topo_2cpu;
	struct fake f;
	struct serr err;
	struct cpus *c;
	struct cpu_info ci;

	(void)state;
	fake_build(&t, &f);
	/* The list says online, cpu1/online says 0: offline. */
	fake_write("0", "%s/cpu1/online", f.cpu);
	c = cpus_new(f.cpu, f.node, NULL, 0, &err);
	assert_non_null(c);
	assert_list(cpus_usable(c), "0");
	assert_int_equal(cpus_info(c, 1, &ci), 0);
	assert_int_equal(ci.online, 0);
	cpus_free(c);
	fake_remove(&f);
}

static void
cpus_new__isolated__never_pooled_nor_granted(void **state)
{
	struct topo t = topo_4c8t;
	struct cpus *c;
	struct cpu_info ci;
	struct cpulist seven = list("7");
	struct serr err;

	(void)state;
	t.isolated = "7";
	c = fake_cpus(&t, NULL, 1);
	assert_list(cpus_usable(c), "0-6");
	assert_int_equal(cpus_info(c, 7, &ci), 0);
	assert_int_equal(ci.isolated, 1);
	assert_int_equal(ci.usable, 0);
	assert_int_equal(cpus_check_list(c, &seven, &err), 0);
	assert_int_equal(cpus_grant_possible(c, 6, &err), 0);
	assert_int_equal(cpus_grant_possible(c, 7, &err), -1);
	/* Core 3 is not whole (7 is isolated), so it is left shared. */
	grant(c, 1, 6, "0-2,4-6");
	assert_list(cpus_shared(c), "3");
	cpus_free(c);
}

static void
cpus_new__allowed_subset__only_allowed(void **state)
{
	struct cpus *c;
	struct cpulist want = list("5-7");
	struct serr err;

	(void)state;
	c = fake_cpus(&topo_4c8t, "0-5", 1);
	assert_list(cpus_usable(c), "0-5");
	assert_int_equal(cpus_check_list(c, &want, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "cpus");
	assert_string_equal(
	    err.message, "CPUs 6-7 are not allowed (schedd may use 0-5)");
	grant(c, 1, 4, "0-1,4-5");
	/* Cores 2 and 3 each have one allowed thread: neither is whole. */
	grant(c, 2, 1, "2");
	assert_list(cpus_shared(c), "3");
	cpus_free(c);
}

static void
cpus_new__real_sysfs__matches_online(void **state)
{
	struct cpulist online, allowed, usable;
	cpu_set_t set;
	struct serr err;
	struct cpus *c;
	struct cpu_info ci;
	char buf[TEXT_MAX];
	FILE *f;
	int x, nproc;

	(void)state;
	if ((f = fopen("/sys/devices/system/cpu/online", "r")) == NULL)
		skip();
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_int_equal(cpulist_parse(buf, &online, 0, NULL), 0);
	assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
	cpulist_zero(&allowed);
	for (x = 0; x < CPU_SETSIZE && x < CPULIST_MAX; x++) {
		if (CPU_ISSET(x, &set))
			cpulist_set(&allowed, (unsigned int)x);
	}
	nproc = CPU_COUNT(&set); /* what nproc(1) prints */

	c = cpus_new("/sys/devices/system/cpu", "/sys/devices/system/node",
	    &allowed, 1, &err);
	if (c == NULL)
		fail_msg("cpus_new: %s", err.message);
	usable = *cpus_usable(c);
	assert_true(cpulist_subset(&usable, &online));
	assert_true(cpulist_subset(&usable, &allowed));
	assert_int_equal(
	    (long)cpulist_count(&online), sysconf(_SC_NPROCESSORS_ONLN));
	for (x = 0; x < cpus_count(c); x++) {
		if (cpus_info(c, x, &ci) == -1)
			continue;
		assert_int_equal(
		    ci.online, cpulist_isset(&online, (unsigned int)x));
		if (ci.online) {
			assert_true(ci.package >= 0);
			assert_true(ci.llc >= 0 && ci.llc <= x);
			assert_true(ci.node >= 0);
		}
		if (ci.online && CPU_ISSET(x, &set) && !ci.isolated)
			nproc--;
	}
	/* Every CPU nproc counts is usable unless isolated. */
	assert_int_equal(nproc, 0);
	cpus_free(c);
}

static void
cpus_grant__4c8t__two_gives_siblings(void **state)
{
	struct cpus *c = fake_cpus(&topo_4c8t, NULL, 1);

	(void)state;
	grant(c, 1, 2, "0,4");
	assert_list(cpus_shared(c), "1-3,5-7");
	cpus_free(c);
}

static void
cpus_grant_avoid__pinned_core__another_core_and_pool_keeps_it(void **state)
{
	struct cpus *c = fake_cpus(&topo_4c8t, NULL, 1);
	struct cpulist avoid = list("0,4"), got;
	struct serr err;

	(void)state;
	serr_clear(&err);
	assert_int_equal(cpus_grant_avoid(c, 1, 2, &avoid, &got, &err), 0);
	assert_list(&got, "1,5");
	/* The avoided CPUs stay shared. */
	assert_list(cpus_shared(c), "0,2-4,6-7");
	/* Avoided CPUs are not free now: 4 of 6 shared are, minus 1. */
	avoid = list("0,2-4,6");
	assert_int_equal(cpus_grant_avoid(c, 2, 2, &avoid, &got, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	cpus_free(c);
}

static void
cpus_grant__4c8t__three_gives_core_and_thread(void **state)
{
	struct cpus *c = fake_cpus(&topo_4c8t, NULL, 1);

	(void)state;
	grant(c, 1, 3, "0-1,4");
	/* The next single thread fills the broken core first. */
	grant(c, 2, 1, "5");
	grant(c, 3, 2, "2,6");
	cpus_free(c);
}

static void
cpus_grant__two_packages_ht__eight_gives_one_package(void **state)
{
	struct cpus *c = fake_cpus(&topo_2p16t, NULL, 1);

	(void)state;
	grant(c, 1, 8, "0-3,8-11");
	assert_list(cpus_shared(c), "4-7,12-15");
	cpus_free(c);
}

static void
cpus_grant__two_packages_ht__ten_gives_package_and_core(void **state)
{
	struct cpus *c = fake_cpus(&topo_2p16t, NULL, 1);

	(void)state;
	grant(c, 1, 10, "0-4,8-12");
	cpus_free(c);
}

static void
cpus_grant__two_packages_ht__packs_into_fuller_llc(void **state)
{
	struct cpus *c = fake_cpus(&topo_2p16t, NULL, 1);

	(void)state;
	grant(c, 1, 3, "0-1,8");
	/* Both packages can hold 2; package 0 is fuller (best fit). */
	grant(c, 2, 2, "2,10");
	/* A single thread goes to the core already broken. */
	grant(c, 3, 1, "9");
	/* 4 whole cores: only package 1 still has them. */
	grant(c, 4, 4, "4-5,12-13");
	cpus_free(c);
}

static void
cpus_grant__two_llcs_one_package__emptiest_llc_then_broken_core(void **state)
{
	static const struct topo t = {1, 4, 2, 2, 1, 0, NULL, NULL};
	struct cpus *c = fake_cpus(&t, NULL, 1);
	struct cpulist zero = list("0");
	struct cpu_info ci;
	struct serr err;

	(void)state;
	assert_int_equal(cpus_info(c, 6, &ci), 0);
	assert_int_equal(ci.llc, 2); /* LLC {2,3,6,7} */
	assert_int_equal(cpus_grant_exact(c, 1, &zero, &err), 0);
	/*
	 * No LLC holds 5; the package does. Whole cores come from the
	 * emptier LLC first, the last thread from the core CPU 0 broke.
	 */
	grant(c, 2, 5, "2-4,6-7");
	cpus_free(c);
}

static void
cpus_grant__two_packages_ht__whole_cores_beat_best_fit(void **state)
{
	struct cpus *c = fake_cpus(&topo_2p16t, NULL, 1);
	struct cpulist one_each = list("0-3");
	struct serr err;

	(void)state;
	/* Package 0 keeps 4 free threads, all of broken cores. */
	assert_int_equal(cpus_grant_exact(c, 1, &one_each, &err), 0);
	grant(c, 2, 4, "4-5,12-13");
	cpus_free(c);
}

static void
cpus_grant__three_llcs__rest_goes_to_llc_that_fits(void **state)
{
	static const struct topo t = {1, 6, 2, 3, 1, 0, NULL, NULL};
	struct cpus *c = fake_cpus(&t, NULL, 1);
	struct cpulist core2 = list("2,8");
	struct serr err;

	(void)state;
	/* LLCs {0,1,6,7}, {2,3,8,9} and {4,5,10,11}; the middle one is
	 * left with a single core. */
	assert_int_equal(cpus_grant_exact(c, 1, &core2, &err), 0);
	/*
	 * No LLC holds 7: fill LLC 0, then the 3 left go to the LLC that
	 * can hold all 3, not to the nearer one that cannot.
	 */
	grant(c, 2, 7, "0-1,4-7,10");
	cpus_free(c);
}

static void
cpus_grant__shared_pool__shrinks_and_grows(void **state)
{
	struct cpus *c = fake_cpus(&topo_4c8t, NULL, 1);
	struct cpulist got;
	struct cpu_info ci;

	(void)state;
	grant(c, 1, 2, "0,4");
	grant(c, 2, 4, "1-2,5-6");
	assert_list(cpus_shared(c), "3,7");
	assert_int_equal(cpus_info(c, 5, &ci), 0);
	assert_int_equal(ci.granted_to, 2);
	cpus_release(c, 1);
	assert_list(cpus_shared(c), "0,3-4,7");
	assert_int_equal(cpus_granted(c, 1, &got), -1);
	cpus_release(c, 1); /* no grant: no-op */
	cpus_release(c, 2);
	assert_list(cpus_shared(c), "0-7");
	assert_int_equal(cpus_info(c, 5, &ci), 0);
	assert_int_equal(ci.granted_to, 0);
	/* The same request after release gets the same CPUs back. */
	grant(c, 3, 2, "0,4");
	cpus_free(c);
}

static void
cpus_grant__shared_min__never_and_now(void **state)
{
	struct cpus *c = fake_cpus(&topo_4c8t, NULL, 2);
	struct cpulist got;
	struct serr err;

	(void)state;
	assert_int_equal(cpus_grant_possible(c, 6, &err), 0);
	serr_clear(&err);
	assert_int_equal(cpus_grant_possible(c, 7, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "exclusive_cpus");
	assert_string_equal(err.message,
	    "at most 6 CPUs can ever be granted (8 usable, 2 kept shared), 7 "
	    "asked");
	/* Never: cpus_grant says the same. */
	assert_int_equal(cpus_grant(c, 1, 7, &got, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_non_null(strstr(err.message, "at most 6"));

	grant(c, 1, 4, "0-1,4-5");
	serr_clear(&err);
	assert_int_equal(cpus_grant(c, 2, 3, &got, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "exclusive_cpus");
	assert_string_equal(
	    err.message, "2 CPUs free now, 3 asked (2 kept shared)");
	assert_int_equal(cpulist_count(&got), 0);
	/* Not now, but possible: the caller queues the job. */
	assert_int_equal(cpus_grant_possible(c, 3, &err), 0);
	assert_list(cpus_shared(c), "2-3,6-7");
	grant(c, 2, 2, "2,6");
	assert_int_equal(cpus_grant(c, 3, 1, &got, &err), -1);
	assert_string_equal(
	    err.message, "0 CPUs free now, 1 asked (2 kept shared)");
	assert_int_equal(cpulist_count(cpus_shared(c)), 2);
	cpus_release(c, 1);
	grant(c, 3, 3, "0-1,4");
	cpus_free(c);
}

static void
cpus_grant__two_cpus__one_grantable(void **state)
{
	struct cpus *c = fake_cpus(&topo_2cpu, NULL, 1);
	struct cpulist got;
	struct serr err;

	(void)state;
	assert_int_equal(cpus_grant_possible(c, 2, &err), -1);
	grant(c, 1, 1, "0");
	assert_list(cpus_shared(c), "1");
	assert_int_equal(cpus_grant(c, 2, 1, &got, &err), -1);
	assert_string_equal(
	    err.message, "0 CPUs free now, 1 asked (1 kept shared)");
	assert_int_equal(cpus_grant_possible(c, 1, &err), 0);
	cpus_release(c, 1);
	grant(c, 2, 1, "0");
	cpus_free(c);
}

static void
cpus_grant__bad_requests__refused(void **state)
{
	struct cpus *c = fake_cpus(&topo_4c8t, NULL, 1);
	struct cpulist got;
	struct serr err;

	(void)state;
	assert_int_equal(cpus_grant(c, 1, 0, &got, &err), -1);
	assert_int_equal(err.code, SERR_INVALID);
	assert_string_equal(err.field, "exclusive_cpus");
	assert_int_equal(cpus_grant_possible(c, -3, &err), -1);
	assert_int_equal(err.code, SERR_INVALID);
	grant(c, 1, 2, "0,4");
	assert_int_equal(cpus_grant(c, 1, 1, &got, &err), -1);
	assert_int_equal(err.code, SERR_CONFLICT);
	assert_string_equal(err.message, "job 1 already holds CPUs 0,4");
	assert_list(cpus_shared(c), "1-3,5-7");
	cpus_free(c);
}

static void
cpus_grant_exact__conflicts__refused(void **state)
{
	struct topo t = topo_4c8t;
	struct cpus *c;
	struct cpulist s04 = list("0,4"), s45 = list("4-5"), s5 = list("5");
	struct cpulist s1 = list("1"), s7 = list("7"), s9 = list("9");
	struct cpulist rest = list("1-3,6"), empty = list("");
	struct serr err;

	(void)state;
	t.isolated = "7";
	c = fake_cpus(&t, NULL, 1);
	assert_int_equal(cpus_grant_exact(c, 1, &s04, &err), 0);
	assert_int_equal(cpus_grant_exact(c, 1, &s04, &err), 0); /* again */
	serr_clear(&err);
	assert_int_equal(cpus_grant_exact(c, 2, &s45, &err), -1);
	assert_int_equal(err.code, SERR_CONFLICT);
	assert_string_equal(err.message, "CPU 4 is already granted (to job 1)");
	assert_int_equal(cpus_grant_exact(c, 1, &s1, &err), -1);
	assert_int_equal(err.code, SERR_CONFLICT);
	assert_int_equal(cpus_grant_exact(c, 3, &s7, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.message,
	    "CPU 7 cannot be granted (offline, not allowed or isolated)");
	assert_int_equal(cpus_grant_exact(c, 3, &s9, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_int_equal(cpus_grant_exact(c, 3, &empty, &err), -1);
	assert_int_equal(err.code, SERR_INVALID);
	assert_int_equal(cpus_grant_exact(c, 2, &s5, &err), 0);
	assert_list(cpus_shared(c), "1-3,6");
	/* Taking every shared CPU would break shared_min. */
	assert_int_equal(cpus_grant_exact(c, 3, &rest, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(
	    err.message, "granting 4 CPUs would leave 0 shared, 1 must stay");
	assert_list(cpus_shared(c), "1-3,6");
	/* A grant after exact ones avoids them. */
	grant(c, 4, 2, "2,6");
	cpus_free(c);
}

static void
cpus_check_list__bad_cpus__named(void **state)
{
	struct topo t = topo_4c8t;
	struct cpus *c;
	struct cpulist bad = list("2-3,5-7,9"), good = list("0-3");
	struct cpulist many = list("8-1023"), empty = list("");
	struct serr err;

	(void)state;
	t.offline = "5";
	t.isolated = "3";
	c = fake_cpus(&t, "0-5", 1);
	assert_int_equal(cpus_check_list(c, &good, &err), 0);
	serr_clear(&err);
	assert_int_equal(cpus_check_list(c, &bad, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_int_equal(serr_code_status(err.code), 422);
	assert_string_equal(err.field, "cpus");
	assert_string_equal(err.message,
	    "CPU 9 does not exist; CPU 5 is offline; CPUs 6-7 are not "
	    "allowed (schedd may use 0-5)");
	assert_int_equal(cpus_check_list(c, &many, &err), -1);
	assert_string_equal(err.message, "CPUs 8-1023 do not exist");
	assert_int_equal(cpus_check_list(c, &empty, &err), -1);
	assert_int_equal(err.code, SERR_INVALID);
	cpus_free(c);
}

static void
cpus_grant__deterministic__same_answers(void **state)
{
	struct cpus *a = fake_cpus(&topo_2p16t, NULL, 1);
	struct cpus *b = fake_cpus(&topo_2p16t, NULL, 1);
	struct cpulist ga, gb;
	struct serr err;
	int64_t job;
	int n;

	(void)state;
	for (job = 1, n = 1; n <= 4; job++, n++) {
		assert_int_equal(cpus_grant(a, job, n, &ga, &err), 0);
		assert_int_equal(cpus_grant(b, job, n, &gb, &err), 0);
		assert_memory_equal(&ga, &gb, sizeof ga);
	}
	assert_list(cpus_shared(a), "3,6-7,11,14-15");
	cpus_free(a);
	cpus_free(b);
	cpus_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cpus_new__two_cpus_no_smt__facts),
	    cmocka_unit_test(cpus_new__two_packages_ht__domains),
	    cmocka_unit_test(cpus_new__no_node_dir__node_zero),
	    cmocka_unit_test(cpus_new__no_index3__llc_from_level2),
	    cmocka_unit_test(cpus_new__no_cache__llc_is_package),
	    cmocka_unit_test(cpus_new__missing_online__internal),
	    cmocka_unit_test(cpus_new__nothing_usable__internal),
	    cmocka_unit_test(cpus_new__offline_cpu__not_usable_core_shrinks),
	    cmocka_unit_test(cpus_new__online_file_zero__offline),
	    cmocka_unit_test(cpus_new__isolated__never_pooled_nor_granted),
	    cmocka_unit_test(cpus_new__allowed_subset__only_allowed),
	    cmocka_unit_test(cpus_new__real_sysfs__matches_online),
	    cmocka_unit_test(cpus_grant__4c8t__two_gives_siblings),
	    cmocka_unit_test(
		cpus_grant_avoid__pinned_core__another_core_and_pool_keeps_it),
	    cmocka_unit_test(cpus_grant__4c8t__three_gives_core_and_thread),
	    cmocka_unit_test(
		cpus_grant__two_packages_ht__eight_gives_one_package),
	    cmocka_unit_test(
		cpus_grant__two_packages_ht__ten_gives_package_and_core),
	    cmocka_unit_test(
		cpus_grant__two_packages_ht__packs_into_fuller_llc),
	    cmocka_unit_test(
		cpus_grant__two_llcs_one_package__emptiest_llc_then_broken_core),
	    cmocka_unit_test(
		cpus_grant__two_packages_ht__whole_cores_beat_best_fit),
	    cmocka_unit_test(
		cpus_grant__three_llcs__rest_goes_to_llc_that_fits),
	    cmocka_unit_test(cpus_grant__shared_pool__shrinks_and_grows),
	    cmocka_unit_test(cpus_grant__shared_min__never_and_now),
	    cmocka_unit_test(cpus_grant__two_cpus__one_grantable),
	    cmocka_unit_test(cpus_grant__bad_requests__refused),
	    cmocka_unit_test(cpus_grant_exact__conflicts__refused),
	    cmocka_unit_test(cpus_check_list__bad_cpus__named),
	    cmocka_unit_test(cpus_grant__deterministic__same_answers),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
