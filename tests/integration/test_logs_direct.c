/* SPDX-License-Identifier: ISC */
/*
 * logs.direct against a real schedd: the job writes STATE/logs/ID.stdout
 * and ID.stderr itself, and schedd names what grew in its records and
 * bounds the files by punching holes. A job writing many times its
 * window leaves at most the window on disk (st_blocks), the newest lines
 * whole and in order from the first whole line; runs are told apart and
 * followed; times go up; a kill -9 of schedd loses nothing; a deleted
 * job's files go; and a full tmpfs makes schedd give the room back to the
 * database, the drop counted. Files are checked on disk, processes in
 * /proc.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* A /bin/sh -c job with logs.direct and the given bounds (0: default). */
static json_t *
direct_job(const char *name, const char *script, const char *max, int keep)
{
	json_t *j, *logs;

	j = json_pack(
	    "{s:s, s:[s,s,s]}", "name", name, "argv", "/bin/sh", "-c", script);
	logs = json_pack("{s:b}", "direct", 1);
	if (max != NULL)
		json_object_set_new(logs, "max_bytes", json_string(max));
	if (keep > 0)
		json_object_set_new(logs, "keep", json_integer(keep));
	json_object_set_new(j, "logs", logs);
	return (j);
}

static const char *
raw_path(struct h *h, json_int_t id, const char *stream)
{
	return (h_fmt(h, "%s/logs/%lld.%s", h->state, (long long)id, stream));
}

H_TEST(direct__past_window__bounded_on_disk_newest_lines_whole)
{
	const char *text, *p;
	struct stat sb;
	json_int_t id;
	json_t *j;
	int n, next;

	/* ~900 KB in awk's 4 KiB writes, against a window of 2 x 64K. */
	j = h_job_create(
	    h, direct_job("chatty",
		   "exec awk 'BEGIN { for (i = 1; i <= 64000; i++) "
		   "printf \"line %08d\\n\", i }'",
		   "64K", 2));
	id = h_int(j, "id");
	assert_true(json_is_true(h_at(j, "logs.direct")));
	j = h_job_wait(h, "chatty");
	h_assert_int(j, "last_run.exit_code", 0);

	/* The size says all was written; the blocks, what is kept. */
	assert_int_equal(stat(raw_path(h, id, "stdout"), &sb), 0);
	assert_int_equal(sb.st_size, 64000 * 14);
	if ((long long)sb.st_blocks * 512 > 2 * 64 * 1024 + 8192)
		h_fail(NULL, "%lld bytes on disk for a window of 128 KiB",
		    (long long)sb.st_blocks * 512);

	/* From the first whole line to the last, in order. */
	text = h_job_logs(h, "chatty", NULL);
	if (strlen(text) < 64 * 1024)
		h_fail(NULL, "only %zu bytes kept", strlen(text));
	assert_int_equal(sscanf(text, "line %d", &next), 1);
	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (sscanf(p, "line %d", &n) != 1 || n != next ||
		    strchr(p, '\n') - p != 13)
			h_fail(
			    NULL, "line %d missing, found \"%.14s\"", next, p);
		next++;
	}
	assert_int_equal(next, 64001);
	assert_string_equal(h_job_logs(h, "chatty", "tail=2"),
	    "line 00063999\nline 00064000\n");
	/* Stored counts what was named, not the holes. */
	h_call(h, 200, "DELETE", NULL, "/v1/jobs/chatty");
	if (access(raw_path(h, id, "stdout"), F_OK) == 0 ||
	    access(raw_path(h, id, "stderr"), F_OK) == 0)
		h_fail(NULL, "a deleted job's direct files are left");
}

H_TEST(direct__runs__told_apart_followed_times_go_up)
{
	struct h_stream *s;
	const char *line, *text, *p;
	struct tm tm;
	int64_t t, prev = 0;
	json_t *j;
	int lines = 0;

	j = direct_job("twice",
	    "echo hello; echo oops >&2; sleep 0.6; echo bye; exit 1", NULL, 0);
	json_object_set_new(j, "restart",
	    json_pack("{s:s, s:i, s:i}", "policy", "on-failure", "max_retries",
		1, "backoff_ms", 100));
	h_job_create(h, j);
	s = h_stream_open(h, "/v1/jobs/twice/logs?follow=true");
	assert_int_equal(h_stream_status(s), 200);
	line = h_stream_line(s, 5000);
	assert_non_null(line);
	assert_string_equal(line, "hello");
	line = h_stream_line(s, 5000);
	assert_non_null(line);
	assert_string_equal(line, "bye");
	line = h_stream_line(s, 5000);
	assert_non_null(line);
	assert_string_equal(line, "--- run 2 ---");
	line = h_stream_line(s, 5000);
	assert_non_null(line);
	assert_string_equal(line, "hello");
	h_job_poll(h, "twice", "failed", 5000);
	h_stream_close(s);

	assert_string_equal(h_job_logs(h, "twice", "run=1"), "hello\nbye\n");
	assert_string_equal(
	    h_job_logs(h, "twice", "run=1&stream=stderr"), "oops\n");
	assert_string_equal(h_job_logs(h, "twice", "run=2"), "hello\nbye\n");
	/* The time of a line is that of the look that found it. */
	text = h_job_logs(h, "twice", "run=2&timestamps=true&stream=all");
	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1, lines++) {
		memset(&tm, 0, sizeof(tm));
		if (strptime(p, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
			h_fail(NULL, "no time stamp:\n%s", text);
		t = (int64_t)timegm(&tm) * 1000 + atoi(p + 20);
		if (t < prev)
			h_fail(NULL, "time goes back:\n%s", text);
		prev = t;
	}
	assert_int_equal(lines, 3);
}

H_TEST(direct__schedd_killed__job_writes_on_nothing_lost)
{
	json_t *j;
	pid_t pid;
	int st;

	j = h_job_create(
	    h, direct_job("steady",
		   "i=0; while :; do i=$((i+1)); echo n $i || exit 7; "
		   "sleep 0.02; done",
		   NULL, 0));
	pid = (pid_t)h_int(j, "last_run.pid");
	h_sleep_ms(300);
	st = h_daemon_stop(h, SIGKILL);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	h_sleep_ms(500);
	assert_int_equal(kill(pid, 0), 0);
	h_daemon_start(h);
	/* What it wrote meanwhile is named at the first looks. */
	h_sleep_ms(600);
	j = h_job_get(h, "steady");
	h_assert_str(j, "state", "running");
	h_assert_int(j, "last_run.pid", pid);
	h_assert_counted_lines(h, "steady", 24);
}

H_TEST(direct__full_tmpfs__room_given_back_drop_counted_db_writable)
{
	json_t *j;
	int64_t end;

	h_restart_on_tmpfs(h, "40m", "logs_min_free = 8M\n");

	/* 50M kept would fill it. The writer itself meets ENOSPC at times
	 * (between two looks) and goes on. */
	h_job_create(
	    h, direct_job("flood",
		   "while :; do head -c 1048576 /dev/zero 2>/dev/null; "
		   "sleep 0.01; done",
		   "10M", 5));
	end = h_now_ms() + 30000;
	while (h_int(h_job_get(h, "flood"), "last_run.output_dropped") == 0) {
		if (h_now_ms() > end)
			h_fail(NULL, "nothing dropped after 30 s");
		h_sleep_ms(100);
	}
	j = h_job_get(h, "flood");
	h_assert_str(j, "state", "running");
	if (h_int(h_call(h, 200, "GET", NULL, "/v1/health"),
		"output.dropped_bytes") <= 0)
		h_fail(NULL, "no drop in /v1/health");
	h_assert_db_writable(h, "later");
	h_call(h, 200, "POST", NULL, "/v1/jobs/flood/stop");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(direct__past_window__bounded_on_disk_newest_lines_whole),
	    H_UNIT(direct__runs__told_apart_followed_times_go_up),
	    H_UNIT(direct__schedd_killed__job_writes_on_nothing_lost),
	    H_UNIT(
		direct__full_tmpfs__room_given_back_drop_counted_db_writable),
	};

	return (H_MAIN(tests));
}
