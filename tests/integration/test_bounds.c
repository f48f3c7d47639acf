/* SPDX-License-Identifier: ISC */
/*
 * What a job under an outer scheduler (a Slurm step) needs from the node's
 * schedd (issue 19): labels shown with the job and carried in its events;
 * cpus_within, which bounds explicit cpus, exclusive grants and the shared
 * pool, checked on the kernel's affinity of the job's process; and
 * stop.unwaited_ms, which stops a run once no wait has watched it for
 * that long. The CPU cases are written for this machine (root, cgroup v1
 * cpuset, usable CPUs 0-1) and skip otherwise; they only sleep.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

static void
need_machine(struct h *h)
{
	json_t *c;

	h_need_root(h);
	if (h_cg_mount(h, "cpuset") == NULL)
		h_skip(h, "needs the cgroup v1 cpuset hierarchy");
	c = h_call(h, 200, "GET", NULL, "/v1/cpus");
	if (strcmp(h_str(c, "usable"), "0-1") != 0)
		h_skip(h, "written for a machine whose usable CPUs are 0-1");
}

/* The kernel's affinity of pid as "0", "1" or "0-1". */
static const char *
affinity(struct h *h, pid_t pid)
{
	cpu_set_t set;

	if (sched_getaffinity(pid, sizeof(set), &set) == -1)
		return ("?");
	if (CPU_ISSET(0, &set) && CPU_ISSET(1, &set))
		return ("0-1");
	(void)h;
	return (CPU_ISSET(0, &set) ? "0" : CPU_ISSET(1, &set) ? "1" : "");
}

H_TEST(labels__shown_with_the_job_and_in_its_events)
{
	struct h_stream *s;
	json_t *j, *ev;
	int seen = 0;

	j = h_job_create(h, json_pack("{s:s, s:[s], s:{s:s, s:s}}", "name",
				"lab", "argv", "/bin/true", "labels",
				"slurm.job_id", "42", "slurm.step_id", "0"));
	if (!json_is_string(
		json_object_get(json_object_get(j, "labels"), "slurm.job_id")))
		h_fail(j, "no labels in the answer");
	h_job_poll(h, "lab", "exited", 5000);
	j = h_job_get(h, "lab");
	if (strcmp(json_string_value(json_object_get(
		       json_object_get(j, "labels"), "slurm.step_id")),
		"0") != 0)
		h_fail(j, "labels lost");
	s = h_stream_open(h, "/v1/events?since=0");
	while ((ev = h_stream_event(s, 1000)) != NULL) {
		const char *type = h_str(ev, "type");
		json_t *l =
		    json_object_get(json_object_get(ev, "data"), "labels");

		if (strcmp(type, "created") != 0 &&
		    strcmp(type, "running") != 0 && strcmp(type, "exited") != 0)
			continue;
		if (!json_is_string(json_object_get(l, "slurm.job_id")) ||
		    strcmp(
			json_string_value(json_object_get(l, "slurm.job_id")),
			"42") != 0)
			h_fail(ev, "event without the job's labels");
		seen++;
	}
	h_stream_close(s);
	assert_int_equal(seen, 3);
}

/* schedctl ps -o label.KEY: one label's value, as a column and in JSON. */
H_TEST(labels__ps_label_column)
{
	const char *argv[] = {getenv("SCHEDCTL"), "--socket", h->sock, "ps",
	    "-o", "name,label.slurm.job_id", NULL, NULL};
	const char *out, *err;
	json_t *j, *jobs;

	if (argv[0] == NULL)
		h_skip(h, "needs $SCHEDCTL");
	h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:{s:s}}", "name", "l1", "argv",
		   "/bin/sleep", "30", "labels", "slurm.job_id", "42"));
	h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "l2", "argv",
			    "/bin/sleep", "30"));
	assert_int_equal(h_run(h, argv, NULL, &out, &err, 5000), 0);
	if (strstr(out, "SLURM.JOB_ID") == NULL || strstr(out, "42") == NULL)
		h_fail(NULL, "ps -o label.slurm.job_id: %s", out);
	argv[6] = "--json";
	assert_int_equal(h_run(h, argv, NULL, &out, &err, 5000), 0);
	j = h_parse(h, out);
	jobs = json_object_get(j, "jobs");
	h_assert_str(json_array_get(jobs, 0), "name", "l1");
	/* Not h_assert_str: its paths take the dots for levels. */
	if (!json_is_string(json_object_get(
		json_array_get(jobs, 0), "label.slurm.job_id")) ||
	    strcmp(json_string_value(json_object_get(
		       json_array_get(jobs, 0), "label.slurm.job_id")),
		"42") != 0)
		h_fail(j, "label.slurm.job_id is not 42");
	if (!json_is_null(
		json_object_get(json_array_get(jobs, 1), "label.slurm.job_id")))
		h_fail(j, "a job without the label: not null");
}

H_TEST(labels__bad_key__400_naming_it)
{
	json_t *j;

	j = h_call(h, 400, "POST",
	    json_pack("{s:[s], s:{s:s}}", "argv", "/bin/true", "labels",
		"has space", "x"),
	    "/v1/jobs");
	h_assert_error(j, "invalid_argument", "labels.has space");
}

H_TEST(cpus_within__shared_pool_cut_to_it__kernel_affinity)
{
	json_t *j;

	need_machine(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:s}", "name", "w1", "argv",
		   "/bin/sleep", "30", "cpus_within", "1"));
	h_assert_str(j, "state", "running");
	h_assert_str(j, "cpus_effective", "1");
	assert_string_equal(affinity(h, (pid_t)h_int(j, "pid")), "1");
}

H_TEST(cpus_within__exclusive_grant_taken_from_it)
{
	json_t *j;

	need_machine(h);
	/* Lowest ids first would pick CPU 0: the bound says 1. */
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:i, s:s}", "name", "x1", "argv",
		"/bin/sleep", "30", "exclusive_cpus", 1, "cpus_within", "1"));
	h_assert_str(j, "state", "running");
	h_assert_str(j, "cpus_effective", "1");
	assert_string_equal(affinity(h, (pid_t)h_int(j, "pid")), "1");
}

/* A grant never takes the last CPU a running bound job has: it waits. */
H_TEST(cpus_within__grant_that_would_starve_a_bound_job__queues)
{
	json_t *j;

	need_machine(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:s}", "name", "w", "argv",
		   "/bin/sleep", "30", "cpus_within", "1"));
	h_assert_str(j, "state", "running");
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s], s:i, s:s}", "name", "x", "argv",
		"/bin/sleep", "30", "exclusive_cpus", 1, "cpus_within", "1"));
	h_assert_str(j, "state", "queued");
	h_call(h, 200, "POST", NULL, "/v1/jobs/w/stop");
	j = h_job_poll(h, "x", "running", 5000);
	h_assert_str(j, "cpus_effective", "1");
	assert_string_equal(affinity(h, (pid_t)h_int(j, "pid")), "1");
}

H_TEST(cpus_within__what_cannot_fit__422_naming_the_field)
{
	json_t *j;

	need_machine(h);
	j = h_call(h, 422, "POST",
	    json_pack("{s:[s], s:s, s:s}", "argv", "/bin/true", "cpus", "0",
		"cpus_within", "1"),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "cpus");
	j = h_call(h, 422, "POST",
	    json_pack("{s:[s], s:i, s:s}", "argv", "/bin/true",
		"exclusive_cpus", 2, "cpus_within", "1"),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "exclusive_cpus");
	j = h_call(h, 422, "POST",
	    json_pack("{s:[s], s:s}", "argv", "/bin/true", "cpus_within", "7"),
	    "/v1/jobs");
	h_assert_error(j, "unsatisfiable", "cpus_within");
}

H_TEST(unwaited__no_wait__stopped_by_its_stop_policy)
{
	struct h_stream *s;
	json_t *j, *ev;
	int seen = 0;
	pid_t pid;
	int64_t t0 = h_now_ms();

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:{s:i}}", "name", "u1", "argv",
		   "/bin/sleep", "30", "stop", "unwaited_ms", 300));
	pid = (pid_t)h_int(j, "pid");
	j = h_job_poll(h, "u1", "stopped", 5000);
	assert_true(h_now_ms() - t0 >= 300);
	assert_true(h_wait_gone(pid, 2000));
	/* The stopping event says why. */
	s = h_stream_open(h, "/v1/events?since=0");
	while ((ev = h_stream_event(s, 1000)) != NULL)
		if (strcmp(h_str(ev, "type"), "stopping") == 0) {
			h_assert_str(ev, "data.reason", "unwaited");
			seen++;
		}
	h_stream_close(s);
	assert_int_equal(seen, 1);
}

H_TEST(unwaited__while_waited__runs_then_stops_when_the_wait_goes)
{
	struct h_stream *s;
	json_t *j;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:{s:i}}", "name", "u2", "argv",
		   "/bin/sleep", "30", "stop", "unwaited_ms", 300));
	s = h_stream_begin(h, "/v1/jobs/u2/wait");
	h_sleep_ms(1000);
	h_assert_str(h_job_get(h, "u2"), "state", "running");
	h_stream_close(s);
	h_job_poll(h, "u2", "stopped", 5000);
	(void)j;
}

/*
 * schedctl run -w outlives its daemon: killed with -9 and started again,
 * the new schedd adopts the run, and the wait, looking for it again, ends
 * with the run's real exit code (the harness reaps the orphan, as systemd
 * would, so that the kernel has the status to give).
 */
H_TEST(run_wait__schedd_killed_and_restarted__real_exit_code)
{
	const char *rcfile = h_fmt(h, "%s/rc", h->dir), *rc;
	const char *ctl = getenv("SCHEDCTL");
	json_t *j;
	pid_t pid;
	int i;

	if (ctl == NULL)
		h_skip(h, "needs $SCHEDCTL");
	h_reap_orphans(h);
	if ((pid = fork()) == -1)
		h_fail(NULL, "fork");
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c",
		    h_fmt(h,
			"'%s' --socket '%s' run -w --name k9 -- sh -c "
			"'sleep 2; exit 7' >/dev/null 2>&1; echo $? >'%s'",
			ctl, h->sock, rcfile),
		    (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 &&
		    h_request(h, "GET", "/v1/jobs/k9", NULL, NULL, NULL) != 200;
	     i++)
		h_sleep_ms(50);
	h_job_poll(h, "k9", "running", 5000);
	h_daemon_stop(h, SIGKILL);
	h_sleep_ms(300);
	h_daemon_start(h);
	for (i = 0; i < 100; i++) {
		if ((rc = h_try_text(h, rcfile)) != NULL && rc[0] != '\0')
			break;
		h_sleep_ms(100);
	}
	rc = h_try_text(h, rcfile);
	if (rc == NULL || atoi(rc) != 7)
		h_fail(NULL, "schedctl run -w exited %s, not 7",
		    rc != NULL ? rc : "(not yet)");
	j = h_job_get(h, "k9");
	h_assert_int(j, "last_run.exit_code", 7);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(labels__shown_with_the_job_and_in_its_events),
	    H_UNIT(labels__ps_label_column),
	    H_UNIT(labels__bad_key__400_naming_it),
	    H_UNIT(cpus_within__shared_pool_cut_to_it__kernel_affinity),
	    H_UNIT(cpus_within__exclusive_grant_taken_from_it),
	    H_UNIT(cpus_within__grant_that_would_starve_a_bound_job__queues),
	    H_UNIT(cpus_within__what_cannot_fit__422_naming_the_field),
	    H_UNIT(unwaited__no_wait__stopped_by_its_stop_policy),
	    H_UNIT(unwaited__while_waited__runs_then_stops_when_the_wait_goes),
	    H_UNIT(run_wait__schedd_killed_and_restarted__real_exit_code),
	};

	return (H_MAIN(tests));
}
