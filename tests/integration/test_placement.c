/* SPDX-License-Identifier: ISC */
/*
 * CPU placement you can check (issue 17): a plan (POST /v1/plan) and a
 * create from the same state agree, for an exclusive grant, a queue and a
 * refused DEADLINE, and the plan leaves nothing behind (no job row, no
 * event, no grant); the scheduling figures in a job's usage move where the
 * kernel's own files say they do (a job held to 10 % of a CPU is
 * throttled, as the cgroup's cpu.stat shows). Busy loops are bounded by
 * timeout(1) and run SCHED_OTHER under a quota; real-time work only
 * sleeps. Written for this machine: root, cgroup v1 cpu and cpuset
 * hierarchies, usable CPUs 0-1; skips otherwise.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* ------------------------------------------------------------ helpers */

static void
need_machine(struct h *h)
{
	json_t *c;

	h_need_root(h);
	if (h_cg_mount(h, "cpuset") == NULL || h_cg_mount(h, "cpu") == NULL)
		h_skip(h, "needs cgroup v1 cpu and cpuset hierarchies");
	c = h_call(h, 200, "GET", NULL, "/v1/cpus");
	if (strcmp(h_str(c, "usable"), "0-1") != 0)
		h_skip(h, "written for a machine whose usable CPUs are 0-1");
}

static pid_t
running_pid(json_t *job)
{
	h_assert_str(job, "state", "running");
	return ((pid_t)h_int(job, "pid"));
}

/* POST /v1/plan with spec (a reference is kept: the create reuses it). */
static json_t *
plan(struct h *h, json_t *spec)
{
	return (h_call(h, 200, "POST", json_incref(spec), "/v1/plan"));
}

/* What must not change when only plans were made. */
static const char *
books(struct h *h)
{
	json_t *cpus = h_call(h, 200, "GET", NULL, "/v1/cpus");
	json_t *rows = h_db_query(h,
	    "SELECT (SELECT count(*) FROM jobs) AS jobs, "
	    "(SELECT count(*) FROM events) AS events",
	    NULL);
	char *a, *b;
	const char *s;

	/* The drift check's findings and figures come and go with the
	 * machine and the clock, not with plans. */
	json_object_del(cpus, "intruders");
	json_object_del(cpus, "drift");
	json_object_del(cpus, "drift_scan");
	a = json_dumps(cpus, JSON_SORT_KEYS | JSON_COMPACT);
	b = json_dumps(rows, JSON_SORT_KEYS | JSON_COMPACT);
	s = h_fmt(h, "%s %s", a, b);
	free(a);
	free(b);
	return (s);
}

/* The queue's entry for job in GET /v1/cpus: its 1-based position. */
static int
queue_position(struct h *h, const char *job)
{
	json_t *q = h_at(h_call(h, 200, "GET", NULL, "/v1/cpus"), "queue"), *e;
	size_t i;

	json_array_foreach (q, i, e)
		if (strcmp(h_str(e, "job"), job) == 0)
			return ((int)i + 1);
	return (0);
}

static json_t *
excl_spec(const char *name)
{
	return (json_pack("{s:s, s:[s,s], s:i}", "name", name, "argv",
	    "/bin/sleep", "30", "exclusive_cpus", 1));
}

static json_t *
dl_spec(const char *name)
{
	return (json_pack("{s:s, s:[s,s], s:{s:s, s:i, s:i, s:i}}", "name",
	    name, "argv", "/bin/sleep", "30", "sched", "policy", "deadline",
	    "runtime_us", 8000, "deadline_us", 10000, "period_us", 10000));
}

/* -------------------------------------------------------------- plans */

/*
 * An exclusive grant, then a queue two deep: each plan says what the
 * create made from the same state then does, and a plan alone changes
 * nothing a client or the database can see.
 */
H_TEST(plan__exclusive_then_queue__create_agrees)
{
	json_t *spec, *p, *j, *cpus;
	const char *before, *cpu;
	pid_t pid;

	need_machine(h);
	spec = h_keep_json(h, excl_spec("x1"));
	before = books(h);
	p = plan(h, spec);
	if (strcmp(books(h), before) != 0)
		h_fail(p, "a plan changed the books: %s\nthen %s", before,
		    books(h));
	h_assert_str(p, "would", "run");
	h_assert_str(p, "state", "running");
	h_assert_int(p, "status", 201);
	assert_int_equal(json_array_size(h_at(p, "refusals")), 0);
	h_assert_str(p, "cpus.placement", "exclusive");
	h_assert_null(p, "queue");
	cpu = h_str(p, "cpus.cpus");
	if (strlen(h_str(p, "cpus.why")) == 0)
		h_fail(p, "the plan does not say why these CPUs");
	h_assert_str(p, "cgroup.cpuset_cpus", cpu);

	j = h_job_create(h, json_incref(spec));
	pid = running_pid(j);
	h_assert_str(j, "cpus_effective", cpu);
	/* The kernel's word: the process may run on the planned CPU only. */
	assert_string_equal(h_status_field(h, pid, "Cpus_allowed_list"), cpu);

	/* The second: queued, at position 1, for the reason the plan gave. */
	spec = h_keep_json(h, excl_spec("x2"));
	p = plan(h, spec);
	h_assert_str(p, "would", "queue");
	h_assert_str(p, "state", "queued");
	h_assert_int(p, "queue.position", 1);
	h_assert_null(p, "cpus.cpus");
	j = h_job_create(h, json_incref(spec));
	h_assert_str(j, "state", "queued");
	h_assert_str(j, "reason", h_str(p, "queue.reason"));
	assert_int_equal(queue_position(h, "x2"), 1);

	/* The third: behind it. */
	spec = h_keep_json(h, excl_spec("x3"));
	before = books(h);
	p = plan(h, spec);
	assert_string_equal(books(h), before);
	h_assert_int(p, "queue.position", 2);
	h_assert_int(p, "queue.ahead", 1);
	j = h_job_create(h, json_incref(spec));
	h_assert_str(j, "state", "queued");
	assert_int_equal(queue_position(h, "x3"), 2);
	cpus = h_call(h, 200, "GET", NULL, "/v1/cpus");
	assert_int_equal(json_array_size(h_at(cpus, "queue")), 2);

	/* A name taken: a create answers 409 on "name", as planned. */
	p = plan(h, spec);
	h_assert_str(p, "would", "refuse");
	h_assert_int(p, "status", 409);
	h_assert_str(p, "refusals[0].code", "conflict");
	h_assert_str(p, "refusals[0].field", "name");
	j = h_call(h, 409, "POST", json_incref(spec), "/v1/jobs");
	h_assert_error(j, "conflict", "name");
}

/*
 * DEADLINE: the plan for the second 80 % job shows the bandwidth before
 * and after; the third is refused with the create's own code, field and
 * message.
 */
H_TEST(plan__deadline_refused__create_agrees)
{
	json_t *spec, *p, *j;
	int64_t before, after;

	need_machine(h);
	h_job_create(h, dl_spec("dl1"));
	spec = h_keep_json(h, dl_spec("dl2"));
	p = plan(h, spec);
	h_assert_str(p, "would", "run");
	h_assert_str(p, "admission.policy", "deadline");
	before = h_int(p, "admission.deadline.used_before_ppm");
	after = h_int(p, "admission.deadline.used_after_ppm");
	/* 8000/10000 is 80 % (the kernel's fixed point rounds it down). */
	if (before < 799000 || before > 800000 || after - before < 799000 ||
	    after - before > 800000)
		h_fail(p, "DEADLINE bandwidth before/after is not 80%%/160%%");
	j = h_job_create(h, json_incref(spec));
	assert_int_equal(sched_getscheduler(running_pid(j)), 6);

	spec = h_keep_json(h, dl_spec("dl3"));
	p = plan(h, spec);
	h_assert_str(p, "would", "refuse");
	h_assert_int(p, "status", 422);
	j = h_call(h, 422, "POST", json_incref(spec), "/v1/jobs");
	h_assert_str(p, "refusals[0].code", h_str(j, "error.code"));
	h_assert_str(p, "refusals[0].field", h_str(j, "error.field"));
	h_assert_str(p, "refusals[0].message", h_str(j, "error.message"));
	h_call(h, 404, "GET", NULL, "/v1/jobs/dl3");
}

/* A plan validates as a create does: 400 naming the field. */
H_TEST(plan__bad_spec__400_naming_the_field)
{
	json_t *j;

	need_machine(h);
	j = h_call(h, 400, "POST",
	    json_pack("{s:[s], s:{s:s, s:i}}", "argv", "/bin/true", "sched",
		"policy", "fifo", "priority", 100),
	    "/v1/plan");
	h_assert_error(j, "invalid_argument", "sched.priority");
	j = h_call(h, 400, "POST",
	    json_pack("{s:[s], s:i}", "argv", "/bin/true", "exclusiv_cpus", 1),
	    "/v1/plan");
	h_assert_error(j, "invalid_argument", NULL);
	j = h_call(h, 400, "POST", NULL, "/v1/plan");
	h_assert_error(j, "invalid_argument", NULL);
}

/* schedctl plan prints the plan readably, and --json gives the answer. */
H_TEST(plan__schedctl__readable_and_json)
{
	json_t *j;

	need_machine(h);
	h_assert_ctl(h, 0, "plan", "--exclusive-cpus", "1", "--policy", "fifo",
	    "--priority", "5", "--", "sleep", "1");
	if (strstr(h->ctl_out, "would run") == NULL ||
	    strstr(h->ctl_out, "exclusive") == NULL ||
	    strstr(h->ctl_out, "RT budget") == NULL)
		fail_msg("schedctl plan says:\n%s", h->ctl_out);
	/* A refusal: exit 1, and the plan on stdout all the same. */
	h_assert_ctl(h, 1, "--json", "plan", "--cpus", "7", "--", "sleep", "1");
	j = h_parse(h, h->ctl_out);
	if (j == NULL)
		fail_msg("schedctl --json plan is not JSON: %s", h->ctl_out);
	h_assert_str(j, "would", "refuse");
	h_assert_str(j, "refusals[0].field", "cpus");
	/* A job file, as run -f posts it. */
	h_put_file(h, h_fmt(h, "%s/job.json", h->dir),
	    "{\"name\": \"f\", \"argv\": [\"/bin/sleep\", \"1\"], "
	    "\"sched\": {\"policy\": \"deadline\", \"runtime_us\": 1000, "
	    "\"deadline_us\": 10000, \"period_us\": 10000}}");
	h_assert_ctl(h, 0, "plan", "-f", h_fmt(h, "%s/job.json", h->dir));
	if (strstr(h->ctl_out, "would run") == NULL ||
	    strstr(h->ctl_out, "DEADLINE bandwidth") == NULL)
		fail_msg("schedctl plan -f says:\n%s", h->ctl_out);
	/* Nothing was made. */
	assert_int_equal(json_array_size(h_at(
			     h_call(h, 200, "GET", NULL, "/v1/jobs"), "jobs")),
	    0);
}

/* -------------------------------------------------------------- drift */

/* A sleep of the test's own (not schedd's), killed by pid at teardown. */
static void
outsider_kill(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;

	if (kill(pid, SIGKILL) == 0)
		waitpid(pid, NULL, 0);
}

static pid_t
outsider(struct h *h)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	h_defer(h, outsider_kill, (void *)(intptr_t)pid);
	return (pid);
}

/* taskset(1) -p -c cpus pid: the machine's tool, not the daemon. */
static void
taskset(struct h *h, pid_t pid, const char *cpus)
{
	const char *argv[] = {"/usr/bin/taskset", "-p", "-c", cpus,
	    h_fmt(h, "%d", (int)pid), NULL};
	const char *out, *err;

	if (h_run(h, argv, NULL, &out, &err, 5000) != 0)
		fail_msg("taskset -p -c %s %d: %s", cpus, (int)pid, err);
}

/* Drift events about pid seen on s within ms (change "appeared" or
 * "cleared", or any when change is NULL); the last in *last. */
static int
drift_events(
    struct h_stream *s, pid_t pid, const char *change, int ms, json_t **last)
{
	int64_t end = h_now_ms() + ms;
	json_t *ev;
	int n = 0;

	while (h_now_ms() < end) {
		if ((ev = h_stream_event(s, (int)(end - h_now_ms()))) == NULL)
			break;
		if (strcmp(h_str(ev, "type"), "drift") != 0 ||
		    h_int(ev, "data.pid") != pid ||
		    (change != NULL &&
			strcmp(h_str(ev, "data.change"), change) != 0))
			continue;
		n++;
		if (last != NULL)
			*last = ev;
	}
	return (n);
}

static json_t *
intruder(struct h *h, pid_t pid)
{
	json_t *a = h_at(h_call(h, 200, "GET", NULL, "/v1/cpus"), "intruders");
	json_t *e;
	size_t i;

	json_array_foreach (a, i, e)
		if (h_int(e, "pid") == pid)
			return (e);
	return (NULL);
}

/*
 * Someone pins a process of their own onto a granted CPU with taskset:
 * exactly one drift event says so (not one a scan), GET /v1/cpus and
 * schedctl cpus list it, the process is left as it was, and its end is one
 * more event.
 */
H_TEST(drift__taskset_onto_granted_cpu__exactly_one_event)
{
	struct h_stream *s;
	json_t *x, *ev = NULL, *i;
	const char *cpu;
	pid_t pid;

	need_machine(h);
	x = h_job_create(h, excl_spec("x"));
	running_pid(x);
	cpu = h_str(x, "cpus_effective");
	pid = outsider(h);
	s = h_stream_open(h, "/v1/events");
	/* Nothing yet: an ordinary process may run anywhere. */
	assert_int_equal(drift_events(s, pid, NULL, 1500, NULL), 0);
	taskset(h, pid, cpu);
	assert_string_equal(h_status_field(h, pid, "Cpus_allowed_list"), cpu);
	if (drift_events(s, pid, "appeared", 3000, &ev) != 1)
		h_fail(ev, "no drift event for pid %d within 3 s", (int)pid);
	h_assert_str(ev, "job", "x");
	h_assert_str(ev, "data.what", "intruder");
	h_assert_str(ev, "data.kind", "pinned");
	h_assert_str(ev, "data.comm", "sleep");
	h_assert_str(ev, "data.cpus_allowed", cpu);
	h_assert_int(ev, "data.cpu", atoi(cpu));
	if (!h_is_time(h_str(ev, "data.since")))
		h_fail(ev, "since is not a time");
	/* Three more scans: still that one event. */
	assert_int_equal(drift_events(s, pid, NULL, 3500, NULL), 0);
	if ((i = intruder(h, pid)) == NULL)
		h_fail(NULL, "GET /v1/cpus does not list pid %d", (int)pid);
	h_assert_str(i, "kind", "pinned");
	h_assert_str(i, "job", "x");
	h_assert_ctl(h, 0, "cpus");
	if (strstr(h->ctl_out, h_fmt(h, "%d", (int)pid)) == NULL ||
	    strstr(h->ctl_out, "pinned") == NULL)
		fail_msg("schedctl cpus does not list it:\n%s", h->ctl_out);
	/* Reported, never touched. */
	assert_string_equal(h_status_field(h, pid, "Cpus_allowed_list"), cpu);

	outsider_kill((void *)(intptr_t)pid);
	if (drift_events(s, pid, "cleared", 3000, NULL) != 1)
		fail_msg("no cleared event once pid %d ended", (int)pid);
	if (intruder(h, pid) != NULL)
		fail_msg("pid %d is still listed after it ended", (int)pid);
	h_stream_close(s);
}

/*
 * on_drift "restore": an affinity changed inside the job is put back. The
 * job is placed after two drift ticks found nothing to check: the ticks
 * walk only the placed jobs, and a placement makes them look again.
 */
H_TEST(drift__restore__affinity_changed_inside_job_put_back)
{
	struct h_stream *s;
	json_t *j, *ev = NULL;
	const char *now = NULL;
	int64_t end;
	pid_t pid;

	need_machine(h);
	h_sleep_ms(2200);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:s, s:s}", "name", "p", "argv",
		   "/bin/sleep", "30", "cpus", "0-1", "on_drift", "restore"));
	pid = running_pid(j);
	h_assert_str(j, "on_drift", "restore");
	s = h_stream_open(h, "/v1/events");
	taskset(h, pid, "1");
	end = h_now_ms() + 4000;
	while (h_now_ms() < end &&
	       strcmp(now = h_status_field(h, pid, "Cpus_allowed_list"),
		   "0-1") != 0)
		h_sleep_ms(50);
	if (strcmp(now, "0-1") != 0)
		fail_msg("affinity still %s after 4 s", now);
	if (drift_events(s, pid, "appeared", 2000, &ev) != 1)
		h_fail(ev, "no single drift event for pid %d", (int)pid);
	h_assert_str(ev, "data.what", "affinity");
	h_assert_str(ev, "data.expected", "0-1");
	h_assert_str(ev, "data.found", "1");
	if (!json_is_true(h_at(ev, "data.restored")))
		h_fail(ev, "the event does not say it restored");
	h_stream_close(s);
}

/* Without on_drift the daemon reports and leaves the thread alone. */
H_TEST(drift__report_only__affinity_left_as_found)
{
	struct h_stream *s;
	json_t *j, *ev = NULL, *cpus;

	need_machine(h);
	j = h_job_create(h, json_pack("{s:s, s:[s,s], s:s}", "name", "p",
				"argv", "/bin/sleep", "30", "cpus", "0-1"));
	s = h_stream_open(h, "/v1/events");
	taskset(h, running_pid(j), "0");
	if (drift_events(s, running_pid(j), "appeared", 3000, &ev) != 1)
		h_fail(ev, "no single drift event");
	if (h_at(ev, "data.restored") != NULL)
		h_fail(ev, "a report-only job says it restored");
	h_sleep_ms(1500);
	assert_string_equal(
	    h_status_field(h, running_pid(j), "Cpus_allowed_list"), "0");
	cpus = h_call(h, 200, "GET", NULL, "/v1/cpus");
	h_assert_str(cpus, "drift[0].what", "affinity");
	h_assert_str(cpus, "drift[0].found", "0");
	h_assert_int(cpus, "drift[0].restored", 0);
	h_stream_close(s);
}

/* A cgroup file written in place, as echo > FILE does. */
static void
cg_write(const char *path, const char *text)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail_msg("write %s: %s", path, strerror(errno));
	close(fd);
}

/*
 * Someone widens an exclusive job's cpuset: the threads keep the affinity
 * they were given, so only the cgroup shows it. One event; with restore
 * the cpuset is written back.
 */
H_TEST(drift__cpuset_widened__reported_and_restored)
{
	struct h_stream *s;
	json_t *x, *ev = NULL;
	const char *cs, *cpu, *now = NULL;
	int64_t end;
	pid_t pid;

	need_machine(h);
	x = h_job_create(h, json_pack("{s:s, s:[s,s], s:i, s:s}", "name", "x",
				"argv", "/bin/sleep", "30", "exclusive_cpus", 1,
				"on_drift", "restore"));
	pid = running_pid(x);
	cpu = h_str(x, "cpus_effective");
	cs = h_job_cg(h, x, "cpuset");
	s = h_stream_open(h, "/v1/events");
	cg_write(h_fmt(h, "%s/cpuset.cpus", cs), "0-1");
	if (drift_events(s, pid, "appeared", 3000, &ev) != 1)
		h_fail(ev, "no single drift event for the cpuset");
	h_assert_str(ev, "data.what", "cpuset");
	h_assert_str(ev, "data.expected", cpu);
	h_assert_str(ev, "data.found", "0-1");
	h_assert_str(ev, "data.comm", "x");
	if (!json_is_true(h_at(ev, "data.restored")))
		h_fail(ev, "the event does not say it restored");
	end = h_now_ms() + 2000;
	while (h_now_ms() < end &&
	       strcmp(now = h_cg_file(h, cs, "cpuset.cpus"), cpu) != 0)
		h_sleep_ms(50);
	assert_string_equal(now, cpu);
	h_stream_close(s);
}

H_TEST(drift__on_drift_bad_value__400_naming_it)
{
	json_t *j;

	need_machine(h);
	j = h_call(h, 400, "POST",
	    json_pack("{s:[s], s:s}", "argv", "/bin/true", "on_drift", "fix"),
	    "/v1/jobs");
	h_assert_error(j, "invalid_argument", "on_drift");
	j = h_call(h, 400, "POST",
	    json_pack("{s:[s], s:i}", "argv", "/bin/true", "on_drift", 1),
	    "/v1/plan");
	h_assert_error(j, "invalid_argument", "on_drift");
}

/* ------------------------------------------------------------ figures */

/*
 * A busy loop held to 10 % of a CPU (bounded by timeout) is throttled:
 * the job's usage says so, and the cgroup's cpu.stat, read here, says at
 * least as much a moment later.
 */
H_TEST(usage__cpu_quota_10__throttled)
{
	json_t *j, *u = NULL;
	const char *dir, *stat, *p;
	int64_t end;
	long long file_thr = -1, file_time = -1;

	need_machine(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s,s,s], s:{s:i}}", "name", "spin",
		   "argv", "/usr/bin/timeout", "5", "/bin/sh", "-c",
		   "while :; do :; done", "limits", "cpu_quota_pct", 10));
	running_pid(j);
	dir = h_job_cg(h, j, "cpu");
	end = h_now_ms() + 4000;
	while (h_now_ms() < end) {
		u = h_at(h_job_get(h, "spin"), "usage");
		if (json_integer_value(json_object_get(u, "nr_throttled")) >
			2 &&
		    json_integer_value(json_object_get(u, "throttled_us")) > 0)
			break;
		h_sleep_ms(100);
	}
	if (json_integer_value(json_object_get(u, "nr_throttled")) <= 2 ||
	    json_integer_value(json_object_get(u, "throttled_us")) <= 0)
		h_fail(u, "a job at 10%% of a CPU is not seen throttled");
	stat = h_cg_file(h, dir, "cpu.stat");
	if ((p = strstr(stat, "nr_throttled ")) != NULL)
		file_thr = strtoll(p + 13, NULL, 10);
	if ((p = strstr(stat, "throttled_time ")) != NULL)
		file_time = strtoll(p + 15, NULL, 10);
	if (file_thr < json_integer_value(json_object_get(u, "nr_throttled")) ||
	    file_time / 1000 <
		json_integer_value(json_object_get(u, "throttled_us")))
		h_fail(u, "the cgroup's cpu.stat says less: %s", stat);
	/* The loop is preempted at every period's end. */
	if (json_integer_value(json_object_get(u, "involuntary_switches")) <= 0)
		h_fail(u, "a throttled loop has no involuntary switches");
	if (!json_is_integer(json_object_get(u, "migrations")))
		h_fail(u, "no migrations figure");
	h_call(h, 200, "POST", NULL, "/v1/jobs/spin/stop");
}

/* Without a quota nothing is throttled, and the figures are there. */
H_TEST(usage__no_quota__not_throttled)
{
	json_t *j, *u;

	need_machine(h);
	j = h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "nap", "argv",
				"/bin/sleep", "30"));
	running_pid(j);
	h_sleep_ms(300);
	u = h_at(h_job_get(h, "nap"), "usage");
	h_assert_int(u, "nr_throttled", 0);
	h_assert_int(u, "throttled_us", 0);
	if (!json_is_integer(json_object_get(u, "involuntary_switches")) ||
	    !json_is_integer(json_object_get(u, "runq_delay_us")))
		h_fail(u, "figures missing");
	/* cgroup v1 has no per-cgroup pressure. */
	h_assert_null(u, "cpu_pressure_us");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(plan__exclusive_then_queue__create_agrees),
	    H_UNIT(plan__deadline_refused__create_agrees),
	    H_UNIT(plan__bad_spec__400_naming_the_field),
	    H_UNIT(plan__schedctl__readable_and_json),
	    H_UNIT(drift__taskset_onto_granted_cpu__exactly_one_event),
	    H_UNIT(drift__restore__affinity_changed_inside_job_put_back),
	    H_UNIT(drift__report_only__affinity_left_as_found),
	    H_UNIT(drift__cpuset_widened__reported_and_restored),
	    H_UNIT(drift__on_drift_bad_value__400_naming_it),
	    H_UNIT(usage__cpu_quota_10__throttled),
	    H_UNIT(usage__no_quota__not_throttled),
	};

	return (H_MAIN(tests));
}
