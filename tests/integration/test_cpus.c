/* SPDX-License-Identifier: ISC */
/*
 * CPUs and scheduling, seen through the kernel (issue 3): pinning with a
 * cpuset that a grandchild cannot escape by resetting its affinity,
 * exclusive grants that shrink and regrow the shared pool and queue what
 * cannot be granted now, refusals that name their field, every scheduling
 * policy with its parameters, the RT budget pool, and schedctl's run, cpus
 * and ps. The daemon's word is never the witness: the tests read
 * sched_getattr(2) and sched_getaffinity(2) on the job's pids (a grandchild
 * included), /proc/PID/status, ps(1) and the cgroup files, which they find
 * through /proc/PID/cgroup and /proc/self/mountinfo, never by guessing.
 * Real-time workloads only sleep: a spinning FIFO task on this two-CPU
 * machine would starve it. Written for this machine: root, cgroup v1
 * cpu and cpuset hierarchies with RT group scheduling, usable CPUs 0-1;
 * skips otherwise.
 */
#include "config.h"

#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#define K_FLAG_RESET_ON_FORK 0x01

#define MAXPIDS 256

/* A sleeping tree: job sh -> subshell -> sleep (the grandchild). */
#define TREE_SH "(sleep 30 & wait) & wait"

/* ------------------------------------------------------------ helpers */

/* The kernel's struct sched_attr as first published (48 bytes). */
struct k_attr {
	uint32_t size;
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime_ns;
	uint64_t deadline_ns;
	uint64_t period_ns;
};

/* sched_getattr(2) on pid; glibc has no wrapper. */
static void
k_getattr(pid_t pid, struct k_attr *a)
{
	memset(a, 0, sizeof(*a));
	if (syscall(SYS_sched_getattr, (int)pid, a, (unsigned)sizeof(*a), 0U) ==
	    -1)
		fail_msg("sched_getattr(%d): %s", (int)pid, strerror(errno));
}

/* Poll dir/file until it reads want (ms); returns what it read last. */
static const char *
cg_wait(
    struct h *h, const char *dir, const char *file, const char *want, int ms)
{
	int64_t end = h_now_ms() + ms;
	const char *v;

	while (strcmp((v = h_cg_file(h, dir, file)), want) != 0 &&
	       h_now_ms() < end)
		h_sleep_ms(20);
	return (v);
}

/* sched_getaffinity(2) as a CPU list, "0-1". */
static const char *
affinity(struct h *h, pid_t pid)
{
	cpu_set_t set;
	char buf[512];
	size_t off = 0;
	int i, j;

	CPU_ZERO(&set);
	if (sched_getaffinity(pid, sizeof(set), &set) == -1)
		fail_msg(
		    "sched_getaffinity(%d): %s", (int)pid, strerror(errno));
	buf[0] = '\0';
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		for (j = i; j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set); j++)
			;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    j > i ? "%s%d-%d" : "%s%d", off ? "," : "", i, j);
		if (off >= sizeof(buf))
			fail_msg("affinity of %d too long", (int)pid);
		i = j;
	}
	return (h_fmt(h, "%s", buf));
}

/* pid is confined to cpus, by the kernel's two accounts. */
static void
assert_confined(struct h *h, pid_t pid, const char *cpus)
{
	const char *st = h_status_field(h, pid, "Cpus_allowed_list");
	const char *aff = affinity(h, pid);

	if (st == NULL)
		fail_msg("pid %d is gone", (int)pid);
	if (strcmp(st, cpus) != 0 || strcmp(aff, cpus) != 0)
		fail_msg("pid %d: Cpus_allowed_list %s, sched_getaffinity %s; "
			 "expected %s",
		    (int)pid, st, aff, cpus);
}

/* Every process in the job's cpuset cgroup is confined to cpus. */
static int
assert_cg_confined(struct h *h, const char *dir, const char *cpus)
{
	pid_t pids[MAXPIDS];
	int n, i;

	n = h_cg_pids(h, dir, pids, MAXPIDS);
	for (i = 0; i < n; i++)
		if (h_status_field(h, pids[i], "Cpus_allowed_list") != NULL)
			assert_confined(h, pids[i], cpus);
	return (n);
}

/* GET /v1/jobs/JOB/processes: the array. */
static json_t *
processes(struct h *h, const char *job)
{
	json_t *j = h_call(h, 200, "GET", NULL, "/v1/jobs/%s/processes", job);

	if (!json_is_array(h_at(j, "processes")))
		h_fail(j, "no processes array");
	return (h_at(j, "processes"));
}

/*
 * A process named comm that the daemon lists for job and that /proc shows
 * two generations below main (its parent's parent); polls for 3 s.
 */
static json_t *
grandchild(struct h *h, const char *job, pid_t main_pid, const char *comm)
{
	int64_t end = h_now_ms() + 3000;
	struct h_proc p, q;
	json_t *list, *e;
	size_t i;

	for (;;) {
		list = processes(h, job);
		json_array_foreach (list, i, e) {
			if (strcmp(h_str(e, "comm"), comm) != 0 ||
			    h_proc((pid_t)h_int(e, "pid"), &p) == -1 ||
			    h_proc(p.ppid, &q) == -1 || q.ppid != main_pid)
				continue;
			return (e);
		}
		if (h_now_ms() > end)
			h_fail(list, "no %s grandchild of %d in job %s", comm,
			    (int)main_pid, job);
		h_sleep_ms(20);
	}
}

/* A job that must be running; its pid. */
static pid_t
running_pid(json_t *job)
{
	h_assert_str(job, "state", "running");
	return ((pid_t)h_int(job, "pid"));
}

/*
 * A shared-pool job's cpuset cgroup: SUBTREE/shared, one for every job on
 * the pool (only pinned and exclusive jobs get a cpuset of their own).
 */
static const char *
pool_cg(struct h *h, json_t *job)
{
	pid_t pid = (pid_t)h_int(job, "pid");
	const char *dir = h_cg_of(h, pid, "cpuset"), *base;

	if (dir == NULL)
		h_fail(job, "pid %d has no cpuset cgroup", (int)pid);
	base = strrchr(dir, '/');
	if (base == NULL || strcmp(base + 1, "shared") != 0)
		h_fail(job, "pid %d is in cpuset %s, not the shared pool's",
		    (int)pid, dir);
	return (dir);
}

/* Skip unless root with v1 cpu and cpuset, and two usable CPUs. */
static void
need_machine(struct h *h)
{
	json_t *c;

	h_need_root(h);
	if (h_cg_mount(h, "cpuset") == NULL || h_cg_mount(h, "cpu") == NULL)
		h_skip(h, "needs cgroup v1 cpu and cpuset hierarchies");
	c = h_call(h, 200, "GET", NULL, "/v1/cpus");
	if (strcmp(h_str(c, "usable"), "0-1") != 0)
		h_skip(h, "written for a machine whose usable CPUs are 0-1");
}

/* The single CPU a list such as "1" names. */
static int
one_cpu(json_t *j, const char *path)
{
	const char *s = h_str(j, path);
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0')
		h_fail(j, "%s is \"%s\", not a single CPU", path, s);
	return ((int)v);
}

/* /v1/cpus entry for cpu. */
static json_t *
cpu_entry(json_t *cpus, int cpu)
{
	json_t *e;
	size_t i;

	json_array_foreach (h_at(cpus, "cpus"), i, e)
		if (h_int(e, "cpu") == cpu)
			return (e);
	h_fail(cpus, "no CPU %d in /v1/cpus", cpu);
}

/* ps(1)'s view: "-o FIELD=" for pid, trimmed. */
static const char *
ps_field(struct h *h, pid_t pid, const char *field)
{
	const char *pidarg = h_fmt(h, "%d", (int)pid);
	const char *fmt = h_fmt(h, "%s=", field);
	const char *argv[] = {"/bin/ps", "-o", fmt, "-p", pidarg, NULL};
	const char *out, *err, *p;
	size_t len;

	if (access(argv[0], X_OK) == -1)
		argv[0] = "/usr/bin/ps";
	if (h_run(h, argv, NULL, &out, &err, 10000) != 0)
		fail_msg("ps -o %s -p %d: %s", field, (int)pid, err);
	for (p = out; *p == ' '; p++)
		;
	for (len = strlen(p);
	     len > 0 && (p[len - 1] == '\n' || p[len - 1] == ' '); len--)
		;
	return (h_fmt(h, "%.*s", (int)len, p));
}

/* The line of text that mentions word, or a failure. */
static const char *
line_with(struct h *h, const char *all, const char *word)
{
	const char *p = strstr(all, word), *b, *e;

	if (p == NULL)
		fail_msg("no \"%s\" in:\n%s", word, all);
	for (b = p; b > all && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	return (h_fmt(h, "%.*s", (int)(e ? e - b : (long)strlen(b)), b));
}

/* line holds word as a whole white-space separated column. */
static int
has_column(const char *line, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = line; (p = strstr(p, word)) != NULL; p += n)
		if ((p == line || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\t'))
			return (1);
	return (0);
}

/* ------------------------------------------------------------- pinning */

H_TEST(pin__cpus_1__job_and_grandchild_confined)
{
	json_t *j, *g;
	const char *cs, *gcs;
	pid_t pid, gpid;

	need_machine(h);
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s], s:s}", "name", "pin",
				"argv", "/bin/sh", "-c", TREE_SH, "cpus", "1"));
	pid = running_pid(j);
	h_assert_str(j, "cpus_effective", "1");

	/* The cgroup file says 1, and both of the kernel's accounts do. */
	cs = h_job_cg(h, j, "cpuset");
	assert_string_equal(h_cg_file(h, cs, "cpuset.cpus"), "1");
	assert_confined(h, pid, "1");
	assert_string_equal(ps_field(h, pid, "psr"), "1");

	g = grandchild(h, "pin", pid, "sleep");
	gpid = (pid_t)h_int(g, "pid");
	assert_confined(h, gpid, "1");
	gcs = h_cg_of(h, gpid, "cpuset");
	if (gcs == NULL || strcmp(gcs, cs) != 0)
		fail_msg("grandchild %d is in cpuset %s, not the job's %s",
		    (int)gpid, gcs ? gcs : "(none)", cs);
	h_assert_str(g, "cpus_allowed", "1");
	/* Every member of the cgroup, not just the two we picked. */
	assert_true(assert_cg_confined(h, cs, "1") >= 3);
}

/*
 * sched_setaffinity(2) under a v1 cpuset: the kernel intersects the
 * request with the cpuset, so asking for 0-1 succeeds and yields 1.
 */
H_TEST(pin__grandchild_resets_affinity__cpuset_keeps_it)
{
	static const char script[] =
	    "(sh -c \"taskset -pc 0-1 \\$\\$; echo rc=\\$?; exec sleep 30\" & "
	    "wait) & wait";
	int64_t end;
	const char *log = "";
	json_t *j, *g;
	pid_t pid, gpid;

	need_machine(h);
	if (access("/usr/bin/taskset", X_OK) == -1)
		h_skip(h, "needs /usr/bin/taskset");
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s], s:s}", "name", "esc",
				"argv", "/bin/sh", "-c", script, "cpus", "1"));
	pid = running_pid(j);
	end = h_now_ms() + 5000;
	while (strstr(log, "rc=") == NULL && h_now_ms() < end) {
		h_sleep_ms(20);
		log = h_job_logs(h, "esc", "stream=stdout");
	}
	if (strstr(log, "rc=0") == NULL)
		fail_msg("taskset in the job did not succeed: %s", log);
	/* The grandchild that asked for 0-1 (it became sleep). */
	g = grandchild(h, "esc", pid, "sleep");
	gpid = (pid_t)h_int(g, "pid");
	assert_confined(h, gpid, "1");
	/* taskset itself reports what the kernel made of the request. */
	if (strstr(log, "new affinity list: 1\n") == NULL)
		fail_msg("taskset did not report affinity 1: %s", log);
	assert_string_equal(
	    h_cg_file(h, h_job_cg(h, j, "cpuset"), "cpuset.cpus"), "1");
}

/* ----------------------------------------------------- exclusive grants */

H_TEST(exclusive__one_cpu__granted_and_pool_shrinks_then_grows)
{
	json_t *a, *x, *cpus, *e;
	const char *acs, *xcs, *shared;
	int c, other;
	pid_t xpid;

	need_machine(h);
	a = h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "pool",
				"argv", "/bin/sh", "-c", TREE_SH));
	running_pid(a);
	acs = pool_cg(h, a);
	assert_string_equal(h_cg_file(h, acs, "cpuset.cpus"), "0-1");
	/* Wait for the whole tree before checking it. */
	grandchild(h, "pool", (pid_t)h_int(a, "pid"), "sleep");
	assert_int_equal(assert_cg_confined(h, acs, "0-1"), 3);

	x = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:i}", "name", "excl", "argv",
		   "/bin/sleep", "30", "exclusive_cpus", 1));
	xpid = running_pid(x);
	c = one_cpu(x, "cpus_effective");
	other = 1 - c;
	xcs = h_job_cg(h, x, "cpuset");
	assert_string_equal(
	    h_cg_file(h, xcs, "cpuset.cpus"), h_fmt(h, "%d", c));
	assert_confined(h, xpid, h_fmt(h, "%d", c));

	/* /v1/cpus: granted to excl; the pool is what is left. */
	cpus = h_call(h, 200, "GET", NULL, "/v1/cpus");
	e = cpu_entry(cpus, c);
	h_assert_str(e, "state", "granted");
	h_assert_str(e, "job", "excl");
	h_assert_int(e, "job_id", h_int(x, "id"));
	h_assert_str(cpu_entry(cpus, other), "state", "shared");
	h_assert_null(cpu_entry(cpus, other), "job");
	shared = h_fmt(h, "%d", other);
	h_assert_str(cpus, "shared", shared);

	/* The running shared job's cpuset and every process shrank. */
	assert_string_equal(h_cg_file(h, acs, "cpuset.cpus"), shared);
	assert_int_equal(assert_cg_confined(h, acs, shared), 3);
	h_assert_str(h_job_get(h, "pool"), "cpus_effective", shared);

	/* Deleted, the grant goes back and the pool grows again. */
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/excl?force=true");
	assert_true(h_wait_gone(xpid, 2000));
	assert_string_equal(cg_wait(h, acs, "cpuset.cpus", "0-1", 2000), "0-1");
	assert_int_equal(assert_cg_confined(h, acs, "0-1"), 3);
	cpus = h_call(h, 200, "GET", NULL, "/v1/cpus");
	h_assert_str(cpus, "shared", "0-1");
	h_assert_str(cpu_entry(cpus, c), "state", "shared");
	h_assert_null(cpu_entry(cpus, c), "job_id");
	h_assert_str(h_job_get(h, "pool"), "cpus_effective", "0-1");
}

/*
 * Was a daemon bug (fixed: shared-pool jobs get no affinity of their own): a
 * shared-pool job started while a grant has shrunk the pool stays on the shrunk
 * pool after the grant is released. Its cpuset grows back, but the child was
 * given the shrunk pool as its affinity before execve, and since Linux 6.2 the
 * kernel keeps a task's requested affinity (user_cpus_ptr) and intersects every
 * later cpuset change with it. The test is correct; keep it.
 */
H_TEST(exclusive__shared_job_started_during_grant__grows_back_after_release)
{
	json_t *x, *b;
	const char *bcs, *shared;
	pid_t bpid;
	int c;

	need_machine(h);
	x = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:i}", "name", "excl", "argv",
		   "/bin/sleep", "30", "exclusive_cpus", 1));
	running_pid(x);
	c = one_cpu(x, "cpus_effective");
	shared = h_fmt(h, "%d", 1 - c);

	b = h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "late", "argv",
				"/bin/sleep", "30"));
	bpid = running_pid(b);
	bcs = pool_cg(h, b);
	h_assert_str(b, "cpus_effective", shared);
	assert_string_equal(h_cg_file(h, bcs, "cpuset.cpus"), shared);
	assert_confined(h, bpid, shared);

	h_call(h, 200, "DELETE", NULL, "/v1/jobs/excl?force=true");
	assert_string_equal(cg_wait(h, bcs, "cpuset.cpus", "0-1", 2000), "0-1");
	h_assert_str(h_job_get(h, "late"), "cpus_effective", "0-1");
	assert_confined(h, bpid, "0-1");
}

H_TEST(exclusive__second_request__queued_then_started_when_released)
{
	json_t *x1, *x2, *cpus, *q;
	int c1, c2;
	pid_t pid1, pid2;
	const char *reason;

	need_machine(h);
	x1 = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:i}", "name", "first", "argv",
		   "/bin/sleep", "30", "exclusive_cpus", 1));
	pid1 = running_pid(x1);
	c1 = one_cpu(x1, "cpus_effective");

	/* shared_cpus_min 1 of 2 CPUs: a second grant must wait. */
	x2 = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:i}", "name", "second", "argv",
		   "/bin/sleep", "30", "exclusive_cpus", 1));
	h_assert_str(x2, "state", "queued");
	h_assert_null(x2, "pid");
	h_assert_null(x2, "cpus_effective");
	reason = h_str(x2, "reason");
	if (strlen(reason) == 0)
		h_fail(x2, "a queued job must say why");
	cpus = h_call(h, 200, "GET", NULL, "/v1/cpus");
	q = h_at(cpus, "queue");
	assert_int_equal(json_array_size(q), 1);
	h_assert_str(json_array_get(q, 0), "job", "second");
	h_assert_int(json_array_get(q, 0), "job_id", h_int(x2, "id"));
	h_assert_int(json_array_get(q, 0), "exclusive_cpus", 1);
	if (strlen(h_str(json_array_get(q, 0), "reason")) == 0)
		h_fail(cpus, "the queue entry has no reason");
	h_assert_str(cpu_entry(cpus, c1), "job", "first");
	/* It stays queued while the first holds its CPU. */
	h_sleep_ms(200);
	h_assert_str(h_job_get(h, "second"), "state", "queued");

	/* The first stops: the second starts on the freed CPU. */
	h_assert_str(h_call(h, 200, "POST", NULL, "/v1/jobs/first/stop"),
	    "state", "stopped");
	assert_true(h_wait_gone(pid1, 2000));
	x2 = h_job_poll(h, "second", "running", 5000);
	pid2 = running_pid(x2);
	c2 = one_cpu(x2, "cpus_effective");
	assert_confined(h, pid2, h_fmt(h, "%d", c2));
	assert_string_equal(
	    h_cg_file(h, h_job_cg(h, x2, "cpuset"), "cpuset.cpus"),
	    h_fmt(h, "%d", c2));
	cpus = h_call(h, 200, "GET", NULL, "/v1/cpus");
	assert_int_equal(json_array_size(h_at(cpus, "queue")), 0);
	h_assert_str(cpu_entry(cpus, c2), "state", "granted");
	h_assert_str(cpu_entry(cpus, c2), "job", "second");
	h_assert_str(cpus, "shared", h_fmt(h, "%d", 1 - c2));
	h_assert_null(x2, "reason");
}

/* An exclusive CPU is used by nothing else schedd runs, pinned or not. */
H_TEST(exclusive__pinned_job_on_granted_cpu__queued_until_released)
{
	json_t *x, *p;
	const char *cpu;
	pid_t ppid;

	need_machine(h);
	x = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:i}", "name", "excl", "argv",
		   "/bin/sleep", "30", "exclusive_cpus", 1));
	running_pid(x);
	cpu = h_fmt(h, "%d", one_cpu(x, "cpus_effective"));
	p = h_job_create(h, json_pack("{s:s, s:[s,s], s:s}", "name", "pinned",
				"argv", "/bin/sleep", "30", "cpus", cpu));
	h_assert_str(p, "state", "queued");
	h_assert_null(p, "pid");
	if (strstr(h_str(p, "reason"), cpu) == NULL)
		h_fail(p, "the reason does not name CPU %s", cpu);

	h_call(h, 200, "DELETE", NULL, "/v1/jobs/excl?force=true");
	p = h_job_poll(h, "pinned", "running", 5000);
	ppid = running_pid(p);
	assert_confined(h, ppid, cpu);
	h_assert_str(p, "cpus_effective", cpu);
}

H_TEST(exclusive__impossible_and_malformed__refused_with_the_field)
{
	static const char *const malformed[] = {"1-0", "x", "0-", "", ",1"};
	json_t *j;
	size_t i;

	need_machine(h);
	/* Two of two CPUs with shared_cpus_min 1: never grantable. */
	j = h_call(h, 422, "POST",
	    json_pack("{s:s, s:[s,s], s:i}", "name", "greedy", "argv",
		"/bin/sleep", "30", "exclusive_cpus", 2),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "exclusive_cpus");
	/* A CPU that does not exist. */
	j = h_call(h, 422, "POST",
	    json_pack("{s:s, s:[s,s], s:s}", "name", "nowhere", "argv",
		"/bin/sleep", "30", "cpus", "5"),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "cpus");
	if (strstr(h_str(j, "error.message"), "5") == NULL)
		h_fail(j, "the message does not name CPU 5");
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		j = h_call(h, 400, "POST",
		    json_pack("{s:s, s:[s,s], s:s}", "name", "bad", "argv",
			"/bin/sleep", "30", "cpus", malformed[i]),
		    "/v1/jobs");
		h_assert_error(j, "invalid_argument", "cpus");
	}
	/* Both at once: they are mutually exclusive. */
	j = h_call(h, 400, "POST",
	    json_pack("{s:s, s:[s,s], s:s, s:i}", "name", "both", "argv",
		"/bin/sleep", "30", "cpus", "1", "exclusive_cpus", 1),
	    "/v1/jobs");
	h_assert_error(j, "invalid_argument", NULL);
	/* Nothing was created. */
	assert_int_equal(json_array_size(h_at(
			     h_call(h, 200, "GET", NULL, "/v1/jobs"), "jobs")),
	    0);
}

/* ------------------------------------------------------------ policies */

/* Jobs inherit the daemon's nice, which is ours, unless a spec sets one. */
static int
own_nice(void)
{
	return (getpriority(PRIO_PROCESS, 0));
}

/* pid runs policy with priority prio and nice (sched_getattr). */
static void
assert_sched(pid_t pid, uint32_t policy, uint32_t prio, int nice)
{
	struct k_attr a;

	k_getattr(pid, &a);
	if (a.policy != policy || a.priority != prio || a.nice != nice)
		fail_msg("pid %d: policy %u priority %u nice %d; expected "
			 "%u %u %d",
		    (int)pid, a.policy, a.priority, a.nice, policy, prio, nice);
}

H_TEST(policy__batch_nice_5__job_and_grandchild)
{
	json_t *j, *g;
	pid_t pid, gpid;

	need_machine(h);
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s], s:{s:s, s:i}}", "name",
				"b", "argv", "/bin/sh", "-c", TREE_SH, "sched",
				"policy", "batch", "nice", 5));
	pid = running_pid(j);
	assert_sched(pid, SCHED_BATCH, 0, 5);
	assert_int_equal(sched_getscheduler(pid), SCHED_BATCH);
	g = grandchild(h, "b", pid, "sleep");
	gpid = (pid_t)h_int(g, "pid");
	assert_sched(gpid, SCHED_BATCH, 0, 5);
	assert_string_equal(ps_field(h, pid, "cls"), "B");
	assert_string_equal(ps_field(h, pid, "ni"), "5");
	h_assert_str(g, "policy", "batch");
	h_assert_int(g, "nice", 5);
}

H_TEST(policy__idle__job_and_grandchild)
{
	json_t *j, *g;
	pid_t pid;

	need_machine(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:s}}", "name", "i", "argv",
		   "/bin/sh", "-c", TREE_SH, "sched", "policy", "idle"));
	pid = running_pid(j);
	assert_sched(pid, SCHED_IDLE, 0, own_nice());
	g = grandchild(h, "i", pid, "sleep");
	assert_sched((pid_t)h_int(g, "pid"), SCHED_IDLE, 0, own_nice());
	assert_string_equal(ps_field(h, pid, "cls"), "IDL");
	h_assert_str(g, "policy", "idle");
}

H_TEST(policy__fifo_10__job_grandchild_and_rt_budget)
{
	json_t *j, *g;
	const char *cpu;
	pid_t pid;
	long rt;

	need_machine(h);
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s], s:{s:s, s:i}}", "name",
				"f", "argv", "/bin/sh", "-c", TREE_SH, "sched",
				"policy", "fifo", "priority", 10));
	pid = running_pid(j);
	assert_sched(pid, SCHED_FIFO, 10, 0);
	assert_int_equal(sched_getscheduler(pid), SCHED_FIFO);
	g = grandchild(h, "f", pid, "sleep");
	assert_sched((pid_t)h_int(g, "pid"), SCHED_FIFO, 10, 0);
	assert_string_equal(ps_field(h, pid, "cls"), "FF");
	assert_string_equal(ps_field(h, pid, "rtprio"), "10");
	h_assert_str(g, "policy", "fifo");
	h_assert_int(g, "priority", 10);
	/* RT group scheduling: the job's cpu cgroup has a budget. */
	cpu = h_job_cg(h, j, "cpu");
	rt = strtol(h_cg_file(h, cpu, "cpu.rt_runtime_us"), NULL, 10);
	if (rt <= 0)
		fail_msg("%s/cpu.rt_runtime_us is %ld", cpu, rt);
}

H_TEST(policy__rr_20_reset_on_fork__grandchild_is_other)
{
	json_t *j, *g;
	struct k_attr a;
	pid_t pid, gpid;
	int pol;

	need_machine(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:s, s:i, s:b}}", "name", "r",
		   "argv", "/bin/sh", "-c", TREE_SH, "sched", "policy", "rr",
		   "priority", 20, "reset_on_fork", 1));
	pid = running_pid(j);
	assert_sched(pid, SCHED_RR, 20, 0);
	k_getattr(pid, &a);
	if ((a.flags & K_FLAG_RESET_ON_FORK) == 0)
		fail_msg("pid %d: sched_flags %#llx lack RESET_ON_FORK",
		    (int)pid, (unsigned long long)a.flags);
	pol = sched_getscheduler(pid);
	assert_int_equal(pol, SCHED_RR | SCHED_RESET_ON_FORK);
	assert_string_equal(ps_field(h, pid, "cls"), "RR");
	assert_string_equal(ps_field(h, pid, "rtprio"), "20");
	g = grandchild(h, "r", pid, "sleep");
	gpid = (pid_t)h_int(g, "pid");
	/* The child of an RT task with reset_on_fork: SCHED_OTHER, nice 0. */
	assert_sched(gpid, SCHED_OTHER, 0, 0);
	assert_string_equal(ps_field(h, gpid, "cls"), "TS");
	h_assert_str(g, "policy", "other");
	assert_true(
	    strtol(h_cg_file(h, h_job_cg(h, j, "cpu"), "cpu.rt_runtime_us"),
		NULL, 10) > 0);
}

H_TEST(policy__deadline_1ms_10ms_10ms__kernel_has_it)
{
	json_t *j;
	struct k_attr a;
	pid_t pid;

	need_machine(h);
	/* A DEADLINE task may not fork: the job is the sleep itself. */
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i, s:i, s:i}}", "name", "d",
		"argv", "/bin/sleep", "30", "sched", "policy", "deadline",
		"runtime_us", 1000, "deadline_us", 10000, "period_us", 10000));
	pid = running_pid(j);
	k_getattr(pid, &a);
	assert_int_equal(a.policy, SCHED_DEADLINE);
	assert_int_equal(a.runtime_ns, 1000000);
	assert_int_equal(a.deadline_ns, 10000000);
	assert_int_equal(a.period_ns, 10000000);
	assert_int_equal(sched_getscheduler(pid), SCHED_DEADLINE);
	assert_string_equal(ps_field(h, pid, "cls"), "DLN");
	/* Its whole root domain: a DEADLINE task is never pinned. */
	assert_string_equal(h_status_field(h, pid, "Cpus_allowed_list"), "0-1");
}

H_TEST(policy__bad_values__400_and_pinned_deadline_422)
{
	json_t *j;

	need_machine(h);
	j = h_call(h, 400, "POST",
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name", "p0", "argv",
		"/bin/sleep", "30", "sched", "policy", "fifo", "priority", 0),
	    "/v1/jobs");
	h_assert_error(j, "invalid_argument", "sched.priority");
	j = h_call(h, 400, "POST",
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name", "p100", "argv",
		"/bin/sleep", "30", "sched", "policy", "rr", "priority", 100),
	    "/v1/jobs");
	h_assert_error(j, "invalid_argument", "sched.priority");
	/* The kernel demands runtime <= deadline <= period. */
	j = h_call(h, 400, "POST",
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i, s:i, s:i}}", "name", "dl",
		"argv", "/bin/sleep", "30", "sched", "policy", "deadline",
		"runtime_us", 20000, "deadline_us", 10000, "period_us", 10000),
	    "/v1/jobs");
	h_assert_error(j, "invalid_argument", "sched.*");
	/* Pinned DEADLINE: refused up front with the reason. */
	j = h_call(h, 422, "POST",
	    json_pack("{s:s, s:[s,s], s:s, s:{s:s, s:i, s:i, s:i}}", "name",
		"dlpin", "argv", "/bin/sleep", "30", "cpus", "1", "sched",
		"policy", "deadline", "runtime_us", 1000, "deadline_us", 10000,
		"period_us", 10000),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", NULL);
	if (strstr(h_str(j, "error.message"), "DEADLINE") == NULL &&
	    strstr(h_str(j, "error.message"), "deadline") == NULL)
		h_fail(j, "the refusal does not say why");
	assert_int_equal(json_array_size(h_at(
			     h_call(h, 200, "GET", NULL, "/v1/jobs"), "jobs")),
	    0);
}

/*
 * What the kernel answers when this process asks for DEADLINE with the
 * given bandwidth: 0 or an errno (a child asks, then exits at once).
 */
static int
kernel_dl_answer(uint64_t runtime_us, uint64_t period_us)
{
	struct k_attr a;
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.policy = SCHED_DEADLINE;
		a.runtime_ns = runtime_us * 1000;
		a.deadline_ns = a.period_ns = period_us * 1000;
		if (syscall(SYS_sched_setattr, 0, &a, 0U) == -1)
			_exit(errno & 0xff);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		fail_msg("the DEADLINE probe did not exit");
	return (WEXITSTATUS(st));
}

/*
 * DEADLINE admission agrees with the kernel's: two jobs of 80% fit the
 * two CPUs' 95% (less the fair servers' share on 6.12+), a third does
 * not; the daemon says 422 where the kernel says EBUSY. The kernel gives
 * an ended task's bandwidth back at its 0-lag time, up to its deadline
 * (200 ms here) after it died: a third job made sooner waits queued for
 * it (otherwise sched_setattr would fail with EBUSY now and then), then
 * runs.
 */
#define DL_JOB(name)                                                           \
	json_pack("{s:s, s:[s,s], s:{s:s, s:i, s:i, s:i}}", "name", name,      \
	    "argv", "/bin/sleep", "30", "sched", "policy", "deadline",         \
	    "runtime_us", 160000, "deadline_us", 200000, "period_us", 200000)

H_TEST(policy__deadline_bandwidth_used_up__422_where_the_kernel_says_ebusy)
{
	json_t *j;
	const char *state;
	int64_t deleted;
	int i;

	need_machine(h);
	for (i = 1; i <= 2; i++) {
		j = h_job_create(h, DL_JOB(h_fmt(h, "dl%d", i)));
		assert_int_equal(
		    sched_getscheduler(running_pid(j)), SCHED_DEADLINE);
	}
	assert_int_equal(kernel_dl_answer(160000, 200000), EBUSY);
	j = h_call(h, 422, "POST", DL_JOB("dl3"), "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "sched.*");
	h_call(h, 404, "GET", NULL, "/v1/jobs/dl3");

	/* One gone: the daemon takes it again once the kernel does. */
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/dl1?force=true");
	deleted = h_now_ms();
	j = h_call(h, 200, "POST", DL_JOB("dl3"), "/v1/plan");
	if (h_now_ms() - deleted < 200) {
		h_assert_str(j, "would", "queue");
		assert_non_null(strstr(json_string_value(json_object_get(
					   json_object_get(j, "queue"), "reason")),
		    "the kernel to give back the DEADLINE bandwidth"));
	}
	j = h_job_create(h, DL_JOB("dl3"));
	state = json_string_value(json_object_get(j, "state"));
	assert_non_null(state);
	if (strcmp(state, "queued") == 0)
		assert_non_null(
		    strstr(json_string_value(json_object_get(j, "reason")),
			"the kernel to give back the DEADLINE bandwidth"));
	else if (h_now_ms() - deleted < 200)
		fail_msg("dl3 is %s %" PRId64 " ms after dl1 ended, not "
			 "queued",
		    state, h_now_ms() - deleted);
	j = h_job_poll(h, "dl3", "running", 5000);
	assert_int_equal(sched_getscheduler(running_pid(j)), SCHED_DEADLINE);
	assert_int_equal(kernel_dl_answer(160000, 200000), EBUSY);
}
#undef DL_JOB

/*
 * The same across a daemon restart: the new daemon's books hold the
 * bandwidth of a DEADLINE run stored as ended less than its deadline (2 s
 * here) before, as the kernel may. A third job planned or made in that
 * time is queued for it (before, the books said it fit and its start
 * could meet EBUSY, a 422 naming sched_setattr), then runs.
 */
#define DL_JOB(name)                                                           \
	json_pack("{s:s, s:[s,s], s:{s:s, s:i, s:i, s:i}}", "name", name,      \
	    "argv", "/bin/sleep", "30", "sched", "policy", "deadline",         \
	    "runtime_us", 1600000, "deadline_us", 2000000, "period_us",        \
	    2000000)

H_TEST(policy__deadline_run_ended_before_a_restart__bandwidth_still_held)
{
	json_t *j;
	int64_t ended;
	int i;

	need_machine(h);
	h_reap_orphans(h);
	for (i = 1; i <= 2; i++) {
		j = h_job_create(h, DL_JOB(h_fmt(h, "dl%d", i)));
		assert_int_equal(
		    sched_getscheduler(running_pid(j)), SCHED_DEADLINE);
	}
	h_assert_str(h_call(h, 200, "POST", NULL, "/v1/jobs/dl1/stop"), "state",
	    "stopped");
	ended = h_now_ms();
	assert_true(WIFSIGNALED(h_daemon_stop(h, SIGKILL)));
	h_daemon_start(h);

	j = h_call(h, 200, "POST", DL_JOB("dl3"), "/v1/plan");
	if (h_now_ms() - ended >= 2000)
		h_skip(h, "the restart took longer than dl1's deadline");
	h_assert_str(j, "would", "queue");
	assert_non_null(strstr(h_str(j, "queue.reason"),
	    "the kernel to give back the DEADLINE bandwidth"));
	j = h_job_create(h, DL_JOB("dl3"));
	if (h_now_ms() - ended < 2000)
		h_assert_str(j, "state", "queued");
	j = h_job_poll(h, "dl3", "running", 5000);
	assert_int_equal(sched_getscheduler(running_pid(j)), SCHED_DEADLINE);
	/* dl2 was adopted with its claim: the pool is full again. */
	assert_int_equal(kernel_dl_answer(1600000, 2000000), EBUSY);
}
#undef DL_JOB

/*
 * The RT pool: 100 ms of budget, 50 ms a job, so two FIFO jobs fit and a
 * third is refused with the budget in the message until one goes.
 */
H_TEST(policy__rt_pool_used_up__422_until_a_job_is_deleted)
{
	json_t *j, *f1, *f2;
	const char *c1, *sub;
	pid_t pid;

	need_machine(h);
	h_daemon_stop(h, SIGTERM);
	h_config(h, "rt_pool_us = 100000\nrt_job_us = 50000\n");
	h_daemon_start(h);

	f1 = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name", "f1", "argv",
		"/bin/sleep", "30", "sched", "policy", "fifo", "priority", 1));
	f2 = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name", "f2", "argv",
		"/bin/sleep", "30", "sched", "policy", "fifo", "priority", 1));
	assert_sched(running_pid(f1), SCHED_FIFO, 1, 0);
	assert_sched(running_pid(f2), SCHED_FIFO, 1, 0);
	c1 = h_job_cg(h, f1, "cpu");
	assert_string_equal(h_cg_file(h, c1, "cpu.rt_runtime_us"), "50000");
	assert_string_equal(
	    h_cg_file(h, h_job_cg(h, f2, "cpu"), "cpu.rt_runtime_us"), "50000");
	/* The subtree holds exactly its jobs' budgets. */
	sub = h_fmt(h, "%.*s", (int)(strrchr(c1, '/') - c1), c1);
	assert_string_equal(h_cg_file(h, sub, "cpu.rt_runtime_us"), "100000");

	j = h_call(h, 422, "POST",
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name", "f3", "argv",
		"/bin/sleep", "30", "sched", "policy", "fifo", "priority", 1),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", NULL);
	if (strstr(h_str(j, "error.message"), "budget") == NULL)
		h_fail(j, "the refusal does not mention the RT budget");
	h_call(h, 404, "GET", NULL, "/v1/jobs/f3");

	/* One deleted: its budget and cgroup go, and f3 fits. */
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/f1?force=true");
	if (access(c1, F_OK) == 0)
		fail_msg("%s is still there after DELETE", c1);
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name", "f3", "argv",
		"/bin/sleep", "30", "sched", "policy", "fifo", "priority", 1));
	pid = running_pid(j);
	assert_sched(pid, SCHED_FIFO, 1, 0);
	assert_string_equal(
	    h_cg_file(h, h_job_cg(h, j, "cpu"), "cpu.rt_runtime_us"), "50000");
	assert_string_equal(h_cg_file(h, sub, "cpu.rt_runtime_us"), "100000");
}

/* ------------------------------------------------------------- schedctl */

H_TEST(schedctl__run_cpus_fifo__cpus_and_ps_show_it)
{
	const char *line;
	json_t *j;
	pid_t pid;

	need_machine(h);
	h_assert_ctl(h, 0, "run", "--name", "ctl", "--cpus", "1", "--policy",
	    "fifo", "--priority", "5", "--", "sleep", "30");
	if (strstr(h->ctl_out, "ctl") == NULL)
		fail_msg("run did not name the job: %s", h->ctl_out);
	j = h_job_get(h, "ctl");
	pid = running_pid(j);
	assert_sched(pid, SCHED_FIFO, 5, 0);
	assert_confined(h, pid, "1");

	h_assert_ctl(h, 0, "cpus");
	if (strstr(h->ctl_out, "shared") == NULL)
		fail_msg("schedctl cpus shows no shared CPU:\n%s", h->ctl_out);
	h_assert_ctl(h, 0, "ps");
	line = line_with(h, h->ctl_out, "ctl");
	if (!has_column(line, "1") || strstr(line, "fifo") == NULL)
		fail_msg("schedctl ps does not show CPUs 1 and fifo: %s", line);
	/* The header names the columns. */
	if (strstr(h->ctl_out, "CPUS") == NULL ||
	    strstr(h->ctl_out, "POLICY") == NULL)
		fail_msg("schedctl ps has no CPUS and POLICY columns:\n%s",
		    h->ctl_out);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(pin__cpus_1__job_and_grandchild_confined),
	    H_UNIT(pin__grandchild_resets_affinity__cpuset_keeps_it),
	    H_UNIT(exclusive__one_cpu__granted_and_pool_shrinks_then_grows),
	    H_UNIT(
		exclusive__shared_job_started_during_grant__grows_back_after_release),
	    H_UNIT(
		exclusive__second_request__queued_then_started_when_released),
	    H_UNIT(exclusive__pinned_job_on_granted_cpu__queued_until_released),
	    H_UNIT(exclusive__impossible_and_malformed__refused_with_the_field),
	    H_UNIT(policy__batch_nice_5__job_and_grandchild),
	    H_UNIT(policy__idle__job_and_grandchild),
	    H_UNIT(policy__fifo_10__job_grandchild_and_rt_budget),
	    H_UNIT(policy__rr_20_reset_on_fork__grandchild_is_other),
	    H_UNIT(policy__deadline_1ms_10ms_10ms__kernel_has_it),
	    H_UNIT(policy__bad_values__400_and_pinned_deadline_422),
	    H_UNIT(
		policy__deadline_bandwidth_used_up__422_where_the_kernel_says_ebusy),
	    H_UNIT(
		policy__deadline_run_ended_before_a_restart__bandwidth_still_held),
	    H_UNIT(policy__rt_pool_used_up__422_until_a_job_is_deleted),
	    H_UNIT(schedctl__run_cpus_fifo__cpus_and_ps_show_it),
	};

	return (H_MAIN(tests));
}
