/* SPDX-License-Identifier: ISC */
/*
 * Persistence: jobs, runs and events survive the daemon being killed with
 * SIGKILL and a clean SIGTERM shutdown. After a restart on the same state
 * directory the API must show the same jobs and runs, event ids must carry
 * on strictly increasing (never reused), and ?since=ID must replay exactly
 * the later events once. The database is also opened directly, read-only,
 * with the sqlite3 C API: integrity, WAL mode and the rows themselves.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests/integration/harness.h"

/* Every event from since on, until the stream is idle for 500 ms. */
static json_t *
events_since(struct h *h, json_int_t since)
{
	struct h_stream *s;
	json_t *all = h_keep_json(h, json_array()), *ev;

	s = h_stream_open(h, "/v1/events?since=%" JSON_INTEGER_FORMAT, since);
	assert_int_equal(h_stream_status(s), 200);
	while ((ev = h_stream_event(s, 500)) != NULL)
		json_array_append(all, ev);
	h_stream_close(s);
	return (all);
}

static json_int_t
last_id(json_t *events)
{
	size_t n = json_array_size(events);

	return (n ? h_int(json_array_get(events, n - 1), "id") : 0);
}

/* b[off..] equals a, element by element (id, type, job, run, data). */
static void
assert_same_events(json_t *a, json_t *b, size_t off)
{
	static const char *const keys[] = {
	    "id", "type", "job", "job_id", "run", "data", "time"};
	json_t *x, *y;
	size_t i, k;

	if (json_array_size(b) < off + json_array_size(a))
		h_fail(b, "expected at least %zu events",
		    off + json_array_size(a));
	json_array_foreach (a, i, x) {
		y = json_array_get(b, off + i);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!json_equal(json_object_get(x, keys[k]),
				json_object_get(y, keys[k])))
				h_fail(y,
				    "event differs in \"%s\" from the "
				    "one seen before",
				    keys[k]);
	}
}

/* First column of the first row, as text (kept); NULL if no row. */
static const char *
q1(struct h *h, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	const char *v = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = h_fmt(h, "%s",
		    sqlite3_column_text(st, 0)
			? (const char *)sqlite3_column_text(st, 0)
			: "(null)");
	else if (rc != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return (v);
}

static sqlite3 *
db_open(struct h *h)
{
	sqlite3 *db = NULL;
	const char *path = h_fmt(h, "%s/schedd.db", h->state);

	/* Read-only: a closing reader must not checkpoint the daemon's WAL. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail_msg("open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
	sqlite3_busy_timeout(db, 5000);
	return (db);
}

/* A job reported running must really have its process. */
static void
assert_not_phantom(json_t *job)
{
	json_t *pid = json_object_get(job, "pid");

	if (json_is_integer(pid) &&
	    kill((pid_t)json_integer_value(pid), 0) == -1)
		h_fail(job,
		    "the job claims pid %" JSON_INTEGER_FORMAT
		    ", which does not exist",
		    json_integer_value(pid));
	if (strcmp(h_str(job, "state"), "running") == 0 &&
	    !json_is_integer(pid))
		h_fail(job, "running without a pid");
}

H_TEST(store__kill9_restart__jobs_runs_and_events_survive)
{
	static const char *const names[] = {"a", "b", "c", "d"};
	json_t *before[4], *runs_before[4], *after, *ev1, *ev2, *tail, *j;
	struct h_proc p;
	json_int_t mid;
	sqlite3 *db;
	pid_t cpid;
	size_t i, half;
	int st;

	h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "a", "argv",
			    "/bin/sh", "-c", "exit 3"));
	h_job_wait(h, "a");
	h_call(h, 200, "POST", NULL, "/v1/jobs/a/start");
	h_job_wait(h, "a");
	h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "b", "argv",
			    "/bin/true", "start", 0));
	j = h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "c", "argv",
				"/bin/sleep", "30"));
	cpid = (pid_t)h_int(j, "pid");
	h_job_create(h,
	    json_pack("{s:s, s:[s]}", "name", "d", "argv", "/no/such/binary"));
	for (i = 0; i < 4; i++) {
		before[i] = h_job_get(h, names[i]);
		runs_before[i] =
		    h_call(h, 200, "GET", NULL, "/v1/jobs/%s/runs", names[i]);
	}
	ev1 = events_since(h, 0);
	h_assert_ids_increasing(ev1);
	/* created x4, running/exited x2 for a, running for c, failed d */
	assert_true(json_array_size(ev1) >= 9);

	st = h_daemon_stop(h, SIGKILL);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* The orphaned job came back to the harness, its subreaper. */
	assert_int_equal(h_proc(cpid, &p), 0);
	assert_int_equal(p.ppid, getpid());
	kill(cpid, SIGKILL);
	assert_int_equal(waitpid(cpid, NULL, 0), cpid);

	h_daemon_start(h);

	after = h_call(h, 200, "GET", NULL, "/v1/jobs");
	assert_int_equal(json_array_size(json_object_get(after, "jobs")), 4);
	for (i = 0; i < 4; i++) {
		j = h_job_get(h, names[i]);
		h_assert_int(j, "id", h_int(before[i], "id"));
		if (!json_equal(json_object_get(j, "argv"),
			json_object_get(before[i], "argv")))
			h_fail(j, "argv changed");
		assert_not_phantom(j);
		if (i == 2) {
			/* c was running: whatever it says now, run 1 stays. */
			h_assert_int(
			    h_call(h, 200, "GET", NULL, "/v1/jobs/c/runs"),
			    "runs[0].pid", cpid);
			continue;
		}
		h_assert_str(j, "state", h_str(before[i], "state"));
		if (!json_equal(json_object_get(j, "last_run"),
			json_object_get(before[i], "last_run")))
			h_fail(j, "last_run changed across the restart");
		if (!json_equal(h_call(h, 200, "GET", NULL, "/v1/jobs/%s/runs",
				    names[i]),
			runs_before[i]))
			h_fail(runs_before[i], "runs of %s changed", names[i]);
	}
	h_assert_int(h_job_get(h, "a"), "last_run.exit_code", 3);
	h_assert_int(h_job_get(h, "a"), "last_run.run", 2);
	h_assert_str(h_job_get(h, "d"), "last_run.error",
	    "execve /no/such/binary: No such file or directory");

	/* Events: the old ones unchanged, new ones after them. */
	ev2 = events_since(h, 0);
	h_assert_ids_increasing(ev2);
	assert_same_events(ev1, ev2, 0);
	half = json_array_size(ev2) / 2;
	mid = h_int(json_array_get(ev2, half), "id");
	tail = events_since(h, mid);
	assert_int_equal(
	    json_array_size(tail), json_array_size(ev2) - half - 1);
	assert_same_events(tail, ev2, half + 1);
	tail = events_since(h, last_id(ev2));
	assert_int_equal(json_array_size(tail), 0);

	/* A new job's events carry on after the old ids. */
	h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "e", "argv",
			    "/bin/true", "start", 0));
	tail = events_since(h, last_id(ev2));
	assert_true(json_array_size(tail) >= 1);
	h_assert_str(json_array_get(tail, 0), "type", "created");
	h_assert_str(json_array_get(tail, 0), "job", "e");
	assert_true(h_int(json_array_get(tail, 0), "id") > last_id(ev2));

	db = db_open(h);
	assert_string_equal(q1(h, db, "PRAGMA integrity_check"), "ok");
	assert_string_equal(q1(h, db, "PRAGMA journal_mode"), "wal");
	assert_true(atoi(q1(h, db, "PRAGMA user_version")) >= 1);
	assert_null(q1(h, db, "PRAGMA foreign_key_check"));
	assert_string_equal(q1(h, db, "SELECT count(*) FROM jobs"), "5");
	assert_string_equal(q1(h, db,
				"SELECT group_concat(name, ',') FROM "
				"(SELECT name FROM jobs ORDER BY id)"),
	    "a,b,c,d,e");
	/* a: 2 runs, c: 1, d: 1 (its failed exec is a run). */
	assert_string_equal(q1(h, db,
				"SELECT count(*) FROM runs WHERE job_id = "
				"(SELECT id FROM jobs WHERE name = 'a')"),
	    "2");
	assert_string_equal(q1(h, db, "SELECT count(*) FROM runs"), "4");
	assert_string_equal(q1(h, db,
				"SELECT exit_code FROM runs WHERE job_id = "
				"(SELECT id FROM jobs WHERE name = 'a') "
				"AND run = 2"),
	    "3");
	assert_string_equal(q1(h, db, "SELECT max(id) FROM events"),
	    h_fmt(h, "%" JSON_INTEGER_FORMAT,
		h_int(json_array_get(tail, json_array_size(tail) - 1), "id")));
	assert_true(atoi(q1(h, db, "SELECT count(*) FROM events")) ==
		    (int)(json_array_size(ev2) + json_array_size(tail)));
	sqlite3_close(db);
}

H_TEST(store__sigterm_restart__jobs_kept_and_processes_stopped)
{
	struct h_proc p;
	json_t *j;
	pid_t ypid;
	int st;

	h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "x", "argv",
			    "/bin/sh", "-c", "exit 0"));
	h_job_wait(h, "x");
	j = h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "y", "argv",
				"/bin/sleep", "30"));
	ypid = (pid_t)h_int(j, "pid");

	st = h_daemon_stop(h, SIGTERM);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		h_fail(
		    NULL, "schedd did not exit 0 on SIGTERM (status %#x)", st);
	/* A clean shutdown stops the jobs; none is left to the harness. */
	if (h_proc(ypid, &p) == 0 && p.state != 'Z')
		h_fail(NULL, "job y (pid %d) outlived the daemon's shutdown",
		    (int)ypid);

	h_daemon_start(h);
	j = h_job_get(h, "x");
	h_assert_str(j, "state", "exited");
	h_assert_int(j, "last_run.exit_code", 0);
	j = h_job_get(h, "y");
	assert_not_phantom(j);
	h_assert_int(j, "last_run.pid", ypid);
	assert_true(h_is_time(h_str(j, "last_run.exited_at")));
}

H_TEST(store__restart_twice__ids_never_reused)
{
	json_t *j;
	json_int_t id1;

	j = h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "first",
				"argv", "/bin/true", "start", 0));
	id1 = h_int(j, "id");
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/first");
	h_daemon_stop(h, SIGKILL);
	h_daemon_start(h);
	j = h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "second",
				"argv", "/bin/true", "start", 0));
	/* A deleted job's id is not handed out again (sql/008_ids.sql). */
	assert_true(h_int(j, "id") > id1);
	h_call(h, 404, "GET", NULL, "/v1/jobs/first");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(store__kill9_restart__jobs_runs_and_events_survive),
	    H_UNIT(store__sigterm_restart__jobs_kept_and_processes_stopped),
	    H_UNIT(store__restart_twice__ids_never_reused),
	};

	return (H_MAIN(tests));
}
