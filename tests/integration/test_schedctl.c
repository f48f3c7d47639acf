/* SPDX-License-Identifier: ISC */
/*
 * schedctl ($SCHEDCTL) against a real daemon: every command's exit status
 * as documented (0 ok, 1 the daemon answered an error or the job could not
 * start, 2 usage, 3 unreachable; wait and run -w pass the job's own status
 * through, 128+N for signal N) and its output, parsed when --json asks for
 * the daemon's answer. What the CLI claims is checked through the API.
 */
#include "config.h"

#include <sys/types.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

static int
ctl_nosock(struct h *h, const char *const env[], ...)
{
	va_list ap;
	int rc;

	va_start(ap, env);
	rc = h_ctlv(h, env, 0, ap);
	va_end(ap);
	return (rc);
}

/* h->ctl_out as JSON. */
static json_t *
out_json(struct h *h)
{
	json_t *j = h_parse(h, h->ctl_out);

	if (j == NULL)
		h_fail(NULL, "--json output is not JSON: %s", h->ctl_out);
	return (j);
}

/* Some job in {"jobs": [...]} is named name. */
static int
has_job(json_t *list, const char *name)
{
	json_t *job;
	size_t i;

	json_array_foreach (json_object_get(list, "jobs"), i, job)
		if (strcmp(json_string_value(json_object_get(job, "name")),
			name) == 0)
			return (1);
	return (0);
}

H_TEST(schedctl__health__exit0_and_json)
{
	json_t *j;

	h_assert_ctl(h, 0, "health");
	assert_true(strlen(h->ctl_out) > 0);
	h_assert_ctl(h, 0, "--json", "health");
	j = out_json(h);
	h_assert_str(j, "status", "ok");
	h_assert_ctl(h, 0, "health", "--json");
	h_assert_str(out_json(h), "status", "ok");
}

H_TEST(schedctl__unreachable_socket__exit3)
{
	const char *none = h_fmt(h, "%s/none.sock", h->dir);
	int rc;

	rc =
	    ctl_nosock(h, NULL, "--socket", none, "health", (const char *)NULL);
	assert_int_equal(rc, 3);
	assert_true(strlen(h->ctl_err) > 0);
	rc = ctl_nosock(h, NULL, "--socket", none, "ps", (const char *)NULL);
	assert_int_equal(rc, 3);
	/* The daemon gone: its socket too. */
	h_daemon_stop(h, SIGTERM);
	h_assert_ctl(h, 3, "health");
	h_assert_ctl(h, 3, "run", "--", "/bin/true");
}

H_TEST(schedctl__usage_errors__exit2)
{
	h_assert_ctl(h, 2, "frobnicate");
	assert_true(strlen(h->ctl_err) > 0);
	h_assert_ctl(h, 2, "show");
	h_assert_ctl(h, 2, "show", "a", "b");
	h_assert_ctl(h, 2, "ps", "--bogus");
	h_assert_ctl(h, 2, "run");
	h_assert_ctl(h, 2, "logs", "--tail", "x", "job");
	h_assert_ctl(h, 2, "kill", "-s");
	h_assert_ctl(h, 2, "wait");
	h_assert_ctl(h, 2, "--socket");
	/* Usage errors never reach the daemon. */
	assert_int_equal(json_array_size(json_object_get(
			     h_call(h, 200, "GET", NULL, "/v1/jobs"), "jobs")),
	    0);
}

H_TEST(schedctl__run_show_ps_stop_rm__lifecycle)
{
	json_t *j;
	pid_t pid;

	h_assert_ctl(h, 0, "--json", "run", "--name", "napper", "--",
	    "/bin/sleep", "30");
	j = out_json(h);
	h_assert_str(j, "name", "napper");
	h_assert_str(j, "state", "running");
	pid = (pid_t)h_int(j, "pid");
	h_learn_pid(h, pid);
	j = h_job_get(h, "napper");
	h_assert_str(j, "state", "running");
	h_assert_int(j, "pid", pid);
	assert_int_equal(kill(pid, 0), 0);

	h_assert_ctl(h, 0, "ps");
	assert_non_null(strstr(h->ctl_out, "napper"));
	h_assert_ctl(h, 0, "ps", "--json");
	assert_true(has_job(out_json(h), "napper"));
	h_assert_ctl(h, 0, "show", "napper");
	assert_non_null(strstr(h->ctl_out, "napper"));
	h_assert_ctl(h, 0, "show", "--json", "napper");
	h_assert_int(out_json(h), "pid", pid);

	h_assert_ctl(h, 0, "stop", "napper");
	h_assert_str(h_job_get(h, "napper"), "state", "stopped");
	assert_true(h_pid_gone(pid));
	/* The table shows active jobs only, -a all; --json the same rows. */
	h_assert_ctl(h, 0, "ps");
	assert_null(strstr(h->ctl_out, "napper"));
	h_assert_ctl(h, 0, "--json", "ps");
	assert_false(has_job(out_json(h), "napper"));
	h_assert_ctl(h, 0, "ps", "-a");
	assert_non_null(strstr(h->ctl_out, "napper"));
	h_assert_ctl(h, 0, "--json", "ps", "-a");
	assert_true(has_job(out_json(h), "napper"));

	h_assert_ctl(h, 0, "rm", "napper");
	h_call(h, 404, "GET", NULL, "/v1/jobs/napper");
	/* No such job: its own exit status (4). */
	h_assert_ctl(h, 4, "show", "napper");
	assert_true(strlen(h->ctl_err) > 0);
}

H_TEST(schedctl__wait__passes_the_job_status)
{
	h_assert_ctl(h, 0, "run", "--name", "seven", "--", "/bin/sh", "-c",
	    "sleep 0.2; exit 7");
	h_assert_ctl(h, 7, "wait", "seven");
	h_assert_int(h_job_get(h, "seven"), "last_run.exit_code", 7);
	h_assert_ctl(h, 5, "run", "-w", "--", "/bin/sh", "-c", "exit 5");
	h_assert_ctl(
	    h, 0, "run", "--name", "sig", "--", "/bin/sh", "-c", "kill -9 $$");
	h_assert_ctl(h, 128 + SIGKILL, "wait", "sig");
	/* Could not start: 1, and says why. */
	h_assert_ctl(h, 1, "run", "--name", "nobin", "--", "/no/such/binary");
	assert_non_null(strstr(h->ctl_err, "/no/such/binary"));
	h_assert_str(h_job_get(h, "nobin"), "state", "failed");
}

H_TEST(schedctl__daemon_errors__exit1_with_message)
{
	h_assert_ctl(
	    h, 0, "run", "--no-start", "--name", "idle", "--", "/bin/true");
	h_assert_str(h_job_get(h, "idle"), "state", "created");
	h_assert_ctl(h, 1, "stop", "idle");
	assert_true(strlen(h->ctl_err) > 0);
	h_assert_ctl(h, 1, "run", "--name", "idle", "--", "/bin/true");
	assert_true(strlen(h->ctl_err) > 0);
	h_assert_ctl(h, 4, "show", "nosuch");
	h_assert_ctl(h, 4, "rm", "nosuch");
	h_assert_ctl(h, 1, "run", "--name", "bad name", "--", "/bin/true");
	assert_true(strlen(h->ctl_err) > 0);
}

H_TEST(schedctl__logs__print_tail_stderr_follow)
{
	h_assert_ctl(h, 0, "run", "--name", "talk", "--", "/bin/sh", "-c",
	    "echo one; echo two; echo three >&2");
	h_assert_ctl(h, 0, "wait", "talk");
	h_assert_ctl(h, 0, "logs", "talk");
	assert_string_equal(h->ctl_out, "one\ntwo\n");
	h_assert_ctl(h, 0, "logs", "--tail", "1", "talk");
	assert_string_equal(h->ctl_out, "two\n");
	h_assert_ctl(h, 0, "logs", "-n", "1", "talk");
	assert_string_equal(h->ctl_out, "two\n");
	h_assert_ctl(h, 0, "logs", "--stderr", "talk");
	assert_string_equal(h->ctl_out, "three\n");

	h_assert_ctl(h, 0, "run", "--name", "tick", "--", "/bin/sh", "-c",
	    "for i in 1 2 3; do echo t$i; sleep 0.2; done");
	/* -f --run 1 returns once that run ends, with everything it
	 * printed (-f alone follows the next runs too: test_logs). */
	h_assert_ctl(h, 0, "logs", "-f", "--run", "1", "tick");
	assert_string_equal(h->ctl_out, "t1\nt2\nt3\n");
	h_assert_str(h_job_get(h, "tick"), "state", "exited");

	/* -t --all: both streams, each line under its time. */
	h_assert_ctl(h, 0, "logs", "-t", "--all", "talk");
	assert_int_equal(
	    strlen(h->ctl_out), 3 * 25 + strlen("one\ntwo\nthree\n"));
	assert_non_null(strstr(h->ctl_out, "Z one\n"));
	assert_non_null(strstr(h->ctl_out, "Z three\n"));
	h_assert_ctl(h, 0, "logs", "--since", "1h", "--all", "talk");
	assert_string_equal(h->ctl_out, "one\ntwo\nthree\n");
	h_assert_ctl(h, 2, "logs", "--since", "yesterday", "talk");
	h_assert_ctl(h, 2, "logs", "--stderr", "--all", "talk");
}

H_TEST(schedctl__kill_restart_start__act_on_the_job)
{
	json_t *j;

	h_assert_ctl(h, 0, "run", "--name", "k", "--", "/bin/sleep", "30");
	h_assert_ctl(h, 0, "kill", "-s", "USR1", "k");
	h_assert_ctl(h, 128 + SIGUSR1, "wait", "k");
	h_assert_str(h_job_get(h, "k"), "last_run.signal", "SIGUSR1");

	h_assert_ctl(h, 0, "start", "k");
	h_assert_int(h_job_get(h, "k"), "last_run.run", 2);
	h_assert_ctl(h, 0, "restart", "k");
	j = h_job_get(h, "k");
	h_assert_str(j, "state", "running");
	h_assert_int(j, "last_run.run", 3);
	h_assert_ctl(h, 1, "rm", "k");
	h_assert_ctl(h, 0, "rm", "-f", "k");
	h_call(h, 404, "GET", NULL, "/v1/jobs/k");
}

H_TEST(schedctl__socket_from_environment__used)
{
	const char *env[] = {h_fmt(h, "SCHEDD_SOCKET=%s", h->sock), NULL};
	int rc;

	rc = ctl_nosock(h, env, "--json", "health", (const char *)NULL);
	if (rc != 0)
		h_fail(NULL, "exit %d: %s", rc, h->ctl_err);
	h_assert_str(out_json(h), "status", "ok");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(schedctl__health__exit0_and_json),
	    H_UNIT(schedctl__unreachable_socket__exit3),
	    H_UNIT(schedctl__usage_errors__exit2),
	    H_UNIT(schedctl__run_show_ps_stop_rm__lifecycle),
	    H_UNIT(schedctl__wait__passes_the_job_status),
	    H_UNIT(schedctl__daemon_errors__exit1_with_message),
	    H_UNIT(schedctl__logs__print_tail_stderr_follow),
	    H_UNIT(schedctl__kill_restart_start__act_on_the_job),
	    H_UNIT(schedctl__socket_from_environment__used),
	};

	return (H_MAIN(tests));
}
