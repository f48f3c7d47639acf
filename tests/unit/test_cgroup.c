/* SPDX-License-Identifier: ISC */
/*
 * The cgroup module without the kernel's cgroupfs: the parsers of
 * /proc/self/cgroup and mountinfo, job directory names, cgroup_detect()
 * over fake trees, and the v2 backend's file operations over a temporary
 * directory laid out like cgroupfs (the v2 mount of the development
 * machine has no controllers; v1 is tested for real in
 * tests/integration/test_cgroup_v1.c). Nothing here touches
 * /sys/fs/cgroup, and the only processes signalled are our own children.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/cgroup-int.h"
#include "daemon/cgroup.h"
#include "daemon/clock.h"
#include "daemon/log.h"
#include "proto/errors.h"
#include "proto/jobspec.h"

/* A temporary tree standing in for cgroupfs and /proc/self. */
struct fake {
	char root[PATH_MAX];
	char mountinfo[PATH_MAX];
	char self[PATH_MAX];
	struct cgroup_env env;
};

static void
mkdirs(const char *path)
{
	char tmp[PATH_MAX], *p;

	assert_true(snprintf(tmp, sizeof(tmp), "%s", path) < (int)sizeof(tmp));
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
}

static void
abs_path(const struct fake *f, const char *rel, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s/%s", f->root, rel);
	assert_true(n > 0 && (size_t)n < len);
}

/* Create root/rel (and its parents) holding text. */
static void
fput(const struct fake *f, const char *rel, const char *text)
{
	char path[PATH_MAX], *slash;
	FILE *fp;

	abs_path(f, rel, path, sizeof(path));
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	assert_non_null(fp = fopen(path, "w"));
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* The text of root/rel, trailing newlines removed. */
static const char *
fget(const struct fake *f, const char *rel)
{
	static char buf[4096];
	char path[PATH_MAX];
	size_t n;
	FILE *fp;

	abs_path(f, rel, path, sizeof(path));
	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return (buf);
}

static int
fexists(const struct fake *f, const char *rel)
{
	char path[PATH_MAX];

	abs_path(f, rel, path, sizeof(path));
	return (access(path, F_OK) == 0);
}

static void
fdir(const struct fake *f, const char *rel)
{
	char path[PATH_MAX];

	abs_path(f, rel, path, sizeof(path));
	mkdirs(path);
}

/* Append one mountinfo line for a cgroup mount at root/point. */
static void
fmount(struct fake *f, int id, const char *point, const char *fstype,
    const char *opts)
{
	FILE *fp;

	assert_non_null(fp = fopen(f->mountinfo, "a"));
	fprintf(fp, "%d 31 0:%d / %s/%s rw,relatime shared:%d - %s %s %s\n", id,
	    id, f->root, point, id, fstype, fstype, opts);
	fclose(fp);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path));
}

static int
fake_setup(void **state)
{
	struct fake *f;
	FILE *fp;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/test_cgroup.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	abs_path(f, "mountinfo", f->mountinfo, sizeof(f->mountinfo));
	abs_path(f, "self_cgroup", f->self, sizeof(f->self));
	/* Unrelated mounts come first, as on a real machine. */
	assert_non_null(fp = fopen(f->mountinfo, "w"));
	fputs("22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	      "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n",
	    fp);
	fclose(fp);
	f->env.fs_root = f->root;
	f->env.self_cgroup = f->self;
	f->env.mountinfo = f->mountinfo;
	f->env.subtree = "schedd";
	f->env.move_self = 0;
	*state = f;
	return (0);
}

static int
fake_teardown(void **state)
{
	struct fake *f = *state;

	cgroup_v1_ops.fini();
	cgroup_v2_ops.fini();
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return (0);
}

/*
 * A unified hierarchy at root/unified, our cgroup /svc offering cpuset,
 * cpu, io, memory and pids; SUBTREE and job 7 laid out with the files the
 * kernel would create.
 */
static void
v2_layout(struct fake *f, const char *offers)
{
	static const char *const files[][2] = {
	    {"memory.max", "max"},
	    {"memory.swap.max", "max"},
	    {"memory.current", "1000"},
	    {"memory.peak", "2000"},
	    {"memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n"},
	    {"pids.max", "max"},
	    {"cpu.max", "max 100000"},
	    {"cpu.weight", "100"},
	    {"cpu.stat",
		"usage_usec 12345\nuser_usec 10000\nsystem_usec 2345\n"
		"nr_periods 40\nnr_throttled 7\nthrottled_usec 5321\n"},
	    {"cpu.pressure", "some avg10=1.50 avg60=0.20 avg300=0.05 "
			     "total=987654\nfull avg10=0.00 avg60=0.00 "
			     "avg300=0.00 total=1234\n"},
	    {"cpuset.cpus", ""},
	    {"cgroup.freeze", "0"},
	    {"cgroup.events", "populated 0\nfrozen 0\n"},
	    {"cgroup.procs", ""},
	    {"cgroup.kill", ""},
	};
	char rel[PATH_MAX];
	size_t i;

	fmount(f, 41, "unified", "cgroup2", "rw,nsdelegate");
	fput(f, "self_cgroup", "0::/svc\n");
	fput(f, "unified/svc/cgroup.controllers", offers);
	fput(f, "unified/svc/cgroup.subtree_control", "");
	fput(f, "unified/svc/schedd/cgroup.subtree_control", "");
	fput(f, "unified/svc/schedd/cgroup.freeze", "0");
	fput(f, "unified/svc/schedd/daemon/cgroup.procs", "");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "unified/svc/schedd/job-7/%s",
		    files[i][0]);
		fput(f, rel, files[i][1]);
	}
}

static void
v2_start(struct fake *f, const char *offers)
{
	struct serr err;

	v2_layout(f, offers);
	serr_clear(&err);
	assert_int_equal(cgroup_v2_ops.init(&f->env, &err), 0);
}

/* Parsers */

static void
cgroup_parse_self__v1_and_v2_lines__fields_found(void **state)
{
	struct cgroup_selfline sl;

	(void)state;
	assert_int_equal(
	    cgroup_parse_self("4:memory:/process_api/26bf1a\n", &sl), 0);
	assert_int_equal(sl.id, 4);
	assert_string_equal(sl.controllers, "memory");
	assert_string_equal(sl.path, "/process_api/26bf1a");

	assert_int_equal(cgroup_parse_self("2:cpu,cpuacct:/", &sl), 0);
	assert_int_equal(sl.id, 2);
	assert_string_equal(sl.controllers, "cpu,cpuacct");
	assert_string_equal(sl.path, "/");

	assert_int_equal(cgroup_parse_self("0::/system.slice/a:b", &sl), 0);
	assert_int_equal(sl.id, 0);
	assert_string_equal(sl.controllers, "");
	assert_string_equal(sl.path, "/system.slice/a:b");

	assert_int_equal(cgroup_parse_self("9:name=systemd:/", &sl), 0);
	assert_string_equal(sl.controllers, "name=systemd");
}

static void
cgroup_parse_self__malformed__rejected(void **state)
{
	static const char *const bad[] = {"", "\n", "4", "4:memory",
	    "4:memory:", "4:memory:\n", ":memory:/", "x:memory:/",
	    "-1:memory:/", "4:memory:relative"};
	struct cgroup_selfline sl;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cgroup_parse_self(bad[i], &sl), -1);
}

static void
cgroup_parse_mountinfo__v1_v2_and_optional_fields__fields_found(void **state)
{
	struct cgroup_mount m;

	(void)state;
	assert_int_equal(
	    cgroup_parse_mountinfo(
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n",
		&m),
	    0);
	assert_string_equal(m.root, "/");
	assert_string_equal(m.point, "/sys/fs/cgroup/cpu");
	assert_string_equal(m.fstype, "cgroup");
	assert_string_equal(m.opts, "rw,cpu");

	/* Optional fields before the dash; a root below the hierarchy's. */
	assert_int_equal(
	    cgroup_parse_mountinfo(
		"33 25 0:28 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:13 master:2 - cgroup cgroup rw,cpu,cpuacct",
		&m),
	    0);
	assert_string_equal(m.root, "/docker/abc");
	assert_string_equal(m.point, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(m.opts, "rw,cpu,cpuacct");

	assert_int_equal(
	    cgroup_parse_mountinfo(
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
		&m),
	    0);
	assert_string_equal(m.fstype, "cgroup2");
	assert_string_equal(m.point, "/sys/fs/cgroup/unified");

	/* The kernel escapes blanks and backslashes as \ooo. */
	assert_int_equal(
	    cgroup_parse_mountinfo(
		"50 31 0:40 /a\\040b /mnt/my\\040cg\\134x rw - cgroup2 none rw",
		&m),
	    0);
	assert_string_equal(m.root, "/a b");
	assert_string_equal(m.point, "/mnt/my cg\\x");
}

static void
cgroup_parse_mountinfo__truncated__rejected(void **state)
{
	static const char *const bad[] = {
	    "",
	    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime",
	    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup",
	    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup",
	    "32 31 0:29 relative /x rw - cgroup cgroup rw,cpu",
	};
	struct cgroup_mount m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cgroup_parse_mountinfo(bad[i], &m), -1);
}

static void
cgroup_has_token__comma_and_blank_lists__exact_elements_only(void **state)
{
	(void)state;
	assert_true(cgroup_has_token("rw,cpu,cpuacct", "cpu"));
	assert_true(cgroup_has_token("rw,cpu,cpuacct", "cpuacct"));
	assert_false(cgroup_has_token("rw,cpuacct", "cpu"));
	assert_false(cgroup_has_token("rw,cpuset", "cpu"));
	assert_true(cgroup_has_token("cpuset cpu io memory pids\n", "pids"));
	assert_false(cgroup_has_token("cpuset cpu io", "memory"));
	assert_false(cgroup_has_token("", "cpu"));
	assert_false(cgroup_has_token("cpu", ""));
}

/* Locating our cgroup */

static void
cgroup_locate__v1_memory_below_root__mount_plus_path(void **state)
{
	struct fake *f = *state;
	char dir[PATH_MAX], want[PATH_MAX];

	fmount(f, 35, "memory", "cgroup", "rw,memory");
	fmount(f, 32, "cpu", "cgroup", "rw,cpu");
	fmount(f, 33, "cpuacct", "cgroup", "rw,cpuacct");
	fput(f, "self_cgroup",
	    "4:memory:/process_api/26bf\n2:cpuacct:/\n1:cpu:/\n0::/\n");

	assert_int_equal(cgroup_locate(&f->env, "memory", dir, sizeof(dir)), 0);
	abs_path(f, "memory/process_api/26bf", want, sizeof(want));
	assert_string_equal(dir, want);
	assert_int_equal(cgroup_locate(&f->env, "cpu", dir, sizeof(dir)), 0);
	abs_path(f, "cpu", want, sizeof(want));
	assert_string_equal(dir, want);
	assert_int_equal(cgroup_locate(&f->env, "pids", dir, sizeof(dir)), -1);
	assert_int_equal(errno, ENOENT);
	/* The "0::" line exists, but no cgroup2 mount. */
	assert_int_equal(cgroup_locate(&f->env, NULL, dir, sizeof(dir)), -1);
}

static void
cgroup_own_dir__mount_root_below_hierarchy__root_stripped(void **state)
{
	struct cgroup_mount m;
	char dir[PATH_MAX];

	(void)state;
	memset(&m, 0, sizeof(m));
	snprintf(m.root, sizeof(m.root), "/docker/abc");
	snprintf(m.point, sizeof(m.point), "/sys/fs/cgroup/memory");
	assert_int_equal(
	    cgroup_own_dir(&m, "/docker/abc/sub", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/memory/sub");
	assert_int_equal(
	    cgroup_own_dir(&m, "/docker/abc", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/memory");
	/* Outside what the mount shows, or a mere name prefix. */
	assert_int_equal(cgroup_own_dir(&m, "/other", dir, sizeof(dir)), -1);
	assert_int_equal(
	    cgroup_own_dir(&m, "/docker/abcdef", dir, sizeof(dir)), -1);
	snprintf(m.root, sizeof(m.root), "/");
	assert_int_equal(cgroup_own_dir(&m, "/", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/memory");
	assert_int_equal(cgroup_own_dir(&m, "/a", dir, 8), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void
cgroup_find_mount__two_cgroup2_mounts__one_under_fs_root_wins(void **state)
{
	struct fake *f = *state;
	struct cgroup_mount m;
	FILE *fp;
	char want[PATH_MAX];

	assert_non_null(fp = fopen(f->mountinfo, "a"));
	fprintf(fp, "60 1 0:50 / /elsewhere rw - cgroup2 cgroup2 rw\n");
	fclose(fp);
	fmount(f, 61, "unified", "cgroup2", "rw");
	assert_int_equal(cgroup_find_mount(f->mountinfo, f->root, NULL, &m), 0);
	abs_path(f, "unified", want, sizeof(want));
	assert_string_equal(m.point, want);
	/* Without a preference the first one. */
	assert_int_equal(cgroup_find_mount(f->mountinfo, NULL, NULL, &m), 0);
	assert_string_equal(m.point, "/elsewhere");
	/* cgroup2 is not a v1 hierarchy of any controller. */
	assert_int_equal(
	    cgroup_find_mount(f->mountinfo, f->root, "cpu", &m), -1);
	assert_int_equal(errno, ENOENT);
}

/* Names */

static void
cgroup_job_dir__ids_only__names_built(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(cgroup_job_dir(buf, sizeof(buf), "/s", 42), 0);
	assert_string_equal(buf, "/s/job-42");
	assert_int_equal(cgroup_job_dir(buf, sizeof(buf), "/s", INT64_MAX), 0);
	assert_string_equal(buf, "/s/job-9223372036854775807");
	assert_int_equal(cgroup_job_dir(buf, sizeof(buf), "/s", 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(cgroup_job_dir(buf, sizeof(buf), "/s", -3), -1);
	assert_int_equal(cgroup_job_dir(buf, 8, "/s", 12345), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	/* "/s/job-10" and its NUL fit 10 bytes exactly, not 9. */
	assert_int_equal(cgroup_job_dir(buf, 10, "/s", 10), 0);
	assert_string_equal(buf, "/s/job-10");
	assert_int_equal(cgroup_job_dir(buf, 9, "/s", 10), -1);
	assert_string_equal(buf, "");
	assert_int_equal(cgroup_job_dir(buf, sizeof(buf), "", 7), 0);
	assert_string_equal(buf, "/job-7");
	assert_int_equal(cgroup_job_dir(buf, sizeof(buf), "/a/b", 1002003), 0);
	assert_string_equal(buf, "/a/b/job-1002003");
}

static void
cgroup_job_id__names__only_canonical_ids_accepted(void **state)
{
	static const char *const bad[] = {"job-", "job-0", "job-01", "job--1",
	    "job-+1", "job-1a", "job-1 ", "job- 1", "jobs-1", "Job-1", "daemon",
	    "job-9223372036854775808", "job-99999999999999999999", ".", ".."};
	size_t i;

	(void)state;
	assert_int_equal(cgroup_job_id("job-1"), 1);
	assert_int_equal(cgroup_job_id("job-42"), 42);
	assert_int_equal(cgroup_job_id("job-9223372036854775807"), INT64_MAX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cgroup_job_id(bad[i]), -1);
}

static void
cgroup_name_valid__subtree_names__one_safe_component(void **state)
{
	static const char *const bad[] = {"", ".", "..", "a/b", "../x", "/abs",
	    "a b", "a\nb", "x*",
	    "0123456789012345678901234567890123456789012345678901234567890123456789"};

	size_t i;

	(void)state;
	assert_true(cgroup_name_valid("schedd"));
	assert_true(cgroup_name_valid("schedd-test-1234"));
	assert_true(cgroup_name_valid("schedd@x_1.slice"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(cgroup_name_valid(bad[i]));
}

/* cgroup_detect */

/* v1 hierarchies like this machine's (cpu and cpuacct apart), SUBTREE
 * pre-made with the files the kernel would put there. */
static void
v1_layout(struct fake *f, int comount)
{
	if (comount) {
		fmount(f, 32, "cpu,cpuacct", "cgroup", "rw,cpu,cpuacct");
		fput(f, "cpu,cpuacct/schedd/cpu.shares", "1024");
		fput(f, "cpu,cpuacct/schedd/cpuacct.usage", "0");
	} else {
		fmount(f, 32, "cpu", "cgroup", "rw,cpu");
		fmount(f, 33, "cpuacct", "cgroup", "rw,cpuacct");
		fput(f, "cpu/schedd/cpu.shares", "1024");
		fput(f, "cpu/schedd/cpu.rt_runtime_us", "0");
		fput(f, "cpuacct/schedd/cpuacct.usage", "0");
	}
	fmount(f, 34, "cpuset", "cgroup", "rw,cpuset");
	fmount(f, 35, "memory", "cgroup", "rw,memory");
	fmount(f, 36, "devices", "cgroup", "rw,devices");
	fmount(f, 37, "freezer", "cgroup", "rw,freezer");
	fmount(f, 39, "pids", "cgroup", "rw,pids");
	fmount(f, 40, "systemd", "cgroup", "rw,name=systemd");
	fmount(f, 41, "unified", "cgroup2", "rw");
	fput(f, "self_cgroup",
	    comount
		? "9:name=systemd:/\n8:pids:/\n6:freezer:/\n"
		  "4:memory:/pa/x\n3:cpuset:/\n1:cpu,cpuacct:/\n0::/\n"
		: "9:name=systemd:/\n8:pids:/\n6:freezer:/\n"
		  "4:memory:/pa/x\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n");
	fput(f, "unified/cgroup.controllers", "hugetlb");
	fput(f, "cpuset/cpuset.cpus", "0-1");
	fput(f, "cpuset/cpuset.mems", "0");
	fput(f, "cpuset/schedd/cpuset.cpus", "");
	fput(f, "cpuset/schedd/cpuset.mems", "");
	fput(f, "memory/pa/x/schedd/memory.limit_in_bytes", "");
	fput(f, "memory/pa/x/schedd/memory.use_hierarchy", "0");
	fput(f, "pids/schedd/pids.max", "max");
	fput(f, "freezer/schedd/freezer.state", "THAWED");
}

static void
cgroup_detect__hybrid_v1_tree__picks_v1(void **state)
{
	struct fake *f = *state;
	const struct cgroup_ops *ops;
	struct serr err;

	v1_layout(f, 0);
	serr_clear(&err);
	ops = cgroup_detect(&f->env, &err);
	assert_ptr_equal(ops, &cgroup_v1_ops);
	assert_string_equal(
	    ops->controllers(), "cpu cpuset memory pids freezer cpuacct");
	/* The cpuset of SUBTREE is copied from our own; memory hierarchical. */
	assert_string_equal(fget(f, "cpuset/schedd/cpuset.cpus"), "0-1");
	assert_string_equal(fget(f, "cpuset/schedd/cpuset.mems"), "0");
	assert_string_equal(
	    fget(f, "memory/pa/x/schedd/memory.use_hierarchy"), "1");
	/* Nothing beyond SUBTREE in the hierarchies we do not use. */
	assert_false(fexists(f, "devices/schedd"));
	assert_false(fexists(f, "systemd/schedd"));
	assert_false(fexists(f, "unified/schedd"));
}

static void
cgroup_detect__v2_offering_cpu_memory_pids__picks_v2(void **state)
{
	struct fake *f = *state;
	const struct cgroup_ops *ops;
	struct serr err;

	v2_layout(f, "cpuset cpu io memory hugetlb pids rdma misc");
	ops = cgroup_detect(&f->env, &err);
	assert_ptr_equal(ops, &cgroup_v2_ops);
	assert_string_equal(
	    ops->controllers(), "cpu cpuset memory pids freezer");
}

static void
cgroup_detect__no_cgroup_mounts__null(void **state)
{
	struct fake *f = *state;
	struct serr err;

	fput(f, "self_cgroup", "0::/\n");
	serr_clear(&err);
	assert_null(cgroup_detect(&f->env, &err));
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_non_null(strstr(err.message, "no cgroup controllers"));
}

static void
cgroup_detect__bad_subtree__invalid(void **state)
{
	struct fake *f = *state;
	struct serr err;

	v1_layout(f, 0);
	f->env.subtree = "../escape";
	serr_clear(&err);
	assert_null(cgroup_detect(&f->env, &err));
	assert_int_equal(err.code, SERR_INVALID);
	assert_string_equal(err.field, "cgroup_root");
	assert_false(fexists(f, "escape"));
}

/* v1 over a fake tree: only what needs no kernel */

static void
cgroup_v1_attach_fds__comounted_cpu_cpuacct__one_fd_per_hierarchy(void **state)
{
	static const char *const dirs[] = {
	    "cpu,cpuacct", "cpuset", "memory/pa/x", "pids", "freezer"};
	struct fake *f = *state;
	struct serr err;
	char rel[PATH_MAX];
	int fds[CGROUP_FDS_MAX], dirfd = 5, n, i;
	int64_t *ids;

	v1_layout(f, 1);
	for (i = 0; i < 5; i++) {
		snprintf(
		    rel, sizeof(rel), "%s/schedd/job-1/cgroup.procs", dirs[i]);
		fput(f, rel, "");
	}
	assert_int_equal(cgroup_v1_ops.init(&f->env, &err), 0);
	assert_string_equal(cgroup_v1_ops.controllers(),
	    "cpu cpuset memory pids freezer cpuacct");
	n = cgroup_v1_ops.attach_fds(1, fds, CGROUP_FDS_MAX, &dirfd, &err);
	assert_int_equal(n, 5);
	assert_int_equal(dirfd, -1);
	for (i = 0; i < n; i++) {
		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		close(fds[i]);
	}
	/* Too little room is an error, not a silent partial attach. */
	assert_int_equal(cgroup_v1_ops.attach_fds(1, fds, 4, &dirfd, &err), -1);
	/* job-1 in each of the five hierarchies: listed once. */
	assert_int_equal(cgroup_v1_ops.list(&ids), 1);
	assert_int_equal(ids[0], 1);
	free(ids);
}

static void
cgroup_v1_create__cpuset_files_missing__rolled_back(void **state)
{
	struct fake *f = *state;
	struct serr err;
	int64_t *ids;

	v1_layout(f, 0);
	assert_int_equal(cgroup_v1_ops.init(&f->env, &err), 0);
	/* A fake directory gets no cpuset files: the copy fails. */
	serr_clear(&err);
	assert_int_equal(cgroup_v1_ops.create(3, &err), -1);
	assert_int_equal(err.code, SERR_INTERNAL);
	assert_false(fexists(f, "cpu/schedd/job-3"));
	assert_false(fexists(f, "cpuset/schedd/job-3"));
	assert_false(fexists(f, "memory/pa/x/schedd/job-3"));
	assert_false(fexists(f, "freezer/schedd/job-3"));
	assert_int_equal(cgroup_v1_ops.list(&ids), 0);
	free(ids);
	assert_int_equal(cgroup_v1_ops.create(0, &err), -1);
	assert_int_equal(err.code, SERR_INVALID);
}

/* v2 over a fake tree */

static void
cgroup_v2_init__offers_all__enabled_in_own_and_subtree(void **state)
{
	struct fake *f = *state;

	v2_start(f, "cpuset cpu io memory pids");
	assert_string_equal(
	    cgroup_v2_ops.controllers(), "cpu cpuset memory pids freezer");
	/* One "+x" per write; the last one stays in a plain file. */
	assert_string_equal(
	    fget(f, "unified/svc/cgroup.subtree_control"), "+pids");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/cgroup.subtree_control"), "+pids");
	/* move_self = 0: we stay where we are. */
	assert_string_equal(
	    fget(f, "unified/svc/schedd/daemon/cgroup.procs"), "");
}

static void
cgroup_v2_init__some_not_offered__left_out(void **state)
{
	struct fake *f = *state;

	v2_start(f, "memory io");
	assert_string_equal(cgroup_v2_ops.controllers(), "memory freezer");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/cgroup.subtree_control"), "+memory");
}

static void
cgroup_v2_init__own_subtree_control_refused__left_out_not_fatal(void **state)
{
	struct fake *f = *state;
	struct serr err;
	char path[PATH_MAX];
	struct job_limits l;

	v2_layout(f, "cpu memory pids");
	/* A directory cannot be written: every "+x" in OWN fails. */
	abs_path(f, "unified/svc/cgroup.subtree_control", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	fdir(f, "unified/svc/cgroup.subtree_control");
	assert_int_equal(cgroup_v2_ops.init(&f->env, &err), 0);
	assert_string_equal(cgroup_v2_ops.controllers(), "freezer");
	memset(&l, 0, sizeof(l));
	l.memory_max = 1 << 20;
	serr_clear(&err);
	assert_int_equal(cgroup_v2_ops.set_limits(7, &l, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "limits.memory_max");
	/* Unset limits need no controller. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(cgroup_v2_ops.set_limits(7, &l, &err), 0);
}

static void
cgroup_v2_init__move_self__pid_written_to_daemon_leaf(void **state)
{
	struct fake *f = *state;
	struct serr err;
	char pid[32];

	v2_layout(f, "cpu memory pids");
	f->env.move_self = 1;
	assert_int_equal(cgroup_v2_ops.init(&f->env, &err), 0);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	assert_string_equal(
	    fget(f, "unified/svc/schedd/daemon/cgroup.procs"), pid);
	/* We live in SUBTREE/daemon: fini must leave both in place. */
	cgroup_v2_ops.fini();
	assert_true(fexists(f, "unified/svc/schedd/daemon"));
}

static void
cgroup_v2_set_limits__all_set__exact_values_written(void **state)
{
	struct fake *f = *state;
	struct serr err;
	struct job_limits l;

	v2_start(f, "cpuset cpu memory pids");
	memset(&l, 0, sizeof(l));
	l.set = 1;
	l.memory_max = 64 << 20;
	l.pids_max = 20;
	l.cpu_quota_pct = 50;
	l.cpu_weight = 200;
	assert_int_equal(cgroup_v2_ops.set_limits(7, &l, &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/memory.max"), "67108864");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/memory.swap.max"), "0");
	assert_string_equal(fget(f, "unified/svc/schedd/job-7/pids.max"), "20");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpu.max"), "50000 100000");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpu.weight"), "200");

	/* 250% of a 4-CPU machine: more than one period per period. */
	l.cpu_quota_pct = 250;
	assert_int_equal(cgroup_v2_ops.set_limits(7, &l, &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpu.max"), "250000 100000");
}

/* What the drift check reads back is what set_cpus wrote (issue 17). */
static void
cgroup_v2_get_cpus__after_set__same_list(void **state)
{
	struct fake *f = *state;
	struct serr err;
	char cpus[64];

	v2_start(f, "cpuset cpu memory pids");
	assert_int_equal(cgroup_v2_ops.set_cpus(7, "2-3", &err), 0);
	assert_int_equal(cgroup_v2_ops.get_cpus(7, cpus, sizeof(cpus)), 0);
	assert_string_equal(cpus, "2-3");
	assert_int_equal(cgroup_v2_ops.get_cpus(8, cpus, sizeof(cpus)), -1);
}

static void
cgroup_v2_set_limits__zeros__unlimited_written(void **state)
{
	struct fake *f = *state;
	struct serr err;
	struct job_limits l;

	v2_start(f, "cpuset cpu memory pids");
	fput(f, "unified/svc/schedd/job-7/memory.max", "1");
	fput(f, "unified/svc/schedd/job-7/pids.max", "1");
	memset(&l, 0, sizeof(l));
	assert_int_equal(cgroup_v2_ops.set_limits(7, &l, &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/memory.max"), "max");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/memory.swap.max"), "max");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/pids.max"), "max");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpu.max"), "max 100000");
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpu.weight"), "100");
}

static void
cgroup_v2_set_limits__no_swap_accounting__still_ok(void **state)
{
	struct fake *f = *state;
	struct serr err;
	struct job_limits l;
	char path[PATH_MAX];

	v2_start(f, "cpu memory pids");
	abs_path(
	    f, "unified/svc/schedd/job-7/memory.swap.max", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	memset(&l, 0, sizeof(l));
	l.memory_max = 4096;
	assert_int_equal(cgroup_v2_ops.set_limits(7, &l, &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/memory.max"), "4096");
	assert_false(fexists(f, "unified/svc/schedd/job-7/memory.swap.max"));
}

static void
cgroup_v2_set_limits__job_missing__not_found(void **state)
{
	struct fake *f = *state;
	struct serr err;
	struct job_limits l;

	v2_start(f, "cpu memory pids");
	memset(&l, 0, sizeof(l));
	l.pids_max = 5;
	serr_clear(&err);
	assert_int_equal(cgroup_v2_ops.set_limits(8, &l, &err), -1);
	assert_int_equal(err.code, SERR_NOT_FOUND);
	assert_false(fexists(f, "unified/svc/schedd/job-8"));
}

static void
cgroup_v2_set_cpus__list_then_empty__written(void **state)
{
	struct fake *f = *state;
	struct serr err;

	v2_start(f, "cpuset cpu memory pids");
	assert_int_equal(cgroup_v2_ops.set_cpus(7, "0-1,3", &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpuset.cpus"), "0-1,3");
	assert_int_equal(cgroup_v2_ops.set_cpus(7, NULL, &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpuset.cpus"), "");
	assert_int_equal(cgroup_v2_ops.set_cpus(7, "1", &err), 0);
	assert_int_equal(cgroup_v2_ops.set_cpus(7, "", &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cpuset.cpus"), "");
}

static void
cgroup_v2_set_cpus__no_cpuset__unsatisfiable_unless_empty(void **state)
{
	struct fake *f = *state;
	struct serr err;

	v2_start(f, "cpu memory pids");
	assert_int_equal(cgroup_v2_ops.set_cpus(7, NULL, &err), 0);
	serr_clear(&err);
	assert_int_equal(cgroup_v2_ops.set_cpus(7, "0", &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "cpus");
}

static void
cgroup_v2_freeze__events_in_target_state__returns_and_writes(void **state)
{
	struct fake *f = *state;
	struct serr err;

	v2_start(f, "cpu memory pids");
	fput(f, "unified/svc/schedd/job-7/cgroup.events",
	    "populated 1\nfrozen 1\n");
	assert_int_equal(cgroup_v2_ops.freeze(7, 1, &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cgroup.freeze"), "1");
	fput(f, "unified/svc/schedd/job-7/cgroup.events",
	    "populated 1\nfrozen 0\n");
	assert_int_equal(cgroup_v2_ops.freeze(7, 0, &err), 0);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cgroup.freeze"), "0");
}

static void
cgroup_v2_freeze__not_frozen_yet__asked_without_waiting(void **state)
{
	struct fake *f = *state;
	struct serr err;
	int64_t t0;

	v2_start(f, "cpu memory pids");
	/* cgroup.events keeps saying "frozen 0": the freeze stays asked
	 * (the kernel finishes it) and the loop is not held for it. */
	serr_clear(&err);
	t0 = mono_ms();
	assert_int_equal(cgroup_v2_ops.freeze(7, 1, &err), 0);
	assert_true(mono_ms() - t0 < 500);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cgroup.freeze"), "1");
}

static void
cgroup_v2_usage__fake_files__parsed(void **state)
{
	struct fake *f = *state;
	struct cgroup_usage u;
	char path[PATH_MAX];
	int64_t n;

	v2_start(f, "cpu memory pids");
	assert_int_equal(cgroup_v2_ops.usage(7, &u), 0);
	assert_int_equal(u.memory_current, 1000);
	assert_int_equal(u.memory_peak, 2000);
	assert_int_equal(u.cpu_usage_us, 12345);
	assert_int_equal(u.nprocs, 0);
	assert_int_equal(u.oom_kills, 2);
	/* The exit's read: memory.events alone. */
	n = -1;
	assert_int_equal(cgroup_v2_ops.oom_kills(7, &n), 0);
	assert_int_equal(n, 2);
	/* Issue 17: throttling and pressure ("some", not "full"). */
	assert_int_equal(u.nr_periods, 40);
	assert_int_equal(u.nr_throttled, 7);
	assert_int_equal(u.throttled_us, 5321);
	assert_int_equal(u.cpu_pressure_us, 987654);
	abs_path(
	    f, "unified/svc/schedd/job-7/cpu.pressure", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	/* No cpuset controller: no cpuset to check for drift. */
	{
		char cpus[64];

		assert_int_equal(
		    cgroup_v2_ops.get_cpus(7, cpus, sizeof(cpus)), -1);
	}
	/* memory.peak is newer than the rest (5.19): unknown without it. */
	fput(f, "unified/svc/schedd/job-7/cgroup.procs", "4242\n4243\n");
	abs_path(f, "unified/svc/schedd/job-7/memory.peak", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cgroup_v2_ops.usage(7, &u), 0);
	assert_int_equal(u.memory_peak, -1);
	assert_int_equal(u.nprocs, 2);
	/* No cpu.pressure (no PSI): unknown. */
	assert_int_equal(u.cpu_pressure_us, -1);
	assert_int_equal(cgroup_v2_ops.usage(8, &u), -1);
}

/* One read for several keys: missing and malformed ones stay as given. */
static void
cgroup_read_keys__one_file__found_set_rest_untouched(void **state)
{
	static const char *const keys[] = {
	    "nr_throttled", "absent", "bad", "nr_periods"};
	struct fake *f = *state;
	int64_t vals[4] = {-1, -1, -1, -1}, v;
	char dir[PATH_MAX];

	fput(f, "keys/cpu.stat",
	    "nr_periods 40\nbad 12x\nnr_throttled 7\nthrottled_time 9\n");
	abs_path(f, "keys", dir, sizeof(dir));
	assert_int_equal(cgroup_read_keys(dir, "cpu.stat", keys, vals, 4), 2);
	assert_int_equal(vals[0], 7);
	assert_int_equal(vals[1], -1);
	assert_int_equal(vals[2], -1);
	assert_int_equal(vals[3], 40);
	assert_int_equal(cgroup_read_keys(dir, "nothing", keys, vals, 4), -1);
	/* The one-key form keeps its errors. */
	assert_int_equal(cgroup_read_key(dir, "cpu.stat", "nr_periods", &v), 0);
	assert_int_equal(v, 40);
	errno = 0;
	assert_int_equal(cgroup_read_key(dir, "cpu.stat", "absent", &v), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(cgroup_read_key(dir, "cpu.stat", "bad", &v), -1);
	assert_int_equal(errno, EINVAL);
}

static void
cgroup_v2_procs__list__pids_up_to_max(void **state)
{
	struct fake *f = *state;
	pid_t pids[4];

	v2_start(f, "cpu memory pids");
	fput(f, "unified/svc/schedd/job-7/cgroup.procs",
	    "4242\n4243\n1\n0\nx\n4244\n");
	assert_int_equal(cgroup_v2_ops.procs(7, pids, 4), 3);
	assert_int_equal(pids[0], 4242);
	assert_int_equal(pids[2], 4244);
	assert_int_equal(cgroup_v2_ops.procs(7, pids, 2), 2);
	assert_int_equal(cgroup_v2_ops.procs(8, pids, 2), -1);
}

/* A stop reads every member: 10,000 of them, none of pid 0 or 1. */
static void
cgroup_procs_all__ten_thousand__every_pid(void **state)
{
	struct fake *f = *state;
	char *text, *p;
	pid_t *pids;
	int i;

	v2_start(f, "cpu memory pids");
	p = text = malloc(10000 * 8 + 8);
	assert_non_null(text);
	p += sprintf(p, "1\n");
	for (i = 0; i < 10000; i++)
		p += sprintf(p, "%d\n", 100000 + i);
	fput(f, "unified/svc/schedd/job-7/cgroup.procs", text);
	free(text);
	assert_int_equal(cgroup_v2_ops.procs_all(7, &pids), 10000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(pids[i], 100000 + i);
	free(pids);
	assert_int_equal(cgroup_v2_ops.procs_all(8, &pids), -1);
	assert_null(pids);
}

static void
cgroup_v2_kill__sigterm__only_listed_children_signalled(void **state)
{
	struct fake *f = *state;
	struct serr err;
	char text[64];
	pid_t child;
	int status;

	v2_start(f, "cpu memory pids");
	/* pid 1 and we ourselves are never signalled, whatever the list says.
	 */
	snprintf(text, sizeof(text), "1\n%ld\n", (long)getpid());
	fput(f, "unified/svc/schedd/job-7/cgroup.procs", text);
	assert_int_equal(cgroup_v2_ops.kill(7, SIGTERM, &err), 0);

	if ((child = fork()) == 0) {
		pause();
		_exit(0);
	}
	assert_true(child > 0);
	snprintf(text, sizeof(text), "%ld\n", (long)child);
	fput(f, "unified/svc/schedd/job-7/cgroup.procs", text);
	assert_int_equal(cgroup_v2_ops.kill(7, SIGTERM, &err), 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	/* Gone meanwhile (ESRCH): not counted, not an error. */
	assert_int_equal(cgroup_v2_ops.kill(7, SIGTERM, &err), 0);
}

/* A child of ours that waits to be signalled (gone in 10 s if not). */
static pid_t
sleeper(void)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		alarm(10);
		pause();
		_exit(0);
	}
	assert_true(pid > 0);
	return (pid);
}

/*
 * A member the list names only at the second read (forked as its parent
 * was signalled) is signalled too: the list is read again until it names
 * no one new. cgroup.procs is a FIFO here, and a writer of ours serves one
 * list per read, the next once the reader has closed the last (inotify).
 */
static void
cgroup_signal_all__member_listed_late__signalled_too(void **state)
{
	struct fake *f = *state;
	char dir[PATH_MAX], path[PATH_MAX], lists[2][64];
	char ev[sizeof(struct inotify_event) + NAME_MAX + 1]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	pid_t a, b, writer;
	int status, i, fd, in;

	fdir(f, "late");
	abs_path(f, "late", dir, sizeof(dir));
	abs_path(f, "late/cgroup.procs", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	a = sleeper();
	b = sleeper();
	snprintf(lists[0], sizeof(lists[0]), "%ld\n", (long)a);
	snprintf(lists[1], sizeof(lists[1]), "%ld\n%ld\n", (long)a, (long)b);
	assert_true((in = inotify_init1(IN_CLOEXEC)) != -1);
	assert_true(inotify_add_watch(in, path, IN_CLOSE_NOWRITE) != -1);
	if ((writer = fork()) == 0) {
		/* The first list, then the second for every later read. */
		alarm(10);
		for (i = 0;; i++) {
			if ((fd = open(path, O_WRONLY)) == -1)
				_exit(1);
			if (write(fd, lists[i > 0], strlen(lists[i > 0])) == -1)
				_exit(1);
			close(fd);
			if (read(in, ev, sizeof(ev)) <= 0)
				_exit(1);
		}
	}
	assert_true(writer > 0);
	close(in);
	assert_int_equal(cgroup_signal_all(dir, SIGTERM), 2);
	kill(writer, SIGKILL);
	assert_int_equal(waitpid(writer, &status, 0), writer);
	assert_int_equal(waitpid(a, &status, 0), a);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	assert_int_equal(waitpid(b, &status, 0), b);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

static void
cgroup_v2_kill__sigkill_with_cgroup_kill__kill_file_written(void **state)
{
	struct fake *f = *state;
	struct serr err;

	v2_start(f, "cpu memory pids");
	fput(f, "unified/svc/schedd/job-7/cgroup.procs", "4242\n4243\n");
	/* The kernel does the killing; the fake file just records "1". */
	assert_int_equal(cgroup_v2_ops.kill(7, SIGKILL, &err), 2);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cgroup.kill"), "1");
}

static void
cgroup_v2_attach_fds__job__dirfd_and_procs_fd(void **state)
{
	struct fake *f = *state;
	struct serr err;
	struct stat sb;
	int fds[CGROUP_FDS_MAX], dirfd = -1;

	v2_start(f, "cpu memory pids");
	assert_int_equal(
	    cgroup_v2_ops.attach_fds(7, fds, CGROUP_FDS_MAX, &dirfd, &err), 1);
	assert_true(dirfd >= 0);
	assert_int_equal(fstat(dirfd, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_true(fcntl(dirfd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fds[0], "0\n", 2), 2);
	close(fds[0]);
	close(dirfd);
	assert_string_equal(
	    fget(f, "unified/svc/schedd/job-7/cgroup.procs"), "0");
	assert_int_equal(
	    cgroup_v2_ops.attach_fds(8, fds, CGROUP_FDS_MAX, &dirfd, &err), -1);
	assert_int_equal(err.code, SERR_NOT_FOUND);
	assert_int_equal(dirfd, -1);
}

static void
cgroup_v2_create_list_destroy__new_job__made_listed_removed(void **state)
{
	struct fake *f = *state;
	struct serr err;
	int64_t *ids;

	v2_start(f, "cpu memory pids");
	fdir(f, "unified/svc/schedd/job-x");
	fdir(f, "unified/svc/schedd/job-012");
	assert_int_equal(cgroup_v2_ops.create(3, &err), 1);
	assert_int_equal(cgroup_v2_ops.create(3, &err), 0);
	assert_true(fexists(f, "unified/svc/schedd/job-3"));
	/* Ascending, whatever order the directory gives them in. */
	assert_int_equal(cgroup_v2_ops.list(&ids), 2);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 7);
	free(ids);
	assert_int_equal(cgroup_v2_ops.destroy(3, &err), 0);
	assert_false(fexists(f, "unified/svc/schedd/job-3"));
	/* Already gone is fine. */
	assert_int_equal(cgroup_v2_ops.destroy(3, &err), 0);
	assert_int_equal(cgroup_v2_ops.set_rt_runtime(7, 10000, &err), 0);
}

/*
 * Start-up reconciles every job cgroup it lists: one not listed is run
 * and stopped as a job without one. No cap (the list once stopped at
 * 4,096: after a kill -9 with 4,500 jobs, 404 jobs' setsid children
 * outlived their stop and 1,616 cgroups outlived the daemon).
 */
static void
cgroup_v1_list__thousands_over_hierarchies__all_once_ascending(void **state)
{
	struct fake *f = *state;
	struct serr err;
	char rel[PATH_MAX];
	int64_t *ids;
	int i, n;

	v1_layout(f, 0);
	assert_int_equal(cgroup_v1_ops.init(&f->env, &err), 0);
	/* 1..5000 beneath cpu, 4001..6000 beneath pids: 6,000 jobs. */
	for (i = 5000; i >= 1; i--) {
		snprintf(rel, sizeof(rel), "cpu/schedd/job-%d", i);
		fdir(f, rel);
	}
	for (i = 4001; i <= 6000; i++) {
		snprintf(rel, sizeof(rel), "pids/schedd/job-%d", i);
		fdir(f, rel);
	}
	n = cgroup_v1_ops.list(&ids);
	assert_int_equal(n, 6000);
	for (i = 0; i < n; i++)
		assert_int_equal(ids[i], i + 1);
	free(ids);
}

static void
cgroup_v2_oom_fd__memory_events_changes__readable(void **state)
{
	struct fake *f = *state;
	struct pollfd pfd;
	char buf[4096] __attribute__((aligned(8)));
	int fd;

	v2_start(f, "cpu memory pids");
	assert_true((fd = cgroup_v2_ops.oom_fd(7)) >= 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 0), 0);
	fput(f, "unified/svc/schedd/job-7/memory.events",
	    "low 0\nhigh 0\nmax 4\noom 2\noom_kill 3\n");
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	close(fd);
	assert_int_equal(cgroup_v2_ops.oom_fd(8), -1);
}

static void
cgroup_v2_calls__before_init__refused(void **state)
{
	struct serr err;
	pid_t pids[1];
	int64_t *ids;

	(void)state;
	cgroup_v2_ops.fini();
	serr_clear(&err);
	assert_int_equal(cgroup_v2_ops.create(1, &err), -1);
	assert_int_equal(err.code, SERR_UNAVAILABLE);
	assert_int_equal(cgroup_v2_ops.procs(1, pids, 1), -1);
	assert_int_equal(cgroup_v2_ops.list(&ids), 0);
	assert_null(ids);
	assert_int_equal(cgroup_v2_ops.oom_fd(1), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fake_setup, fake_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cgroup_parse_self__v1_and_v2_lines__fields_found),
	    cmocka_unit_test(cgroup_parse_self__malformed__rejected),
	    cmocka_unit_test(
		cgroup_parse_mountinfo__v1_v2_and_optional_fields__fields_found),
	    cmocka_unit_test(cgroup_parse_mountinfo__truncated__rejected),
	    cmocka_unit_test(
		cgroup_has_token__comma_and_blank_lists__exact_elements_only),
	    T(cgroup_locate__v1_memory_below_root__mount_plus_path),
	    cmocka_unit_test(
		cgroup_own_dir__mount_root_below_hierarchy__root_stripped),
	    T(cgroup_find_mount__two_cgroup2_mounts__one_under_fs_root_wins),
	    cmocka_unit_test(cgroup_job_dir__ids_only__names_built),
	    cmocka_unit_test(cgroup_job_id__names__only_canonical_ids_accepted),
	    cmocka_unit_test(
		cgroup_name_valid__subtree_names__one_safe_component),
	    T(cgroup_detect__hybrid_v1_tree__picks_v1),
	    T(cgroup_detect__v2_offering_cpu_memory_pids__picks_v2),
	    T(cgroup_detect__no_cgroup_mounts__null),
	    T(cgroup_detect__bad_subtree__invalid),
	    T(cgroup_v1_attach_fds__comounted_cpu_cpuacct__one_fd_per_hierarchy),
	    T(cgroup_v1_create__cpuset_files_missing__rolled_back),
	    T(cgroup_v2_init__offers_all__enabled_in_own_and_subtree),
	    T(cgroup_v2_init__some_not_offered__left_out),
	    T(cgroup_v2_init__own_subtree_control_refused__left_out_not_fatal),
	    T(cgroup_v2_init__move_self__pid_written_to_daemon_leaf),
	    T(cgroup_v2_set_limits__all_set__exact_values_written),
	    T(cgroup_v2_set_limits__zeros__unlimited_written),
	    T(cgroup_v2_set_limits__no_swap_accounting__still_ok),
	    T(cgroup_v2_set_limits__job_missing__not_found),
	    T(cgroup_v2_set_cpus__list_then_empty__written),
	    T(cgroup_v2_set_cpus__no_cpuset__unsatisfiable_unless_empty),
	    T(cgroup_v2_freeze__events_in_target_state__returns_and_writes),
	    T(cgroup_v2_freeze__not_frozen_yet__asked_without_waiting),
	    T(cgroup_v2_usage__fake_files__parsed),
	    T(cgroup_read_keys__one_file__found_set_rest_untouched),
	    T(cgroup_v2_get_cpus__after_set__same_list),
	    T(cgroup_v2_procs__list__pids_up_to_max),
	    T(cgroup_v2_kill__sigterm__only_listed_children_signalled),
	    T(cgroup_v2_kill__sigkill_with_cgroup_kill__kill_file_written),
	    T(cgroup_signal_all__member_listed_late__signalled_too),
	    T(cgroup_v2_attach_fds__job__dirfd_and_procs_fd),
	    T(cgroup_v2_create_list_destroy__new_job__made_listed_removed),
	    T(cgroup_v1_list__thousands_over_hierarchies__all_once_ascending),
	    T(cgroup_procs_all__ten_thousand__every_pid),
	    T(cgroup_v2_oom_fd__memory_events_changes__readable),
	    cmocka_unit_test(cgroup_v2_calls__before_init__refused),
	};

	log_init(1,
	    getenv("TEST_VERBOSE") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
