/* SPDX-License-Identifier: ISC */
/*
 * The cgroup v1 backend against the real kernel, without a daemon: a
 * subtree "schedd-test-PID" beneath our own cgroup in each hierarchy, jobs
 * in it, limits read back from the cgroup files, a tree of sleeps frozen
 * (as /proc/PID/status shows) and killed, a fork loop under pids.max
 * killed without a survivor, the RT budget that lets a job take
 * SCHED_FIFO, and an OOM kill seen through the eventfd. Needs root and v1
 * cpuset and memory hierarchies; skips (77) otherwise. Every process here
 * is our own child or grandchild (we are a child subreaper, and each
 * lives at most 60 s by alarm); the teardown kills them by pid, thaws,
 * hands back RT budget and removes every cgroup even when a test fails.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/cgroup-int.h"
#include "daemon/cgroup.h"
#include "daemon/log.h"
#include "proto/errors.h"
#include "proto/jobspec.h"

static const char *const ctls[] = {
    "cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"};
#define NCTLS (sizeof(ctls) / sizeof(ctls[0]))

static const struct cgroup_ops *ops = &cgroup_v1_ops;
static struct cgroup_env env;
static char subtree[64];
/* OWN/SUBTREE per controller ("" where the controller is missing). */
static char subs[NCTLS][PATH_MAX];

#define MAXKIDS 16
static pid_t kids[MAXKIDS];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static void
kid_add(pid_t pid)
{
	int i;

	for (i = 0; i < MAXKIDS; i++)
		if (kids[i] == 0) {
			kids[i] = pid;
			return;
		}
}

/* Reap whatever has exited (our children and orphans handed to us). */
static void
reap_all(void)
{
	int i, status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < MAXKIDS; i++)
			if (kids[i] == pid)
				kids[i] = 0;
}

static const char *
sub_of(const char *ctl)
{
	size_t i;

	for (i = 0; i < NCTLS; i++)
		if (strcmp(ctls[i], ctl) == 0)
			return (subs[i]);
	return ("");
}

/* The text of SUBTREE[/job-ID]/file in controller ctl's hierarchy. */
static const char *
cgfile(const char *ctl, int64_t job, const char *file)
{
	static char buf[4096];
	char dir[PATH_MAX];

	if (job > 0)
		assert_int_equal(
		    cgroup_job_dir(dir, sizeof(dir), sub_of(ctl), job), 0);
	else
		snprintf(dir, sizeof(dir), "%s", sub_of(ctl));
	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		snprintf(buf, sizeof(buf), "<%s>", strerror(errno));
	return (buf);
}

/* The text of SUBTREE/shared/file in the cpuset hierarchy. */
static const char *
shared_file(const char *file)
{
	static char buf[4096];
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/shared", sub_of("cpuset"));
	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		snprintf(buf, sizeof(buf), "<%s>", strerror(errno));
	return (buf);
}

static int
dir_exists(const char *path)
{
	struct stat sb;

	return (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

/*
 * Independent of the code under test: SIGKILL every member of every job
 * cgroup in our subtree (thawed first), reap, hand back RT budget, rmdir.
 */
static void
cleanup_all(void)
{
	char job[PATH_MAX];
	DIR *d;
	struct dirent *de;
	size_t i;
	int round, j;

	for (j = 0; j < MAXKIDS; j++)
		if (kids[j] > 1)
			kill(kids[j], SIGKILL);
	for (round = 0; round < 50; round++) {
		int left = 0;

		for (i = 0; i < NCTLS; i++) {
			if (subs[i][0] == '\0' ||
			    (d = opendir(subs[i])) == NULL)
				continue;
			while ((de = readdir(d)) != NULL) {
				/* "shared": the cpuset of shared-pool jobs. */
				if (cgroup_job_id(de->d_name) == -1 &&
				    strcmp(de->d_name, "shared") != 0)
					continue;
				if (cgroup_join(job, sizeof(job), subs[i],
					de->d_name) == -1)
					continue;
				if (strcmp(ctls[i], "freezer") == 0)
					cgroup_write(
					    job, "freezer.state", "THAWED");
				if (strcmp(ctls[i], "cpu") == 0)
					cgroup_write(
					    job, "cpu.rt_runtime_us", "0");
				if (cgroup_signal_all(job, SIGKILL) > 0)
					left = 1;
				if (rmdir(job) == -1 && errno != ENOENT)
					left = 1;
			}
			closedir(d);
		}
		reap_all();
		if (!left)
			break;
		sleep_ms(20);
	}
	for (i = 0; i < NCTLS; i++) {
		if (subs[i][0] == '\0')
			continue;
		if (strcmp(ctls[i], "cpu") == 0)
			cgroup_write(subs[i], "cpu.rt_runtime_us", "0");
		if (rmdir(subs[i]) == -1 && errno != ENOENT)
			fprintf(stderr, "cleanup: rmdir %s: %s\n", subs[i],
			    strerror(errno));
	}
	reap_all();
}

static int
setup(void **state)
{
	struct serr err;
	char own[PATH_MAX];
	size_t i;

	(void)state;
	memset(kids, 0, sizeof(kids));
	for (i = 0; i < NCTLS; i++) {
		subs[i][0] = '\0';
		if (cgroup_locate(&env, ctls[i], own, sizeof(own)) == 0 &&
		    cgroup_join(subs[i], sizeof(subs[i]), own, subtree) == -1)
			subs[i][0] = '\0';
	}
	serr_clear(&err);
	if (ops->init(&env, &err) == -1) {
		fprintf(stderr, "init: %s\n", err.message);
		return (-1);
	}
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	cleanup_all();
	ops->fini();
	return (0);
}

/*
 * Fork a child that joins job's cgroups the way spawn does (write "0" to
 * each attach fd), then runs fn. Returns the child's pid.
 */
static pid_t
start_in_job(int64_t job, void (*fn)(void *), void *arg)
{
	struct serr err;
	int fds[CGROUP_FDS_MAX], dirfd, n, i;
	pid_t pid;

	n = ops->attach_fds(job, fds, CGROUP_FDS_MAX, &dirfd, &err);
	assert_true(n > 0);
	assert_int_equal(dirfd, -1);
	if ((pid = fork()) == 0) {
		alarm(60);
		for (i = 0; i < n; i++)
			if (write(fds[i], "0\n", 2) != 2)
				_exit(120);
		fn(arg);
		_exit(0);
	}
	assert_true(pid > 0);
	for (i = 0; i < n; i++)
		close(fds[i]);
	kid_add(pid);
	return (pid);
}

/* Wait until the job has want members (or, want < 0, at least -want). */
static int
wait_nprocs(int64_t job, int want, int timeout_ms)
{
	pid_t pids[256];
	int64_t end = now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = ops->procs(job, pids, 256);
		if (want >= 0 ? n == want : n >= -want)
			return (n);
		if (now_ms() > end)
			return (n);
		reap_all();
		sleep_ms(10);
	}
}

static char
proc_state(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	char st = '?';

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return ('-');
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "State:\t", 7) == 0)
			st = line[7];
	fclose(f);
	return (st);
}

/* Poll until pid shows state want, for at most timeout_ms; the last seen. */
static char
wait_state(pid_t pid, char want, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	char st;

	while ((st = proc_state(pid)) != want && now_ms() < end)
		sleep_ms(5);
	return (st);
}

/* Children's bodies */

/* Five sleeping grandchildren, then sleep ourselves. */
static void
body_sleeps(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 5; i++)
		if (fork() == 0) {
			execlp("sleep", "sleep", "30", (char *)NULL);
			_exit(127);
		}
	execlp("sleep", "sleep", "30", (char *)NULL);
	_exit(127);
}

/* Fork sleepers as fast as the pids limit lets us, for at most 20 s. */
static void
body_forker(void *arg)
{
	pid_t pid;

	(void)arg;
	alarm(20);
	for (;;) {
		pid = fork();
		if (pid == 0) {
			alarm(30);
			pause();
			_exit(0);
		}
		if (pid == -1)
			sleep_ms(1);
	}
}

/* Report the errno of sched_setscheduler(FIFO 1) through the pipe. */
static void
body_fifo(void *arg)
{
	struct sched_param sp = {.sched_priority = 1};
	int *fd = arg, e = 0;

	if (sched_setscheduler(0, SCHED_FIFO, &sp) == -1)
		e = errno;
	if (write(fd[1], &e, sizeof(e)) != sizeof(e))
		_exit(121);
	/* FIFO but sleeping: never a busy loop on this 2-CPU machine. */
	sleep_ms(20);
	_exit(0);
}

/* Touch up to 300 MB, 1 MB at a time. */
static void
body_hog(void *arg)
{
	char *p;
	int i;

	(void)arg;
	for (i = 0; i < 300; i++) {
		if ((p = malloc(1 << 20)) == NULL)
			_exit(3);
		memset(p, 0xa5, 1 << 20);
	}
	_exit(0);
}

/* Tests */

static void
cgroup_v1__job_with_limits__files_show_them(void **state)
{
	struct serr err;
	struct job_limits l;
	int64_t *ids;
	char cpus[64];
	int n;

	(void)state;
	assert_non_null(strstr(ops->controllers(), "cpuset"));
	assert_non_null(strstr(ops->controllers(), "memory"));
	/* 1: new, every setting at its default; 0: it existed. */
	assert_int_equal(ops->create(1, &err), 1);
	assert_int_equal(ops->create(1, &err), 0);
	assert_int_equal(ops->create(2, &err), 1);
	n = ops->list(&ids);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	free(ids);

	/*
	 * Shared-pool jobs have no cpuset cgroup of their own: they join
	 * SUBTREE/shared, usable at once (cpus and mems from SUBTREE), whose
	 * CPUs change with one write when the pool does.
	 */
	snprintf(cpus, sizeof(cpus), "%s", cgfile("cpuset", 0, "cpuset.cpus"));
	assert_string_equal(
	    cgfile("cpuset", 1, "cpuset.cpus"), "<No such file or directory>");
	assert_string_equal(shared_file("cpuset.cpus"), cpus);
	assert_string_equal(
	    shared_file("cpuset.mems"), cgfile("cpuset", 0, "cpuset.mems"));
	assert_int_equal(ops->set_shared("0", &err), 1);
	assert_string_equal(shared_file("cpuset.cpus"), "0");
	assert_int_equal(ops->set_shared(cpus, &err), 1);
	assert_string_equal(shared_file("cpuset.cpus"), cpus);

	memset(&l, 0, sizeof(l));
	l.set = 1;
	l.memory_max = 64 << 20;
	l.pids_max = 20;
	l.cpu_quota_pct = 50;
	l.cpu_weight = 200;
	assert_int_equal(ops->set_limits(1, &l, &err), 0);
	assert_string_equal(
	    cgfile("memory", 1, "memory.limit_in_bytes"), "67108864");
	if (cgroup_exists(sub_of("memory"), "memory.memsw.limit_in_bytes"))
		assert_string_equal(
		    cgfile("memory", 1, "memory.memsw.limit_in_bytes"),
		    "67108864");
	assert_string_equal(cgfile("pids", 1, "pids.max"), "20");
	assert_string_equal(cgfile("cpu", 1, "cpu.cfs_period_us"), "100000");
	assert_string_equal(cgfile("cpu", 1, "cpu.cfs_quota_us"), "50000");
	assert_string_equal(cgfile("cpu", 1, "cpu.shares"), "2048");

	/* Lower, then higher: memsw must never drop below the limit. */
	l.memory_max = 32 << 20;
	assert_int_equal(ops->set_limits(1, &l, &err), 0);
	assert_string_equal(
	    cgfile("memory", 1, "memory.limit_in_bytes"), "33554432");
	l.memory_max = 128 << 20;
	l.cpu_weight = 1;
	assert_int_equal(ops->set_limits(1, &l, &err), 0);
	assert_string_equal(
	    cgfile("memory", 1, "memory.limit_in_bytes"), "134217728");
	assert_string_equal(cgfile("cpu", 1, "cpu.shares"), "10");

	/* Zero: unlimited. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(ops->set_limits(1, &l, &err), 0);
	assert_string_equal(cgfile("pids", 1, "pids.max"), "max");
	assert_string_equal(cgfile("cpu", 1, "cpu.cfs_quota_us"), "-1");
	assert_string_equal(cgfile("cpu", 1, "cpu.shares"), "1024");
	assert_true(strlen(cgfile("memory", 1, "memory.limit_in_bytes")) > 15);

	/* Pinned: a cpuset of its own, made usable; back on the pool: gone. */
	assert_int_equal(ops->set_cpus(1, "0", &err), 0);
	assert_string_equal(cgfile("cpuset", 1, "cpuset.cpus"), "0");
	assert_string_equal(cgfile("cpuset", 1, "cpuset.mems"),
	    cgfile("cpuset", 0, "cpuset.mems"));
	assert_int_equal(ops->set_cpus(1, NULL, &err), 0);
	assert_string_equal(
	    cgfile("cpuset", 1, "cpuset.cpus"), "<No such file or directory>");
	serr_clear(&err);
	assert_int_equal(ops->set_cpus(1, "63", &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_string_equal(err.field, "cpus");

	assert_int_equal(ops->destroy(1, &err), 0);
	assert_int_equal(ops->destroy(2, &err), 0);
	assert_int_equal(ops->destroy(2, &err), 0);
	assert_int_equal(ops->list(&ids), 0);
	assert_null(ids);
}

static void
cgroup_v1__tree_of_sleeps__frozen_thawed_killed_removed(void **state)
{
	struct serr err;
	struct cgroup_usage u;
	pid_t pids[16];
	char job[PATH_MAX];
	size_t i;
	int n, k;

	(void)state;
	assert_int_equal(ops->create(1, &err), 1);
	start_in_job(1, body_sleeps, NULL);
	assert_int_equal(wait_nprocs(1, 6, 5000), 6);
	n = ops->procs(1, pids, 16);
	assert_int_equal(n, 6);
	assert_int_equal(ops->procs(1, pids, 4), 4);

	assert_int_equal(ops->usage(1, &u), 0);
	assert_int_equal(u.nprocs, 6);
	assert_true(u.memory_current > 0);
	assert_true(u.memory_peak >= u.memory_current);
	assert_true(u.cpu_usage_us >= 0);
	assert_int_equal(u.oom_kills, 0);

	assert_int_equal(ops->freeze(1, 1, &err), 0);
	/* FREEZING until every task has stopped, which nothing waits for
	 * (a loaded machine can take a moment): the kernel finishes it. */
	for (k = 0; k < 500 && strcmp(cgfile("freezer", 1, "freezer.state"),
				   "FROZEN") != 0;
	     k++)
		usleep(10000);
	assert_string_equal(cgfile("freezer", 1, "freezer.state"), "FROZEN");
	/* v1 frozen tasks show as "D (disk sleep)" on this kernel. */
	for (k = 0; k < n; k++)
		assert_int_equal(proc_state(pids[k]), 'D');
	assert_int_equal(ops->freeze(1, 0, &err), 0);
	assert_string_equal(cgfile("freezer", 1, "freezer.state"), "THAWED");
	/* Thawed tasks run for a moment before they sleep again. */
	for (k = 0; k < n; k++)
		assert_int_equal(wait_state(pids[k], 'S', 1000), 'S');

	/* Not empty: the job's cgroups stay, and say why. */
	serr_clear(&err);
	assert_int_equal(ops->destroy(1, &err), -1);
	assert_int_equal(err.code, SERR_CONFLICT);

	assert_int_equal(ops->kill(1, SIGKILL, &err), 6);
	assert_int_equal(wait_nprocs(1, 0, 5000), 0);
	reap_all();
	for (k = 0; k < n; k++)
		assert_true(
		    kill(pids[k], 0) == -1 || proc_state(pids[k]) == 'Z');
	assert_int_equal(ops->kill(1, SIGTERM, &err), 0);

	assert_int_equal(ops->destroy(1, &err), 0);
	ops->fini();
	for (i = 0; i < NCTLS; i++) {
		if (subs[i][0] == '\0')
			continue;
		assert_int_equal(
		    cgroup_job_dir(job, sizeof(job), subs[i], 1), 0);
		assert_false(dir_exists(job));
		assert_false(dir_exists(subs[i]));
	}
}

static void
cgroup_v1__sigterm__every_member_signalled(void **state)
{
	struct serr err;

	(void)state;
	assert_int_equal(ops->create(4, &err), 1);
	start_in_job(4, body_sleeps, NULL);
	assert_int_equal(wait_nprocs(4, 6, 5000), 6);
	assert_int_equal(ops->kill(4, SIGTERM, &err), 6);
	assert_int_equal(wait_nprocs(4, 0, 5000), 0);
	assert_int_equal(ops->destroy(4, &err), 0);
}

static void
cgroup_v1__fork_loop_under_pids_max__killed_without_survivor(void **state)
{
	struct serr err;
	struct job_limits l;
	int64_t cur;
	int n, i;

	(void)state;
	assert_int_equal(ops->create(3, &err), 1);
	memset(&l, 0, sizeof(l));
	l.pids_max = 20;
	assert_int_equal(ops->set_limits(3, &l, &err), 0);
	start_in_job(3, body_forker, NULL);
	/* The limit bites: 20 and never more, while it keeps trying. */
	assert_int_equal(wait_nprocs(3, 20, 5000), 20);
	for (i = 0; i < 20; i++) {
		cur = atoll(cgfile("pids", 3, "pids.current"));
		assert_true(cur <= 20);
		sleep_ms(5);
	}
	assert_true(atoll(cgfile("pids", 3, "pids.events") + 4) > 0);
	n = ops->kill(3, SIGKILL, &err);
	assert_int_equal(n, 20);
	assert_int_equal(wait_nprocs(3, 0, 5000), 0);
	assert_int_equal(ops->destroy(3, &err), 0);
}

static void
cgroup_v1__rt_budget__fifo_only_with_it(void **state)
{
	struct serr err;
	int p[2], e;
	pid_t pid;

	(void)state;
	if (!cgroup_exists(sub_of("cpu"), "cpu.rt_runtime_us"))
		skip();
	assert_int_equal(ops->create(1, &err), 1);
	assert_int_equal(ops->create(2, &err), 1);
	assert_int_equal(ops->set_rt_runtime(1, 10000, &err), 0);
	assert_string_equal(cgfile("cpu", 1, "cpu.rt_runtime_us"), "10000");
	assert_string_equal(cgfile("cpu", 0, "cpu.rt_runtime_us"), "10000");
	assert_int_equal(ops->set_rt_runtime(2, 5000, &err), 0);
	assert_string_equal(cgfile("cpu", 0, "cpu.rt_runtime_us"), "15000");
	assert_int_equal(ops->set_rt_runtime(2, 0, &err), 0);
	assert_string_equal(cgfile("cpu", 0, "cpu.rt_runtime_us"), "10000");

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = start_in_job(1, body_fifo, p);
	assert_int_equal(read(p[0], &e, sizeof(e)), sizeof(e));
	assert_int_equal(e, 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* No budget, no FIFO: the kernel's EPERM. */
	pid = start_in_job(2, body_fifo, p);
	assert_int_equal(read(p[0], &e, sizeof(e)), sizeof(e));
	assert_int_equal(e, EPERM);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(p[0]);
	close(p[1]);

	/* More than the parent has: refused, and nothing changed. */
	serr_clear(&err);
	assert_int_equal(ops->set_rt_runtime(2, 960000, &err), -1);
	assert_int_equal(err.code, SERR_UNSATISFIABLE);
	assert_non_null(strstr(err.message, "the parent cgroup has only"));
	assert_string_equal(cgfile("cpu", 2, "cpu.rt_runtime_us"), "0");
	assert_string_equal(cgfile("cpu", 0, "cpu.rt_runtime_us"), "10000");

	/* destroy hands the budget back to SUBTREE and OWN. */
	assert_int_equal(ops->destroy(1, &err), 0);
	assert_string_equal(cgfile("cpu", 0, "cpu.rt_runtime_us"), "0");
	assert_int_equal(ops->destroy(2, &err), 0);
}

static void
cgroup_v1__memory_hog__oom_killed_and_reported(void **state)
{
	struct serr err;
	struct job_limits l;
	struct cgroup_usage u;
	struct pollfd pfd;
	uint64_t cnt;
	int64_t n;
	pid_t pid;
	int fd, status;

	(void)state;
	assert_int_equal(ops->create(5, &err), 1);
	memset(&l, 0, sizeof(l));
	l.memory_max = 64 << 20;
	assert_int_equal(ops->set_limits(5, &l, &err), 0);
	assert_true((fd = ops->oom_fd(5)) >= 0);
	pid = start_in_job(5, body_hog, NULL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(read(fd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_true(cnt >= 1);
	assert_int_equal(ops->usage(5, &u), 0);
	assert_true(u.oom_kills >= 1);
	/* The exit's read (memory.oom_control alone) says the same. */
	assert_int_equal(ops->oom_kills(5, &n), 0);
	assert_int_equal(n, u.oom_kills);
	assert_true(u.memory_peak >= (60 << 20));
	assert_int_equal(u.nprocs, 0);
	assert_int_equal(ops->destroy(5, &err), 0);
	close(fd);
}

static int
has_v1(const char *ctl)
{
	struct cgroup_mount m;

	return (cgroup_find_mount(env.mountinfo, env.fs_root, ctl, &m) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		cgroup_v1__job_with_limits__files_show_them, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		cgroup_v1__tree_of_sleeps__frozen_thawed_killed_removed, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		cgroup_v1__sigterm__every_member_signalled, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		cgroup_v1__fork_loop_under_pids_max__killed_without_survivor,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(
		cgroup_v1__rt_budget__fifo_only_with_it, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		cgroup_v1__memory_hog__oom_killed_and_reported, setup,
		teardown),
	};

	log_init(1,
	    getenv("TEST_VERBOSE") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	cgroup_env_defaults(NULL, &env);
	snprintf(subtree, sizeof(subtree), "schedd-test-%ld", (long)getpid());
	env.subtree = subtree;
	if (geteuid() != 0 || !has_v1("cpuset") || !has_v1("memory")) {
		fprintf(stderr, "SKIP: needs root and v1 cpuset and memory\n");
		return (77);
	}
	/* Orphaned grandchildren come to us, to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGALRM, SIG_DFL);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
