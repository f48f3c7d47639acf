/* SPDX-License-Identifier: ISC */
/*
 * Supervision, seen from outside (issue 5): restart policies and their
 * exponential backoff, stop escalation to SIGKILL, job files loaded at
 * start-up and re-read by POST /v1/reload and SIGHUP, and "after" ordering
 * at start and at shutdown. The daemon's answers are checked against
 * independent witnesses: the kernel (/proc, kill), the job files on disk
 * and, after the daemon has exited, its database read with the sqlite3 C
 * API. Timing checks compare what the daemon decided (the "backoff"
 * events' delays) with what happened (the runs' times), with lower bounds
 * that are exact and upper bounds that are generous, so a loaded machine
 * cannot make them flaky.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* ------------------------------------------------------------ helpers */

/* How much sooner than its delay a restart may come (see the test). */
#define EARLY_MS 25

/* "2026-11-21T19:01:15.123Z" as milliseconds since the epoch. */
static int64_t
time_ms(const char *s)
{
	struct tm tm;
	const char *rest;
	int ms;

	if (!h_is_time(s))
		fail_msg("not an RFC 3339 time with ms: %s", s ? s : "(null)");
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL || sscanf(rest, ".%3dZ", &ms) != 1)
		fail_msg("cannot parse time %s", s);
	return ((int64_t)timegm(&tm) * 1000 + ms);
}

/* The job's runs, newest first. */
static json_t *
runs_of(struct h *h, const char *job)
{
	json_t *j = h_call(h, 200, "GET", NULL, "/v1/jobs/%s/runs", job);

	if (!json_is_array(h_at(j, "runs")))
		h_fail(j, "no runs array");
	return (h_at(j, "runs"));
}

/* Run number n (1-based) out of a newest-first list of runs. */
static json_t *
run_n(json_t *runs, size_t n)
{
	size_t total = json_array_size(runs);

	if (n < 1 || n > total)
		h_fail(runs, "no run %zu among %zu", n, total);
	return (json_array_get(runs, total - n));
}

/* The job's pid (must be running). */
static pid_t
job_pid(json_t *job)
{
	h_assert_str(job, "state", "running");
	return ((pid_t)h_int(job, "pid"));
}

/* DIR/schedd.d: the default jobs_dir beside DIR/schedd.conf. */
static const char *
jobs_dir(struct h *h)
{
	const char *dir = h_fmt(h, "%s/schedd.d", h->dir);

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		fail_msg("mkdir %s: %s", dir, strerror(errno));
	return (dir);
}

/* Where a job file lives; what its job's "source" says. */
static const char *
job_file(struct h *h, const char *file)
{
	return (h_fmt(h, "%s/%s", jobs_dir(h), file));
}

static const char *
job_source(struct h *h, const char *file)
{
	return (h_fmt(h, "file:%s", job_file(h, file)));
}

/*
 * Write a job file whole: a dot-file first (the daemon skips those), then
 * renamed into place, so no reload can ever read half of it.
 */
static void
write_job_file(struct h *h, const char *file, const char *text)
{
	h_put_file(h, job_file(h, file), text);
}

static void
remove_job_file(struct h *h, const char *file)
{
	if (unlink(job_file(h, file)) == -1)
		fail_msg("unlink %s: %s", job_file(h, file), strerror(errno));
}

/* Stop the daemon cleanly (it must exit 0) and start it again. */
static void
restart_daemon(struct h *h)
{
	int st = h_daemon_stop(h, SIGTERM);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("schedd did not exit 0 on SIGTERM (status %#x)", st);
	h_daemon_start(h);
}

/* The reload answer's list `key` holds exactly the names in want. */
static void
assert_names(json_t *answer, const char *key, const char *const want[])
{
	json_t *list = h_at(answer, key), *v;
	size_t i, n = 0, k;
	int found;

	if (!json_is_array(list))
		h_fail(answer, "\"%s\" is not an array", key);
	for (n = 0; want[n] != NULL; n++) {
		found = 0;
		json_array_foreach (list, i, v)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), want[n]) == 0)
				found = 1;
		if (!found)
			h_fail(answer, "\"%s\" lacks %s", key, want[n]);
	}
	k = json_array_size(list);
	if (k != n)
		h_fail(answer, "\"%s\" has %zu names, expected %zu", key, k, n);
}

/* The reload answer's error about path, or a failure. */
static json_t *
reload_error(json_t *answer, const char *path)
{
	json_t *errors = h_at(answer, "errors"), *e;
	size_t i;

	json_array_foreach (errors, i, e) {
		if (json_is_string(h_at(e, "path")) &&
		    strcmp(json_string_value(h_at(e, "path")), path) == 0)
			return (e);
	}
	h_fail(answer, "no error reported for %s", path);
}

/* A reload error that blames "after" or one of its elements. */
static void
assert_after_field(json_t *e)
{
	const char *f = h_str(e, "field");

	if (strcmp(f, "after") != 0 && strncmp(f, "after[", 6) != 0)
		h_fail(e, "the error does not blame \"after\"");
	h_assert_str(e, "code", "unsatisfiable");
}

/* GET /v1/jobs/NAME answers 404 not_found. */
static void
assert_no_job(struct h *h, const char *name)
{
	json_t *j = h_call(h, 404, "GET", NULL, "/v1/jobs/%s", name);

	h_assert_error(j, "not_found", NULL);
}

/* Poll GET /v1/jobs/NAME until its status is want (ms), else fail. */
static void
poll_status(struct h *h, const char *name, long want, int ms)
{
	int64_t end = h_now_ms() + ms;
	long st;

	while ((st = h_request(h, "GET", h_fmt(h, "/v1/jobs/%s", name), NULL,
		    NULL, NULL)) != want) {
		if (h_now_ms() > end)
			fail_msg("GET /v1/jobs/%s: %ld, not %ld after %d ms",
			    name, st, want, ms);
		h_sleep_ms(20);
	}
}

/* Environment variable var of a live process ("" if unset). */
static const char *
proc_env(struct h *h, pid_t pid, const char *var)
{
	char path[64], buf[65536];
	size_t vlen = strlen(var), off = 0;
	ssize_t n;
	int fd, tries;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	/* Empty while the kernel is still in the job's execve: the daemon
	 * (a vfork parent) resumes before the new image's environment is
	 * set up. */
	for (tries = 0; off == 0 && tries < 100; tries++) {
		if (tries > 0)
			h_sleep_ms(10);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			fail_msg("open %s: %s", path, strerror(errno));
		while (off < sizeof(buf) - 1 &&
		       (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
			off += (size_t)n;
		close(fd);
	}
	buf[off] = '\0';
	for (n = 0; (size_t)n < off; n += (ssize_t)strlen(buf + n) + 1) {
		if (strncmp(buf + n, var, vlen) == 0 && buf[n + vlen] == '=')
			return (h_fmt(h, "%s", buf + n + vlen + 1));
	}
	return ("");
}

/* A process the job started, alive, a child of the daemon. */
static void
assert_alive_child(struct h *h, pid_t pid)
{
	struct h_proc p;

	if (h_proc(pid, &p) == -1 || p.state == 'Z')
		fail_msg("pid %d is not alive", (int)pid);
	assert_int_equal(p.ppid, h->daemon);
}

/*
 * Events from the daemon's database, read after it exited: the ids of
 * the first event of type for job, or 0.
 */
static json_int_t
db_event_id(json_t *events, const char *job, const char *type)
{
	json_t *e;
	size_t i;

	json_array_foreach (events, i, e) {
		if (strcmp(h_str(e, "job"), job) == 0 &&
		    strcmp(h_str(e, "type"), type) == 0)
			return (h_int(e, "id"));
	}
	h_fail(events, "no %s event for %s in the database", type, job);
}

static json_t *
db_events(struct h *h)
{
	return (h_db_query(h,
	    "SELECT id, job, type FROM events WHERE job IS NOT NULL ORDER BY id",
	    NULL));
}

/* The "backoff" events of job since the beginning, in order. */
static json_t *
backoff_events(struct h *h, const char *job, size_t want)
{
	struct h_stream *s;
	json_t *all = h_keep_json(h, json_array()), *ev;

	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	while (json_array_size(all) < want &&
	       (ev = h_stream_event(s, 2000)) != NULL) {
		if (strcmp(h_str(ev, "type"), "backoff") == 0 &&
		    strcmp(h_str(ev, "job"), job) == 0)
			json_array_append(all, ev);
	}
	h_stream_close(s);
	if (json_array_size(all) != want)
		h_fail(all, "%zu backoff events for %s, expected %zu",
		    json_array_size(all), job, want);
	return (all);
}

/* -------------------------------------------------------- restart policy */

H_TEST(restart__on_failure_max_retries_3__four_runs_then_failed)
{
	json_t *j, *runs, *r;
	const char *reason;
	size_t i;

	h_job_create(h, json_pack("{s:s, s:[s], s:{s:s, s:i, s:i}}", "name",
			    "flaky", "argv", "/bin/false", "restart", "policy",
			    "on-failure", "max_retries", 3, "backoff_ms", 20));
	j = h_job_poll(h, "flaky", "failed", 10000);
	h_assert_int(j, "restarts", 3);
	h_assert_int(j, "last_run.run", 4);
	h_assert_int(j, "last_run.exit_code", 1);
	h_assert_null(j, "pid");
	h_assert_null(j, "next_start_at");
	reason = h_str(j, "reason");
	if (strstr(reason, "3 restarts") == NULL ||
	    strstr(reason, "exit code 1") == NULL)
		h_fail(j, "reason does not tell the retries and the last exit");

	runs = runs_of(h, "flaky");
	assert_int_equal(json_array_size(runs), 4);
	for (i = 1; i <= 4; i++) {
		r = run_n(runs, i);
		h_assert_int(r, "run", (json_int_t)i);
		h_assert_int(r, "exit_code", 1);
		h_assert_null(r, "signal");
		if (!h_is_time(h_str(r, "exited_at")))
			h_fail(r, "run %zu has no exited_at", i);
	}
	/* It stays given up: no fifth run. */
	h_sleep_ms(300);
	assert_int_equal(json_array_size(runs_of(h, "flaky")), 4);
	h_assert_str(h_job_get(h, "flaky"), "state", "failed");
}

H_TEST(restart__on_failure_success__not_restarted)
{
	json_t *j;

	h_job_create(h, json_pack("{s:s, s:[s], s:{s:s, s:i, s:i}}", "name",
			    "fine", "argv", "/bin/true", "restart", "policy",
			    "on-failure", "max_retries", 3, "backoff_ms", 20));
	j = h_job_wait(h, "fine");
	h_assert_str(j, "state", "exited");
	/* Ten times the backoff: a restart would have happened by now. */
	h_sleep_ms(300);
	j = h_job_get(h, "fine");
	h_assert_str(j, "state", "exited");
	h_assert_int(j, "restarts", 0);
	h_assert_int(j, "last_run.exit_code", 0);
	h_assert_null(j, "reason");
	assert_int_equal(json_array_size(runs_of(h, "fine")), 1);
}

H_TEST(restart__backoff__delays_double_with_at_most_10pct_jitter)
{
	static const int64_t nominal[] = {100, 200, 400};
	json_t *j, *runs, *evs, *ev;
	int64_t gap[3], delay, due;
	size_t i;

	h_job_create(h, json_pack("{s:s, s:[s], s:{s:s, s:i, s:i}}", "name",
			    "slow", "argv", "/bin/false", "restart", "policy",
			    "on-failure", "max_retries", 3, "backoff_ms", 100));

	/* While it waits, the job object says so and says until when. */
	j = h_job_poll(h, "slow", "backoff", 5000);
	if (!h_is_time(h_str(j, "next_start_at")))
		h_fail(j, "backoff without next_start_at");
	if (strstr(h_str(j, "reason"), "restart") == NULL)
		h_fail(j, "backoff reason does not mention the restart");
	h_assert_null(j, "pid");
	due = time_ms(h_str(j, "next_start_at")) -
	      time_ms(h_str(j, "last_run.exited_at"));
	if (due < 100 - 1 || due > 400 + 40 + 1)
		h_fail(j, "next_start_at is %lld ms after the exit",
		    (long long)due);

	j = h_job_poll(h, "slow", "failed", 10000);
	h_assert_int(j, "restarts", 3);
	runs = runs_of(h, "slow");
	assert_int_equal(json_array_size(runs), 4);

	/* What the daemon decided: 100, 200, 400 ms, each + <= 10%. */
	evs = backoff_events(h, "slow", 3);
	json_array_foreach (evs, i, ev) {
		delay = h_int(ev, "data.delay_ms");
		if (delay < nominal[i] || delay > nominal[i] + nominal[i] / 10)
			h_fail(ev,
			    "backoff %zu: delay %lld ms, expected %lld "
			    "to %lld",
			    i + 1, (long long)delay, (long long)nominal[i],
			    (long long)(nominal[i] + nominal[i] / 10));
		h_assert_int(ev, "data.attempt", (json_int_t)i + 1);
	}
	/*
	 * What happened: each gap between runs lasts about its delay, and
	 * not wildly more. The delay is measured from the moment the daemon
	 * decided, a little after the exit was recorded, on libevent's
	 * cached loop clock, which may lag real time by a few ms: so each
	 * gap may be shorter than its delay by EARLY_MS.
	 */
	for (i = 0; i < 3; i++) {
		gap[i] = time_ms(h_str(run_n(runs, i + 2), "started_at")) -
			 time_ms(h_str(run_n(runs, i + 1), "exited_at"));
		delay = h_int(json_array_get(evs, i), "data.delay_ms");
		if (gap[i] < delay - EARLY_MS ||
		    gap[i] > nominal[i] + nominal[i] / 10 + 500)
			h_fail(runs, "gap %zu->%zu is %lld ms (delay %lld ms)",
			    i + 1, i + 2, (long long)gap[i], (long long)delay);
	}
	if (!(gap[0] < gap[2]))
		h_fail(runs, "gaps did not grow: %lld, %lld, %lld ms",
		    (long long)gap[0], (long long)gap[1], (long long)gap[2]);
}

H_TEST(restart__always_killed_from_outside__new_pid_new_run)
{
	json_t *j, *runs;
	pid_t pid, pid2;
	struct h_proc p;
	int64_t end;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name", "phoenix",
		   "argv", "/bin/sleep", "30", "restart", "policy", "always",
		   "backoff_ms", 50));
	pid = job_pid(j);
	assert_alive_child(h, pid);
	assert_int_equal(h_proc(pid, &p), 0);
	assert_string_equal(p.comm, "sleep");

	/* Our daemon's child: ours to kill, by pid. */
	assert_int_equal(kill(pid, SIGKILL), 0);
	if (!h_wait_gone(pid, 5000))
		fail_msg("killed job %d was not reaped", (int)pid);

	/* Back, as a new process and a new run. */
	end = h_now_ms() + 5000;
	for (;;) {
		j = h_job_get(h, "phoenix");
		if (strcmp(h_str(j, "state"), "running") == 0 &&
		    h_int(j, "last_run.run") >= 2)
			break;
		if (h_now_ms() > end)
			h_fail(j, "not running again 5 s after the kill");
		h_sleep_ms(20);
	}
	h_assert_int(j, "last_run.run", 2);
	h_assert_int(j, "restarts", 1);
	pid2 = job_pid(j);
	assert_true(pid2 != pid);
	assert_alive_child(h, pid2);
	assert_int_equal(h_proc(pid2, &p), 0);
	assert_string_equal(p.comm, "sleep");

	runs = runs_of(h, "phoenix");
	assert_int_equal(json_array_size(runs), 2);
	h_assert_int(run_n(runs, 1), "pid", pid);
	h_assert_str(run_n(runs, 1), "signal", "SIGKILL");
	h_assert_int(run_n(runs, 2), "pid", pid2);
	h_assert_null(run_n(runs, 2), "exited_at");

	/* A requested stop is not a failure: it stays stopped. */
	j = h_call(h, 200, "POST", NULL, "/v1/jobs/phoenix/stop");
	h_assert_str(j, "state", "stopped");
	assert_true(h_wait_gone(pid2, 5000));
	h_sleep_ms(300);
	h_assert_str(h_job_get(h, "phoenix"), "state", "stopped");
	assert_int_equal(json_array_size(runs_of(h, "phoenix")), 2);
}

H_TEST(restart__stop_during_backoff__restart_cancelled)
{
	json_t *j;

	h_job_create(h, json_pack("{s:s, s:[s], s:{s:s, s:i}}", "name",
			    "doomed", "argv", "/bin/false", "restart", "policy",
			    "on-failure", "backoff_ms", 500));
	j = h_job_poll(h, "doomed", "backoff", 5000);
	if (!h_is_time(h_str(j, "next_start_at")))
		h_fail(j, "backoff without next_start_at");
	h_assert_int(j, "last_run.run", 1);

	j = h_call(h, 200, "POST", NULL, "/v1/jobs/doomed/stop");
	h_assert_str(j, "state", "stopped");
	h_assert_null(j, "next_start_at");
	h_assert_null(j, "pid");

	/* Well past the time the restart was due: nothing happened. */
	h_sleep_ms(1000);
	j = h_job_get(h, "doomed");
	h_assert_str(j, "state", "stopped");
	h_assert_int(j, "last_run.run", 1);
	assert_int_equal(json_array_size(runs_of(h, "doomed")), 1);
}

/* --------------------------------------------------------- stop escalation */

H_TEST(stop__sigterm_ignored__sigkill_after_timeout)
{
	json_t *j;
	pid_t pid, sleeper;
	int64_t t0, took;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:i}}", "name", "stubborn",
		   "argv", "/bin/sh", "-c", "trap \"\" TERM; sleep 30", "stop",
		   "timeout_ms", 300));
	pid = job_pid(j);
	/* Once sleep runs, the trap is set (and sleep inherited it). */
	if ((sleeper = h_child_of(pid, "sleep", 5000)) == 0)
		fail_msg("the job's shell %d never started sleep", (int)pid);
	h_learn_pid(h, sleeper);

	t0 = h_now_ms();
	j = h_call(h, 200, "POST", NULL, "/v1/jobs/stubborn/stop");
	took = h_now_ms() - t0;
	h_assert_str(j, "state", "stopped");
	h_assert_str(j, "last_run.signal", "SIGKILL");
	h_assert_null(j, "last_run.exit_code");
	if (took < 300 || took >= 5000)
		h_fail(j, "stop took %lld ms; expected 300 to 5000",
		    (long long)took);
	/* The whole group got the SIGKILL, and nothing is left. */
	assert_true(h_wait_gone(pid, 2000));
	assert_true(h_wait_gone(sleeper, 2000));
}

/* Move pid into the cgroup of each v1 hierarchy that member is in
 * (where "") or into its parent (where ".."). */
static void
cg_move(struct h *h, pid_t member, pid_t pid, const char *where)
{
	static const char *const ctls[] = {
	    "freezer", "pids", "memory", "cpuset", "cpu", "cpuacct"};
	const char *dir;
	size_t i;
	FILE *fp;

	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		if ((dir = h_cg_of(h, member, ctls[i])) == NULL)
			continue;
		fp = fopen(h_fmt(h, "%s/%s/cgroup.procs", dir, where), "w");
		if (fp == NULL || fprintf(fp, "%d\n", (int)pid) < 0 ||
		    fclose(fp) != 0)
			fail_msg("moving %d to %s/%s: %s", (int)pid, dir, where,
			    strerror(errno));
	}
}

/*
 * A member that the stop signal missed gets it when a poll of the stop
 * sees it, not the SIGKILL at the timeout. The kernel lists a child in its
 * cgroup a moment after the fork that made it could still be stopped: a
 * shell signalled as it forks left a child behind (2 % of the stops sent
 * a millisecond after the job started, here). Made without the race: tail
 * is moved out of the job's cgroups before the stop and back once its
 * parent, the main process, is gone; a sleep that ignores SIGTERM keeps
 * the stop on.
 */
H_TEST(stop__member_the_signal_missed__signalled_when_seen)
{
	static const char req[] = "POST /v1/jobs/late/stop HTTP/1.1\r\n"
				  "Host: schedd\r\nContent-Length: 0\r\n"
				  "Connection: close\r\n\r\n";
	char buf[4096];
	json_t *j;
	pid_t pid, tail, deaf;
	int64_t t0, took;
	size_t len = 0;
	ssize_t n;
	int fd;

	if (h_cg_mount(h, "freezer") == NULL && h_cg_mount(h, "pids") == NULL)
		h_skip(h, "no cgroup v1 hierarchy to move a process in");
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s], s:{s:i}}", "name",
				"late", "argv", "/bin/sh", "-c",
				"(trap '' TERM; exec sleep 2) & "
				"tail -f /dev/null & exec sleep 61",
				"stop", "timeout_ms", 20000));
	pid = job_pid(j);
	if ((tail = h_child_of(pid, "tail", 5000)) == 0 ||
	    (deaf = h_child_of(pid, "sleep", 5000)) == 0)
		fail_msg("the job %d never started tail and sleep", (int)pid);
	h_learn_pid(h, tail);
	h_learn_pid(h, deaf);
	cg_move(h, deaf, tail, "..");

	t0 = h_now_ms();
	fd = h_raw_connect(h);
	assert_int_equal(write(fd, req, sizeof(req) - 1), sizeof(req) - 1);
	/* The main process had the signal; tail is now an orphan. */
	assert_true(h_wait_gone(pid, 2000));
	cg_move(h, deaf, tail, "");
	if (!h_wait_gone(tail, 1000))
		fail_msg("tail (%d) outlived its parent's stop by 1 s: the "
			 "stop signal never reached it",
		    (int)tail);
	/* The stop ends with the deaf sleep (2 s), not at the timeout. */
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	took = h_now_ms() - t0;
	h_raw_close(h, fd);
	assert_int_equal(h_raw_status(buf), 200);
	h_assert_str(h_raw_json(h, buf, len), "state", "stopped");
	if (took >= 10000)
		fail_msg("stop took %lld ms", (long long)took);
	assert_true(h_wait_gone(deaf, 2000));
}

/* ---------------------------------------------------------------- job files */

H_TEST(jobfiles__present_at_startup__loaded_with_source)
{
	json_t *j, *web, *db;

	write_job_file(h, "alpha.json",
	    "{\"name\": \"alpha\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	write_job_file(h, "beta.json", "{\"argv\": [\"/bin/sleep\", \"31\"]}");
	/* Not job files: skipped. */
	write_job_file(h, "notes.txt", "{\"argv\": [\"/bin/true\"]}");
	/* Read in name order, loaded in dependency order. */
	write_job_file(h, "0web.json",
	    "{\"name\": \"web\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"after\": [\"zdb\"]}");
	write_job_file(h, "zdb.json",
	    "{\"name\": \"zdb\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	restart_daemon(h);

	j = h_job_get(h, "alpha");
	h_assert_str(j, "source", job_source(h, "alpha.json"));
	assert_alive_child(h, job_pid(j));
	/* No "name": named after its file. */
	j = h_job_get(h, "beta");
	h_assert_str(j, "name", "beta");
	h_assert_str(j, "source", job_source(h, "beta.json"));
	h_assert_str(j, "argv[1]", "31");
	assert_alive_child(h, job_pid(j));

	web = h_job_poll(h, "web", "running", 5000);
	db = h_job_get(h, "zdb");
	h_assert_str(web, "source", job_source(h, "0web.json"));
	assert_alive_child(h, job_pid(web));
	assert_alive_child(h, job_pid(db));
	if (time_ms(h_str(web, "last_run.started_at")) <
	    time_ms(h_str(db, "last_run.started_at")))
		h_fail(web, "web started before zdb");
	assert_int_equal(h_int(h_assert_healthy(h), "jobs"), 4);
}

H_TEST(jobfiles__bad_file__reported_with_path_and_field_others_untouched)
{
	json_t *j, *r, *e;
	pid_t pid;

	write_job_file(h, "alpha.json",
	    "{\"name\": \"alpha\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	restart_daemon(h);
	pid = job_pid(h_job_get(h, "alpha"));

	write_job_file(h, "bad.json",
	    "{\"name\": \"bad\", \"argv\": [\"/bin/true\"], "
	    "\"restart\": {\"policy\": \"sometimes\"}}");
	write_job_file(h, "broken.json", "{\"name\": \"broken\", \"argv\": [");
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	h_assert_str(r, "jobs_dir", jobs_dir(h));
	assert_int_equal(json_array_size(h_at(r, "errors")), 2);
	e = reload_error(r, job_file(h, "bad.json"));
	h_assert_str(e, "field", "restart.policy");
	h_assert_str(e, "code", "invalid_argument");
	e = reload_error(r, job_file(h, "broken.json"));
	if (!json_is_string(h_at(e, "message")))
		h_fail(e, "error without a message");
	assert_names(r, "unchanged", (const char *const[]){"alpha", NULL});
	assert_names(r, "added", (const char *const[]){NULL});
	assert_names(r, "changed", (const char *const[]){NULL});
	assert_names(r, "removed", (const char *const[]){NULL});
	assert_no_job(h, "bad");
	assert_no_job(h, "broken");

	/* alpha still runs, the same process. */
	j = h_job_get(h, "alpha");
	assert_int_equal(job_pid(j), pid);
	h_assert_int(j, "last_run.run", 1);
	assert_alive_child(h, pid);

	/* Fixed, the file becomes a job at the next reload. */
	write_job_file(h, "bad.json",
	    "{\"name\": \"bad\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	remove_job_file(h, "broken.json");
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_names(r, "added", (const char *const[]){"bad", NULL});
	assert_int_equal(json_array_size(h_at(r, "errors")), 0);
	assert_alive_child(h, job_pid(h_job_get(h, "bad")));
}

H_TEST(jobfiles__reload__adds_changes_removes_api_jobs_untouched)
{
	json_t *j, *r, *e;
	pid_t keep, gone, api;

	write_job_file(h, "keep.json",
	    "{\"name\": \"keep\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"env\": {\"SCHEDD_TEST_V\": \"1\"}}");
	write_job_file(h, "gone.json",
	    "{\"name\": \"gone\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	restart_daemon(h);
	keep = job_pid(h_job_get(h, "keep"));
	gone = job_pid(h_job_get(h, "gone"));
	j = h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "apijob",
				"argv", "/bin/sleep", "30"));
	h_assert_str(j, "source", "api");
	api = job_pid(j);
	assert_string_equal(proc_env(h, keep, "SCHEDD_TEST_V"), "1");

	write_job_file(h, "new.json",
	    "{\"name\": \"fresh\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	write_job_file(h, "keep.json",
	    "{\"name\": \"keep\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"env\": {\"SCHEDD_TEST_V\": \"2\"}}");
	remove_job_file(h, "gone.json");
	/* A file may not take over a job made through the API. */
	write_job_file(h, "clash.json",
	    "{\"name\": \"apijob\", \"argv\": [\"/bin/true\"]}");

	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_names(r, "added", (const char *const[]){"fresh", NULL});
	assert_names(r, "changed", (const char *const[]){"keep", NULL});
	assert_names(r, "removed", (const char *const[]){"gone", NULL});
	assert_names(r, "unchanged", (const char *const[]){NULL});
	assert_int_equal(json_array_size(h_at(r, "errors")), 1);
	e = reload_error(r, job_file(h, "clash.json"));
	h_assert_str(e, "field", "name");
	h_assert_str(e, "code", "conflict");

	/* Added. */
	j = h_job_get(h, "fresh");
	h_assert_str(j, "source", job_source(h, "new.json"));
	assert_alive_child(h, job_pid(j));

	/* Changed: the spec now, the process at the next start. */
	j = h_job_get(h, "keep");
	h_assert_str(j, "env.SCHEDD_TEST_V", "2");
	assert_int_equal(job_pid(j), keep);
	h_assert_int(j, "last_run.run", 1);
	assert_alive_child(h, keep);
	assert_string_equal(proc_env(h, keep, "SCHEDD_TEST_V"), "1");

	/* Removed: stopped (its stop signal; the answer does not wait for
	 * the process to end), then gone. */
	poll_status(h, "gone", 404, 5000);
	assert_no_job(h, "gone");
	if (!h_wait_gone(gone, 5000))
		fail_msg("the removed job's process %d still runs", (int)gone);

	/* The API's job: same spec, same process. */
	j = h_job_get(h, "apijob");
	h_assert_str(j, "source", "api");
	h_assert_str(j, "argv[0]", "/bin/sleep");
	assert_int_equal(job_pid(j), api);
	assert_alive_child(h, api);

	/* The changed spec applies at the next start. */
	j = h_call(h, 200, "POST", NULL, "/v1/jobs/keep/restart");
	assert_true(job_pid(j) != keep);
	assert_string_equal(proc_env(h, job_pid(j), "SCHEDD_TEST_V"), "2");

	/* Reading the same files again changes nothing. */
	remove_job_file(h, "clash.json");
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_names(
	    r, "unchanged", (const char *const[]){"fresh", "keep", NULL});
	assert_names(r, "added", (const char *const[]){NULL});
	assert_names(r, "changed", (const char *const[]){NULL});
	assert_names(r, "removed", (const char *const[]){NULL});
}

/* One reload's answer: which list names job. */
static const char *
reload_said(struct h *h, const char *job)
{
	static const char *const lists[] = {
	    "added", "changed", "unchanged", "removed", NULL};
	json_t *r = h_call(h, 200, "POST", NULL, "/v1/reload"), *v;
	size_t i;
	int k;

	for (k = 0; lists[k] != NULL; k++)
		json_array_foreach (h_at(r, lists[k]), i, v)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), job) == 0)
				return (lists[k]);
	h_fail(r, "the reload does not name %s", job);
	return (NULL);
}

/*
 * A reload knows an unchanged file by the text its job's spec was made
 * from, kept since the file was applied, and after a restart by the spec
 * itself: each change is seen, a change back too, and a file read again
 * as it was is unchanged, before and after a restart.
 */
H_TEST(jobfiles__reload__each_change_seen_across_restarts)
{
	static const char *const text[] = {
	    "{\"name\": \"v\", \"argv\": [\"/bin/true\"], "
	    "\"start\": false, \"env\": {\"X\": \"1\"}}",
	    "{\"name\": \"v\", \"argv\": [\"/bin/true\"], "
	    "\"start\": false, \"env\": {\"X\": \"2\"}}"};

	write_job_file(h, "v.json", text[0]);
	assert_string_equal(reload_said(h, "v"), "added");
	assert_string_equal(reload_said(h, "v"), "unchanged");
	write_job_file(h, "v.json", text[1]);
	assert_string_equal(reload_said(h, "v"), "changed");
	assert_string_equal(reload_said(h, "v"), "unchanged");
	write_job_file(h, "v.json", text[0]);
	assert_string_equal(reload_said(h, "v"), "changed");
	h_assert_str(h_job_get(h, "v"), "env.X", "1");
	/* From the store: the spec is all there is to compare with. */
	restart_daemon(h);
	assert_string_equal(reload_said(h, "v"), "unchanged");
	assert_string_equal(reload_said(h, "v"), "unchanged");
	restart_daemon(h);
	write_job_file(h, "v.json", text[1]);
	assert_string_equal(reload_said(h, "v"), "changed");
	h_assert_str(h_job_get(h, "v"), "env.X", "2");
	write_job_file(h, "v.json", text[0]);
	assert_string_equal(reload_said(h, "v"), "changed");
	assert_string_equal(reload_said(h, "v"), "unchanged");
}

/*
 * Many files: a reload finds each job's file among all of them (a sorted
 * lookup), so exactly the jobs whose files went are removed, whatever
 * their place in the listing.
 */
H_TEST(jobfiles__reload_of_600_files__removes_exactly_the_gone_ones)
{
	enum { N = 600 };
	const char *gone[N / 7 + 3];
	json_t *r;
	int i, ngone = 0;

	for (i = 0; i < N; i++)
		write_job_file(h, h_fmt(h, "f%d.json", i),
		    h_fmt(h,
			"{\"name\": \"f%d\", \"argv\": [\"/bin/true\"], "
			"\"start\": false}",
			i));
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_int_equal(json_array_size(h_at(r, "added")), N);
	assert_int_equal(json_array_size(h_at(r, "errors")), 0);

	/* Every 7th, and the first and last in name order ("f0", "f99"). */
	for (i = 0; i < N; i += 7) {
		gone[ngone++] = h_fmt(h, "f%d", i);
		remove_job_file(h, h_fmt(h, "f%d.json", i));
	}
	gone[ngone++] = "f99";
	remove_job_file(h, "f99.json");
	gone[ngone] = NULL;
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_names(r, "removed", gone);
	assert_int_equal(json_array_size(h_at(r, "unchanged")), N - ngone);
	assert_names(r, "added", (const char *const[]){NULL});
	assert_names(r, "changed", (const char *const[]){NULL});
	for (i = 0; i < ngone; i++)
		poll_status(h, gone[i], 404, 5000);
	/* Their neighbours in name order are kept. */
	h_assert_str(h_call(h, 200, "GET", NULL, "/v1/jobs/f1"), "name", "f1");
	h_assert_str(
	    h_call(h, 200, "GET", NULL, "/v1/jobs/f97"), "name", "f97");
}

/*
 * A FIFO named like a job file: opening it for reading waited for a
 * writer, in the event loop, so schedd never got past start-up (or froze
 * at the next reload). It is refused like any file that is not regular.
 */
H_TEST(jobfiles__fifo_named_json__refused_not_waited_for)
{
	json_t *r, *e;

	write_job_file(h, "a.json",
	    "{\"name\": \"a\", \"argv\": [\"/bin/true\"], \"start\": false}");
	if (mkfifo(job_file(h, "fifo.json"), 0600) == -1)
		fail_msg("mkfifo: %s", strerror(errno));
	restart_daemon(h);
	h_assert_str(h_job_get(h, "a"), "source", job_source(h, "a.json"));
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	e = reload_error(r, job_file(h, "fifo.json"));
	h_assert_str(e, "code", "invalid_argument");
	if (strstr(h_str(e, "message"), "not a regular file") == NULL)
		h_fail(e, "the error does not say the file is not regular");
	assert_names(r, "unchanged", (const char *const[]){"a", NULL});
}

/* Read one whole HTTP answer from fd within ms, or fail. */
static const char *
raw_answer(struct h *h, int fd, int ms)
{
	char *buf = h_keep(h, calloc(1, 65536));
	size_t len = 0;
	int64_t end = h_now_ms() + ms;
	struct pollfd pfd;
	ssize_t n;

	while (h_raw_count(buf, len) < 1) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (h_now_ms() >= end ||
		    poll(&pfd, 1, (int)(end - h_now_ms())) <= 0)
			fail_msg(
			    "no answer within %d ms: %.*s", ms, (int)len, buf);
		if ((n = read(fd, buf + len, 65535 - len)) <= 0)
			fail_msg("connection ended: %.*s", (int)len, buf);
		len += (size_t)n;
	}
	return (buf);
}

/*
 * Reloads asked for at once, while one reads the files off the loop,
 * wait for it and then share one read; each is answered, and a file
 * added before them is added exactly once. A client that leaves before
 * its answer costs nothing (the reload is still made): when schedd saw
 * its request first, that read added the file, unheard, and the others
 * find it unchanged.
 */
H_TEST(jobfiles__reloads_at_once__each_answered_one_add)
{
	static const char req[] = "POST /v1/reload HTTP/1.1\r\nHost: x\r\n"
				  "Content-Length: 0\r\n\r\n";
	enum { N = 4 };
	int fds[N], gone, i, adds = 0, created = 0;
	struct h_stream *s;
	const char *a;
	json_t *j, *ev;

	write_job_file(h, "n.json",
	    "{\"name\": \"n\", \"argv\": [\"/bin/true\"], \"start\": false}");
	gone = h_raw_connect(h);
	if (write(gone, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		fail_msg("write: %s", strerror(errno));
	for (i = 0; i < N; i++) {
		fds[i] = h_raw_connect(h);
		if (write(fds[i], req, sizeof(req) - 1) !=
		    (ssize_t)sizeof(req) - 1)
			fail_msg("write: %s", strerror(errno));
	}
	h_raw_close(h, gone);
	for (i = 0; i < N; i++) {
		a = raw_answer(h, fds[i], 10000);
		if (h_raw_status(a) != 200)
			fail_msg("reload %d: %s", i, a);
		j = h_raw_json(h, a, strlen(a));
		adds += (int)json_array_size(h_at(j, "added"));
		if (json_array_size(h_at(j, "added")) +
			json_array_size(h_at(j, "unchanged")) !=
		    1)
			h_fail(j, "reload %d does not name n once", i);
	}
	if (adds > 1)
		fail_msg("n added by %d reloads", adds);
	h_assert_str(h_job_get(h, "n"), "source", job_source(h, "n.json"));
	/* Made once, whoever heard of it. */
	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	while ((ev = h_stream_event(s, 500)) != NULL)
		if (strcmp(h_str(ev, "job"), "n") == 0 &&
		    strcmp(h_str(ev, "type"), "created") == 0)
			created++;
	h_stream_close(s);
	assert_int_equal(created, 1);
	h_call(h, 200, "GET", NULL, "/v1/health");
}

H_TEST(jobfiles__sighup__same_as_reload)
{
	json_t *j;
	int64_t end;
	pid_t pid;

	write_job_file(h, "hup.json",
	    "{\"name\": \"hup\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	assert_int_equal(kill(h->daemon, SIGHUP), 0);
	poll_status(h, "hup", 200, 5000);
	j = h_job_poll(h, "hup", "running", 5000);
	h_assert_str(j, "source", job_source(h, "hup.json"));
	pid = job_pid(j);

	write_job_file(h, "hup.json",
	    "{\"name\": \"hup\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"stop\": {\"timeout_ms\": 1234}}");
	assert_int_equal(kill(h->daemon, SIGHUP), 0);
	end = h_now_ms() + 5000;
	for (;;) {
		j = h_job_get(h, "hup");
		if (json_is_integer(h_at(j, "stop.timeout_ms")) &&
		    h_int(j, "stop.timeout_ms") == 1234)
			break;
		if (h_now_ms() > end)
			h_fail(j, "SIGHUP did not update the spec");
		h_sleep_ms(20);
	}
	assert_int_equal(job_pid(j), pid);

	remove_job_file(h, "hup.json");
	assert_int_equal(kill(h->daemon, SIGHUP), 0);
	poll_status(h, "hup", 404, 5000);
	if (!h_wait_gone(pid, 5000))
		fail_msg("the removed job's process %d still runs", (int)pid);
	h_assert_healthy(h);
}

/* ------------------------------------------------------------------ after */

H_TEST(after__dependency_not_running__queued_until_it_starts)
{
	json_t *a, *b;
	const char *reason;

	a = h_job_create(h, json_pack("{s:s, s:[s,s], s:b}", "name", "A",
				"argv", "/bin/sleep", "30", "start", 0));
	h_assert_str(a, "state", "created");
	b = h_job_create(h, json_pack("{s:s, s:[s,s], s:[s]}", "name", "B",
				"argv", "/bin/sleep", "30", "after", "A"));
	h_assert_str(b, "state", "queued");
	h_assert_null(b, "pid");
	h_assert_null(b, "last_run");
	reason = h_str(b, "reason");
	if (strstr(reason, "A") == NULL)
		h_fail(b, "the queued reason does not name A");

	/* It waits as long as A does not run. */
	h_sleep_ms(300);
	b = h_job_get(h, "B");
	h_assert_str(b, "state", "queued");
	h_assert_null(b, "last_run");

	a = h_call(h, 200, "POST", NULL, "/v1/jobs/A/start");
	assert_alive_child(h, job_pid(a));
	b = h_job_poll(h, "B", "running", 5000);
	assert_alive_child(h, job_pid(b));
	h_assert_null(b, "reason");
	a = h_job_get(h, "A");
	if (time_ms(h_str(b, "last_run.started_at")) <
	    time_ms(h_str(a, "last_run.started_at")))
		h_fail(b, "B started before A");
}

/*
 * Queued jobs start in id order, however they came to be queued: Q1 is
 * stopped and queued again after Q2 and Q3, and still starts first.
 */
H_TEST(after__requeued_older_job__queued_jobs_start_in_id_order)
{
	struct h_stream *s;
	json_t *ev;
	const char *names[] = {"Q1", "Q2", "Q3"};
	int seen = 0, i;

	h_job_create(h, json_pack("{s:s, s:[s,s], s:b}", "name", "A", "argv",
			    "/bin/sleep", "30", "start", 0));
	for (i = 0; i < 3; i++)
		h_assert_str(
		    h_job_create(
			h, json_pack("{s:s, s:[s,s], s:[s]}", "name", names[i],
			       "argv", "/bin/sleep", "30", "after", "A")),
		    "state", "queued");
	h_assert_str(h_call(h, 200, "POST", NULL, "/v1/jobs/Q1/stop"), "state",
	    "stopped");
	h_assert_str(h_call(h, 200, "POST", NULL, "/v1/jobs/Q1/start"), "state",
	    "queued");

	h_call(h, 200, "POST", NULL, "/v1/jobs/A/start");
	for (i = 0; i < 3; i++)
		h_job_poll(h, names[i], "running", 5000);
	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	while (seen < 3 && (ev = h_stream_event(s, 3000)) != NULL) {
		if (strcmp(h_str(ev, "type"), "running") != 0 ||
		    strcmp(h_str(ev, "job"), "A") == 0)
			continue;
		h_assert_str(ev, "job", names[seen]);
		seen++;
	}
	h_stream_close(s);
	assert_int_equal(seen, 3);
}

H_TEST(after__unknown_name__422_naming_the_element)
{
	json_t *j;

	j = h_call(h, 422, "POST",
	    json_pack("{s:s, s:[s,s], s:[s]}", "name", "C", "argv",
		"/bin/sleep", "30", "after", "nosuchjob"),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "after[0]");
	assert_no_job(h, "C");

	h_job_create(h, json_pack("{s:s, s:[s,s], s:b}", "name", "A", "argv",
			    "/bin/sleep", "30", "start", 0));
	j = h_call(h, 422, "POST",
	    json_pack("{s:s, s:[s,s], s:[s,s]}", "name", "C", "argv",
		"/bin/sleep", "30", "after", "A", "nosuchjob"),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "after[1]");
	/* Nor after itself. */
	j = h_call(h, 422, "POST",
	    json_pack("{s:s, s:[s,s], s:[s]}", "name", "C", "argv",
		"/bin/sleep", "30", "after", "C"),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "after[0]");
	assert_no_job(h, "C");
}

H_TEST(after__cycle_among_job_files__refused)
{
	json_t *r, *e, *j;

	write_job_file(h, "x.json",
	    "{\"name\": \"x\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"after\": [\"y\"]}");
	write_job_file(h, "y.json",
	    "{\"name\": \"y\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"after\": [\"x\"]}");
	write_job_file(h, "z.json",
	    "{\"name\": \"z\", \"argv\": [\"/bin/sleep\", \"30\"]}");
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_names(r, "added", (const char *const[]){"z", NULL});
	assert_int_equal(json_array_size(h_at(r, "errors")), 2);
	assert_after_field(reload_error(r, job_file(h, "x.json")));
	assert_after_field(reload_error(r, job_file(h, "y.json")));
	assert_no_job(h, "x");
	assert_no_job(h, "y");

	/* A cycle made by changing a loaded file is refused too, and the
	 * job keeps its old spec. */
	remove_job_file(h, "x.json");
	write_job_file(h, "y.json",
	    "{\"name\": \"y\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"after\": [\"z\"]}");
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_names(r, "added", (const char *const[]){"y", NULL});
	assert_int_equal(json_array_size(h_at(r, "errors")), 0);
	h_job_poll(h, "y", "running", 5000);
	write_job_file(h, "z.json",
	    "{\"name\": \"z\", \"argv\": [\"/bin/sleep\", \"30\"], "
	    "\"after\": [\"y\"]}");
	r = h_call(h, 200, "POST", NULL, "/v1/reload");
	assert_int_equal(json_array_size(h_at(r, "errors")), 1);
	e = reload_error(r, job_file(h, "z.json"));
	h_assert_str(e, "field", "after[0]");
	h_assert_str(e, "code", "unsatisfiable");
	assert_names(r, "changed", (const char *const[]){NULL});
	j = h_job_get(h, "z");
	assert_int_equal(json_array_size(h_at(j, "after")), 0);
}

H_TEST(after__shutdown__dependents_stop_before_their_dependencies)
{
	json_t *ev;
	pid_t pa, pb, pc;
	int st;

	/* C after B (and A), B after A. */
	pa = job_pid(h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "A",
					 "argv", "/bin/sleep", "30")));
	pb = job_pid(
	    h_job_create(h, json_pack("{s:s, s:[s,s], s:[s]}", "name", "B",
				"argv", "/bin/sleep", "30", "after", "A")));
	pc = job_pid(h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:[s,s]}", "name", "C", "argv",
		   "/bin/sleep", "30", "after", "B", "A")));

	st = h_daemon_stop(h, SIGTERM);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("schedd did not exit 0 on SIGTERM (status %#x)", st);
	assert_true(h_wait_gone(pa, 2000));
	assert_true(h_wait_gone(pb, 2000));
	assert_true(h_wait_gone(pc, 2000));

	ev = db_events(h);
	/* Each stops only after the one that depends on it has stopped. */
	if (!(db_event_id(ev, "C", "stopping") <
		    db_event_id(ev, "C", "stopped") &&
		db_event_id(ev, "C", "stopped") <
		    db_event_id(ev, "B", "stopping") &&
		db_event_id(ev, "B", "stopping") <
		    db_event_id(ev, "B", "stopped") &&
		db_event_id(ev, "B", "stopped") <
		    db_event_id(ev, "A", "stopping") &&
		db_event_id(ev, "A", "stopping") <
		    db_event_id(ev, "A", "stopped")))
		h_fail(ev, "shutdown order is not C, B, A");
	/* And they started in the chain's order. */
	if (!(db_event_id(ev, "A", "running") <
		    db_event_id(ev, "B", "running") &&
		db_event_id(ev, "B", "running") <
		    db_event_id(ev, "C", "running")))
		h_fail(ev, "start order is not A, B, C");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(restart__on_failure_max_retries_3__four_runs_then_failed),
	    H_UNIT(restart__on_failure_success__not_restarted),
	    H_UNIT(restart__backoff__delays_double_with_at_most_10pct_jitter),
	    H_UNIT(restart__always_killed_from_outside__new_pid_new_run),
	    H_UNIT(restart__stop_during_backoff__restart_cancelled),
	    H_UNIT(stop__sigterm_ignored__sigkill_after_timeout),
	    H_UNIT(stop__member_the_signal_missed__signalled_when_seen),
	    H_UNIT(jobfiles__present_at_startup__loaded_with_source),
	    H_UNIT(
		jobfiles__bad_file__reported_with_path_and_field_others_untouched),
	    H_UNIT(jobfiles__reload__adds_changes_removes_api_jobs_untouched),
	    H_UNIT(jobfiles__reload__each_change_seen_across_restarts),
	    H_UNIT(
		jobfiles__reload_of_600_files__removes_exactly_the_gone_ones),
	    H_UNIT(jobfiles__fifo_named_json__refused_not_waited_for),
	    H_UNIT(jobfiles__reloads_at_once__each_answered_one_add),
	    H_UNIT(jobfiles__sighup__same_as_reload),
	    H_UNIT(after__dependency_not_running__queued_until_it_starts),
	    H_UNIT(after__requeued_older_job__queued_jobs_start_in_id_order),
	    H_UNIT(after__unknown_name__422_naming_the_element),
	    H_UNIT(after__cycle_among_job_files__refused),
	    H_UNIT(after__shutdown__dependents_stop_before_their_dependencies),
	};

	return (H_MAIN(tests));
}
