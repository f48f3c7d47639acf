/* SPDX-License-Identifier: ISC */
/*
 * The reaper, seen from outside: the daemon is a child subreaper, so the
 * orphans a job leaves behind come back to it, and it must reap them all
 * (no zombie whose parent is the daemon stays in /proc) and report each as
 * an "orphan" event attributed to its job. The kernel is the witness: the
 * orphan's parent in /proc/PID/stat, and /proc scans for zombies.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* No zombie of the daemon's over ms milliseconds of polling. */
static void
assert_no_zombies(struct h *h, int ms)
{
	int64_t end = h_now_ms() + ms;
	int n;

	do {
		if ((n = h_zombies(h->daemon)) > 0)
			h_fail(NULL, "%d zombie(s) whose parent is schedd (%d)",
			    n, (int)h->daemon);
		h_sleep_ms(20);
	} while (h_now_ms() < end);
}

/* Read the pid the orphan wrote into path (5 s). */
static pid_t
read_pid(const char *path)
{
	int64_t end = h_now_ms() + 5000;
	FILE *f;
	int pid;

	for (;;) {
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%d", &pid) == 1) {
				fclose(f);
				return ((pid_t)pid);
			}
			fclose(f);
		}
		if (h_now_ms() > end)
			fail_msg("no pid in %s", path);
		h_sleep_ms(10);
	}
}

H_TEST(reaper__orphan_grandchild__reaped_and_reported)
{
	struct h_stream *s;
	struct h_proc p;
	const char *pidfile = h_fmt(h, "%s/orphan.pid", h->dir);
	json_t *j, *ev;
	pid_t orphan;
	int found = 0;

	/*
	 * The job's shell starts a subshell that backgrounds a writer of its
	 * own pid that then becomes sleep, waits for the pid and exits 0: the
	 * sleeper is an orphan. The run ends with the main process, and the
	 * rest of the tree is stopped like a stop (its stop signal, SIGTERM),
	 * so the orphan ends by SIGTERM and the daemon reaps it.
	 */
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s,s]}", "name", "leaver", "argv", "/bin/sh",
		"-c",
		h_fmt(h,
		    "(sh -c 'echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 5' &) ; "
		    "while [ ! -s %s ]; do sleep 0.01; done; exit 0",
		    pidfile, pidfile, pidfile, pidfile)));
	orphan = read_pid(pidfile);
	h_learn_pid(h, orphan);
	j = h_job_wait(h, "leaver");
	h_assert_str(j, "state", "exited");
	h_assert_int(j, "last_run.exit_code", 0);

	/* It came back to the daemon, not to init. */
	if (h_proc(orphan, &p) == 0 && p.state != 'Z')
		assert_int_equal(p.ppid, h->daemon);
	/* It exits after a second; the daemon must reap it. */
	if (!h_wait_gone(orphan, 5000))
		h_fail(NULL, "orphan %d not reaped (state %c, ppid %d)",
		    (int)orphan, h_proc(orphan, &p) == 0 ? p.state : '?',
		    h_proc(orphan, &p) == 0 ? (int)p.ppid : 0);
	assert_no_zombies(h, 300);

	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	while (!found && (ev = h_stream_event(s, 3000)) != NULL) {
		if (strcmp(h_str(ev, "type"), "orphan") != 0)
			continue;
		if (h_int(ev, "data.pid") != orphan)
			continue;
		h_assert_str(ev, "job", "leaver");
		h_assert_int(ev, "job_id", h_int(j, "id"));
		h_assert_str(ev, "data.signal", "SIGTERM");
		found = 1;
	}
	if (!found)
		h_fail(NULL, "no orphan event for pid %d", (int)orphan);
	h_stream_close(s);
}

H_TEST(reaper__many_orphans__all_reaped_each_reported_once)
{
	struct h_stream *s;
	json_t *ev;
	int n = 0, i;
	pid_t seen[64];

	h_job_create(
	    h, json_pack("{s:s, s:[s,s,s]}", "name", "spawner", "argv",
		   "/bin/sh", "-c",
		   "i=0; while [ $i -lt 20 ]; do (sleep 0.3 &); i=$((i+1)); "
		   "done; exit 0"));
	h_job_wait(h, "spawner");
	s = h_stream_open(h, "/v1/events?since=0");
	while (n < 20 && (ev = h_stream_event(s, 5000)) != NULL) {
		if (strcmp(h_str(ev, "type"), "orphan") != 0)
			continue;
		h_assert_str(ev, "job", "spawner");
		for (i = 0; i < n; i++)
			if (seen[i] == (pid_t)h_int(ev, "data.pid"))
				h_fail(ev, "orphan reported twice");
		seen[n++] = (pid_t)h_int(ev, "data.pid");
	}
	if (n != 20)
		h_fail(NULL, "%d orphan events, expected 20", n);
	/* And no twenty-first. */
	while ((ev = h_stream_event(s, 300)) != NULL)
		if (strcmp(h_str(ev, "type"), "orphan") == 0)
			h_fail(ev, "unexpected extra orphan event");
	h_stream_close(s);
	for (i = 0; i < n; i++)
		assert_true(h_wait_gone(seen[i], 2000));
	assert_no_zombies(h, 300);
}

H_TEST(reaper__orphan_killed_by_signal__reported_with_signal)
{
	struct h_stream *s;
	const char *pidfile = h_fmt(h, "%s/orphan.pid", h->dir);
	json_t *ev;
	pid_t orphan;
	int found = 0;

	h_job_create(h,
	    json_pack("{s:s, s:[s,s,s]}", "name", "victim", "argv", "/bin/sh",
		"-c",
		h_fmt(h,
		    "(sh -c 'trap \"\" TERM; echo $$ > %s.tmp; mv %s.tmp %s; "
		    "exec sleep 30' &) ; "
		    "while [ ! -s %s ]; do sleep 0.01; done; exit 0",
		    pidfile, pidfile, pidfile, pidfile)));
	orphan = read_pid(pidfile);
	h_learn_pid(h, orphan);
	h_job_wait(h, "victim");
	/* It ignores the SIGTERM that stopped the rest of the tree. The
	 * daemon's own descendant: ours to kill, by pid. */
	assert_int_equal(kill(orphan, SIGKILL), 0);
	assert_true(h_wait_gone(orphan, 5000));
	assert_no_zombies(h, 200);

	s = h_stream_open(h, "/v1/events?since=0");
	while (!found && (ev = h_stream_event(s, 3000)) != NULL) {
		if (strcmp(h_str(ev, "type"), "orphan") != 0 ||
		    h_int(ev, "data.pid") != orphan)
			continue;
		h_assert_str(ev, "job", "victim");
		h_assert_str(ev, "data.signal", "SIGKILL");
		found = 1;
	}
	if (!found)
		h_fail(NULL, "no orphan event for pid %d", (int)orphan);
	h_stream_close(s);
}

/*
 * Main processes and orphans all end within a few milliseconds: SIGCHLDs
 * coalesce, and each main is seen both through its pidfd and (maybe) a
 * named SIGCHLD. Every job must get exactly one "exited" with its own exit
 * code, every orphan at most one event, and nothing may stay a zombie
 * past the reaper's delayed scan (1 s).
 */
#define BURST 16
H_TEST(reaper__mains_and_orphans_end_together__each_reported_once)
{
	const char *trigger = h_fmt(h, "%s/go", h->dir);
	struct h_stream *s;
	json_t *ev, *j;
	pid_t orphans[4 * BURST];
	int exited[BURST] = {0}, norphans = 0, i, k;
	const char *name;

	for (i = 0; i < BURST; i++)
		h_job_create(h,
		    json_pack("{s:s, s:[s,s,s]}", "name",
			h_fmt(h, "burst-%d", i), "argv", "/bin/sh", "-c",
			h_fmt(h,
			    "w() { while [ ! -e %s ]; do sleep 0.01; done; }; "
			    "(w; exit 0) & (w; exit 0) & w; exit %d",
			    trigger, i % 7)));
	h_put_file(h, trigger, "");
	for (i = 0; i < BURST; i++) {
		j = h_job_wait(h, h_fmt(h, "burst-%d", i));
		h_assert_str(j, "state", "exited");
		h_assert_int(j, "last_run.exit_code", i % 7);
	}

	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	while ((ev = h_stream_event(s, 1500)) != NULL) {
		name = h_str(ev, "job");
		if (strcmp(h_str(ev, "type"), "exited") == 0) {
			if (sscanf(name, "burst-%d", &i) != 1 || i < 0 ||
			    i >= BURST)
				h_fail(ev, "exited event of an unknown job");
			if (exited[i]++ > 0)
				h_fail(ev, "exited reported twice");
			h_assert_int(ev, "data.exit_code", i % 7);
		}
		if (strcmp(h_str(ev, "type"), "orphan") != 0)
			continue;
		if (strncmp(name, "burst-", 6) != 0)
			h_fail(ev, "orphan attributed to no burst job");
		for (k = 0; k < norphans; k++)
			if (orphans[k] == (pid_t)h_int(ev, "data.pid"))
				h_fail(ev, "orphan reported twice");
		if (norphans < 4 * BURST)
			orphans[norphans++] = (pid_t)h_int(ev, "data.pid");
	}
	h_stream_close(s);
	for (i = 0; i < BURST; i++)
		if (exited[i] != 1)
			h_fail(
			    NULL, "burst-%d: %d exited events", i, exited[i]);
	assert_no_zombies(h, 1500);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(reaper__orphan_grandchild__reaped_and_reported),
	    H_UNIT(reaper__many_orphans__all_reaped_each_reported_once),
	    H_UNIT(reaper__orphan_killed_by_signal__reported_with_signal),
	    H_UNIT(reaper__mains_and_orphans_end_together__each_reported_once),
	};

	return (H_MAIN(tests));
}
