/* SPDX-License-Identifier: ISC */
/*
 * The /v1/jobs routes: encoding jobs and runs as the contract's JSON, and
 * the handlers that create, inspect and drive jobs through the supervisor.
 * Answers that must wait for the job (stop, restart, wait, forced delete)
 * are deferred: a watch on the job replies when the awaited state comes,
 * and a client that goes away first just cancels the watch.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/cpulist.h"
#include "proto/jobspec.h"
#include "proto/util.h"

/*
 * util_time_format's RFC 3339 text without gmtime_r and snprintf (6% of a
 * GET /v1/jobs/{id}): the date by Howard Hinnant's civil_from_days. Years
 * past 9999, not four digits, are left to util_time_format. buf holds at
 * least 25 bytes.
 */
static const char *
time_format(int64_t ms, char *buf, size_t len)
{
	int64_t days, sod, era, doe, yoe, doy, mp, y, m, d;
	int i;

	if (ms <= 0 || ms >= INT64_C(253402300800000) || len < 25)
		return (util_time_format(ms, buf, len));
	days = ms / 86400000;
	sod = ms % 86400000; /* ms within the day */
	days += 719468;      /* from 0000-03-01 */
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	for (i = 3; i >= 0; i--, y /= 10)
		buf[i] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = 'T';
	buf[11] = (char)('0' + sod / 36000000);
	buf[12] = (char)('0' + sod / 3600000 % 10);
	buf[13] = ':';
	buf[14] = (char)('0' + sod / 600000 % 6);
	buf[15] = (char)('0' + sod / 60000 % 10);
	buf[16] = ':';
	buf[17] = (char)('0' + sod / 10000 % 6);
	buf[18] = (char)('0' + sod / 1000 % 10);
	buf[19] = '.';
	buf[20] = (char)('0' + sod / 100 % 10);
	buf[21] = (char)('0' + sod / 10 % 10);
	buf[22] = (char)('0' + sod % 10);
	buf[23] = 'Z';
	buf[24] = '\0';
	return (buf);
}

static json_t *
time_json(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return (json_null());
	return (json_string_nocheck(time_format(ms, buf, sizeof(buf))));
}

static json_t *
opt_int(int64_t v, int64_t none)
{
	return (v == none ? json_null() : json_integer(v));
}

json_t *
api_run_json(const struct run *run)
{
	const char *sig =
	    run->signal != 0 ? util_signal_name(run->signal) : NULL;

	return (json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:b, "
			  "s:o, s:o, s:o}",
	    "run", (json_int_t)run->number, "pid", opt_int(run->pid, 0),
	    "started_at", time_json(run->started_ms), "exited_at",
	    time_json(run->exited_ms), "exit_code", opt_int(run->exit_code, -1),
	    "signal", sig != NULL ? json_string(sig) : json_null(),
	    "core_dumped", run->core_dumped, "error",
	    run->error[0] != '\0' ? json_string(run->error) : json_null(),
	    "oom_killed", run->oom_killed, "user_cpu_ms",
	    opt_int(run->user_cpu_ms, -1), "system_cpu_ms",
	    opt_int(run->system_cpu_ms, -1), "max_rss_kb",
	    opt_int(run->max_rss_kb, -1)));
}

json_t *
api_job_json(const struct job *job)
{
	json_t *o;
	char cpus[4096];
	int alive;

	if ((o = jobspec_to_json(&job->spec)) == NULL)
		return (NULL);
	alive = job->run.pid != 0 && job->run.exited_ms == 0;
	json_object_set_new(o, "id", json_integer(job->id));
	json_object_set_new(o, "name", json_string(job->name));
	json_object_set_new(o, "source", json_string(job->source));
	json_object_set_new(
	    o, "state", json_string(job_state_name(job->state)));
	json_object_set_new(
	    o, "pid", alive ? json_integer(job->run.pid) : json_null());
	if (job->cpuset_valid &&
	    (job->state == JOB_RUNNING || job->state == JOB_PAUSED ||
		job->state == JOB_STOPPING) &&
	    cpulist_format(&job->cpuset, cpus, sizeof(cpus)) == 0)
		json_object_set_new(o, "cpus_effective", json_string(cpus));
	else
		json_object_set_new(o, "cpus_effective", json_null());
	json_object_set_new(o, "restarts", json_integer(job->restarts));
	json_object_set_new(o, "reason",
	    job->reason[0] != '\0' ? json_string(job->reason) : json_null());
	json_object_set_new(o, "next_start_at",
	    job->state == JOB_BACKOFF ? time_json(job->next_start_ms)
				      : json_null());
	json_object_set_new(o, "created_at", time_json(job->created_ms));
	json_object_set_new(o, "updated_at", time_json(job->updated_ms));
	json_object_set_new(o, "last_run",
	    job->run.number > 0 ? api_run_json(&job->run) : json_null());
	return (o);
}

struct job *
api_job_lookup(struct api_ctx *ctx, struct serr *err)
{
	struct job *job;

	if ((job = supervisor_job_find(ctx->sd->sup, ctx->ref)) == NULL)
		serr_set(err, SERR_NOT_FOUND, "job", "no job %s", ctx->ref);
	return (job);
}

static const char *const no_params[] = {NULL};

/* Deferred answers */

enum api_wait {
	API_WAIT_RUN_END,   /* the current run has ended */
	API_WAIT_RESTARTED, /* the new run of a restart has begun */
	API_WAIT_GONE,      /* the job has been removed */
};

struct api_waiter {
	struct api_pending *pending;
	struct job *job;
	struct job_watch *watch;
	enum api_wait kind;
};

static int
in_run(enum job_state s)
{
	return (s == JOB_STARTING || s == JOB_RUNNING || s == JOB_PAUSED ||
		s == JOB_STOPPING);
}

static int
waiter_done(const struct api_waiter *w, const struct job *job, int gone)
{
	if (gone)
		return (1);
	switch (w->kind) {
	case API_WAIT_RUN_END:
		return (!in_run(job->state));
	case API_WAIT_RESTARTED:
		return (!job->restart_pending && job->state != JOB_STOPPING);
	case API_WAIT_GONE:
		return (0);
	}
	return (1);
}

static void
waiter_watch_cb(struct job *job, int gone, void *arg)
{
	struct api_waiter *w = arg;

	if (!waiter_done(w, job, gone))
		return;
	api_reply_json(api_pending_req(w->pending), 200, api_job_json(job));
	api_pending_done(w->pending);
	supervisor_unwatch(job, w->watch);
	free(w);
}

static void
waiter_close_cb(struct api_pending *p, void *arg)
{
	struct api_waiter *w = arg;

	(void)p;
	log_debug("%s: client left before the answer", w->job->name);
	supervisor_unwatch(w->job, w->watch);
	free(w);
}

static int
api_defer(struct api_ctx *ctx, struct job *job, enum api_wait kind)
{
	struct api_waiter *w;

	w = xcalloc(1, sizeof(*w));
	w->job = job;
	w->kind = kind;
	w->pending = api_pending_new(ctx->req, waiter_close_cb, w);
	w->watch = supervisor_watch(job, waiter_watch_cb, w);
	return (API_DEFERRED);
}

/* Handlers */

int
api_jobs_list(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"state", NULL};
	const struct job_list *jobs;
	const struct job *job;
	const char *want;
	struct api_out o;
	json_t *j;
	int state = -1, n = 0;

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	if ((want = api_query_get(ctx, "state")) != NULL &&
	    (state = job_state_parse(want)) == -1) {
		serr_set(
		    err, SERR_INVALID, "state", "unknown state %.32s", want);
		return (-1);
	}
	/*
	 * Streamed, one job's small tree at a time, freed while still in the
	 * cache: one tree of every job would cost far more memory and time
	 * than the text it becomes. A job that cannot be encoded is left out.
	 */
	api_out_begin(&o, evhttp_request_get_output_buffer(ctx->req));
	api_out_raw(&o, "{\"jobs\":[", 9);
	jobs = supervisor_jobs(ctx->sd->sup);
	TAILQ_FOREACH (job, jobs, entry) {
		if (state != -1 && (int)job->state != state)
			continue;
		if ((j = api_job_json(job)) == NULL)
			continue;
		if (n++ > 0)
			api_out_raw(&o, ",", 1);
		api_out_json(&o, j);
		json_decref(j);
	}
	api_out_raw(&o, "]}\n", 3);
	if (api_out_end(&o) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot encode the jobs");
		return (-1);
	}
	*out = NULL;
	return (200);
}

int
api_jobs_create(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job_spec spec;
	struct job *job;
	int rc;

	if (api_query_check(ctx, no_params, err) == -1)
		return (-1);
	if (ctx->body == NULL) {
		serr_set(
		    err, SERR_INVALID, NULL, "a job spec body is required");
		return (-1);
	}
	jobspec_init(&spec);
	if (jobspec_from_text(ctx->body, ctx->body_len, &spec, err) == -1)
		return (-1);
	rc = supervisor_job_create(ctx->sd->sup, &spec, "api", &job, err);
	jobspec_free(&spec);
	if (rc == -1)
		return (-1);
	*out = api_job_json(job);
	return (201);
}

static json_t *
usage_json(struct api_ctx *ctx, const struct job *job)
{
	struct job_usage u;

	supervisor_job_usage(ctx->sd->sup, job, &u);
	return (json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "cpu_ms",
	    opt_int(u.cpu_ms, -1), "memory_current",
	    opt_int(u.memory_current, -1), "memory_peak",
	    opt_int(u.memory_peak, -1), "nprocs", opt_int(u.nprocs, -1),
	    "oom_kills", opt_int(u.oom_kills, -1), "runq_delay_us",
	    opt_int(u.runq_delay_us, -1)));
}

int
api_job_get(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	*out = api_job_json(job);
	json_object_set_new(*out, "usage", usage_json(ctx, job));
	return (200);
}

static int
proc_cb(void *arg, const struct proc_entry *e)
{
	json_t *a = arg, *argv, *o;
	json_error_t jerr;
	char st[2] = {e->state, '\0'};
	size_t off = 0, n;

	if (e->argv_json != NULL)
		argv = json_loads(e->argv_json, 0, &jerr);
	else {
		argv = json_array();
		while (off < e->cmdline_len) {
			n = strnlen(e->cmdline + off, e->cmdline_len - off);
			json_array_append_new(
			    argv, json_stringn(e->cmdline + off, n));
			off += n + 1;
		}
	}
	o = json_pack("{s:i, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
		      "s:o, s:o, s:o}",
	    "pid", (int)e->pid, "ppid",
	    e->ppid != 0 ? json_integer(e->ppid) : json_null(), "state",
	    e->state != 0 ? json_string(st) : json_null(), "comm", e->comm,
	    "argv", argv != NULL ? argv : json_null(), "cpus_allowed",
	    e->cpus_allowed[0] != '\0' ? json_string(e->cpus_allowed)
				       : json_null(),
	    "policy", e->policy != NULL ? json_string(e->policy) : json_null(),
	    "priority",
	    e->policy != NULL ? json_integer(e->priority) : json_null(), "nice",
	    e->policy != NULL ? json_integer(e->nice) : json_null(),
	    "user_cpu_ms", opt_int(e->user_cpu_ms, -1), "system_cpu_ms",
	    opt_int(e->system_cpu_ms, -1), "rss_kb", opt_int(e->rss_kb, -1),
	    "started_at", time_json(e->started_ms));
	if (o == NULL)
		return (0);
	if (e->run != 0) {
		json_object_set_new(o, "run", json_integer(e->run));
		json_object_set_new(o, "exited_at", time_json(e->exited_ms));
		json_object_set_new(o, "exit_code", opt_int(e->exit_code, -1));
		json_object_set_new(o, "signal",
		    e->signal != 0 ? json_string(util_signal_name(e->signal))
				   : json_null());
	}
	json_array_append_new(a, o);
	return (0);
}

int
api_job_processes(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"all", NULL};
	struct job *job;
	json_t *a;
	int all, n;

	if (api_query_check(ctx, params, err) == -1 ||
	    (all = api_query_bool(ctx, "all", 0, err)) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	a = json_array();
	n = all ? supervisor_job_processes_all(
		      ctx->sd->sup, job, proc_cb, a, err)
		: supervisor_job_processes(ctx->sd->sup, job, proc_cb, a, err);
	if (n < 0) {
		json_decref(a);
		return (-1);
	}
	*out = json_pack("{s:o}", "processes", a);
	return (200);
}

int
api_job_delete(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"force", NULL};
	struct job *job;
	json_t *snap;
	int force, rc;

	if (api_query_check(ctx, params, err) == -1 ||
	    (force = api_query_bool(ctx, "force", 0, err)) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	snap = api_job_json(job);
	rc = supervisor_job_delete(ctx->sd->sup, job, force, err);
	if (rc == 0) {
		*out = snap;
		return (200);
	}
	json_decref(snap);
	if (rc == -1)
		return (-1);
	return (api_defer(ctx, job, API_WAIT_GONE));
}

int
api_job_start(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL ||
	    supervisor_job_start(ctx->sd->sup, job, err) == -1)
		return (-1);
	*out = api_job_json(job);
	return (200);
}

int
api_job_stop(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL ||
	    supervisor_job_stop(ctx->sd->sup, job, err) == -1)
		return (-1);
	if (in_run(job->state))
		return (api_defer(ctx, job, API_WAIT_RUN_END));
	*out = api_job_json(job);
	return (200);
}

int
api_job_restart(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL ||
	    supervisor_job_restart(ctx->sd->sup, job, err) == -1)
		return (-1);
	if (job->restart_pending || job->state == JOB_STOPPING)
		return (api_defer(ctx, job, API_WAIT_RESTARTED));
	*out = api_job_json(job);
	return (200);
}

/* The kill body: {"signal": "SIGUSR1"} or {"signal": 10}; default SIGTERM. */
static int
kill_signal(struct api_ctx *ctx, int *sig, struct serr *err)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	char num[16];
	int rc = -1;

	*sig = 15;
	if (ctx->body == NULL)
		return (0);
	if ((root = json_loadb(ctx->body, ctx->body_len, JSON_REJECT_DUPLICATES,
		 &jerr)) == NULL) {
		serr_set(err, SERR_INVALID, NULL,
		    "malformed JSON: %s at line %d column %d", jerr.text,
		    jerr.line, jerr.column);
		return (-1);
	}
	if (!json_is_object(root)) {
		serr_set(err, SERR_INVALID, NULL, "body must be a JSON object");
		goto out;
	}
	json_object_foreach (root, key, v) {
		if (strcmp(key, "signal") != 0) {
			serr_set(err, SERR_INVALID, key, "unknown field");
			goto out;
		}
		if (json_is_string(v)) {
			if (json_string_length(v) !=
				strlen(json_string_value(v)) ||
			    (*sig = util_signal_parse(json_string_value(v))) ==
				-1) {
				serr_set(err, SERR_INVALID, "signal",
				    "unknown signal");
				goto out;
			}
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(v));
			if ((*sig = util_signal_parse(num)) == -1) {
				serr_set(err, SERR_INVALID, "signal",
				    "signal must be 1..64");
				goto out;
			}
		} else {
			serr_set(err, SERR_INVALID, "signal",
			    "must be a signal name or number");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return (rc);
}

int
api_job_kill(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;
	int sig;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    kill_signal(ctx, &sig, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL ||
	    supervisor_job_kill(ctx->sd->sup, job, sig, err) == -1)
		return (-1);
	*out = api_job_json(job);
	return (200);
}

int
api_job_pause(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL ||
	    supervisor_job_pause(ctx->sd->sup, job, err) == -1)
		return (-1);
	*out = api_job_json(job);
	return (200);
}

int
api_job_resume(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL ||
	    supervisor_job_resume(ctx->sd->sup, job, err) == -1)
		return (-1);
	*out = api_job_json(job);
	return (200);
}

int
api_job_wait(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	if (in_run(job->state))
		return (api_defer(ctx, job, API_WAIT_RUN_END));
	*out = api_job_json(job);
	return (200);
}

static int
runs_cb(void *arg, const struct run *run)
{
	json_array_append_new(arg, api_run_json(run));
	return (0);
}

int
api_job_runs(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"limit", NULL};
	struct job *job;
	json_t *a;
	long long limit;

	if (api_query_check(ctx, params, err) == -1 ||
	    api_query_int(ctx, "limit", 1, 10000, 100, &limit, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	a = json_array();
	if (supervisor_runs(ctx->sd->sup, job, (int)limit, runs_cb, a, err) ==
	    -1) {
		json_decref(a);
		return (-1);
	}
	*out = json_pack("{s:o}", "runs", a);
	return (200);
}
