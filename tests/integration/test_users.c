/* SPDX-License-Identifier: ISC */
/*
 * Issue 13: everyone on the machine can use schedd and nobody gains by it.
 * Real users (useradd here, userdel at teardown, leftovers of a killed run
 * removed first) call a real daemon through its socket from processes that
 * really have their uid, gid and groups; the effects are checked in /proc,
 * in the database and in the daemon's log. The TCP listener is driven with
 * real connections on 127.0.0.1.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/integration/harness.h"

#define USER_A    "schedd-ita" /* in GROUP_X */
#define USER_B    "schedd-itb"
#define USER_C    "schedd-itc" /* in GROUP_ADM */
#define GROUP_X   "schedd-itgrp"
#define GROUP_ADM "schedd-itadm"

/* ------------------------------------------------------------- users */

static void
run_quiet(struct h *h, const char *const argv[])
{
	const char *out, *err;

	(void)h_run(h, argv, NULL, &out, &err, 20000);
}

static void
users_remove(void *arg)
{
	struct h *h = arg;
	static const char *const names[] = {USER_A, USER_B, USER_C};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (getpwnam(names[i]) != NULL)
			run_quiet(h, (const char *const[]){"/usr/sbin/userdel",
					 "-f", names[i], NULL});
	if (getgrnam(GROUP_X) != NULL)
		run_quiet(h,
		    (const char *const[]){"/usr/sbin/groupdel", GROUP_X, NULL});
	if (getgrnam(GROUP_ADM) != NULL)
		run_quiet(h, (const char *const[]){
				 "/usr/sbin/groupdel", GROUP_ADM, NULL});
}

static void
useradd(struct h *h, const char *name, const char *groups)
{
	const char *out, *err;
	int rc;

	rc = groups != NULL
		 ? h_run(h,
		       (const char *const[]){"/usr/sbin/useradd", "-M", "-s",
			   "/usr/sbin/nologin", "-G", groups, name, NULL},
		       NULL, &out, &err, 20000)
		 : h_run(h,
		       (const char *const[]){"/usr/sbin/useradd", "-M", "-s",
			   "/usr/sbin/nologin", name, NULL},
		       NULL, &out, &err, 20000);
	if (rc != 0)
		fail_msg("useradd %s: exit %d: %s", name, rc, err);
}

/*
 * Make the test users (as new: a run killed before its teardown may have
 * left them), removed at teardown whatever happens. The socket must be
 * reachable by them: mode 0666 in cfg's config, and the test directory
 * searchable.
 */
static void
users_setup(struct h *h, const char *cfg)
{
	const char *out, *err;

	h_need_root(h);
	if (access("/usr/sbin/useradd", X_OK) == -1)
		h_skip(h, "no useradd");
	users_remove(h);
	h_defer(h, users_remove, h);
	if (h_run(h, (const char *const[]){"/usr/sbin/groupadd", GROUP_X, NULL},
		NULL, &out, &err, 20000) != 0 ||
	    h_run(h,
		(const char *const[]){"/usr/sbin/groupadd", GROUP_ADM, NULL},
		NULL, &out, &err, 20000) != 0)
		fail_msg("groupadd: %s", err);
	useradd(h, USER_A, GROUP_X);
	useradd(h, USER_B, NULL);
	useradd(h, USER_C, GROUP_ADM);
	if (chmod(h->dir, 0711) == -1)
		fail_msg("chmod %s: %s", h->dir, strerror(errno));
	h_daemon_stop(h, SIGTERM);
	h_config(h, h_fmt(h, "socket_mode = 0666\nlog_level = debug\n%s",
			cfg != NULL ? cfg : ""));
	h_daemon_start(h);
}

static uid_t
uid_of(const char *name)
{
	struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		fail_msg("no user %s", name);
	return (pw->pw_uid);
}

/* ------------------------------------------------- requests as a user */

struct as {
	const char *user; /* NULL: root, as the test */
	long rtprio;      /* RLIMIT_RTPRIO to give the caller; -1: as is */
};

/*
 * One request from a process with user's uid, gid and groups (as login
 * would give them), over the daemon's socket. Returns the status (-1: no
 * answer) and the JSON body in *out (kept), if any.
 */
static long
as_user(struct h *h, const struct as *as, const char *method, const char *path,
    const char *body, json_t **out)
{
	char req[65536], *buf;
	struct sockaddr_un sun;
	struct passwd *pw = NULL;
	struct rlimit rl;
	size_t len = 0, cap = 1 << 20;
	ssize_t n;
	int pfd[2], fd, st, status = -1;
	pid_t pid;

	if (out != NULL)
		*out = NULL;
	if (as->user != NULL && (pw = getpwnam(as->user)) == NULL)
		fail_msg("no user %s", as->user);
	snprintf(req, sizeof(req),
	    "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s"
	    "Content-Length: %zu\r\n\r\n%s",
	    method, path,
	    body != NULL ? "Content-Type: application/json\r\n" : "",
	    body != NULL ? strlen(body) : 0, body != NULL ? body : "");
	if (pipe2(pfd, O_CLOEXEC) == -1)
		fail_msg("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		if (as->rtprio >= 0) {
			rl.rlim_cur = rl.rlim_max = (rlim_t)as->rtprio;
			if (setrlimit(RLIMIT_RTPRIO, &rl) == -1)
				_exit(96);
		}
		if (pw != NULL &&
		    (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
			setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1))
			_exit(97);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(h->sock) >= sizeof(sun.sun_path))
			_exit(98);
		memcpy(sun.sun_path, h->sock, strlen(h->sock) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(98);
		if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
			_exit(99);
		while ((n = read(fd, req, sizeof(req))) > 0)
			if (write(pfd[1], req, (size_t)n) != n)
				_exit(100);
		_exit(0);
	}
	close(pfd[1]);
	buf = h_keep(h, malloc(cap + 1));
	while (len < cap && (n = read(pfd[0], buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(pfd[0]);
	buf[len] = '\0';
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		fail_msg("the request as %s failed: wait status %d",
		    as->user != NULL ? as->user : "root", st);
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		fail_msg("no HTTP answer as %s: %s", as->user, buf);
	if (out != NULL)
		*out = h_raw_json(h, buf, len);
	return (status);
}

/* RLIMIT_RTPRIO 0, as a login gives by default. */
static const struct as A = {USER_A, 0}, B = {USER_B, 0}, C = {USER_C, 0},
		       ROOT = {NULL, 0};

/* as_user, failing unless the status is expect. */
static json_t *
as_call(struct h *h, const struct as *as, long expect, const char *method,
    const char *path, const char *body)
{
	json_t *j;
	long st;

	st = as_user(h, as, method, path, body, &j);
	if (st != expect)
		h_fail(j, "%s %s as %s: %ld, expected %ld", method, path,
		    as->user != NULL ? as->user : "root", st, expect);
	return (j);
}

/* 403 permission_denied naming field (NULL: none) and mentioning text. */
static void
assert_refused(json_t *j, const char *field, const char *text)
{
	const char *msg;

	h_assert_str(j, "error.code", "permission_denied");
	if (field != NULL)
		h_assert_str(j, "error.field", field);
	msg = h_str(j, "error.message");
	if (text != NULL && strstr(msg, text) == NULL)
		h_fail(j, "the message does not say \"%s\"", text);
}

static const char *
uid_text(struct h *h, pid_t pid)
{
	const char *u = h_status_field(h, pid, "Uid");

	if (u == NULL)
		fail_msg("pid %d is gone", (int)pid);
	return (u);
}

/* path's bytes (up to 64 KiB) hold needle. */
static int
file_has(const char *path, const char *needle)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return (
	    n > 0 && memmem(buf, (size_t)n, needle, strlen(needle)) != NULL);
}

/* ------------------------------------------------------------- tests */

H_TEST(users__own_job__runs_as_the_caller_and_no_one_else_touches_it)
{
	const char *body = "{\"name\":\"mine\",\"argv\":[\"/bin/sh\",\"-c\","
			   "\"echo secret-output; exec sleep 60\"],"
			   "\"env\":{\"TOKEN\":\"t0ps3cret\"}}";
	json_t *j, *list, *e;
	uid_t ua;
	pid_t pid;
	size_t i;
	int seen = 0;

	users_setup(h, NULL);
	ua = uid_of(USER_A);
	j = as_call(h, &A, 201, "POST", "/v1/jobs", body);
	h_assert_str(j, "state", "running");
	h_assert_int(j, "owner.uid", ua);
	h_assert_str(j, "owner.user", USER_A);
	h_assert_str(j, "user", USER_A);
	pid = (pid_t)h_int(j, "pid");
	h_learn_pid(h, pid);
	/* The kernel says whose it is. */
	if (strcmp(uid_text(h, pid),
		h_fmt(h, "%u\t%u\t%u\t%u", ua, ua, ua, ua)) != 0)
		fail_msg("Uid of the job: %s", uid_text(h, pid));

	/* Another user can do nothing to it, and see little of it. */
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs/mine/stop", NULL),
	    "job", "belongs to " USER_A);
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs/mine/kill",
			   "{\"signal\":\"SIGKILL\"}"),
	    "job", NULL);
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs/mine/pause", NULL),
	    "job", NULL);
	assert_refused(
	    as_call(h, &B, 403, "POST", "/v1/jobs/mine/restart", NULL), "job",
	    NULL);
	assert_refused(
	    as_call(h, &B, 403, "DELETE", "/v1/jobs/mine?force=true", NULL),
	    "job", NULL);
	assert_refused(as_call(h, &B, 403, "GET",
			   "/v1/jobs/mine/logs?stream=stdout", NULL),
	    "job", NULL);
	assert_refused(
	    as_call(h, &B, 403, "GET", "/v1/jobs/mine/processes", NULL), "job",
	    NULL);
	j = as_call(h, &B, 200, "GET", "/v1/jobs/mine", NULL);
	h_assert_null(j, "argv");
	h_assert_str(j, "env.TOKEN", "<redacted>");
	h_assert_str(j, "owner.user", USER_A);
	h_assert_str(j, "state", "running");
	list = as_call(h, &B, 200, "GET", "/v1/jobs", NULL);
	json_array_foreach (h_at(list, "jobs"), i, e) {
		if (strcmp(h_str(e, "name"), "mine") != 0)
			continue;
		seen = 1;
		h_assert_null(e, "argv");
		h_assert_str(e, "env.TOKEN", "<redacted>");
		h_assert_int(e, "owner.uid", ua);
	}
	if (!seen)
		h_fail(list, "B's list lacks A's job");
	/* It still runs, untouched. */
	if (h_pid_gone(pid))
		fail_msg("the job died of B's requests");

	/* Its owner sees all of it, output included; root too. */
	j = as_call(h, &A, 200, "GET", "/v1/jobs/mine", NULL);
	h_assert_str(j, "env.TOKEN", "t0ps3cret");
	h_assert_str(j, "argv[0]", "/bin/sh");
	j = h_call(h, 200, "GET", NULL, "/v1/jobs/mine");
	h_assert_str(j, "argv[0]", "/bin/sh");
	h_assert_str(j, "env.TOKEN", "t0ps3cret");
	if (strstr(h_job_logs(h, "mine", "stream=stdout"), "secret-output") ==
	    NULL)
		fail_msg("root cannot read the output");
	as_call(h, &A, 200, "GET", "/v1/jobs/mine/processes", NULL);
	j = as_call(h, &A, 200, "POST", "/v1/jobs/mine/stop", NULL);
	h_assert_str(j, "state", "stopped");
	h_assert_int(j, "last_actor.uid", ua);
	as_call(h, &A, 200, "DELETE", "/v1/jobs/mine", NULL);
}

H_TEST(users__refusals__name_the_field_and_the_rule)
{
	json_t *j;
	int i;

	users_setup(h, "[users]\npids_max = 100\nmemory_max = 64M\n"
		       "[group " GROUP_X "]\nexclusive_cpus_max = 1\n"
		       "[user " USER_B "]\nrt_priority_max = 5\n");
	/* Nobody but themselves. */
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"user\":\"root\"}"),
	    "user", "only as " USER_B);
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"user\":\"0\"}"),
	    "user", NULL);
	assert_refused(
	    as_call(h, &B, 403, "POST", "/v1/jobs",
		"{\"argv\":[\"/bin/true\"],\"group\":\"" GROUP_X "\"}"),
	    "group", "not a member of group " GROUP_X);
	/* A is a member: fine. */
	j = as_call(h, &A, 201, "POST", "/v1/jobs",
	    "{\"name\":\"ingroup\",\"argv\":[\"/bin/sleep\",\"30\"],"
	    "\"group\":\"" GROUP_X "\"}");
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	if (strncmp(h_status_field(h, (pid_t)h_int(j, "pid"), "Gid"),
		h_fmt(h, "%u\t", (unsigned)getgrnam(GROUP_X)->gr_gid),
		strlen(h_fmt(
		    h, "%u\t", (unsigned)getgrnam(GROUP_X)->gr_gid))) != 0)
		fail_msg("the job's gid is not %s's", GROUP_X);
	/* The policy's caps became the job's limits. */
	h_assert_int(j, "limits.pids_max", 100);
	h_assert_int(j, "limits.memory_max", 64 * 1024 * 1024);

	/* FIFO 99: over [user B]'s 5, and over A's RLIMIT_RTPRIO of 0. */
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"sched\":{\"policy\":"
			   "\"fifo\",\"priority\":99}}"),
	    "sched.priority", "[user " USER_B "] rt_priority_max");
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"sched\":{\"policy\":"
			   "\"fifo\",\"priority\":1}}"),
	    "sched.priority", "RLIMIT_RTPRIO");
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"sched\":{\"policy\":"
			   "\"deadline\",\"runtime_us\":1000,\"deadline_us\":"
			   "10000,\"period_us\":10000}}"),
	    "sched.policy", "deadline");
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"sched\":{\"policy\":"
			   "\"other\",\"nice\":-5}}"),
	    "sched.nice", "nice_min");
	/* [group X] grants A one exclusive CPU, not two; B none. */
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"exclusive_cpus\":2}"),
	    "exclusive_cpus", "[group " GROUP_X "] exclusive_cpus_max");
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"exclusive_cpus\":1}"),
	    "exclusive_cpus", "[users] exclusive_cpus_max");
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"limits\":{"
			   "\"pids_max\":101}}"),
	    "limits.pids_max", "[users] pids_max");
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"limits\":{"
			   "\"memory_max\":\"1G\"}}"),
	    "limits.memory_max", "memory_max");
	/* schedd would connect to the socket as root: admins only. */
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs",
			   "{\"argv\":[\"/bin/true\"],\"health\":{\"http\":"
			   "\"http://localhost/\",\"unix_socket\":"
			   "\"/run/docker.sock\"}}"),
	    "health.unix_socket", "connects as root");
	/* Reloading job files is an admin's. */
	assert_refused(as_call(h, &A, 403, "POST", "/v1/reload", NULL), NULL,
	    "admin_group");
	/* schedd keeps an admin's credentials per connection: a user's new
	 * connection, likely on the fd root's closed one had, is not root's. */
	for (i = 0; i < 5; i++) {
		as_call(h, &ROOT, 200, "POST", "/v1/reload", NULL);
		assert_refused(as_call(h, &A, 403, "POST", "/v1/reload", NULL),
		    NULL, "admin_group");
	}
	/* None of it was created. */
	j = h_call(h, 200, "GET", NULL, "/v1/jobs");
	assert_int_equal(json_array_size(h_at(j, "jobs")), 1);
}

/* Can this process raise a hard limit (CAP_SYS_RESOURCE)? */
static int
can_raise_rlimit(void)
{
	struct rlimit rl;
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		rl.rlim_cur = rl.rlim_max = 10;
		_exit(setrlimit(RLIMIT_RTPRIO, &rl) == 0 ? 0 : 1);
	}
	return (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		WEXITSTATUS(st) == 0);
}

/* A FIFO job of A's at priority prio: 201 and running as A, or 403. */
static void
rt_job(struct h *h, const struct as *as, int prio, long expect)
{
	json_t *j;
	pid_t pid;

	j = as_call(h, as, expect, "POST", "/v1/jobs",
	    h_fmt(h,
		"{\"argv\":[\"/bin/sleep\",\"30\"],\"sched\":{"
		"\"policy\":\"fifo\",\"priority\":%d}}",
		prio));
	if (expect != 201) {
		assert_refused(j, "sched.priority", "rt_priority_max");
		return;
	}
	h_assert_str(j, "state", "running");
	pid = (pid_t)h_int(j, "pid");
	h_learn_pid(h, pid);
	assert_int_equal(sched_getscheduler(pid), SCHED_FIFO);
	if (strncmp(uid_text(h, pid), h_fmt(h, "%u\t", uid_of(USER_A)),
		strlen(h_fmt(h, "%u\t", uid_of(USER_A)))) != 0)
		fail_msg("the RT job does not run as %s", USER_A);
}

H_TEST(users__rt_priority__up_to_the_cap_or_the_callers_rlimit)
{
	const struct as a10 = {USER_A, 10};

	users_setup(h, "[user " USER_A "]\nrt_priority_max = 10\n");
	rt_job(h, &A, 11, 403);
	rt_job(h, &A, 10, 201);
	/* With rt_priority_max = rlimit: the caller's hard RLIMIT_RTPRIO. */
	users_setup(h, NULL);
	rt_job(h, &A, 1, 403);
	if (!can_raise_rlimit()) {
		print_message("no CAP_SYS_RESOURCE here: a caller with an "
			      "RLIMIT_RTPRIO above 0 cannot be made\n");
		return;
	}
	rt_job(h, &a10, 11, 403);
	rt_job(h, &a10, 10, 201);
}

H_TEST(users__jobs_max__counts_active_jobs_only)
{
	users_setup(h, "[users]\njobs_max = 1\n");
	as_call(h, &A, 201, "POST", "/v1/jobs",
	    "{\"name\":\"one\",\"argv\":[\"/bin/sleep\",\"30\"]}");
	assert_refused(
	    as_call(h, &A, 403, "POST", "/v1/jobs",
		"{\"name\":\"two\",\"argv\":[\"/bin/sleep\",\"30\"]}"),
	    NULL, "[users] jobs_max");
	/* Created without starting: allowed; starting it is not. */
	as_call(h, &A, 201, "POST", "/v1/jobs",
	    "{\"name\":\"two\",\"argv\":[\"/bin/sleep\",\"30\"],"
	    "\"start\":false}");
	assert_refused(as_call(h, &A, 403, "POST", "/v1/jobs/two/start", NULL),
	    NULL, "jobs_max");
	/* A schedule starts by itself: it counts too, start: false or not. */
	assert_refused(
	    as_call(h, &A, 403, "POST", "/v1/jobs",
		"{\"name\":\"cronned\",\"argv\":[\"/bin/true\"],"
		"\"start\":false,\"schedule\":{\"every_ms\":60000}}"),
	    NULL, "jobs_max");
	/* Another user's count is their own. */
	as_call(h, &B, 201, "POST", "/v1/jobs",
	    "{\"name\":\"bs\",\"argv\":[\"/bin/sleep\",\"30\"]}");
	as_call(h, &A, 200, "POST", "/v1/jobs/one/stop", NULL);
	as_call(h, &A, 200, "POST", "/v1/jobs/two/start", NULL);
}

H_TEST(users__admin_group__may_do_everything)
{
	json_t *j;

	users_setup(h, "admin_group = " GROUP_ADM "\n");
	as_call(h, &A, 201, "POST", "/v1/jobs",
	    "{\"name\":\"amine\",\"argv\":[\"/bin/sleep\",\"30\"],"
	    "\"env\":{\"K\":\"v\"}}");
	j = as_call(h, &C, 200, "GET", "/v1/jobs/amine", NULL);
	h_assert_str(j, "env.K", "v");
	j = as_call(h, &C, 200, "POST", "/v1/jobs/amine/stop", NULL);
	h_assert_int(j, "last_actor.uid", uid_of(USER_C));
	h_assert_int(j, "owner.uid", uid_of(USER_A));
	j = as_call(h, &C, 200, "GET", "/v1/policy", NULL);
	if (!json_is_true(h_at(j, "caller.admin")))
		h_fail(j, "C is not an admin");
	/* An admin may create jobs as anyone, root included. */
	j = as_call(h, &C, 201, "POST", "/v1/jobs",
	    "{\"name\":\"asb\",\"argv\":[\"/bin/sleep\",\"30\"],\"user\":\"" USER_B
	    "\"}");
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	as_call(h, &C, 200, "POST", "/v1/reload", NULL);
	/* The job runs as B, but it is C's: B may not stop it. */
	assert_refused(as_call(h, &B, 403, "POST", "/v1/jobs/asb/stop", NULL),
	    "job", NULL);
}

H_TEST(users__who_did_what__events_database_and_log)
{
	json_t *j, *rows, *e;
	const char *log;
	uid_t ua, uc;
	size_t i;
	int by_a = 0, by_c = 0;

	users_setup(h, "admin_group = " GROUP_ADM "\n");
	ua = uid_of(USER_A);
	uc = uid_of(USER_C);
	as_call(h, &A, 201, "POST", "/v1/jobs",
	    "{\"name\":\"acted\",\"argv\":[\"/bin/sleep\",\"30\"],"
	    "\"env\":{\"PASSWORD\":\"hunter2-xyzzy\"},"
	    "\"env_secret\":[\"PASSWORD\"]}");
	/* A secret is hidden from its owner too, not from the job. */
	j = as_call(h, &A, 200, "GET", "/v1/jobs/acted", NULL);
	h_assert_str(j, "env.PASSWORD", "<redacted>");
	j = h_call(h, 200, "GET", NULL, "/v1/jobs/acted");
	h_assert_str(j, "env.PASSWORD", "<redacted>");
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	if (!file_has(h_fmt(h, "/proc/%d/environ", (int)h_int(j, "pid")),
		"PASSWORD=hunter2-xyzzy"))
		fail_msg("the job lacks its secret");
	as_call(h, &C, 200, "POST", "/v1/jobs/acted/stop", NULL);

	/* The events say who: A created and started it, C stopped it. */
	rows = h_db_query(h,
	    "SELECT type, data FROM events WHERE job_id = "
	    "(SELECT id FROM jobs WHERE name = ?1) ORDER BY id",
	    "acted");
	json_array_foreach (rows, i, e) {
		j = h_parse(h, h_str(e, "data"));
		if (strcmp(h_str(e, "type"), "created") == 0 &&
		    h_int(j, "by.uid") == ua)
			by_a = 1;
		if (strcmp(h_str(e, "type"), "stopping") == 0 &&
		    h_int(j, "by.uid") == uc)
			by_c = 1;
	}
	if (!by_a || !by_c)
		h_fail(rows, "the events do not say A created and C stopped");
	rows = h_db_query(h,
	    "SELECT owner_uid, actor_uid FROM jobs WHERE name = ?1", "acted");
	h_assert_int(json_array_get(rows, 0), "owner_uid", ua);
	h_assert_int(json_array_get(rows, 0), "actor_uid", uc);

	/* One log line per change with uid and pid; no env value, ever. */
	log = h_text(h, h->log);
	if (strstr(log, h_fmt(h, "POST /v1/jobs: uid %u (" USER_A ") pid ",
			    ua)) == NULL ||
	    strstr(log,
		h_fmt(h, "POST /v1/jobs/acted/stop: uid %u (" USER_C ") pid ",
		    uc)) == NULL)
		fail_msg("the log lacks who asked:\n%s", log);
	if (strstr(log, "hunter2-xyzzy") != NULL)
		fail_msg("an env value reached the daemon's log");
}

H_TEST(users__schedctl_policy__as_the_user)
{
	const char *out, *err;
	int rc;

	users_setup(h, "[user " USER_A "]\njobs_max = 3\n");
	rc = h_run(h,
	    (const char *const[]){"/usr/bin/setpriv", "--reuid", USER_A,
		"--regid", USER_A, "--init-groups", getenv("SCHEDCTL"),
		"--socket", h->sock, "policy", NULL},
	    NULL, &out, &err, 20000);
	if (rc != 0)
		fail_msg("schedctl policy as %s: exit %d: %s", USER_A, rc, err);
	if (strstr(out, USER_A) == NULL ||
	    strstr(out, "not an admin") == NULL ||
	    strstr(out, "[user " USER_A "]") == NULL)
		fail_msg("schedctl policy said:\n%s", out);
	/* A user may not ask about another; root may. */
	rc = h_run(h,
	    (const char *const[]){"/usr/bin/setpriv", "--reuid", USER_B,
		"--regid", USER_B, "--init-groups", getenv("SCHEDCTL"),
		"--socket", h->sock, "policy", "-u", USER_A, NULL},
	    NULL, &out, &err, 20000);
	if (rc != 1 || strstr(err, "only admins") == NULL)
		fail_msg("policy -u as B: exit %d: %s", rc, err);
	h_assert_ctl(h, 0, "policy", "-u", USER_A);
	if (strstr(h->ctl_out, "jobs_max") == NULL ||
	    strstr(h->ctl_out, "3") == NULL)
		fail_msg("schedctl policy -u said:\n%s", h->ctl_out);
}

/* ----------------------------------------------- a user in many groups */

#define USER_D      "schedd-itd" /* in MANY_GROUPS groups */
#define MANY_GROUPS 300

static void
many_remove(void *arg)
{
	struct h *h = arg;
	int i;

	if (getpwnam(USER_D) != NULL)
		run_quiet(h, (const char *const[]){
				 "/usr/sbin/userdel", "-f", USER_D, NULL});
	for (i = 0; i < MANY_GROUPS; i++)
		if (getgrnam(h_fmt(h, "schedd-itg%d", i)) != NULL)
			run_quiet(h, (const char *const[]){"/usr/sbin/groupdel",
					 h_fmt(h, "schedd-itg%d", i), NULL});
}

/*
 * A job runs with every supplementary group of its user. The list once
 * held 256: getgrouplist said there were more, and the job ran with its
 * primary group alone, silently.
 */
H_TEST(users__in_300_groups__job_has_every_group)
{
	const char *list = "", *out, *err, *g;
	json_t *j;
	pid_t pid;
	int i, n;

	h_need_root(h);
	if (access("/usr/sbin/useradd", X_OK) == -1)
		h_skip(h, "no useradd");
	many_remove(h);
	h_defer(h, many_remove, h);
	for (i = 0; i < MANY_GROUPS; i++) {
		if (h_run(h,
			(const char *const[]){"/usr/sbin/groupadd",
			    h_fmt(h, "schedd-itg%d", i), NULL},
			NULL, &out, &err, 20000) != 0)
			fail_msg("groupadd: %s", err);
		list = h_fmt(h, "%s%sschedd-itg%d", list, i ? "," : "", i);
	}
	useradd(h, USER_D, list);

	j = h_job_create(h, json_pack("{s:s, s:[s,s], s:s}", "name", "many",
				"argv", "/bin/sleep", "30", "user", USER_D));
	pid = (pid_t)h_int(j, "pid");
	h_learn_pid(h, pid);
	/* The primary group and the 300. */
	g = h_status_field(h, pid, "Groups");
	for (n = 0; *g != '\0'; n++) {
		g += strspn(g, " \t");
		if (*g == '\0')
			break;
		g += strcspn(g, " \t");
	}
	if (n != MANY_GROUPS + 1)
		fail_msg("the job has %d groups, not %d: %s", n,
		    MANY_GROUPS + 1, h_status_field(h, pid, "Groups"));
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/many?force=true");
}

/* ---------------------------------------------------------------- TCP */

#define TOKEN_ADMIN "adm1n-t0ken-0123456789abcdef"
#define TOKEN_A     "user-a-t0ken-0123456789abcdef"

/* Write the token file (mode) and a config listening on a free port. */
static int
tcp_setup(struct h *h, mode_t mode, const char *extra)
{
	const char *tokens = h_fmt(h, "%s/tokens", h->dir);
	int port = h_free_port();

	/* Without the test users, the user token is a bare uid. */
	h_put_file(h, tokens,
	    h_fmt(h,
		"# token        who\n" TOKEN_ADMIN " admin\n" TOKEN_A " %s\n",
		getpwnam(USER_A) != NULL ? USER_A : "4242"));
	if (chmod(tokens, mode) == -1)
		fail_msg("chmod: %s", strerror(errno));
	h_daemon_stop(h, SIGTERM);
	h_config(h, h_fmt(h, "listen = 127.0.0.1:%d\ntoken_file = %s\n%s", port,
			tokens, extra != NULL ? extra : ""));
	return (port);
}

/* One request over TCP with an Authorization header (NULL: none). */
static long
tcp_req(struct h *h, int port, const char *auth, const char *method,
    const char *path, const char *body, json_t **out)
{
	struct sockaddr_in sin;
	char req[8192], *buf;
	size_t len = 0, cap = 1 << 20;
	ssize_t n;
	int fd, status = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fail_msg("connect 127.0.0.1:%d: %s", port, strerror(errno));
	snprintf(req, sizeof(req),
	    "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s"
	    "Content-Length: %zu\r\n\r\n%s",
	    method, path, auth != NULL ? "Authorization: " : "",
	    auth != NULL ? auth : "", auth != NULL ? "\r\n" : "",
	    body != NULL ? strlen(body) : 0, body != NULL ? body : "");
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		fail_msg("write: %s", strerror(errno));
	buf = h_keep(h, malloc(cap + 1));
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	if (out != NULL)
		*out = status > 0 ? h_raw_json(h, buf, len) : NULL;
	if (status == 401 && strstr(buf, "WWW-Authenticate: Bearer") == NULL)
		fail_msg("a 401 without WWW-Authenticate: %s", buf);
	return (status);
}

static void
assert_401(json_t *j)
{
	h_assert_str(j, "error.code", "unauthenticated");
	h_assert_str(j, "error.message", "a valid bearer token is required");
}

H_TEST(tcp__bearer_tokens__401_without_the_right_one)
{
	json_t *j;
	const char *tokfile = h_fmt(h, "%s/a.token", h->dir);
	int port;

	users_setup(h, NULL);
	port = tcp_setup(h, 0600, NULL);
	h_daemon_start(h);
	/* No token, a wrong one, a malformed header: the same 401. */
	assert_int_equal(
	    tcp_req(h, port, NULL, "GET", "/v1/health", NULL, &j), 401);
	assert_401(j);
	assert_int_equal(tcp_req(h, port, "Bearer " TOKEN_ADMIN "x", "GET",
			     "/v1/jobs", NULL, &j),
	    401);
	assert_401(j);
	/* Not even a 404 leaks without one. */
	assert_int_equal(
	    tcp_req(h, port, NULL, "GET", "/no/such/route", NULL, &j), 401);
	/* The admin token may do all; the user's token is that user. */
	assert_int_equal(
	    tcp_req(h, port, "Bearer " TOKEN_ADMIN, "POST", "/v1/jobs",
		"{\"name\":\"viatcp\",\"argv\":[\"/bin/sleep\","
		"\"30\"]}",
		&j),
	    201);
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	assert_int_equal(
	    tcp_req(h, port, "Bearer " TOKEN_A, "GET", "/v1/policy", NULL, &j),
	    200);
	h_assert_str(j, "caller.user", USER_A);
	h_assert_str(j, "caller.via", "tcp");
	assert_int_equal(tcp_req(h, port, "Bearer " TOKEN_A, "POST",
			     "/v1/jobs/viatcp/stop", NULL, &j),
	    403);
	assert_int_equal(
	    tcp_req(h, port, "bearer  " TOKEN_A, "POST", "/v1/jobs",
		"{\"name\":\"atcp\",\"argv\":[\"/bin/sleep\","
		"\"30\"]}",
		&j),
	    201);
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	h_assert_str(j, "user", USER_A);
	if (strncmp(uid_text(h, (pid_t)h_int(j, "pid")),
		h_fmt(h, "%u\t", uid_of(USER_A)),
		strlen(h_fmt(h, "%u\t", uid_of(USER_A)))) != 0)
		fail_msg("a job made with A's token does not run as A");

	/* schedctl --host --token-file. */
	h_put_file(h, tokfile, TOKEN_ADMIN "\n");
	h_assert_ctl(h, 0, "--host", h_fmt(h, "127.0.0.1:%d", port),
	    "--token-file", tokfile, "ps");
	if (strstr(h->ctl_out, "viatcp") == NULL)
		fail_msg("schedctl --host ps:\n%s", h->ctl_out);
	h_put_file(h, tokfile, "not-the-token-0123456789\n");
	h_assert_ctl(h, 1, "--host", h_fmt(h, "127.0.0.1:%d", port),
	    "--token-file", tokfile, "ps");
	if (strstr(h->ctl_err, "bearer token") == NULL)
		fail_msg("schedctl with a wrong token said: %s", h->ctl_err);
}

H_TEST(tcp__token_file_readable_by_others__refused_at_start)
{
	const char *const args[] = {"--config", h->conf, "--socket", h->sock,
	    "--state-dir", h->state, NULL};
	int st;

	users_setup(h, NULL);
	tcp_setup(h, 0644, NULL);
	st = h_schedd_run(h, args, 10000);
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 0)
		fail_msg("schedd started with a token file others can read");
	if (strstr(h_text(h, h->log),
		"mode 0644 lets others read or change it") == NULL)
		fail_msg("no clear message:\n%s", h_text(h, h->log));
	/* Owned by another user: refused too. */
	tcp_setup(h, 0600, NULL);
	if (chown(h_fmt(h, "%s/tokens", h->dir), uid_of(USER_A), 0) == -1)
		fail_msg("chown: %s", strerror(errno));
	st = h_schedd_run(h, args, 10000);
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 0 ||
	    strstr(h_text(h, h->log), "it must belong to root") == NULL)
		fail_msg("a token file of another owner was taken");
}

H_TEST(tcp__failures__rate_limited_per_address)
{
	json_t *j;
	int port, i;

	port = tcp_setup(h, 0600, NULL);
	h_daemon_start(h);
	assert_int_equal(tcp_req(h, port, "Bearer " TOKEN_ADMIN, "GET",
			     "/v1/health", NULL, NULL),
	    200);
	for (i = 0; i < 5; i++)
		assert_int_equal(tcp_req(h, port, "Bearer guess-0123456789abcd",
				     "GET", "/v1/health", NULL, NULL),
		    401);
	/* Now even the right token is not looked at, for the window. */
	assert_int_equal(tcp_req(h, port, "Bearer " TOKEN_ADMIN, "GET",
			     "/v1/health", NULL, &j),
	    401);
	assert_401(j);
	if (strstr(h_text(h, h->log), "5 failed tokens in 10 s") == NULL)
		fail_msg("the refusal is not logged");
	/* The socket is not limited. */
	h_assert_healthy(h);
	h_sleep_ms(10500);
	assert_int_equal(tcp_req(h, port, "Bearer " TOKEN_ADMIN, "GET",
			     "/v1/health", NULL, NULL),
	    200);
}

/*
 * Many malformed Authorization headers: each one 401, the daemon up. The
 * comparison itself is fuzzed per address in tests/unit/test_auth.c (here
 * the rate limit soon answers for it).
 */
H_TEST(tcp__authorization_header__fuzzed)
{
	static const char *const fixed[] = {
	    "",
	    "Bearer",
	    "Bearer ",
	    "Basic " TOKEN_ADMIN,
	    TOKEN_ADMIN,
	    "Bearer " TOKEN_ADMIN " " TOKEN_ADMIN,
	    "Bearer adm1n",
	    "Bearer " TOKEN_ADMIN "\t junk",
	    "Bearer\t\t\t",
	    "Bearer %00" TOKEN_ADMIN,
	};
	char hdr[1200];
	unsigned seed = 13;
	size_t i, k, n;
	long st;
	int port;

	port = tcp_setup(h, 0600, NULL);
	h_daemon_start(h);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		assert_int_equal(
		    tcp_req(h, port, fixed[i], "GET", "/v1/health", NULL, NULL),
		    401);
	for (i = 0; i < 200; i++) {
		n = (size_t)(rand_r(&seed) % 1100);
		memcpy(hdr, "Bearer ", 7);
		for (k = 7; k < n; k++)
			/* Printable, no CR/LF: it must stay one header. */
			hdr[k] = (char)(32 + rand_r(&seed) % 95);
		hdr[n > 7 ? n : 7] = '\0';
		if (i % 3 == 0)
			memcpy(hdr + 7, TOKEN_ADMIN,
			    n > 7 + sizeof(TOKEN_ADMIN) - 2
				? sizeof(TOKEN_ADMIN) - 2
				: 0);
		st = tcp_req(h, port, hdr, "GET", "/v1/health", NULL, NULL);
		if (st != 401 && st != 400 && st != 431)
			fail_msg("header %zu answered %ld: %s", i, st, hdr);
	}
	h_assert_healthy(h);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(
		users__own_job__runs_as_the_caller_and_no_one_else_touches_it),
	    H_UNIT(users__refusals__name_the_field_and_the_rule),
	    H_UNIT(users__rt_priority__up_to_the_cap_or_the_callers_rlimit),
	    H_UNIT(users__jobs_max__counts_active_jobs_only),
	    H_UNIT(users__admin_group__may_do_everything),
	    H_UNIT(users__in_300_groups__job_has_every_group),
	    H_UNIT(users__who_did_what__events_database_and_log),
	    H_UNIT(users__schedctl_policy__as_the_user),
	    H_UNIT(tcp__bearer_tokens__401_without_the_right_one),
	    H_UNIT(tcp__token_file_readable_by_others__refused_at_start),
	    H_UNIT(tcp__failures__rate_limited_per_address),
	    H_UNIT(tcp__authorization_header__fuzzed),
	};

	return (H_MAIN(tests));
}
