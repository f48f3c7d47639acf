/* SPDX-License-Identifier: ISC */
/*
 * Issue 16: jobs that say when they are ready, and a watchdog. The jobs
 * are real programs speaking the protocols: Debian's systemd-notify, a
 * small C program that writes sd_notify datagrams itself ($SDNOTIFY,
 * tests/integration/sdnotify.c), and a shell writing a line to its s6
 * readiness fd. Order is checked through the daemon's own times and event
 * ids, never against a stopwatch a busy machine could break.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/integration/harness.h"

static const char *
sdnotify(struct h *h)
{
	const char *p = getenv("SDNOTIFY");

	if (p == NULL || access(p, X_OK) == -1)
		fail_msg(
		    "$SDNOTIFY (%s) is not an executable", p ? p : "unset");
	(void)h;
	return (p);
}

/* The job's events of type, from the store (id order). */
static json_t *
events_of(struct h *h, const char *job, const char *type)
{
	return (h_db_query(h,
	    h_fmt(h,
		"SELECT e.id AS id, e.data AS data, e.time AS time FROM events "
		"e JOIN jobs j ON j.id = e.job_id WHERE j.name = ?1 AND "
		"e.type = '%s' ORDER BY e.id",
		type),
	    job));
}

H_TEST(ready__notify_after_500ms__holds_back_a_dependent)
{
	json_t *j, *svc, *dep, *ready, *started;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s,s,s], s:{s:b, s:i}}", "name", "svc",
		   "argv", sdnotify(h), "-d", "500", "-s", "serving", "ready",
		   "notify", 1, "timeout_ms", 20000));
	h_assert_str(j, "state", "starting");
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	h_assert_null(j, "ready_at");
	j = h_job_create(h, json_pack("{s:s, s:[s,s], s:[s]}", "name", "dep",
				"argv", "/bin/sleep", "30", "after", "svc"));
	/* svc has not said it is ready: dep waits, saying why. */
	if (strcmp(h_str(h_job_get(h, "svc"), "state"), "starting") == 0) {
		h_assert_str(j, "state", "queued");
		if (strstr(h_str(j, "reason"), "svc") == NULL)
			h_fail(j, "the reason does not name svc");
	}
	dep = h_job_poll(h, "dep", "running", 20000);
	h_learn_pid(h, (pid_t)h_int(dep, "pid"));
	svc = h_job_get(h, "svc");
	h_assert_str(svc, "state", "running");
	h_assert_str(svc, "status_text", "serving");
	if (!h_is_time(h_str(svc, "ready_at")))
		h_fail(svc, "no ready_at");
	/* The dependent started only after svc was ready, by the store's
	 * own order of events: svc's "running" before dep's first. */
	ready = events_of(h, "svc", "running");
	started = events_of(h, "dep", "running");
	assert_int_equal(json_array_size(ready), 1);
	if (h_int(json_array_get(ready, 0), "id") >=
	    h_int(json_array_get(started, 0), "id"))
		h_fail(ready, "dep ran before svc was ready");
	if (strcmp(h_str(dep, "last_run.started_at"), h_str(svc, "ready_at")) <
	    0)
		h_fail(dep, "dep started before svc's ready_at");
	/* svc's run was stored as starting first, with its pid. */
	assert_int_equal(json_array_size(events_of(h, "svc", "starting")), 1);
}

H_TEST(ready__debian_systemd_notify__ready_and_status)
{
	json_t *j;

	if (access("/usr/bin/systemd-notify", X_OK) == -1 &&
	    access("/bin/systemd-notify", X_OK) == -1)
		h_skip(h, "Debian's systemd-notify is not installed (apt-get "
			  "install systemd)");
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s,s], s:{s:b}}", "name", "sdn", "argv",
		"/bin/sh", "-c",
		"sleep 0.3; systemd-notify --ready --status='up and serving'; "
		"exec sleep 30",
		"ready", "notify", 1));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	j = h_job_poll(h, "sdn", "running", 20000);
	h_assert_str(j, "status_text", "up and serving");
	h_assert_ctl(h, 0, "ps");
	if (strstr(h->ctl_out, "up and serving") == NULL)
		fail_msg("ps does not show the status:\n%s", h->ctl_out);
}

H_TEST(ready__s6_fd__a_line_on_fd_5)
{
	json_t *j;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:i}}", "name", "s6", "argv",
		   "/bin/sh", "-c", "sleep 0.3; echo >&5; exec sleep 30",
		   "ready", "fd", 5));
	h_assert_str(j, "state", "starting");
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	j = h_job_poll(h, "s6", "running", 20000);
	if (!h_is_time(h_str(j, "ready_at")))
		h_fail(j, "no ready_at");
	/* The fd was the job's, not inherited anywhere else. */
	h_assert_int(j, "ready.fd", 5);
}

H_TEST(ready__never_ready__fails_by_its_restart_policy)
{
	json_t *j, *ev;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:{s:b, s:i}, s:{s:s, s:i, s:i}}",
		   "name", "mute", "argv", "/bin/sleep", "60", "ready",
		   "notify", 1, "timeout_ms", 300, "restart", "policy",
		   "on-failure", "max_retries", 1, "backoff_ms", 50));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	j = h_job_poll(h, "mute", "failed", 20000);
	h_assert_int(j, "restarts", 1);
	h_assert_str(j, "last_run.error", "not ready within 300 ms");
	if (strstr(h_str(j, "reason"), "gave up after 1 restart") == NULL)
		h_fail(j, "the reason does not say it gave up");
	ev = events_of(h, "mute", "not_ready");
	assert_int_equal(json_array_size(ev), 2);
}

H_TEST(watchdog__stops_pinging__restarted)
{
	json_t *j, *ev;

	/* Three pings 100 ms apart, then silence: 400 ms later it failed. */
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:b}, s:i, s:{s:s, s:i, s:i}}",
		   "name", "dog", "argv", sdnotify(h), "-w", "3:100", "ready",
		   "notify", 1, "watchdog_ms", 400, "restart", "policy",
		   "on-failure", "max_retries", 1, "backoff_ms", 50));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	j = h_job_poll(h, "dog", "failed", 20000);
	h_assert_int(j, "restarts", 1);
	h_assert_str(
	    j, "last_run.error", "watchdog: no WATCHDOG=1 within 400 ms");
	ev = events_of(h, "dog", "watchdog");
	assert_int_equal(json_array_size(ev), 2);
	/* Each run was ready first: the watchdog runs once running. */
	assert_int_equal(json_array_size(events_of(h, "dog", "running")), 2);
}

H_TEST(watchdog__trigger__fails_at_once)
{
	json_t *j;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s,s], s:{s:b}, s:i}", "name", "trig",
		   "argv", sdnotify(h), "-w", "1:50", "-t", "ready", "notify",
		   1, "watchdog_ms", 60000));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	j = h_job_poll(h, "trig", "exited", 20000);
	h_assert_str(
	    j, "last_run.error", "watchdog: the job sent WATCHDOG=trigger");
	h_assert_str(j, "last_run.signal", "SIGTERM");
}

/* Send msg to the job's NOTIFY_SOCKET from this process (not the job's). */
static void
send_foreign(const char *name, const char *msg)
{
	struct sockaddr_un sun;
	size_t n = strlen(name);
	int fd;

	if (n >= sizeof(sun.sun_path))
		fail_msg("%s: too long", name);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun,
		sizeof(sun)) == -1)
		fail_msg("send to %s: %m", name);
	close(fd);
}

/* The NOTIFY_SOCKET a job got, from its environment. */
static const char *
notify_socket_of(struct h *h, pid_t pid)
{
	char buf[65536];
	FILE *f;
	size_t n = 0, off;
	int tries;

	/* Empty while the job is still in its execve (see proc_env of
	 * test_supervision.c). */
	for (tries = 0; n == 0 && tries < 100; tries++) {
		if (tries > 0)
			h_sleep_ms(10);
		if ((f = fopen(h_fmt(h, "/proc/%d/environ", (int)pid), "r")) ==
		    NULL)
			fail_msg("environ of %d: %m", (int)pid);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	for (off = 0; off < n; off += strlen(buf + off) + 1)
		if (strncmp(buf + off, "NOTIFY_SOCKET=", 14) == 0)
			return (h_fmt(h, "%s", buf + off + 14));
	fail_msg("pid %d has no NOTIFY_SOCKET", (int)pid);
	return (NULL);
}

H_TEST(ready__message_from_outside_the_job__ignored)
{
	struct stat sb;
	const char *name;
	json_t *j;
	pid_t pid;

	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:{s:b, s:i}}", "name", "picky", "argv",
		"/bin/sleep", "60", "ready", "notify", 1, "timeout_ms", 60000));
	pid = (pid_t)h_int(j, "pid");
	h_learn_pid(h, pid);
	name = notify_socket_of(h, pid);
	/* A socket in a directory of the daemon's that nobody else may
	 * write: no one can bind a job's name before the daemon does. */
	if (strcmp(name,
		h_fmt(h, "%s.notify/%d", h->sock, (int)h_int(j, "id"))) != 0 ||
	    stat(h_fmt(h, "%s.notify", h->sock), &sb) == -1 ||
	    !S_ISDIR(sb.st_mode) || (sb.st_mode & 07777) != 0711)
		fail_msg(
		    "NOTIFY_SOCKET %s, or its directory, is not ours", name);
	send_foreign(name, "READY=1\nSTATUS=forged");
	/* Something the daemon surely read after the datagram: a request. */
	h_sleep_ms(200);
	j = h_job_get(h, "picky");
	h_assert_str(j, "state", "starting");
	h_assert_null(j, "status_text");
	if (strstr(h_text(h, h->log), "not of the job: dropped") == NULL)
		fail_msg("the forged message is not logged as dropped");
}

H_TEST(ready__daemon_killed_while_starting__ready_after_restart)
{
	json_t *j;
	int st;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s,s,s], s:{s:b, s:i}}", "name", "slow",
		   "argv", sdnotify(h), "-d", "1500", "-s", "late", "ready",
		   "notify", 1, "timeout_ms", 30000));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	h_reap_orphans(h);
	st = h_daemon_stop(h, SIGKILL);
	assert_true(WIFSIGNALED(st));
	h_daemon_start(h);
	j = h_job_get(h, "slow");
	/* Adopted as starting (unless it was ready already), then ready. */
	if (strcmp(h_str(j, "state"), "running") != 0)
		h_assert_str(j, "state", "starting");
	j = h_job_poll(h, "slow", "running", 20000);
	h_assert_str(j, "status_text", "late");
	h_assert_int(j, "restarts", 0);
	assert_int_equal(json_array_size(events_of(h, "slow", "running")), 1);
}

H_TEST(health__exec_fails_3_times__unhealthy_and_restarted)
{
	const char *flag = h_fmt(h, "%s/healthy", h->dir);
	json_t *j, *ev;

	/* Healthy while the flag file exists; then three failures. */
	h_put_file(h, flag, "yes\n");
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:{s:[s,s,s], s:i, s:i}, s:{s:s, s:b, "
		      "s:i, s:i}}",
		"name", "checked", "argv", "/bin/sleep", "60", "health", "exec",
		"/bin/sh", "-c",
		h_fmt(h, "cat %s 2>/dev/null || { echo gone; exit 7; }", flag),
		"interval_ms", 150, "retries", 3, "restart", "policy",
		"on-failure", "on_unhealthy", 1, "max_retries", 1, "backoff_ms",
		50));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	/* First healthy, with what the check said. */
	for (int i = 0; i < 200; i++) {
		j = h_job_get(h, "checked");
		if (json_is_string(h_at(j, "health_status")) &&
		    strcmp(h_str(j, "health_status"), "healthy") == 0)
			break;
		h_sleep_ms(25);
	}
	h_assert_str(j, "health_status", "healthy");
	h_assert_str(j, "health_output", "yes");
	unlink(flag);
	j = h_job_poll(h, "checked", "failed", 20000);
	h_assert_int(j, "restarts", 1);
	if (strstr(h_str(j, "last_run.error"), "health check failed 3 times") ==
	    NULL)
		h_fail(j, "the error does not say the check failed");
	if (strstr(h_str(j, "last_run.error"), "exit code 7: gone") == NULL)
		h_fail(j, "the error lacks the check's output");
	/* healthy, then unhealthy, each run: events say every change. */
	ev = events_of(h, "checked", "unhealthy");
	assert_true(json_array_size(ev) >= 1);
	if (strstr(h_str(json_array_get(ev, 0), "data"), "gone") == NULL)
		h_fail(ev, "the event lacks the output");
	assert_int_equal(
	    json_array_size(events_of(h, "checked", "healthy")), 1);
	assert_int_equal(
	    json_array_size(events_of(h, "checked", "health_failed")), 2);
}

H_TEST(health__http_on_a_unix_socket__healthy_then_404_unhealthy)
{
	json_t *j;

	/* The daemon's own socket serves HTTP: /v1/health is 200. */
	j = h_job_create(h, json_pack("{s:s, s:[s,s], s:{s:s, s:s, s:i}}",
				"name", "web", "argv", "/bin/sleep", "60",
				"health", "http", "http://localhost/v1/health",
				"unix_socket", h->sock, "interval_ms", 100));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:{s:s, s:s, s:i, s:i}}", "name",
		   "web404", "argv", "/bin/sleep", "60", "health", "http",
		   "http://localhost/no/such/route", "unix_socket", h->sock,
		   "interval_ms", 100, "retries", 2));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	for (int i = 0; i < 400; i++) {
		j = h_job_get(h, "web404");
		if (json_is_string(h_at(j, "health_status")) &&
		    strcmp(h_str(j, "health_status"), "unhealthy") == 0)
			break;
		h_sleep_ms(25);
	}
	h_assert_str(j, "health_status", "unhealthy");
	if (strstr(h_str(j, "health_output"), "404") == NULL)
		h_fail(j, "the output is not the 404 status line");
	/* Reported only: without on_unhealthy it keeps running. */
	h_assert_str(j, "state", "running");
	j = h_job_get(h, "web");
	h_assert_str(j, "health_status", "healthy");
	if (strstr(h_str(j, "health_output"), "200") == NULL)
		h_fail(j, "the output is not a 200 status line");
}

H_TEST(ready__bad_specs__400_naming_the_field)
{
	static const struct {
		const char *body, *field;
	} bad[] = {
	    {"{\"argv\":[\"x\"],\"ready\":{}}", "ready"},
	    {"{\"argv\":[\"x\"],\"ready\":{\"notify\":true,\"fd\":4}}",
		"ready.fd"},
	    {"{\"argv\":[\"x\"],\"ready\":{\"fd\":2}}", "ready.fd"},
	    {"{\"argv\":[\"x\"],\"ready\":{\"fd\":1024}}", "ready.fd"},
	    {"{\"argv\":[\"x\"],\"ready\":{\"notify\":1}}", "ready.notify"},
	    {"{\"argv\":[\"x\"],\"ready\":{\"notify\":true,\"timeout_ms\":0}}",
		"ready.timeout_ms"},
	    {"{\"argv\":[\"x\"],\"ready\":{\"notify\":true,\"x\":1}}",
		"ready.x"},
	    {"{\"argv\":[\"x\"],\"watchdog_ms\":1000}", "watchdog_ms"},
	    {"{\"argv\":[\"x\"],\"ready\":{\"fd\":3},\"watchdog_ms\":1000}",
		"watchdog_ms"},
	};
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (h_request(h, "POST", "/v1/jobs", bad[i].body, NULL, &j) !=
		    400)
			fail_msg("case %zu: %ld: %s", i, h->last_status,
			    h->last_body);
		h_assert_error(j, "invalid_argument", bad[i].field);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(ready__notify_after_500ms__holds_back_a_dependent),
	    H_UNIT(ready__debian_systemd_notify__ready_and_status),
	    H_UNIT(ready__s6_fd__a_line_on_fd_5),
	    H_UNIT(ready__never_ready__fails_by_its_restart_policy),
	    H_UNIT(watchdog__stops_pinging__restarted),
	    H_UNIT(watchdog__trigger__fails_at_once),
	    H_UNIT(ready__message_from_outside_the_job__ignored),
	    H_UNIT(ready__daemon_killed_while_starting__ready_after_restart),
	    H_UNIT(health__exec_fails_3_times__unhealthy_and_restarted),
	    H_UNIT(health__http_on_a_unix_socket__healthy_then_404_unhealthy),
	    H_UNIT(ready__bad_specs__400_naming_the_field),
	};

	return (H_MAIN(tests));
}
