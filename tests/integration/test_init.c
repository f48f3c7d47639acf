/* SPDX-License-Identifier: ISC */
/*
 * Init mode (issue 5): schedd --init as PID 1 of a new PID namespace,
 * started as `unshare --pid --fork --mount-proc --kill-child $SCHEDD --init
 * ...` on the harness's socket, state directory and config (the harness's
 * own daemon is stopped first). It must answer /v1/health with "pid": 1,
 * start the job files, reap every orphan of the namespace (no zombie whose
 * parent is the init stays in /proc), and on SIGTERM stop the jobs in
 * reverse start order, escalating to SIGKILL after each stop timeout, and
 * exit 0 within the sum of the stop timeouts. The kernel and the database
 * are the witnesses: the host's /proc (host pids, NSpid) and the events
 * read with sqlite3 after the daemon exited. Needs root and unshare(1);
 * skips (77) otherwise. The test kills only what it started, by pid: the
 * unshare process (its child) and the init beneath it, whose death takes
 * the whole namespace with it.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* Extra time the init may take beyond the sum of its jobs' stop timeouts. */
#define MARGIN_MS 3000

/* What this test started; the teardown kills it if it is still there. */
static struct {
	pid_t unshare; /* our child, until reaped */
	pid_t init;    /* schedd, PID 1 inside, by its host pid */
} ini;

static const char *
find_unshare(void)
{
	static const char *const paths[] = {
	    "/usr/bin/unshare", "/bin/unshare", "/usr/sbin/unshare", NULL};
	int i;

	for (i = 0; paths[i] != NULL; i++)
		if (access(paths[i], X_OK) == 0)
			return (paths[i]);
	return (NULL);
}

/* Kill by pid what we started: the init (only while unshare, our unreaped
 * child, is still its parent), then unshare; reap unshare. */
static void
init_kill(void)
{
	struct h_proc p;

	if (ini.unshare <= 0)
		return;
	if (ini.init > 0 && h_proc(ini.init, &p) == 0 && p.ppid == ini.unshare)
		kill(ini.init, SIGKILL);
	kill(ini.unshare, SIGKILL);
	while (waitpid(ini.unshare, NULL, 0) == -1 && errno == EINTR)
		;
	ini.unshare = ini.init = 0;
}

static int
init_teardown(void **state)
{
	init_kill();
	return (h_teardown(state));
}

/* DIR/schedd.d/file, the default jobs_dir beside DIR/schedd.conf. */
static void
write_job_file(struct h *h, const char *file, const char *text)
{
	const char *dir = h_fmt(h, "%s/schedd.d", h->dir);

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		fail_msg("mkdir %s: %s", dir, strerror(errno));
	h_put_file(h, h_fmt(h, "%s/%s", dir, file), text);
}

/*
 * Replace the harness's daemon with schedd --init as PID 1 of a new PID
 * namespace on the same socket, state directory and config; wait until it
 * answers /v1/health. Skips unless root with unshare(1).
 */
static void
init_start(struct h *h)
{
	const char *unshare = find_unshare(), *schedd = getenv("SCHEDD");
	int64_t end;
	pid_t pid, parent = getpid();
	int st, logfd, nullfd, i;
	struct h_proc p;

	h_need_root(h);
	if (unshare == NULL)
		h_skip(h, "unshare(1) is not installed");
	st = h_daemon_stop(h, SIGTERM);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg(
		    "the harness's schedd did not exit 0 (status %#x)", st);

	if ((logfd = open(h->log, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1)
		fail_msg("open %s: %s", h->log, strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		/* If the test dies, unshare dies, and --kill-child takes the
		 * namespace's init (and so the namespace) with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		nullfd = open("/dev/null", O_RDONLY);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		for (i = 3; i < 1024; i++)
			close(i);
		execl(unshare, unshare, "--pid", "--fork", "--mount-proc",
		    "--kill-child", schedd, "--init", "--socket", h->sock,
		    "--state-dir", h->state, "--config", h->conf, "--log-level",
		    "debug", (char *)NULL);
		dprintf(2, "exec %s: %s\n", unshare, strerror(errno));
		_exit(127);
	}
	close(logfd);
	ini.unshare = pid;

	end = h_now_ms() + 10000;
	for (;;) {
		if (waitpid(ini.unshare, &st, WNOHANG) == ini.unshare) {
			ini.unshare = 0;
			fail_msg("unshare ... schedd --init exited at start-up "
				 "(status %#x)",
			    st);
		}
		if (access(h->sock, F_OK) == 0 &&
		    h_request(h, "GET", "/v1/health", NULL, NULL, NULL) == 200)
			break;
		if (h_now_ms() > end)
			fail_msg("schedd --init did not answer within 10 s");
		h_sleep_ms(20);
	}
	/* It answers: unshare's one child has exec'd schedd by now. */
	if ((ini.init = h_child_of(ini.unshare, NULL, 2000)) == 0)
		fail_msg("no child of unshare %d", (int)ini.unshare);
	if (h_proc(ini.init, &p) == -1 || strcmp(p.comm, "schedd") != 0)
		fail_msg("unshare's child %d is not schedd", (int)ini.init);
}

/* Wait for unshare to exit (ms); returns its status, fails on timeout. */
static int
init_wait_exit(int ms)
{
	int64_t end = h_now_ms() + ms;
	int st;

	for (;;) {
		if (waitpid(ini.unshare, &st, WNOHANG) == ini.unshare) {
			ini.unshare = ini.init = 0;
			return (st);
		}
		if (h_now_ms() > end)
			fail_msg(
			    "unshare still running %d ms after SIGTERM", ms);
		h_sleep_ms(10);
	}
}

/* The pid of host process pid in its own (innermost) PID namespace. */
static pid_t
ns_pid(pid_t pid)
{
	char path[64], text[8192];
	const char *line, *p;
	ssize_t n;
	long v = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fail_msg("open %s: %s", path, strerror(errno));
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		fail_msg("read %s: %s", path, strerror(errno));
	text[n] = '\0';
	if ((line = strstr(text, "\nNSpid:")) == NULL)
		fail_msg("no NSpid in %s", path);
	/* The last number on the line is the innermost namespace's pid. */
	for (p = line + 8; *p != '\0' && *p != '\n'; p++)
		if ((p[-1] == '\t' || p[-1] == ' ') && *p >= '0' && *p <= '9')
			v = strtol(p, NULL, 10);
	return ((pid_t)v);
}

/* Events from the database after the daemon exited: (id, job, type,
 * data) of every event about a job, in order. */
static json_t *
db_events(struct h *h)
{
	json_t *all, *ev, *data;
	size_t i;

	all = h_db_query(h,
	    "SELECT id, job, type, data FROM events WHERE job IS NOT NULL "
	    "ORDER BY id",
	    NULL);
	json_array_foreach (all, i, ev) {
		data = json_loads(h_str(ev, "data"), 0, NULL);
		json_object_set_new(
		    ev, "data", data != NULL ? data : json_null());
	}
	return (all);
}

/* The first event of type about job, or a failure. */
static json_t *
db_event(json_t *events, const char *job, const char *type)
{
	json_t *e;
	size_t i;

	json_array_foreach (events, i, e) {
		if (strcmp(h_str(e, "job"), job) == 0 &&
		    strcmp(h_str(e, "type"), type) == 0)
			return (e);
	}
	h_fail(events, "no %s event for %s in the database", type, job);
}

/* Orphan events about job seen on /v1/events?since=0 within ms. */
static int
orphan_events(struct h *h, const char *job, int want, int ms)
{
	struct h_stream *s;
	int64_t end = h_now_ms() + ms;
	json_t *ev;
	int n = 0;

	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	while (n < want && h_now_ms() < end &&
	       (ev = h_stream_event(s, (int)(end - h_now_ms()))) != NULL) {
		if (strcmp(h_str(ev, "type"), "orphan") == 0 &&
		    strcmp(h_str(ev, "job"), job) == 0)
			n++;
	}
	h_stream_close(s);
	return (n);
}

H_TEST(init__pid1_of_pid_namespace__reaps_orphans_exits_0_on_sigterm)
{
	json_t *j, *ev;
	pid_t host, sleeper;
	int64_t end, t0, took;
	int st, n;

	write_job_file(h, "orphans.json",
	    "{\"name\": \"orphans\", \"argv\": [\"/bin/sh\", \"-c\", "
	    "\"for i in 1 2 3; do (sleep 0.2 &); done; sleep 100\"], "
	    "\"stop\": {\"timeout_ms\": 2000}}");
	init_start(h);

	j = h_assert_healthy(h);
	h_assert_int(j, "pid", 1);
	h_assert_str(j, "status", "ok");

	/* The job file was started; its shell is the init's child. */
	j = h_job_poll(h, "orphans", "running", 5000);
	h_assert_str(
	    j, "source", h_fmt(h, "file:%s/schedd.d/orphans.json", h->dir));
	if ((host = h_child_of(ini.init, "sh", 5000)) == 0)
		fail_msg("the job's shell is not a child of the init");
	assert_int_equal(ns_pid(host), h_int(j, "pid"));
	if ((sleeper = h_child_of(host, "sleep", 5000)) == 0)
		fail_msg("the job's shell never started its sleep");

	/* The three sleep 0.2 orphans end: reaped and reported, no zombie. */
	h_sleep_ms(1000);
	n = orphan_events(h, "orphans", 3, 3000);
	if (n != 3)
		fail_msg("%d orphan events for the job, expected 3", n);
	end = h_now_ms() + 300;
	do {
		if ((n = h_zombies(ini.init)) > 0)
			fail_msg("%d zombie(s) whose parent is the init (%d)",
			    n, (int)ini.init);
		h_sleep_ms(20);
	} while (h_now_ms() < end);

	/* SIGTERM: the job is stopped and the init exits 0, in time. */
	t0 = h_now_ms();
	assert_int_equal(kill(ini.init, SIGTERM), 0);
	st = init_wait_exit(2000 + MARGIN_MS);
	took = h_now_ms() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg(
		    "unshare ... schedd --init: status %#x, not exit 0", st);
	print_message("init exited 0 %lld ms after SIGTERM\n", (long long)took);
	assert_true(h_wait_gone(host, 1000));
	assert_true(h_wait_gone(sleeper, 1000));

	/* It was stopped by the daemon (its stop signal), not killed with
	 * the namespace. */
	ev = db_events(h);
	h_assert_str(
	    db_event(ev, "orphans", "stopping"), "data.reason", "shutdown");
	h_assert_str(
	    db_event(ev, "orphans", "stopping"), "data.signal", "SIGTERM");
	h_assert_str(
	    db_event(ev, "orphans", "stopped"), "data.signal", "SIGTERM");
}

H_TEST(init__sigterm__reverse_start_order_with_sigkill_escalation)
{
	json_t *ev;
	pid_t a, b, bsleep;
	int64_t t0, took;
	int st;

	write_job_file(h, "a.json",
	    "{\"name\": \"a\", \"argv\": [\"/bin/sleep\", \"100\"], "
	    "\"stop\": {\"timeout_ms\": 1000}}");
	/* b starts after a, ignores SIGTERM and needs its SIGKILL. */
	write_job_file(h, "b.json",
	    "{\"name\": \"b\", \"argv\": [\"/bin/sh\", \"-c\", "
	    "\"trap '' TERM; sleep 100\"], \"after\": [\"a\"], "
	    "\"stop\": {\"timeout_ms\": 500}}");
	init_start(h);

	h_job_poll(h, "a", "running", 5000);
	h_job_poll(h, "b", "running", 5000);
	if ((a = h_child_of(ini.init, "sleep", 5000)) == 0 ||
	    (b = h_child_of(ini.init, "sh", 5000)) == 0)
		fail_msg("the jobs are not children of the init");
	/* Once sleep runs, b's trap is set. */
	if ((bsleep = h_child_of(b, "sleep", 5000)) == 0)
		fail_msg("b never started its sleep");

	t0 = h_now_ms();
	assert_int_equal(kill(ini.init, SIGTERM), 0);
	st = init_wait_exit(1000 + 500 + MARGIN_MS);
	took = h_now_ms() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg(
		    "unshare ... schedd --init: status %#x, not exit 0", st);
	if (took < 500)
		fail_msg("exited %lld ms after SIGTERM, before b's stop "
			 "timeout (500 ms)",
		    (long long)took);
	assert_true(h_wait_gone(a, 1000));
	assert_true(h_wait_gone(b, 1000));
	assert_true(h_wait_gone(bsleep, 1000));

	ev = db_events(h);
	if (!(h_int(db_event(ev, "a", "running"), "id") <
		h_int(db_event(ev, "b", "running"), "id")))
		h_fail(ev, "b started before a");
	if (!(h_int(db_event(ev, "b", "stopped"), "id") <
		h_int(db_event(ev, "a", "stopping"), "id")))
		h_fail(ev, "a was stopped before b had stopped");
	h_assert_str(db_event(ev, "b", "stopped"), "data.signal", "SIGKILL");
	h_assert_str(db_event(ev, "a", "stopped"), "data.signal", "SIGTERM");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		init__pid1_of_pid_namespace__reaps_orphans_exits_0_on_sigterm,
		h_setup, init_teardown),
	    cmocka_unit_test_setup_teardown(
		init__sigterm__reverse_start_order_with_sigkill_escalation,
		h_setup, init_teardown),
	};

	return (H_MAIN(tests));
}
