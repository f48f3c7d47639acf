/* SPDX-License-Identifier: ISC */
/*
 * Seeing the machine at a glance (issue 15), against a real daemon:
 * schedctl run -w as a foreground stand-in for its job (signals passed on,
 * the job's status as its own, -a streaming the output), GET /metrics
 * checked by promtool and against the kernel's own figures, schedctl
 * status and ps compared with the API and /proc. schedctl runs as a child
 * of the test; each one is killed and reaped at teardown if a test fails
 * early.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* A schedctl running in the background, its output in files. */
struct bg {
	pid_t pid;
	int status; /* wait status once reaped */
	char out[H_PATH_MAX + 64], err[H_PATH_MAX + 64];
};

static void
bg_cleanup(void *arg)
{
	struct bg *bg = arg;
	int st;

	if (bg->pid > 0) {
		kill(bg->pid, SIGKILL);
		waitpid(bg->pid, &st, 0);
		bg->pid = 0;
	}
	free(bg);
}

/* Start $SCHEDCTL --socket S ARGS... (NULL-terminated) in the background. */
static struct bg *
bg_start(struct h *h, const char *tag, ...)
{
	const char *argv[64], *a, *bin = getenv("SCHEDCTL");
	struct bg *bg;
	va_list ap;
	int n = 0, fd;

	if (bin == NULL)
		fail_msg("$SCHEDCTL is not set");
	bg = calloc(1, sizeof(*bg));
	snprintf(bg->out, sizeof(bg->out), "%s/%.32s.out", h->dir, tag);
	snprintf(bg->err, sizeof(bg->err), "%s/%.32s.err", h->dir, tag);
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = h->sock;
	va_start(ap, tag);
	while ((a = va_arg(ap, const char *)) != NULL && n < 62)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	h_defer(h, bg_cleanup, bg);
	if ((bg->pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (bg->pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		if ((fd = open(bg->out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
		    -1)
			dup2(fd, 1);
		if ((fd = open(bg->err, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
		    -1)
			dup2(fd, 2);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return (bg);
}

/* Wait up to timeout_ms for it to exit; its exit code (128+N: signal N). */
static int
bg_wait(struct h *h, struct bg *bg, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	pid_t r;

	while ((r = waitpid(bg->pid, &bg->status, WNOHANG)) == 0) {
		if (h_now_ms() > deadline)
			h_fail(NULL,
			    "schedctl did not exit within %d ms; "
			    "stderr: %s",
			    timeout_ms, h_try_text(h, bg->err));
		h_sleep_ms(20);
	}
	bg->pid = 0;
	if (WIFSIGNALED(bg->status))
		return (128 + WTERMSIG(bg->status));
	return (WEXITSTATUS(bg->status));
}

/* The job named name once it runs: its pid, learnt for teardown. */
static pid_t
job_running_pid(struct h *h, const char *name)
{
	json_t *job;
	int64_t deadline = h_now_ms() + 10000;
	long status;

	for (;;) {
		status = h_request(
		    h, "GET", h_fmt(h, "/v1/jobs/%s", name), NULL, NULL, &job);
		if (status == 200 && job != NULL &&
		    strcmp(h_str(job, "state"), "running") == 0)
			break;
		if (h_now_ms() > deadline)
			h_fail(NULL, "job %s never ran", name);
		h_sleep_ms(20);
	}
	/* job is the harness's (h_request keeps what it parses). */
	h_learn_pid(h, (pid_t)h_int(job, "pid"));
	return ((pid_t)h_int(job, "pid"));
}

/* The shell traps TERM and exits 7: the job's own code must come back. */
H_TEST(run_wait__sigterm__job_stopped_with_its_policy_and_code_returned)
{
	struct bg *bg;
	json_t *job;
	pid_t pid;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "--name", "trap", "--stop-timeout",
	    "5000", "--", "/bin/sh", "-c",
	    "trap 'echo got-term; exit 7' TERM; while :; do sleep 0.05; done",
	    (const char *)NULL);
	pid = job_running_pid(h, "trap");
	/* The trap must be set before the signal comes. */
	h_sleep_ms(200);
	kill(bg->pid, SIGTERM);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 7);
	assert_true(h_wait_gone(pid, 5000));
	job = h_job_get(h, "trap");
	/* Stopped on request, not left running and not just killed. */
	h_assert_str(job, "state", "stopped");
	h_assert_int(job, "last_run.exit_code", 7);
	assert_non_null(strstr(h_job_logs(h, "trap", ""), "got-term"));
}

/* A job that ignores TERM: the stop policy's SIGKILL comes after its
 * timeout, and schedctl exits 137 (128 + SIGKILL). */
H_TEST(run_wait__sigint__stop_timeout_kills_and_128_plus_9)
{
	struct bg *bg;
	json_t *job;
	int64_t t0;
	pid_t pid;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "--name", "deaf", "--stop-timeout",
	    "300", "--", "/bin/sh", "-c",
	    "trap '' TERM; while :; do sleep 0.05; done", (const char *)NULL);
	pid = job_running_pid(h, "deaf");
	h_sleep_ms(200);
	t0 = h_now_ms();
	kill(bg->pid, SIGINT);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 128 + SIGKILL);
	/* Not before the job's stop timeout. */
	assert_true(h_now_ms() - t0 >= 300);
	assert_true(h_wait_gone(pid, 5000));
	job = h_job_get(h, "deaf");
	h_assert_str(job, "state", "stopped");
	h_assert_str(job, "last_run.signal", "SIGKILL");
}

/*
 * Slurm's time limit sends the step SIGTERM, SIGCONT and SIGTERM within a
 * millisecond: that is one stop through the job's policy, not a stop and
 * a kill. The job takes 300 ms to stop, time enough for a kill to win.
 */
H_TEST(run_wait__sigterm_cont_sigterm_at_once__one_stop_not_a_kill)
{
	struct bg *bg;
	json_t *job;
	pid_t pid;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "--name", "slurmtl",
	    "--stop-timeout", "5000", "--", "/bin/sh", "-c",
	    "trap 'sleep 0.3; exit 7' TERM; while :; do sleep 0.05; done",
	    (const char *)NULL);
	pid = job_running_pid(h, "slurmtl");
	h_sleep_ms(200);
	/* Apart enough to be two deliveries, not one pending SIGTERM. */
	kill(bg->pid, SIGTERM);
	h_sleep_ms(20);
	kill(bg->pid, SIGCONT);
	kill(bg->pid, SIGTERM);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 7);
	assert_true(h_wait_gone(pid, 5000));
	job = h_job_get(h, "slurmtl");
	h_assert_str(job, "state", "stopped");
	h_assert_int(job, "last_run.exit_code", 7);
}

/* A second TERM a second or more after the first is a second request:
 * it kills the job at once, long before its stop timeout. */
H_TEST(run_wait__second_sigterm_later__kills_before_stop_timeout)
{
	struct bg *bg;
	json_t *job;
	int64_t t0;
	pid_t pid;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "--name", "deaf2",
	    "--stop-timeout", "20000", "--", "/bin/sh", "-c",
	    "trap '' TERM; while :; do sleep 0.05; done", (const char *)NULL);
	pid = job_running_pid(h, "deaf2");
	h_sleep_ms(200);
	t0 = h_now_ms();
	kill(bg->pid, SIGTERM);
	h_sleep_ms(1200);
	kill(bg->pid, SIGTERM);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 128 + SIGKILL);
	assert_true(h_now_ms() - t0 < 10000);
	assert_true(h_wait_gone(pid, 5000));
	job = h_job_get(h, "deaf2");
	h_assert_str(job, "last_run.signal", "SIGKILL");
}

/* A job with restart=always is not restarted after schedctl's TERM. */
H_TEST(run_wait__sigterm__restart_always_job_stays_stopped)
{
	struct bg *bg;
	json_t *job;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "--name", "always", "--restart",
	    "always", "--", "/bin/sleep", "60", (const char *)NULL);
	(void)job_running_pid(h, "always");
	kill(bg->pid, SIGTERM);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 128 + SIGTERM);
	h_sleep_ms(300);
	job = h_job_get(h, "always");
	h_assert_str(job, "state", "stopped");
}

/* SIGHUP is the job's: passed on, and the job decides (here: it goes on,
 * then ends by itself with its code). */
H_TEST(run_wait__sighup__forwarded_to_the_job)
{
	struct bg *bg;
	json_t *job;
	pid_t pid;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "--name", "hup", "--", "/bin/sh",
	    "-c",
	    "trap 'echo got-hup; exit 3' HUP; while :; do sleep 0.05; done",
	    (const char *)NULL);
	pid = job_running_pid(h, "hup");
	h_sleep_ms(200);
	kill(bg->pid, SIGHUP);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 3);
	assert_true(h_wait_gone(pid, 5000));
	job = h_job_get(h, "hup");
	/* It ended by itself (after the signal), not on request. */
	h_assert_str(job, "state", "exited");
	h_assert_int(job, "last_run.exit_code", 3);
}

/* Without a signal, run -w is unchanged: the job's code comes back. */
H_TEST(run_wait__attach__streams_stdout_and_stderr_while_waiting)
{
	struct bg *bg;
	const char *out, *err;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "-a", "--name", "talk", "--",
	    "/bin/sh", "-c",
	    "echo out-1; echo err-1 >&2; sleep 0.3; echo out-2; exit 5",
	    (const char *)NULL);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 5);
	out = h_text(h, bg->out);
	err = h_text(h, bg->err);
	if (strstr(out, "out-1\nout-2") == NULL)
		h_fail(NULL, "stdout lacks the job's output: %s", out);
	if (strstr(err, "err-1") == NULL)
		h_fail(NULL, "stderr lacks the job's stderr: %s", err);
	assert_null(strstr(out, "err-1"));
	assert_null(strstr(err, "out-1"));
}

/* -a streams while the job runs, not only at its end. */
H_TEST(run_wait__attach__output_arrives_before_the_end)
{
	struct bg *bg;
	const char *out = NULL;
	int64_t deadline;
	int rc;

	bg = bg_start(h, "ctl", "run", "-w", "-a", "--name", "slow", "--",
	    "/bin/sh", "-c", "echo early; sleep 60", (const char *)NULL);
	(void)job_running_pid(h, "slow");
	deadline = h_now_ms() + 5000;
	while (h_now_ms() < deadline) {
		out = h_try_text(h, bg->out);
		if (out != NULL && strstr(out, "early") != NULL)
			break;
		h_sleep_ms(50);
	}
	if (out == NULL || strstr(out, "early") == NULL)
		h_fail(NULL, "no output while the job runs: %s",
		    out != NULL ? out : "(none)");
	kill(bg->pid, SIGTERM);
	rc = bg_wait(h, bg, 10000);
	assert_int_equal(rc, 128 + SIGTERM);
}

H_TEST(run_wait__attach_without_wait__usage)
{
	h_assert_ctl(h, 2, "run", "-a", "--", "/bin/true");
	assert_non_null(strstr(h->ctl_err, "-a needs -w"));
	h_assert_ctl(h, 2, "--json", "run", "-w", "-a", "--", "/bin/true");
}

/* ------------------------------------------------------------ /metrics */

/* The value of the first sample whose line starts with prefix, or -1. */
static double
sample(const char *text, const char *prefix)
{
	const char *p = text, *sp;
	size_t n = strlen(prefix);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, n) == 0) {
			sp = strchr(p, '\n');
			while (sp != NULL && sp > p && sp[-1] != ' ')
				sp--;
			if (sp == NULL)
				sp = strrchr(p, ' ') + 1;
			return (strtod(sp, NULL));
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return (-1);
}

static const char *
scrape(struct h *h)
{
	const char *body = h_call_raw(h, 200, "GET", NULL, "", "/metrics");

	if (strncmp(h->last_ctype, "text/plain; version=0.0.4", 25) != 0)
		h_fail(NULL, "Content-Type %s", h->last_ctype);
	return (body);
}

/* promtool (Debian's prometheus package) is the judge of the format. */
H_TEST(metrics__promtool_check_metrics__passes)
{
	const char *body, *file, *out, *err;
	json_t *spec;
	int rc;

	if (access("/usr/bin/promtool", X_OK) == -1)
		h_skip(h, "promtool is not installed (apt-get install "
			  "prometheus): the format is not checked");
	spec = json_pack(
	    "{s:s, s:[s,s]}", "name", "sleeper", "argv", "/bin/sleep", "60");
	h_learn_pid(h, (pid_t)h_int(h_job_create(h, spec), "pid"));
	spec = json_pack("{s:s, s:[s,s,s]}", "name", "quick", "argv", "/bin/sh",
	    "-c", "exit 2");
	h_job_create(h, spec);
	h_job_poll(h, "quick", "exited", 5000);
	h_call(h, 404, "GET", NULL, "/v1/jobs/none");
	h_call(h, 404, "GET", NULL, "/v1/nothing/here");
	body = scrape(h);
	file = h_fmt(h, "%s/metrics.txt", h->dir);
	h_put_file(h, file, body);
	rc = h_run(h,
	    (const char *const[]){"/bin/sh", "-c",
		h_fmt(h, "exec /usr/bin/promtool check metrics < %s", file),
		NULL},
	    NULL, &out, &err, 30000);
	if (rc != 0 || strlen(err) > 0 || strlen(out) > 0)
		h_fail(NULL, "promtool check metrics: %d\n%s%s\n---\n%s", rc,
		    out, err, body);
	/* Unknown paths are one series, not one per path. */
	assert_null(strstr(body, "/v1/nothing"));
	assert_true(sample(body, "schedd_api_requests_total{route=\"other\","
				 "method=\"GET\",code=\"404\"}") >= 1);
	assert_true(sample(body, "schedd_api_requests_total{route=\"/v1/jobs/"
				 "{job}\",method=\"GET\",code=\"404\"}") >= 1);
}

/* Figures against the daemon's own answers and the kernel's. */
H_TEST(metrics__figures__match_the_api_and_the_kernel)
{
	const char *body, *cg, *procs;
	json_t *spec, *job;
	double v, before;
	int nprocs = 0;

	body = scrape(h);
	assert_true(sample(body, "schedd_up ") == 1);
	before = sample(body, "schedd_spawns_total ");
	assert_true(before >= 0);
	assert_true(sample(body, "schedd_jobs{state=\"running\"} ") == 0);
	assert_true(sample(body, "schedd_spawn_failures_total ") == 0);

	spec = json_pack("{s:s, s:[s,s,s]}", "name", "three", "argv", "/bin/sh",
	    "-c", "sleep 60 & sleep 60 & wait");
	job = h_job_create(h, spec);
	h_learn_pid(h, (pid_t)h_int(job, "pid"));
	spec = json_pack(
	    "{s:s, s:[s]}", "name", "noexec", "argv", "/nonexistent/binary");
	h_job_create(h, spec);
	/* Wait until the shell has both children. */
	cg = h_job_cg(h, job, "pids");
	for (int i = 0; i < 100 && nprocs != 3; i++) {
		procs = h_cg_file(h, cg, "cgroup.procs");
		nprocs = 0;
		for (const char *p = procs; *p != '\0'; p++)
			if (*p == '\n')
				nprocs++;
		nprocs += *procs != '\0';
		h_sleep_ms(20);
	}
	assert_int_equal(nprocs, 3);
	body = scrape(h);
	assert_true(sample(body, "schedd_spawns_total ") == before + 1);
	assert_true(sample(body, "schedd_spawn_failures_total ") == 1);
	assert_true(sample(body, "schedd_jobs{state=\"running\"} ") == 1);
	assert_true(sample(body, "schedd_jobs{state=\"failed\"} ") == 1);
	v = sample(body, "schedd_job_processes{job_name=\"three\",");
	if (v != 3)
		h_fail(NULL, "processes %g, cgroup.procs 3:\n%s", v, body);
	/* The memory cgroup's own figure, read just after: within 1 MiB. */
	v = sample(body, "schedd_job_memory_bytes{job_name=\"three\",");
	before = strtod(
	    h_cg_file(h, h_job_cg(h, job, "memory"), "memory.usage_in_bytes"),
	    NULL);
	if (v <= 0 || v - before > 1048576 || before - v > 1048576)
		h_fail(NULL, "memory %g, memory.usage_in_bytes %g", v, before);
	assert_non_null(strstr(body, "schedd_job_info{job_name=\"three\","));
	assert_non_null(strstr(body, ",state=\"running\",owner=\"root\"} 1"));
}

/* CPU seconds of an ended run: the kernel's cpuacct figure. */
H_TEST(metrics__cpu_seconds__is_the_cgroup_figure)
{
	const char *body, *cg;
	json_t *spec, *job;
	double v, k;

	spec = json_pack("{s:s, s:[s,s,s]}", "name", "burn", "argv", "/bin/sh",
	    "-c",
	    "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 60");
	job = h_job_create(h, spec);
	h_learn_pid(h, (pid_t)h_int(job, "pid"));
	cg = h_job_cg(h, job, "cpuacct");
	if (cg == NULL)
		h_skip(h, "no cpuacct hierarchy");
	/* Until the loop is over the figure moves. */
	for (int i = 0; i < 500; i++) {
		if (h_child_of((pid_t)h_int(job, "pid"), "sleep", 0) > 0)
			break;
		h_sleep_ms(20);
	}
	body = scrape(h);
	k = strtod(h_cg_file(h, cg, "cpuacct.usage"), NULL) / 1e9;
	v = sample(body, "schedd_job_cpu_seconds_total{job_name=\"burn\",");
	if (k < 0.05 || v < k - 0.02 || v > k + 0.02)
		h_fail(NULL, "cpu seconds %g, cpuacct.usage %g s", v, k);
}

/* Another user's argv and env never show, here nobody's do. */
H_TEST(metrics__no_argv_no_env)
{
	const char *body;
	json_t *spec;

	spec = json_pack("{s:s, s:[s,s,s], s:{s:s}}", "name", "secretive",
	    "argv", "/bin/sh", "-c", "sleep 60 # ARGV-MARK", "env", "MARK",
	    "ENV-VALUE-MARK");
	h_learn_pid(h, (pid_t)h_int(h_job_create(h, spec), "pid"));
	body = scrape(h);
	assert_non_null(strstr(body, "job_name=\"secretive\""));
	assert_null(strstr(body, "ARGV-MARK"));
	assert_null(strstr(body, "ENV-VALUE-MARK"));
	assert_null(strstr(body, "MARK"));
}

/* ------------------------------------------------------------- status */

/* The job's pids as the kernel has them (its pids cgroup). */
static int
cg_pids(struct h *h, json_t *job, pid_t *out, int max)
{
	return (h_cg_pids(h, h_job_cg(h, job, "pids"), out, max));
}

H_TEST(status__running_job__tree_use_and_last_output)
{
	json_t *spec, *job, *st, *procs, *p;
	pid_t pids[16];
	int n = 0, i, found;
	size_t k;

	spec = json_pack("{s:s, s:[s,s,s], s:{s:s, s:i}}", "name", "talker",
	    "argv", "/bin/sh", "-c",
	    "i=1; while [ $i -le 20 ]; do echo line-$i; i=$((i+1)); done; "
	    "echo oops >&2; sleep 60 & sleep 61 & wait",
	    "limits", "memory_max", "64M", "pids_max", 32);
	job = h_job_create(h, spec);
	h_learn_pid(h, (pid_t)h_int(job, "pid"));
	for (i = 0; i < 200 && n != 3; i++) {
		n = cg_pids(h, job, pids, 16);
		h_sleep_ms(20);
	}
	assert_int_equal(n, 3);

	h_assert_ctl(h, 0, "--json", "status", "talker");
	st = h_parse(h, h->ctl_out);
	if (st == NULL)
		h_fail(NULL, "not JSON: %s", h->ctl_out);
	h_assert_str(st, "job.name", "talker");
	h_assert_str(st, "job.state", "running");
	h_assert_int(st, "job.pid", h_int(job, "pid"));
	/* The tree is the kernel's: every pid of the cgroup, no other. */
	procs = h_at(st, "processes");
	assert_int_equal(json_array_size(procs), 3);
	for (i = 0; i < n; i++) {
		found = 0;
		json_array_foreach (procs, k, p)
			if (json_integer_value(json_object_get(p, "pid")) ==
			    pids[i]) {
				found = 1;
				assert_true(json_is_number(
				    json_object_get(p, "cpu_pct")));
				assert_true(json_integer_value(json_object_get(
						p, "rss_kb")) > 0);
			}
		if (!found)
			h_fail(procs, "pid %d of the cgroup is not listed",
			    (int)pids[i]);
	}
	/* The last 10 lines: 11..20 on stdout, and stderr apart. */
	assert_int_equal(json_array_size(h_at(st, "output.stdout")), 10);
	h_assert_str(st, "output.stdout[0].text", "line-11");
	h_assert_str(st, "output.stdout[9].text", "line-20");
	h_assert_str(st, "output.stderr[0].text", "oops");
	/* Each with the time the daemon read it, in order. */
	if (!h_is_time(h_str(st, "output.stdout[0].time")) ||
	    strcmp(h_str(st, "output.stdout[0].time"),
		h_str(st, "output.stdout[9].time")) > 0)
		h_fail(st, "the output's times are missing or out of order");
	assert_true(h_int(st, "job.usage.nprocs") == 3);

	h_assert_ctl(h, 0, "status", "talker");
	if (strstr(h->ctl_out, "State: running since ") == NULL ||
	    strstr(h->ctl_out, h_fmt(h, "PID: %d", (int)pids[0])) == NULL ||
	    strstr(h->ctl_out, "max 64M") == NULL ||
	    strstr(h->ctl_out, "Tasks: 3 (max 32)") == NULL ||
	    strstr(h->ctl_out, "\\_ sleep 60") == NULL ||
	    strstr(h->ctl_out, " line-20\n") == NULL ||
	    strstr(h->ctl_out, " line-10\n") != NULL ||
	    strstr(h->ctl_out, "Last output (stderr):\n  ") == NULL ||
	    strstr(h->ctl_out, " oops\n") == NULL)
		h_fail(NULL, "status output:\n%s", h->ctl_out);
}

H_TEST(status__ended_job__says_how_and_no_tree)
{
	json_t *spec, *st;

	spec = json_pack("{s:s, s:[s,s,s]}", "name", "done", "argv", "/bin/sh",
	    "-c", "echo bye; exit 4");
	h_job_create(h, spec);
	h_job_poll(h, "done", "exited", 5000);
	h_assert_ctl(h, 0, "status", "done");
	if (strstr(h->ctl_out, "State: exited since ") == NULL ||
	    strstr(h->ctl_out, "exited with code 4") == NULL ||
	    strstr(h->ctl_out, "PID:") != NULL ||
	    strstr(h->ctl_out, " bye\n") == NULL)
		h_fail(NULL, "status output:\n%s", h->ctl_out);
	h_assert_ctl(h, 0, "--json", "status", "done");
	st = h_parse(h, h->ctl_out);
	assert_int_equal(json_array_size(h_at(st, "processes")), 0);
	assert_true(json_is_null(h_at(st, "cpu_pct")));
}

/* ----------------------------------------------------------------- ps */

/* The row of the table whose NAME column is name (columns split on runs
 * of blanks). */
static const char *
row_of(struct h *h, const char *out, const char *name)
{
	const char *p = out, *e;
	char *line;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		line = h_keep(
		    h, strndup(p, e != NULL ? (size_t)(e - p) : strlen(p)));
		if (strstr(line, h_fmt(h, " %s ", name)) != NULL)
			return (line);
		p = e != NULL ? e + 1 : NULL;
	}
	h_fail(NULL, "no row for %s in:\n%s", name, out);
}

H_TEST(ps__cpu_and_mem_columns__json_rows_are_the_table_rows)
{
	json_t *spec, *job, *rows, *row = NULL;
	const char *line, *mem;
	double memk, cgmem;
	size_t i;
	int seen = 0;

	spec = json_pack(
	    "{s:s, s:[s,s]}", "name", "napper", "argv", "/bin/sleep", "60");
	job = h_job_create(h, spec);
	h_learn_pid(h, (pid_t)h_int(job, "pid"));
	spec = json_pack("{s:s, s:[s,s,s]}", "name", "gone", "argv", "/bin/sh",
	    "-c", "exit 0");
	h_job_create(h, spec);
	h_job_poll(h, "gone", "exited", 5000);

	h_assert_ctl(h, 0, "ps");
	if (strstr(h->ctl_out, "CPU%") == NULL ||
	    strstr(h->ctl_out, "MEM") == NULL)
		h_fail(NULL, "no CPU%% or MEM column:\n%s", h->ctl_out);
	line = row_of(h, h->ctl_out, "napper");
	assert_null(strstr(h->ctl_out, " gone "));
	h_assert_ctl(h, 0, "--json", "ps");
	rows = h_at(h_parse(h, h->ctl_out), "jobs");
	/* Same rows: the active one, not the exited one. */
	assert_int_equal(json_array_size(rows), 1);
	json_array_foreach (rows, i, row) {
		h_assert_str(row, "name", "napper");
		h_assert_str(row, "state", "running");
		h_assert_int(row, "pid", h_int(job, "pid"));
		assert_true(json_is_number(json_object_get(row, "cpu")));
		assert_true(json_is_array(json_object_get(row, "command")));
		/* MEM is the memory cgroup's figure (within 256 KiB). */
		cgmem = strtod(h_cg_file(h, h_job_cg(h, job, "memory"),
				   "memory.usage_in_bytes"),
		    NULL);
		memk = (double)h_int(row, "mem");
		if (memk <= 0 || memk - cgmem > 262144 || cgmem - memk > 262144)
			h_fail(row, "mem %g, cgroup %g", memk, cgmem);
		seen++;
	}
	assert_int_equal(seen, 1);
	mem = json_string_value(json_object_get(row, "name"));
	assert_non_null(strstr(line, mem));

	/* -o picks and orders; the JSON follows. */
	h_assert_ctl(h, 0, "ps", "-a", "-o", "name,state,restarts");
	if (strncmp(h->ctl_out, "NAME", 4) != 0 ||
	    strstr(h->ctl_out, "PID") != NULL ||
	    strstr(h->ctl_out, "gone") == NULL)
		h_fail(NULL, "ps -o:\n%s", h->ctl_out);
	h_assert_ctl(h, 0, "--json", "ps", "-a", "-o", "name,state,restarts");
	rows = h_at(h_parse(h, h->ctl_out), "jobs");
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(json_object_size(json_array_get(rows, 0)), 3);
	h_assert_ctl(h, 2, "ps", "-o", "name,bogus");
	assert_non_null(strstr(h->ctl_err, "bogus"));
}

/* A command wider than the terminal ends in an ellipsis. */
H_TEST(ps__narrow_terminal__ellipsis)
{
	const char *env[] = {"COLUMNS=60", "LC_ALL=C.UTF-8", NULL};
	const char *out, *err, *argv[8];
	json_t *spec;
	int rc;

	spec = json_pack("{s:s, s:[s,s,s]}", "name", "wide", "argv", "/bin/sh",
	    "-c", "sleep 60; echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	h_learn_pid(h, (pid_t)h_int(h_job_create(h, spec), "pid"));
	/* ps sizes to a terminal only: give it one. */
	argv[0] = "/usr/bin/script";
	argv[1] = "-qec";
	argv[2] = h_fmt(h, "stty cols 60; %s --socket %s ps -o name,command",
	    getenv("SCHEDCTL"), h->sock);
	argv[3] = "/dev/null";
	argv[4] = NULL;
	rc = h_run(h, argv, env, &out, &err, 20000);
	assert_int_equal(rc, 0);
	if (strstr(out, "\xe2\x80\xa6") == NULL ||
	    strstr(out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") != NULL)
		h_fail(NULL, "no ellipsis at 60 columns:\n%s", out);
}

/* ------------------------------------------- exit codes and --json errors */

H_TEST(cli__no_such_job__exit4_and_json_error_on_stdout)
{
	json_t *j;

	h_assert_ctl(h, 4, "status", "nosuch");
	assert_non_null(strstr(h->ctl_err, "nosuch"));
	h_assert_ctl(h, 4, "stop", "nosuch");
	h_assert_ctl(h, 4, "--json", "show", "nosuch");
	j = h_parse(h, h->ctl_out);
	if (j == NULL)
		h_fail(NULL, "--json error is not JSON: '%s'", h->ctl_out);
	h_assert_str(j, "error.code", "not_found");
	h_assert_str(j, "error.field", "job");
	/* Another error keeps 1, and is JSON as well. */
	h_assert_ctl(
	    h, 1, "--json", "run", "--name", "bad name", "--", "/bin/true");
	h_assert_str(h_parse(h, h->ctl_out), "error.field", "name");
	/* A usage error too (exit 2). */
	h_assert_ctl(h, 2, "--json", "ps", "-o", "bogus");
	h_assert_str(h_parse(h, h->ctl_out), "error.code", "usage");
}

H_TEST(cli__unreachable__names_the_socket_and_how_to_start)
{
	const char *none = h_fmt(h, "%s/none.sock", h->dir), *out, *err;
	const char *argv[] = {
	    getenv("SCHEDCTL"), "--socket", none, "--json", "ps", NULL};
	json_t *j;

	assert_int_equal(h_run(h, argv, NULL, &out, &err, 20000), 3);
	if (strstr(err, none) == NULL ||
	    strstr(err, "schedd --daemonize") == NULL)
		h_fail(NULL, "stderr: %s", err);
	j = h_parse(h, out);
	if (j == NULL)
		h_fail(NULL, "--json: not JSON: %s", out);
	h_assert_str(j, "error.code", "unreachable");
}

/* -------------------------------------------------------- stop progress */

H_TEST(stop__on_a_terminal__countdown_and_sigkill_said)
{
	const char *out, *err, *argv[5];
	json_t *spec;
	int rc;

	spec = json_pack("{s:s, s:[s,s,s], s:{s:i}}", "name", "deaf", "argv",
	    "/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done",
	    "stop", "timeout_ms", 2500);
	h_learn_pid(h, (pid_t)h_int(h_job_create(h, spec), "pid"));
	h_sleep_ms(200);
	argv[0] = "/usr/bin/script";
	argv[1] = "-qec";
	argv[2] =
	    h_fmt(h, "%s --socket %s stop deaf", getenv("SCHEDCTL"), h->sock);
	argv[3] = "/dev/null";
	argv[4] = NULL;
	rc = h_run(h, argv, NULL, &out, &err, 20000);
	assert_int_equal(rc, 0);
	if (strstr(out, "stopping deaf: SIGTERM to pid") == NULL ||
	    strstr(out, "SIGKILL after 2s") == NULL ||
	    strstr(out, "to stop: SIGKILL in ") == NULL ||
	    strstr(out, "SIGKILL was needed") == NULL ||
	    strstr(out, "deaf: stopped") == NULL)
		h_fail(NULL, "terminal output:\n%s", out);
	/* Off a terminal: the one line as before. */
	h_assert_ctl(h, 0, "start", "deaf");
	h_learn_pid(h, (pid_t)h_int(h_job_get(h, "deaf"), "pid"));
	h_assert_ctl(h, 0, "stop", "deaf");
	assert_null(strstr(h->ctl_err, "SIGKILL"));
	assert_non_null(strstr(h->ctl_out, "deaf: stopped"));
}

/* ---------------------------------------------------------------- top */

/* Off a terminal: N frames of the table; with --json one object each, and
 * CPU % over the interval tells a busy job from an idle one. The busy job
 * is bounded (it ends by itself) and SCHED_OTHER. */
H_TEST(top__json_frames__cpu_over_the_interval)
{
	json_t *spec, *frame, *rows, *row, *busy = NULL, *idle = NULL;
	const char *p, *e;
	size_t i;
	int frames = 0;

	spec = json_pack("{s:s, s:[s,s,s]}", "name", "busy", "argv", "/bin/sh",
	    "-c",
	    "end=$(($(date +%s)+8)); while [ $(date +%s) -lt "
	    "$end ]; do :; done");
	h_learn_pid(h, (pid_t)h_int(h_job_create(h, spec), "pid"));
	spec = json_pack(
	    "{s:s, s:[s,s]}", "name", "idle", "argv", "/bin/sleep", "60");
	h_learn_pid(h, (pid_t)h_int(h_job_create(h, spec), "pid"));

	h_assert_ctl(h, 0, "--json", "top", "-n", "3", "-d", "0.7");
	for (p = h->ctl_out; *p != '\0'; p = e + 1) {
		if ((e = strchr(p, '\n')) == NULL)
			h_fail(NULL, "not one object a line: %s", h->ctl_out);
		frame = h_parse(h, h_fmt(h, "%.*s", (int)(e - p), p));
		if (frame == NULL ||
		    !h_is_time(h_fmt(h, "%.19s.000Z", h_str(frame, "time"))))
			h_fail(NULL, "frame: %.*s", (int)(e - p), p);
		frames++;
		rows = h_at(frame, "jobs");
		/* Sorted by CPU, largest first. */
		row = json_array_get(rows, 0);
		json_array_foreach (rows, i, row) {
			if (strcmp(h_str(row, "name"), "busy") == 0)
				busy = row;
			else
				idle = row;
		}
	}
	assert_int_equal(frames, 3);
	assert_non_null(busy);
	assert_non_null(idle);
	/* The last frame: the busy loop takes a good part of a CPU (others
	 * share this machine), sleep none. */
	if (json_real_value(json_object_get(busy, "cpu")) < 25 ||
	    json_real_value(json_object_get(idle, "cpu")) > 5)
		h_fail(busy, "busy %g%%, idle %g%%",
		    json_real_value(json_object_get(busy, "cpu")),
		    json_real_value(json_object_get(idle, "cpu")));
	assert_string_equal(h_str(json_array_get(rows, 0), "name"), "busy");

	/* Plain text off a terminal: a header and the table, per frame. */
	h_assert_ctl(h, 0, "top", "-n", "2", "-d", "0.2", "-s", "name");
	if (strstr(h->ctl_out, "sorted by name") == NULL ||
	    strstr(h->ctl_out, "\033[") != NULL ||
	    strstr(strstr(h->ctl_out, "RUNQ") + 1, "RUNQ") == NULL ||
	    strstr(h->ctl_out, "busy") > strstr(h->ctl_out, "idle"))
		h_fail(NULL, "top off a terminal:\n%s", h->ctl_out);
	h_assert_ctl(h, 2, "top", "-s", "bogus");
}

/* On a terminal: the alternate screen, the table, and q quits. */
H_TEST(top__terminal__full_screen_and_q_quits)
{
	const char *out, *err, *argv[5];
	json_t *spec;
	int64_t t0;
	int rc;

	spec = json_pack(
	    "{s:s, s:[s,s]}", "name", "idle", "argv", "/bin/sleep", "60");
	h_learn_pid(h, (pid_t)h_int(h_job_create(h, spec), "pid"));
	argv[0] = "/usr/bin/script";
	argv[1] = "-qec";
	argv[2] = h_fmt(h, "(sleep 1; printf q) | %s --socket %s top -d 0.3",
	    getenv("SCHEDCTL"), h->sock);
	argv[3] = "/dev/null";
	argv[4] = NULL;
	t0 = h_now_ms();
	rc = h_run(h, argv, NULL, &out, &err, 20000);
	assert_int_equal(rc, 0);
	/* q, not a timeout, ended it. */
	assert_true(h_now_ms() - t0 < 5000);
	if (strstr(out, "\033[?1049h") == NULL ||
	    strstr(out, "\033[?1049l") == NULL ||
	    strstr(out, "q quits") == NULL || strstr(out, "idle") == NULL)
		h_fail(NULL, "terminal output:\n%s", out);
}

/* ------------------------------------------------------------- the page */

#define WEB_TOKEN "web-t0ken-0123456789abcdef0123"

/* The daemon again, with a TCP listener on a free port and an admin token. */
static int
web_listen(struct h *h)
{
	const char *tokens = h_fmt(h, "%s/tokens", h->dir);
	int port = h_free_port();

	h_put_file(h, tokens, WEB_TOKEN " admin\n");
	if (chmod(tokens, 0600) == -1)
		fail_msg("chmod: %s", strerror(errno));
	h_daemon_stop(h, SIGTERM);
	h_config(h,
	    h_fmt(h, "listen = 127.0.0.1:%d\ntoken_file = %s\n", port, tokens));
	h_daemon_start(h);
	return (port);
}

/* One GET over TCP, no token: the whole answer. */
static const char *
tcp_get(struct h *h, int port, const char *path)
{
	struct sockaddr_in sin;
	char req[512], *buf;
	size_t len = 0, cap = 1 << 20;
	ssize_t n;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fail_msg("connect: %s", strerror(errno));
	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		fail_msg("write: %s", strerror(errno));
	buf = h_keep(h, malloc(cap + 1));
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return (buf);
}

/* The page over the socket: HTML with its own script, nothing external. */
H_TEST(web__page__self_contained_html)
{
	const char *body;

	body = h_call_raw(h, 200, "GET", NULL, "", "/");
	if (strncmp(h->last_ctype, "text/html", 9) != 0)
		h_fail(NULL, "Content-Type %s", h->last_ctype);
	assert_non_null(strstr(body, "<script>"));
	assert_non_null(strstr(body, "/v1/jobs?usage=true"));
	/* No CDN, no other origin: every URL in it is a path. */
	assert_null(strstr(body, "src=\"http"));
	assert_null(strstr(body, "href=\"http"));
	assert_null(strstr(body, "//cdn"));
	h_call(h, 400, "GET", NULL, "/?x=1");
}

/* Over TCP the page needs no token (it holds no data); nothing else does
 * without one. */
H_TEST(web__tcp__page_without_token_data_with_it)
{
	const char *ans;
	int port = web_listen(h);

	ans = tcp_get(h, port, "/");
	if (strncmp(ans, "HTTP/1.1 200", 12) != 0 ||
	    strstr(ans, "Content-Security-Policy: default-src 'none'") ==
		NULL ||
	    strstr(ans, "<!DOCTYPE html>") == NULL)
		h_fail(NULL, "GET / over TCP:\n%.600s", ans);
	ans = tcp_get(h, port, "/v1/jobs");
	assert_int_equal(strncmp(ans, "HTTP/1.1 401", 12), 0);
	ans = tcp_get(h, port, "/metrics");
	assert_int_equal(strncmp(ans, "HTTP/1.1 401", 12), 0);
	ans = tcp_get(h, port, "/?x");
	assert_int_equal(strncmp(ans, "HTTP/1.1 401", 12), 0);
}

/*
 * In a real browser: Debian's chromium, headless, through the DevTools
 * protocol (tests/web/page.mjs). The page, loaded over the TCP listener,
 * shows a job created through the API, and its stop button stops it. The
 * screenshot stays in the build tree (tests/web/page.png).
 */
H_TEST(web__chromium__job_appears_and_stop_button_stops_it)
{
	const char *src = getenv("TOP_SRCDIR"), *out, *err, *argv[8];
	const char *shot = "tests/web/page.png";
	json_t *spec, *job;
	pid_t pid;
	int port, rc;

	if (access("/usr/bin/chromium", X_OK) == -1)
		h_skip(h, "chromium is not installed (apt-get install "
			  "chromium): the page is not tried in a browser");
	if (access("/usr/bin/node", X_OK) == -1)
		h_skip(h, "node is not installed: the browser is not driven");
	if (src == NULL)
		fail_msg("$TOP_SRCDIR is not set");
	port = web_listen(h);
	spec = json_pack("{s:s, s:[s,s,s], s:{s:i}}", "name", "webjob", "argv",
	    "/bin/sh", "-c", "echo hello-from-webjob; sleep 300", "stop",
	    "timeout_ms", 3000);
	job = h_job_create(h, spec);
	pid = (pid_t)h_int(job, "pid");
	h_learn_pid(h, pid);
	mkdir("tests", 0755);
	mkdir("tests/web", 0755);
	unlink(shot);
	argv[0] = "/usr/bin/node";
	argv[1] = "--experimental-websocket";
	argv[2] = "--no-warnings";
	argv[3] = h_fmt(h, "%s/tests/web/page.mjs", src);
	argv[4] = h_fmt(h, "http://127.0.0.1:%d/#token=%s", port, WEB_TOKEN);
	argv[5] = "webjob";
	argv[6] = shot;
	argv[7] = NULL;
	rc = h_run(h, argv, NULL, &out, &err, 110000);
	if (rc == 77)
		h_skip(h, err);
	if (rc != 0)
		h_fail(NULL, "page.mjs: %d\n%s%s", rc, out, err);
	/* The click went through the API: the daemon stopped the job. */
	job = h_job_get(h, "webjob");
	h_assert_str(job, "state", "stopped");
	assert_true(h_wait_gone(pid, 5000));
	/* A PNG it is. */
	assert_int_equal(strncmp(h_text(h, shot), "\x89PNG", 4), 0);
}

/* A sample's value in a /metrics body, or -1 when absent. */
static double
metric_of(const char *body, const char *name, const char *job)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "%s{job_name=\"%s\",", name, job);
	if ((p = strstr(body, want)) == NULL || (p = strchr(p, '}')) == NULL)
		return (-1);
	return (strtod(p + 1, NULL));
}

/* Issues 16 and 17 in the metrics: throttling, health, skipped ticks. */
H_TEST(metrics__throttling_health_and_schedule__exported)
{
	const char *body = "";
	json_t *j;
	int64_t end;
	double v = -1;

	h_need_root(h);
	if (h_cg_mount(h, "cpu") == NULL &&
	    access("/sys/fs/cgroup/cgroup.controllers", R_OK) == -1)
		h_skip(h, "no cpu controller");
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s,s,s], s:{s:i}, s:{s:[s], s:i}}",
		   "name", "capped", "argv", "/usr/bin/timeout", "5", "/bin/sh",
		   "-c", "while :; do :; done", "limits", "cpu_quota_pct", 10,
		   "health", "exec", "/bin/true", "interval_ms", 100));
	h_learn_pid(h, (pid_t)h_int(j, "pid"));
	h_job_create(
	    h, json_pack("{s:s, s:[s], s:{s:s}}", "name", "nightly", "argv",
		   "/bin/true", "schedule", "cron", "0 3 * * *"));
	/* Throttled within a few periods of 100 ms; healthy at once. The
	 * kernel counts a throttled period when it begins and its time when
	 * it ends: the two may be read in between. */
	end = h_now_ms() + 4000;
	while (h_now_ms() < end) {
		body = h_call_raw(h, 200, "GET", NULL, NULL, "/metrics");
		v = metric_of(
		    body, "schedd_job_cpu_throttled_periods_total", "capped");
		if (v > 0 &&
		    metric_of(body, "schedd_job_cpu_throttled_seconds_total",
			"capped") > 0 &&
		    metric_of(body, "schedd_job_healthy", "capped") == 1)
			break;
		h_sleep_ms(100);
	}
	if (v <= 0 || metric_of(body, "schedd_job_healthy", "capped") != 1)
		fail_msg("no throttling or health in:\n%s", body);
	if (metric_of(
		body, "schedd_job_cpu_throttled_seconds_total", "capped") <= 0)
		fail_msg("no throttled seconds in:\n%s", body);
	if (metric_of(body, "schedd_job_schedule_skipped_total", "nightly") !=
	    0)
		fail_msg("no skipped ticks for the scheduled job:\n%s", body);
	if (strstr(body, "\nschedd_cpu_intruders 0\n") == NULL)
		fail_msg("no intruder gauge:\n%s", body);
}

/* Issue 15: every command's --json is JSON, logs too: one object a line. */
H_TEST(logs__json__one_object_a_line_with_stream_run_time_text)
{
	const char *body, *line, *next;
	json_t *o[4];
	int n = 0, st;

	h_job_create(
	    h, json_pack("{s:s, s:[s,s,s]}", "name", "lj", "argv", "/bin/sh",
		   "-c", "echo a; sleep 0.1; echo c >&2; sleep 0.1; printf b"));
	h_job_poll(h, "lj", "exited", 20000);
	body = h_call_raw(h, 200, "GET", NULL, NULL,
	    "/v1/jobs/lj/logs?stream=all&format=json");
	if (strstr(h->last_ctype, "application/x-ndjson") == NULL)
		fail_msg("Content-Type %s", h->last_ctype);
	for (line = body; *line != '\0' && n < 4; line = next) {
		next = strchr(line, '\n');
		if (next == NULL)
			fail_msg("a line without its newline: %s", line);
		o[n++] = h_parse(h, h_fmt(h, "%.*s", (int)(next - line), line));
		next++;
	}
	assert_int_equal(n, 3);
	h_assert_str(o[0], "stream", "stdout");
	h_assert_str(o[0], "text", "a");
	h_assert_int(o[0], "run", 1);
	if (!h_is_time(h_str(o[0], "time")))
		h_fail(o[0], "no time");
	h_assert_str(o[1], "stream", "stderr");
	h_assert_str(o[1], "text", "c");
	/* No newline ended it: partial. */
	h_assert_str(o[2], "text", "b");
	if (!json_is_true(h_at(o[2], "partial")))
		h_fail(o[2], "not marked partial");
	if (strcmp(h_str(o[0], "time"), h_str(o[2], "time")) > 0)
		h_fail(o[0], "times out of order");
	/* schedctl --json logs prints the same objects. */
	st = h_ctl(h, "--json", "logs", "--all", "lj", (const char *)NULL);
	assert_int_equal(st, 0);
	if (strcmp(h->ctl_out, body) != 0)
		fail_msg("schedctl --json logs:\n%s\nthe API:\n%s", h->ctl_out,
		    body);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(
		run_wait__sigterm__job_stopped_with_its_policy_and_code_returned),
	    H_UNIT(run_wait__sigint__stop_timeout_kills_and_128_plus_9),
	    H_UNIT(run_wait__sigterm_cont_sigterm_at_once__one_stop_not_a_kill),
	    H_UNIT(run_wait__second_sigterm_later__kills_before_stop_timeout),
	    H_UNIT(run_wait__sigterm__restart_always_job_stays_stopped),
	    H_UNIT(run_wait__sighup__forwarded_to_the_job),
	    H_UNIT(run_wait__attach__streams_stdout_and_stderr_while_waiting),
	    H_UNIT(run_wait__attach__output_arrives_before_the_end),
	    H_UNIT(run_wait__attach_without_wait__usage),
	    H_UNIT(metrics__promtool_check_metrics__passes),
	    H_UNIT(metrics__figures__match_the_api_and_the_kernel),
	    H_UNIT(metrics__cpu_seconds__is_the_cgroup_figure),
	    H_UNIT(metrics__no_argv_no_env),
	    H_UNIT(status__running_job__tree_use_and_last_output),
	    H_UNIT(status__ended_job__says_how_and_no_tree),
	    H_UNIT(ps__cpu_and_mem_columns__json_rows_are_the_table_rows),
	    H_UNIT(ps__narrow_terminal__ellipsis),
	    H_UNIT(cli__no_such_job__exit4_and_json_error_on_stdout),
	    H_UNIT(cli__unreachable__names_the_socket_and_how_to_start),
	    H_UNIT(stop__on_a_terminal__countdown_and_sigkill_said),
	    H_UNIT(top__json_frames__cpu_over_the_interval),
	    H_UNIT(top__terminal__full_screen_and_q_quits),
	    H_UNIT(web__page__self_contained_html),
	    H_UNIT(web__tcp__page_without_token_data_with_it),
	    H_UNIT(web__chromium__job_appears_and_stop_button_stops_it),
	    H_UNIT(logs__json__one_object_a_line_with_stream_run_time_text),
	    H_UNIT(metrics__throttling_health_and_schedule__exported),
	};

	return (H_MAIN(tests));
}
