/* SPDX-License-Identifier: ISC */
/*
 * schedctl status: one screen on one job, like systemctl status: its state
 * and since when, why, its process and owner, the CPUs and policy in
 * effect, its limits beside what it uses, restarts and the next start, the
 * live process tree with CPU % and RSS, and the last lines of its output.
 * Four reads (GET /v1/jobs/{job}, .../processes, and .../logs?tail=10 for
 * each stream); --json prints the same data as one object. CPU % is what ps(1)
 * shows: CPU time over the time since the process (or run) started.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "client/format.h"
#include "client/jobcols.h"
#include "client/schedctl.h"
#include "proto/util.h"
#include "client/table.h"

#define STATUS_LINES     10    /* of each stream */
#define STATUS_LOG_BYTES 65536 /* read of the tail, at most */

static int cmd_status_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_status_entry = {
    .name = "status",
    .usage = "JOB",
    .summary = "one screen on a job: state, use and limits, tree, last output",
    .notes =
	"CPU % is CPU time over the time since the run (or the process)\n"
	"started, as ps shows it; schedctl top shows it over the last interval.\n"
	"With --json: {\"job\": the job object, \"cpu_pct\", \"processes\": the\n"
	"tree with \"cpu_pct\" added to each, \"output\": {\"stdout\": [lines],\n"
	"\"stderr\": [lines]}}, each line {\"time\", \"text\"}: the time schedd\n"
	"read it.\n",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_status_exec,
};

/* CPU ms over the time since the RFC 3339 time since; -1 if unknown. */
static double
cpu_pct(long long cpu_ms, const char *since)
{
	int64_t t;
	int64_t el;

	if (cpu_ms < 0 || since == NULL || util_time_parse(since, &t) == -1)
		return (-1);
	el = fmt_now_ms() - t;
	if (el <= 0)
		return (-1);
	return ((double)cpu_ms * 100.0 / (double)el);
}

struct logbuf {
	char *p;
	size_t len;
};

static int
log_collect(const char *data, size_t len, void *arg)
{
	struct logbuf *b = arg;

	if (b->len + len > STATUS_LOG_BYTES) {
		/* Keep the end: it is the part that is shown. */
		if (len >= STATUS_LOG_BYTES) {
			data += len - STATUS_LOG_BYTES;
			len = STATUS_LOG_BYTES;
			b->len = 0;
		} else {
			memmove(b->p, b->p + (b->len + len - STATUS_LOG_BYTES),
			    STATUS_LOG_BYTES - len);
			b->len = STATUS_LOG_BYTES - len;
		}
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return (0);
}

/*
 * The last lines of a stream as a JSON array of {"time", "text"}, read as
 * the daemon's per-line records (logs?format=json): the time is when the
 * daemon read the line. NULL if the read failed.
 */
static json_t *
log_lines(struct schedctl *ctl, const char *job, const char *stream)
{
	char path[CTL_PATH_MAX], suffix[96];
	struct logbuf b = {NULL, 0};
	json_error_t jerr;
	json_t *lines, *rec;
	const char *text, *time_;
	char *s, *e, *clean;

	snprintf(suffix, sizeof(suffix), "/logs?stream=%s&tail=%d&format=json",
	    stream, STATUS_LINES);
	if (ctl_job_path(ctl, path, sizeof(path), job, suffix) == -1)
		return (NULL);
	b.p = xmalloc(STATUS_LOG_BYTES + 1);
	if (ctl_stream(ctl, path, CTL_TIMEOUT_MS, log_collect, &b) !=
	    CTL_EXIT_OK) {
		free(b.p);
		return (NULL);
	}
	b.p[b.len] = '\0';
	lines = json_array();
	for (s = b.p; s < b.p + b.len; s = e + 1) {
		if ((e = memchr(s, '\n', (size_t)(b.p + b.len - s))) == NULL)
			e = b.p + b.len;
		*e = '\0';
		if ((rec = json_loads(s, 0, &jerr)) == NULL)
			continue;
		text = fmt_str(rec, "text");
		time_ = fmt_str(rec, "time");
		clean = table_sanitize(text != NULL ? text : "", NULL);
		json_array_append_new(lines,
		    json_pack("{s:s?, s:s}", "time", time_, "text", clean));
		free(clean);
		json_decref(rec);
	}
	free(b.p);
	return (lines);
}

/* The tree, depth first from each root, as rows. */
struct sproc {
	json_t *obj;
	long long pid, ppid;
	int seen;
};

static void
tree_rows(struct table *t, struct sproc *p, size_t n, size_t i, int depth)
{
	const json_t *o = p[i].obj;
	const char *cells[6];
	char pid[32], pct[32], rss[32], time_[32], *cmd, *line;
	long long kb, u, s;
	double v;
	size_t j, len;

	p[i].seen = 1;
	snprintf(pid, sizeof(pid), "%lld", p[i].pid);
	v = json_number_value(json_object_get(o, "cpu_pct"));
	if (json_is_number(json_object_get(o, "cpu_pct")))
		snprintf(pct, sizeof(pct), "%.1f", v);
	else
		snprintf(pct, sizeof(pct), "-");
	jobcols_bytes(
	    fmt_int(o, "rss_kb", &kb) ? kb * 1024 : -1, rss, sizeof(rss));
	if (fmt_int(o, "user_cpu_ms", &u) && fmt_int(o, "system_cpu_ms", &s))
		fmt_duration(u + s, time_, sizeof(time_));
	else
		snprintf(time_, sizeof(time_), "-");
	cmd = fmt_proc_cmd(o);
	len = strlen(cmd) + 2 * (size_t)depth + 4;
	line = xmalloc(len);
	snprintf(line, len, "%*s%s%s", depth > 0 ? 2 * (depth - 1) : 0, "",
	    depth > 0 ? "\\_ " : "", cmd);
	free(cmd);
	cells[0] = pid;
	cells[1] = fmt_str(o, "state");
	cells[2] = pct;
	cells[3] = rss;
	cells[4] = time_;
	cells[5] = line;
	table_add(t, cells);
	free(line);
	for (j = 0; j < n; j++)
		if (!p[j].seen && p[j].ppid == p[i].pid)
			tree_rows(t, p, n, j, depth + 1);
}

static void
print_tree(json_t *procs)
{
	static const char *const headers[6] = {
	    "PID", "S", "CPU%", "RSS", "TIME", "COMMAND"};
	static const int flags[6] = {
	    TABLE_RIGHT, 0, TABLE_RIGHT, TABLE_RIGHT, TABLE_RIGHT, TABLE_FLEX};
	struct sproc *p;
	struct table *t;
	json_t *o;
	size_t i, j, n = 0;
	int root;

	p = xcalloc(json_array_size(procs) + 1, sizeof(*p));
	json_array_foreach (procs, i, o) {
		if (!fmt_int(o, "pid", &p[n].pid))
			continue;
		if (!fmt_int(o, "ppid", &p[n].ppid))
			p[n].ppid = 0;
		p[n].obj = o;
		n++;
	}
	t = table_new(6, headers, flags);
	for (i = 0; i < n; i++) {
		root = 1;
		for (j = 0; j < n && root; j++)
			if (j != i && p[j].pid == p[i].ppid)
				root = 0;
		if (root && !p[i].seen)
			tree_rows(t, p, n, i, 0);
	}
	for (i = 0; i < n; i++)
		if (!p[i].seen)
			tree_rows(t, p, n, i, 0);
	printf("\n");
	table_print(t, stdout, ctl_term_width());
	table_free(t);
	free(p);
}

/* "key: value" with the key right-aligned, systemctl style. */
static void line(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
line(const char *key, const char *fmt, ...)
{
	char buf[1024], *clean;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	clean = table_sanitize(buf, NULL);
	printf("%12s: %s\n", key, clean);
	free(clean);
}

/* "2026-12-02 21:40:01 UTC (3m ago)", or "-". */
static void
when_text(const char *t, char *buf, size_t len)
{
	char age[32];
	int64_t ms;
	time_t s;
	struct tm tm;
	char stamp[64];

	if (t == NULL || util_time_parse(t, &ms) == -1) {
		snprintf(buf, len, "-");
		return;
	}
	s = (time_t)(ms / 1000);
	gmtime_r(&s, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (ms > fmt_now_ms())
		snprintf(buf, len, "%s (in %s)", stamp,
		    fmt_duration(ms - fmt_now_ms(), age, sizeof(age)));
	else
		snprintf(buf, len, "%s (%s ago)", stamp,
		    fmt_age(t, age, sizeof(age)));
}

static void
print_human(json_t *st)
{
	json_t *job = json_object_get(st, "job"), *u, *lim, *sched, *run, *v;
	json_t *out = json_object_get(st, "output"), *lines, *procs;
	const char *state = fmt_str(job, "state"), *k, *streams[2];
	char when[128], a[64], b[64], c[64], pol[96], *cmd;
	long long n, m, id;
	size_t i, s;
	double pct;

	u = json_object_get(job, "usage");
	lim = json_object_get(job, "limits");
	sched = json_object_get(job, "sched");
	run = json_object_get(job, "last_run");
	printf("%s", fmt_str(job, "name") != NULL ? fmt_str(job, "name") : "?");
	if (fmt_int(job, "id", &id))
		printf(" (id %lld)", id);
	printf("\n");
	when_text(fmt_str(job, "updated_at"), when, sizeof(when));
	line("State", "%s since %s", state != NULL ? state : "?", when);
	if (fmt_str(job, "reason") != NULL)
		line("Reason", "%s", fmt_str(job, "reason"));
	if (fmt_int(job, "pid", &n))
		line("PID", "%lld", n);
	line("Owner", "%s",
	    fmt_str(json_object_get(job, "owner"), "user") != NULL
		? fmt_str(json_object_get(job, "owner"), "user")
		: "-");
	if (fmt_str(job, "cpus_effective") != NULL)
		snprintf(a, sizeof(a), "%s", fmt_str(job, "cpus_effective"));
	else if (fmt_str(job, "cpus") != NULL)
		snprintf(a, sizeof(a), "%s (asked)", fmt_str(job, "cpus"));
	else if (fmt_int(job, "exclusive_cpus", &n) && n > 0)
		snprintf(a, sizeof(a), "%lld exclusive", n);
	else
		snprintf(a, sizeof(a), "shared pool");
	snprintf(pol, sizeof(pol), "%s",
	    fmt_str(sched, "policy") != NULL ? fmt_str(sched, "policy")
					     : "other");
	if (fmt_int(sched, "priority", &n) && n != 0)
		snprintf(pol + strlen(pol), sizeof(pol) - strlen(pol),
		    " priority %lld", n);
	if (fmt_int(sched, "nice", &n))
		snprintf(pol + strlen(pol), sizeof(pol) - strlen(pol),
		    " nice %lld", n);
	line("CPUs", "%s, policy %s", a, pol);
	jobcols_bytes(fmt_int(u, "memory_current", &n) ? n : -1, a, sizeof(a));
	jobcols_bytes(fmt_int(u, "memory_peak", &n) ? n : -1, b, sizeof(b));
	if (fmt_int(lim, "memory_max", &m))
		jobcols_bytes(m, c, sizeof(c));
	else
		snprintf(c, sizeof(c), "%s",
		    fmt_str(lim, "memory_max") != NULL
			? fmt_str(lim, "memory_max")
			: "none");
	line("Memory", "%s (peak %s, max %s)", a, b, c);
	if (fmt_int(lim, "pids_max", &m))
		snprintf(c, sizeof(c), "%lld", m);
	else
		snprintf(c, sizeof(c), "none");
	if (fmt_int(u, "nprocs", &n))
		line("Tasks", "%lld (max %s)", n, c);
	pct = json_number_value(json_object_get(st, "cpu_pct"));
	if (fmt_int(lim, "cpu_quota_pct", &m))
		snprintf(c, sizeof(c), ", quota %lld%%", m);
	else
		c[0] = '\0';
	if (fmt_int(u, "cpu_ms", &n))
		line("CPU", "%s%s (%s since the run started)%s",
		    json_is_number(json_object_get(st, "cpu_pct"))
			? (snprintf(a, sizeof(a), "%.1f", pct), a)
			: "-",
		    json_is_number(json_object_get(st, "cpu_pct")) ? "%" : "",
		    fmt_duration(n, b, sizeof(b)), c);
	if (fmt_int(u, "runq_delay_us", &n))
		line("Run queue", "%.1f ms waited by the live processes",
		    (double)n / 1000.0);
	/* The scheduling figures: preemptions, migrations, throttling. */
	if (fmt_int(u, "involuntary_switches", &n) &&
	    fmt_int(u, "migrations", &m))
		line("Scheduling", "%lld involuntary switches, %lld migrations",
		    n, m);
	/* Periods count only under limits.cpu_quota_pct. */
	if (fmt_int(u, "nr_throttled", &n) && fmt_int(u, "nr_periods", &m) &&
	    m > 0) {
		long long us = 0;

		(void)fmt_int(u, "throttled_us", &us);
		line("Throttled", "%lld of %lld periods, %.1f ms", n, m,
		    (double)us / 1000.0);
	}
	if (fmt_int(u, "oom_kills", &n) && n > 0)
		line("OOM kills", "%lld", n);
	if (fmt_int(u, "cpu_pressure_us", &n))
		line("CPU pressure", "%.1f ms (some)", (double)n / 1000.0);
	/* Figures this schedctl does not know yet, as they are. */
	json_object_foreach (u, k, v) {
		if (strcmp(k, "cpu_ms") == 0 ||
		    strcmp(k, "memory_current") == 0 ||
		    strcmp(k, "memory_peak") == 0 || strcmp(k, "nprocs") == 0 ||
		    strcmp(k, "runq_delay_us") == 0 ||
		    strcmp(k, "oom_kills") == 0 ||
		    strcmp(k, "involuntary_switches") == 0 ||
		    strcmp(k, "migrations") == 0 ||
		    strcmp(k, "nr_throttled") == 0 ||
		    strcmp(k, "nr_periods") == 0 ||
		    strcmp(k, "throttled_us") == 0 ||
		    strcmp(k, "cpu_pressure_us") == 0)
			continue;
		cmd = fmt_value(v);
		line(k, "%s", cmd);
		free(cmd);
	}
	/* What the job says of itself (sd_notify), and its health check. */
	if (fmt_str(job, "status_text") != NULL)
		line("Says", "%s", fmt_str(job, "status_text"));
	if (fmt_str(job, "health_status") != NULL)
		line("Health", "%s%s%s", fmt_str(job, "health_status"),
		    fmt_str(job, "health_output") != NULL ? ": " : "",
		    fmt_str(job, "health_output") != NULL
			? fmt_str(job, "health_output")
			: "");
	if (fmt_str(json_object_get(job, "restart"), "policy") != NULL)
		line("Restarts", "%lld (policy %s)",
		    fmt_int(job, "restarts", &n) ? n : 0,
		    fmt_str(json_object_get(job, "restart"), "policy"));
	else
		line("Restarts", "%lld", fmt_int(job, "restarts", &n) ? n : 0);
	if (fmt_str(job, "next_start_at") != NULL) {
		when_text(fmt_str(job, "next_start_at"), when, sizeof(when));
		line("Next start", "%s", when);
	}
	if (json_is_object(run)) {
		when_text(fmt_str(run, "started_at"), when, sizeof(when));
		line("Run", "%lld, started %s", fmt_int(run, "run", &n) ? n : 0,
		    when);
		if (fmt_str(run, "exited_at") != NULL) {
			int ended;

			fmt_run_status(job, a, sizeof(a), &ended);
			line("Ended", "%s", a);
		}
	}
	if (json_is_null(json_object_get(job, "argv")))
		line("Command", "(hidden: another user's job)");
	else {
		cmd = fmt_argv(json_object_get(job, "argv"));
		line("Command", "%s", cmd);
		free(cmd);
	}
	procs = json_object_get(st, "processes");
	if (json_is_array(procs) && json_array_size(procs) > 0)
		print_tree(procs);
	streams[0] = "stdout";
	streams[1] = "stderr";
	for (s = 0; s < 2; s++) {
		lines = json_object_get(out, streams[s]);
		if (!json_is_array(lines) || json_array_size(lines) == 0)
			continue;
		printf("\nLast output (%s):\n", streams[s]);
		/* HH:MM:SS.mmm of the time the daemon read the line. */
		json_array_foreach (lines, i, v) {
			const char *t = fmt_str(v, "time");

			printf("  %.12s %s\n",
			    t != NULL && strlen(t) >= 23 ? t + 11 : "-",
			    fmt_str(v, "text") != NULL ? fmt_str(v, "text")
						       : "");
		}
	}
}

static int
cmd_status_exec(struct schedctl *ctl, struct args *args)
{
	const char *ref = args->argv[0];
	char path[CTL_PATH_MAX], idbuf[32];
	json_t *job = NULL, *procs = NULL, *st = NULL, *o, *run, *out;
	json_t *lines;
	long long id, u, s, cpu;
	size_t i;
	double pct;
	int rc;

	if (ctl_job_path(ctl, path, sizeof(path), ref, "") == -1)
		return (CTL_EXIT_USAGE);
	if ((rc = ctl_call(ctl, "GET", path, NULL, CTL_TIMEOUT_MS, &job)) !=
	    CTL_EXIT_OK)
		return (rc);
	if (!json_is_object(job) || !fmt_int(job, "id", &id)) {
		ctl_warnx("the daemon's answer is not a job");
		json_decref(job);
		return (CTL_EXIT_ERROR);
	}
	/* By id from here on: the name may pass to another job meanwhile. */
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	if (ctl_job_path(ctl, path, sizeof(path), idbuf, "/processes") == -1) {
		json_decref(job);
		return (CTL_EXIT_USAGE);
	}
	if (fmt_state_active(fmt_str(job, "state")) &&
	    (rc = ctl_call(ctl, "GET", path, NULL, CTL_TIMEOUT_MS, &o)) ==
		CTL_EXIT_OK) {
		procs = json_incref(json_object_get(o, "processes"));
		json_decref(o);
	}
	if (!json_is_array(procs)) {
		json_decref(procs);
		procs = json_array();
	}
	json_array_foreach (procs, i, o) {
		if (fmt_int(o, "user_cpu_ms", &u) &&
		    fmt_int(o, "system_cpu_ms", &s) &&
		    (pct = cpu_pct(u + s, fmt_str(o, "started_at"))) >= 0)
			json_object_set_new(o, "cpu_pct", json_real(pct));
	}
	st = json_object();
	json_object_set(st, "job", job);
	run = json_object_get(job, "last_run");
	if (fmt_int(json_object_get(job, "usage"), "cpu_ms", &cpu) &&
	    (pct = cpu_pct(cpu, fmt_str(run, "started_at"))) >= 0 &&
	    fmt_str(run, "exited_at") == NULL)
		json_object_set_new(st, "cpu_pct", json_real(pct));
	else
		json_object_set_new(st, "cpu_pct", json_null());
	json_object_set_new(st, "processes", procs);
	out = json_object();
	lines = log_lines(ctl, idbuf, "stdout");
	json_object_set_new(out, "stdout", lines != NULL ? lines : json_null());
	lines = log_lines(ctl, idbuf, "stderr");
	json_object_set_new(out, "stderr", lines != NULL ? lines : json_null());
	json_object_set_new(st, "output", out);
	if (ctl->json)
		rc = ctl_print_json(st);
	else {
		print_human(st);
		rc = CTL_EXIT_OK;
	}
	json_decref(st);
	json_decref(job);
	return (rc);
}
