/* SPDX-License-Identifier: ISC */
/*
 * /v1/events: chunked NDJSON, one event a line, ids strictly increasing.
 * A job's life shows up as typed events in order; a reader that drops the
 * connection and comes back with ?since= gets every later event exactly
 * once, even while events keep coming during the gap; two readers see the
 * same stream; a cursor older than the retained events answers 410 with
 * the oldest id (retention made small through the config file).
 */
#include "config.h"

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* Next event of job name (others skipped), or fail after 5 s. */
static json_t *
next_of(struct h_stream *s, const char *name)
{
	json_t *ev;

	while ((ev = h_stream_event(s, 5000)) != NULL)
		if (json_is_string(json_object_get(ev, "job")) &&
		    strcmp(h_str(ev, "job"), name) == 0)
			return (ev);
	fail_msg("no further event for job %s (stream ended: %d)", name,
	    h_stream_ended(s));
	return (NULL);
}

/* Every event up to the stream being idle for idle_ms, appended to all. */
static void
drain(struct h_stream *s, json_t *all, int idle_ms)
{
	json_t *ev;

	while ((ev = h_stream_event(s, idle_ms)) != NULL)
		json_array_append(all, ev);
}

static void
assert_same_ids(json_t *a, json_t *b)
{
	size_t i;

	if (json_array_size(a) != json_array_size(b))
		h_fail(NULL, "%zu events against %zu", json_array_size(a),
		    json_array_size(b));
	for (i = 0; i < json_array_size(a); i++)
		if (h_int(json_array_get(a, i), "id") !=
			h_int(json_array_get(b, i), "id") ||
		    !json_equal(json_array_get(a, i), json_array_get(b, i)))
			h_fail(json_array_get(b, i), "event %zu differs", i);
}

H_TEST(events__job_lifecycle__created_running_exited_in_order)
{
	struct h_stream *s;
	json_t *job, *c, *r, *x;

	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	if (strncmp(h_stream_ctype(s), "application/x-ndjson", 20) != 0)
		fail_msg("Content-Type %s", h_stream_ctype(s));
	job = h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "ev",
				  "argv", "/bin/sh", "-c", "exit 5"));

	c = next_of(s, "ev");
	h_assert_str(c, "type", "created");
	h_assert_int(c, "job_id", h_int(job, "id"));
	h_assert_null(c, "run");
	assert_true(h_is_time(h_str(c, "time")));
	r = next_of(s, "ev");
	h_assert_str(r, "type", "running");
	h_assert_int(r, "run", 1);
	h_assert_int(r, "data.pid", h_int(job, "last_run.pid"));
	x = next_of(s, "ev");
	h_assert_str(x, "type", "exited");
	h_assert_int(x, "run", 1);
	h_assert_int(x, "data.exit_code", 5);
	assert_true(h_int(c, "id") < h_int(r, "id"));
	assert_true(h_int(r, "id") < h_int(x, "id"));
	assert_true(strcmp(h_str(c, "time"), h_str(x, "time")) <= 0);
	h_stream_close(s);
}

H_TEST(events__without_since__only_new_events)
{
	struct h_stream *s;
	json_t *ev;

	h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "old", "argv",
			    "/bin/true", "start", 0));
	s = h_stream_open(h, "/v1/events");
	assert_int_equal(h_stream_status(s), 200);
	h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "new", "argv",
			    "/bin/true", "start", 0));
	ev = h_stream_event(s, 5000);
	assert_non_null(ev);
	h_assert_str(ev, "job", "new");
	h_assert_str(ev, "type", "created");
	h_stream_close(s);
}

H_TEST(events__stop_kill_delete_failed__typed_events)
{
	struct h_stream *s;
	json_t *ev;

	s = h_stream_open(h, "/v1/events");
	h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "s1", "argv",
			    "/bin/sleep", "30"));
	h_assert_str(next_of(s, "s1"), "type", "created");
	h_assert_str(next_of(s, "s1"), "type", "running");
	h_call(h, 200, "POST", NULL, "/v1/jobs/s1/stop");
	ev = next_of(s, "s1");
	h_assert_str(ev, "type", "stopping");
	h_assert_str(ev, "data.signal", "SIGTERM");
	h_assert_str(next_of(s, "s1"), "type", "stopped");
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/s1");
	h_assert_str(next_of(s, "s1"), "type", "deleted");

	h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "s2", "argv",
			    "/bin/sleep", "30"));
	h_assert_str(next_of(s, "s2"), "type", "created");
	h_assert_str(next_of(s, "s2"), "type", "running");
	h_call(h, 200, "POST", json_pack("{s:s}", "signal", "SIGINT"),
	    "/v1/jobs/s2/kill");
	ev = next_of(s, "s2");
	h_assert_str(ev, "type", "signal");
	h_assert_str(ev, "data.signal", "SIGINT");
	ev = next_of(s, "s2");
	h_assert_str(ev, "type", "exited");
	h_assert_str(ev, "data.signal", "SIGINT");

	h_job_create(h,
	    json_pack("{s:s, s:[s]}", "name", "f", "argv", "/no/such/binary"));
	h_assert_str(next_of(s, "f"), "type", "created");
	ev = next_of(s, "f");
	h_assert_str(ev, "type", "failed");
	h_assert_str(ev, "data.error",
	    "execve /no/such/binary: No such file or directory");
	h_stream_close(s);
}

H_TEST(events__reconnect_with_since__no_gap_no_duplicate)
{
	struct h_stream *s;
	json_t *seen, *full, *ev;
	json_int_t cursor = 0;
	int round, i, done = 0;

	seen = h_keep_json(h, json_array());
	/* About 60 orphan events over a second and a half, then "exited". */
	h_job_create(
	    h, json_pack("{s:s, s:[s,s,s]}", "name", "burst", "argv", "/bin/sh",
		   "-c",
		   "i=0; while [ $i -lt 60 ]; do (true &); sleep 0.02; "
		   "i=$((i+1)); done"));
	for (round = 0; !done && round < 1000; round++) {
		s = h_stream_open(
		    h, "/v1/events?since=%" JSON_INTEGER_FORMAT, cursor);
		assert_int_equal(h_stream_status(s), 200);
		/* A few events, then hang up while more keep coming. */
		for (i = 0; i < 7; i++) {
			if ((ev = h_stream_event(s, 5000)) == NULL)
				fail_msg(
				    "stream stalled after id %" JSON_INTEGER_FORMAT,
				    cursor);
			json_array_append(seen, ev);
			cursor = h_int(ev, "id");
			if (strcmp(h_str(ev, "job"), "burst") == 0 &&
			    strcmp(h_str(ev, "type"), "exited") == 0) {
				done = 1;
				break;
			}
		}
		h_stream_close(s);
	}
	assert_true(done);
	assert_true(round > 3);
	s = h_stream_open(h, "/v1/events?since=%" JSON_INTEGER_FORMAT, cursor);
	drain(s, seen, 500);
	h_stream_close(s);

	full = h_keep_json(h, json_array());
	s = h_stream_open(h, "/v1/events?since=0");
	drain(s, full, 500);
	h_stream_close(s);
	h_assert_ids_increasing(full);
	assert_same_ids(full, seen);
}

H_TEST(events__two_readers__same_events)
{
	struct h_stream *a, *b;
	json_t *ea, *eb;
	int i;

	a = h_stream_open(h, "/v1/events");
	b = h_stream_open(h, "/v1/events");
	ea = h_keep_json(h, json_array());
	eb = h_keep_json(h, json_array());
	for (i = 0; i < 5; i++)
		h_job_create(h, json_pack("{s:[s]}", "argv", "/bin/true"));
	for (i = 0; i < 5; i++)
		h_job_wait(h, h_fmt(h, "true-%d", i + 1));
	drain(a, ea, 500);
	drain(b, eb, 500);
	assert_int_equal(json_array_size(ea), 15);
	h_assert_ids_increasing(ea);
	assert_same_ids(ea, eb);
	h_stream_close(a);
	h_stream_close(b);
}

H_TEST(events__bad_since__400_naming_it)
{
	static const char *const bad[] = {
	    "abc", "-1", "1.5", "", "99999999999999999999999"};
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = h_call(h, 400, "GET", NULL, "/v1/events?since=%s", bad[i]);
		h_assert_error(j, "invalid_argument", "since");
	}
	j = h_call(h, 400, "GET", NULL, "/v1/events?from=1");
	h_assert_error(j, "invalid_argument", "from");
}

H_TEST(events__cursor_older_than_retention__410_with_oldest_id)
{
	struct h_stream *s;
	json_t *j, *ev;
	json_int_t oldest;
	int st;

	st = h_daemon_stop(h, SIGTERM);
	assert_int_equal(st, 0);
	h_config(h, "event_retention = 100\n");
	h_daemon_start(h);
	/* Over a thousand events: pruning runs every thousand. */
	h_job_create(h,
	    json_pack("{s:s, s:[s,s,s]}", "name", "flood", "argv", "/bin/sh",
		"-c",
		"i=0; while [ $i -lt 1100 ]; do (true &); i=$((i+1)); done"));
	h_job_wait(h, "flood");
	/* Let the last orphans be reaped. */
	s = h_stream_open(h, "/v1/events");
	while (h_stream_event(s, 500) != NULL)
		;
	h_stream_close(s);

	j = h_call(h, 410, "GET", NULL, "/v1/events?since=1");
	h_assert_error(j, "cursor_expired", NULL);
	oldest = h_int(j, "error.oldest_id");
	assert_true(oldest > 2);
	/* From the oldest retained on, it works and starts right there. */
	s = h_stream_open(
	    h, "/v1/events?since=%" JSON_INTEGER_FORMAT, oldest - 1);
	assert_int_equal(h_stream_status(s), 200);
	ev = h_stream_event(s, 5000);
	assert_non_null(ev);
	h_assert_int(ev, "id", oldest);
	h_stream_close(s);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(events__job_lifecycle__created_running_exited_in_order),
	    H_UNIT(events__without_since__only_new_events),
	    H_UNIT(events__stop_kill_delete_failed__typed_events),
	    H_UNIT(events__reconnect_with_since__no_gap_no_duplicate),
	    H_UNIT(events__two_readers__same_events),
	    H_UNIT(events__bad_since__400_naming_it),
	    H_UNIT(events__cursor_older_than_retention__410_with_oldest_id),
	};

	return (H_MAIN(tests));
}
