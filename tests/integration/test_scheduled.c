/* SPDX-License-Identifier: ISC */
/*
 * Issue 16: jobs that start on a schedule. What is checked is the
 * daemon's own record (its planned next_start_at, the runs' start and end
 * times, its events), against each other and against the clock only where
 * a tick is planned, never as a stopwatch that a busy machine can break.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "tests/integration/harness.h"

/* The job's runs, oldest first. */
static json_t *
runs_of(struct h *h, const char *job)
{
	return (h_db_query(h,
	    "SELECT r.run AS run, r.started_at AS s, r.exited_at AS e FROM "
	    "runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = ?1 ORDER BY "
	    "r.run",
	    job));
}

static json_t *
events_of(struct h *h, const char *job, const char *type)
{
	return (h_db_query(h,
	    h_fmt(h,
		"SELECT e.id AS id, e.time AS time, e.data AS data FROM events "
		"e JOIN jobs j ON j.id = e.job_id WHERE j.name = ?1 AND "
		"e.type = '%s' ORDER BY e.id",
		type),
	    job));
}

H_TEST(schedule__every_1000__about_once_a_second_never_twice_at_once)
{
	json_t *j, *runs, *a, *b;
	size_t i, n;
	long long skipped;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:i}}", "name", "every", "argv",
		   "/bin/sh", "-c", "sleep 1.5", "schedule", "every_ms", 1000));
	/* Not started at creation: at its ticks. */
	h_assert_str(j, "state", "created");
	if (!h_is_time(h_str(j, "next_start_at")))
		h_fail(j, "no next_start_at");
	h_sleep_ms(6000);
	runs = runs_of(h, "every");
	n = json_array_size(runs);
	skipped = (long long)json_array_size(
	    events_of(h, "every", "schedule_skipped"));
	/* Runs of 1.5 s every second: every other tick finds one active. */
	if (n < 2 || skipped < 1)
		h_fail(runs, "%zu runs, %lld skipped in 6 s", n, skipped);
	/* Every tick ran or was skipped: about one a second. */
	if (n + (size_t)skipped < 4 || n + (size_t)skipped > 8)
		h_fail(
		    runs, "%zu runs + %lld skipped ticks in 6 s", n, skipped);
	/* Never two at once: each run ended before the next began. */
	for (i = 1; i < n; i++) {
		a = json_array_get(runs, i - 1);
		b = json_array_get(runs, i);
		if (json_is_null(h_at(a, "e")) || h_int(a, "e") > h_int(b, "s"))
			h_fail(runs, "run %lld overlaps run %lld",
			    (long long)h_int(a, "run"),
			    (long long)h_int(b, "run"));
	}
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/every?force=true");
}

/* "YYYY-mm-ddTHH:MM:SS.000Z" and "*-*-* HH:MM:SS" for now + s, in UTC. */
static void
second_ahead(
    struct h *h, int s, const char **iso, const char **cal, int64_t *ms)
{
	struct tm tm;
	time_t t = time(NULL) + s;
	char a[64], c[64];

	gmtime_r(&t, &tm);
	strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	strftime(c, sizeof(c), "*-*-* %H:%M:%S", &tm);
	*iso = h_fmt(h, "%s", a);
	*cal = h_fmt(h, "%s", c);
	*ms = (int64_t)t * 1000;
}

H_TEST(schedule__calendar_2s_ahead__fires_at_that_second)
{
	const char *iso, *cal;
	json_t *j, *runs;
	int64_t due;

	h_daemon_stop(h, SIGTERM);
	h_config(h, "schedule_timezone = utc\n");
	h_daemon_start(h);
	second_ahead(h, 2, &iso, &cal, &due);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s], s:{s:s}}", "name", "cal", "argv",
		   "/bin/true", "schedule", "calendar", cal));
	/* The plan is that very second. */
	h_assert_str(j, "next_start_at", iso);
	j = h_job_poll(h, "cal", "exited", 20000);
	h_assert_int(j, "last_run.exit_code", 0);
	runs = runs_of(h, "cal");
	assert_int_equal(json_array_size(runs), 1);
	/* It did not start before its second. */
	if (h_int(json_array_get(runs, 0), "s") < due)
		h_fail(runs, "started before %s", iso);
	/* The next one is a day later, to the second. */
	if (strcmp(h_str(j, "next_start_at") + 10, iso + 10) != 0)
		h_fail(j, "the next tick is not at %s", iso + 11);
}

H_TEST(schedule__daemon_restart__changes_nothing)
{
	json_t *j;
	const char *next;
	int st;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s], s:{s:s}}", "name", "hourly", "argv",
		   "/bin/true", "schedule", "cron", "17 * * * *"));
	next = h_str(j, "next_start_at");
	h_job_create(
	    h, json_pack("{s:s, s:[s], s:{s:i}}", "name", "later", "argv",
		   "/bin/true", "schedule", "every_ms", 3600000));
	next = h_fmt(h, "%s", next);
	st = h_daemon_stop(h, SIGTERM);
	assert_true(WIFEXITED(st));
	h_daemon_start(h);
	j = h_job_get(h, "hourly");
	h_assert_str(j, "next_start_at", next);
	h_assert_int(j, "schedule_skipped", 0);
	h_assert_str(j, "state", "created");
	/* A kill -9 changes nothing either. */
	h_reap_orphans(h);
	h_daemon_stop(h, SIGKILL);
	h_daemon_start(h);
	h_assert_str(h_job_get(h, "hourly"), "next_start_at", next);
}

/* Change the stopped daemon's database (what a long downtime would do). */
static void
db_exec(struct h *h, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	if (sqlite3_open(h_fmt(h, "%s/schedd.db", h->state), &db) !=
		SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_close(db);
}

H_TEST(schedule__ticks_missed_while_down__skipped_or_caught_up)
{
	json_t *j;

	h_job_create(h, json_pack("{s:s, s:[s], s:{s:i}}", "name", "skip",
			    "argv", "/bin/true", "schedule", "every_ms", 1000));
	h_job_create(h,
	    json_pack("{s:s, s:[s], s:{s:i, s:b}}", "name", "catch", "argv",
		"/bin/true", "schedule", "every_ms", 3600000, "catch_up", 1));
	h_daemon_stop(h, SIGTERM);
	/* catch's next tick, an hour ahead, is made due while down. */
	db_exec(h, "UPDATE jobs SET sched_next_at = 1000 WHERE name = "
		   "'catch'");
	h_sleep_ms(2500);
	h_daemon_start(h);
	j = h_job_poll(h, "catch", "exited", 20000);
	h_assert_int(j, "last_run.run", 1);
	assert_int_equal(
	    json_array_size(events_of(h, "catch", "schedule_missed")), 0);
	/* skip's missed ticks: counted once, with an event, not run. */
	assert_int_equal(
	    json_array_size(events_of(h, "skip", "schedule_missed")), 1);
}

H_TEST(schedule__bad_specs__400_naming_the_field)
{
	static const struct {
		const char *body, *field, *text;
	} bad[] = {
	    {"{\"argv\":[\"x\"],\"schedule\":{}}", "schedule", "exactly one"},
	    {"{\"argv\":[\"x\"],\"schedule\":{\"cron\":\"* * * * *\","
	     "\"every_ms\":1000}}",
		"schedule", "exactly one"},
	    {"{\"argv\":[\"x\"],\"schedule\":{\"cron\":\"61 * * * *\"}}",
		"schedule.cron", "field 1"},
	    {"{\"argv\":[\"x\"],\"schedule\":{\"calendar\":\"Fry 10:00\"}}",
		"schedule.calendar", "Fry"},
	    {"{\"argv\":[\"x\"],\"schedule\":{\"every_ms\":10}}",
		"schedule.every_ms", NULL},
	    {"{\"argv\":[\"x\"],\"schedule\":{\"every_ms\":1000,"
	     "\"catch_up\":\"yes\"}}",
		"schedule.catch_up", NULL},
	};
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (h_request(h, "POST", "/v1/jobs", bad[i].body, NULL, &j) !=
		    400)
			fail_msg("case %zu: %ld: %s", i, h->last_status,
			    h->last_body);
		h_assert_error(j, "invalid_argument", bad[i].field);
		if (bad[i].text != NULL &&
		    strstr(h_str(j, "error.message"), bad[i].text) == NULL)
			h_fail(j, "case %zu: no \"%s\"", i, bad[i].text);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(
		schedule__every_1000__about_once_a_second_never_twice_at_once),
	    H_UNIT(schedule__calendar_2s_ahead__fires_at_that_second),
	    H_UNIT(schedule__daemon_restart__changes_nothing),
	    H_UNIT(schedule__ticks_missed_while_down__skipped_or_caught_up),
	    H_UNIT(schedule__bad_specs__400_naming_the_field),
	};

	return (H_MAIN(tests));
}
