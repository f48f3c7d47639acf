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

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/auth.h"
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

/*
 * Jobs and runs are written as text, not built as trees: a job's tree cost
 * ~45 allocations to build, encode and free for each answer and for each
 * job of GET /v1/jobs. Only the spec, which proto/jobspec.c encodes, is
 * still a tree. The bytes are those the trees gave, quirks included: a
 * string jansson refuses (NULL, not UTF-8) drops its member, or the whole
 * last_run, as json_object_set_new and json_pack dropped a NULL value.
 */

/* ,"k": -- every member of a written object but its first. */
#define OUT_KEY(o, k) json_out_raw((o), ",\"" k "\":", sizeof(k) + 3)

/* Would json_string(s) succeed? */
static int
str_ok(const char *s)
{
	const char *p;
	json_t *j;

	if (s == NULL)
		return (0);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			break;
	if (*p == '\0')
		return (1);
	/* Rare: let jansson judge, as it did when it built the tree. */
	if ((j = json_string(s)) == NULL)
		return (0);
	json_decref(j);
	return (1);
}

static void
out_str(struct json_out *o, const char *s)
{
	json_out_string(o, s, strlen(s));
}

static void
out_null(struct json_out *o)
{
	json_out_raw(o, "null", 4);
}

static void
out_bool(struct json_out *o, int b)
{
	if (b)
		json_out_raw(o, "true", 4);
	else
		json_out_raw(o, "false", 5);
}

static void
out_opt_int(struct json_out *o, int64_t v, int64_t none)
{
	if (v == none)
		out_null(o);
	else
		json_out_int(o, v);
}

/*
 * Times as JSON text, by their ms. Every answer about a job writes the
 * same few times again (created, updated, the last run's start and end),
 * and formatting and quoting one cost ~500 instructions, a twelfth of a
 * GET /v1/jobs/{id}. The text is a function of ms alone, so what is kept
 * is never stale; a time whose text would need escaping (none does) is
 * not kept.
 */
#define TIME_TEXT_SLOTS 64
static struct time_text {
	int64_t ms; /* 0: empty */
	size_t len;
	char text[32]; /* with its quotes */
} time_texts[TIME_TEXT_SLOTS];

static void
out_time(struct json_out *o, int64_t ms)
{
	struct time_text *t;
	const char *s;
	char buf[32];
	size_t i, n;

	if (ms <= 0) {
		out_null(o);
		return;
	}
	t = &time_texts[(uint64_t)ms % TIME_TEXT_SLOTS];
	if (t->ms == ms) {
		json_out_raw(o, t->text, t->len);
		return;
	}
	s = time_format(ms, buf, sizeof(buf));
	n = strlen(s);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			break;
	if (i < n || n + 2 > sizeof(t->text)) {
		out_str(o, s);
		return;
	}
	t->text[0] = '"';
	memcpy(t->text + 1, s, n);
	t->text[n + 1] = '"';
	t->len = n + 2;
	t->ms = ms;
	json_out_raw(o, t->text, t->len);
}

/* The last_run or runs[] object. The caller has checked run->error. */
static void
out_run(struct json_out *o, const struct run *run)
{
	const char *sig;

	sig = run->signal != 0 ? util_signal_name(run->signal) : NULL;
	json_out_raw(o, "{\"run\":", 7);
	json_out_int(o, run->number);
	OUT_KEY(o, "pid");
	out_opt_int(o, run->pid, 0);
	OUT_KEY(o, "started_at");
	out_time(o, run->started_ms);
	OUT_KEY(o, "exited_at");
	out_time(o, run->exited_ms);
	OUT_KEY(o, "exit_code");
	out_opt_int(o, run->exit_code, -1);
	OUT_KEY(o, "signal");
	if (sig != NULL)
		out_str(o, sig);
	else
		out_null(o);
	OUT_KEY(o, "core_dumped");
	out_bool(o, run->core_dumped);
	OUT_KEY(o, "error");
	if (run->error != NULL && run->error[0] != '\0')
		out_str(o, run->error);
	else
		out_null(o);
	OUT_KEY(o, "oom_killed");
	out_bool(o, run->oom_killed);
	OUT_KEY(o, "user_cpu_ms");
	out_opt_int(o, run->user_cpu_ms, -1);
	OUT_KEY(o, "system_cpu_ms");
	out_opt_int(o, run->system_cpu_ms, -1);
	OUT_KEY(o, "max_rss_kb");
	out_opt_int(o, run->max_rss_kb, -1);
	OUT_KEY(o, "output_dropped");
	out_opt_int(o, run->output_dropped, -1);
	json_out_raw(o, "}", 1);
}

static int
run_ok(const struct run *run)
{
	return (
	    run->error == NULL || run->error[0] == '\0' || str_ok(run->error));
}

static void
out_usage(struct json_out *o, const struct job_usage *u)
{
	json_out_raw(o, "{\"cpu_ms\":", 10);
	out_opt_int(o, u->cpu_ms, -1);
	OUT_KEY(o, "memory_current");
	out_opt_int(o, u->memory_current, -1);
	OUT_KEY(o, "memory_peak");
	out_opt_int(o, u->memory_peak, -1);
	OUT_KEY(o, "nprocs");
	out_opt_int(o, u->nprocs, -1);
	OUT_KEY(o, "oom_kills");
	out_opt_int(o, u->oom_kills, -1);
	OUT_KEY(o, "runq_delay_us");
	out_opt_int(o, u->runq_delay_us, -1);
	OUT_KEY(o, "involuntary_switches");
	out_opt_int(o, u->involuntary_switches, -1);
	OUT_KEY(o, "migrations");
	out_opt_int(o, u->migrations, -1);
	OUT_KEY(o, "nr_periods");
	out_opt_int(o, u->nr_periods, -1);
	OUT_KEY(o, "nr_throttled");
	out_opt_int(o, u->nr_throttled, -1);
	OUT_KEY(o, "throttled_us");
	out_opt_int(o, u->throttled_us, -1);
	OUT_KEY(o, "cpu_pressure_us");
	out_opt_int(o, u->cpu_pressure_us, -1);
	json_out_raw(o, "}", 1);
}

/* {"uid": 1000, "user": "alice"}, with "at" when at_ms is not 0. */
static void
out_who(struct json_out *o, int64_t uid, int64_t at_ms)
{
	char name[AUTH_NAME_MAX];

	json_out_raw(o, "{\"uid\":", 7);
	json_out_int(o, uid);
	OUT_KEY(o, "user");
	out_str(o, auth_user_name((uid_t)uid, name, sizeof(name)));
	if (at_ms != 0) {
		OUT_KEY(o, "at");
		out_time(o, at_ms);
	}
	json_out_raw(o, "}", 1);
}

/* What stands for a value the caller may not see. */
#define REDACTED "<redacted>"

/*
 * The job's spec as the caller may see it: all of it for its owner and
 * admins but the values of env_secret keys, which nobody sees; for
 * anyone else no argv and no env value. NULL on out-of-memory.
 */
static json_t *
spec_json(const struct job *job, int full)
{
	json_t *spec, *env, *v;
	const char *k;

	if ((spec = jobspec_to_json(&job->spec)) == NULL)
		return (NULL);
	if (full && job->spec.nsecret == 0)
		return (spec);
	if ((env = json_object_get(spec, "env")) != NULL)
		json_object_foreach (env, k, v)
			if (!full || jobspec_env_secret(&job->spec, k))
				json_object_set_new(
				    env, k, json_string(REDACTED));
	if (!full)
		json_object_set_new(spec, "argv", json_null());
	return (spec);
}

/* The spec's members as the full view sends them ("name" the job's):
 * supervisor_spec_text's, kept per spec. NULL on out-of-memory. */
static const char *
spec_text(struct job *job, size_t *len)
{
	return (supervisor_spec_text(job, len));
}

/*
 * The full view without secrets comes from spec_text, which costs about
 * a kilobyte a job and is kept for SUP_SPEC_TEXTS jobs: an answer about
 * one job makes it; a list makes it only while every job's fits, and
 * otherwise uses what is kept.
 */
#define API_FULL_TEXT 2 /* full, and spec_text may be made */
static int
spec_cached(const struct job *job, int full)
{
	return (full != 0 && job->spec.nsecret == 0 &&
		(job->spec_text != NULL || full == API_FULL_TEXT));
}

/* full (0 or 1) as job_reply and out_job take it, for one job. */
static int
api_full(int full)
{
	return (full ? API_FULL_TEXT : 0);
}

/* The same for a job of a list. */
static int
api_list_full(struct api_ctx *ctx, int full)
{
	if (full && supervisor_job_count(ctx->sd->sup) <= SUP_SPEC_TEXTS)
		return (API_FULL_TEXT);
	return (full);
}

/*
 * The job object: the members of spec (jobspec_to_json's tree of it,
 * stolen; NULL: spec_text's), then the job's own (none of which may
 * repeat a spec key but "name"), then "usage" unless u is NULL.
 */
static void
out_job(struct json_out *o, const struct job *job, json_t *spec,
    const struct job_usage *u)
{
	const char *hstate, *hlast, *text;
	int64_t hchecked;
	size_t len;
	int hfails;
	char cpus[4096];

	json_out_raw(o, "{", 1);
	if (spec == NULL) {
		if ((text = spec_text((struct job *)(uintptr_t)job, &len)) ==
		    NULL) {
			o->error = 1;
			return;
		}
		json_out_raw(o, text, len);
	} else {
		json_object_set_new(spec, "name", json_string(job->name));
		json_out_members(o, spec);
		json_decref(spec);
	}
	OUT_KEY(o, "id");
	json_out_int(o, job->id);
	if (str_ok(job->source)) {
		OUT_KEY(o, "source");
		out_str(o, job->source);
	}
	OUT_KEY(o, "state");
	out_str(o, job_state_name(job->state));
	OUT_KEY(o, "pid");
	if (job->run.pid != 0 && job->run.exited_ms == 0)
		json_out_int(o, job->run.pid);
	else
		out_null(o);
	OUT_KEY(o, "cpus_effective");
	if (job->cpuset_valid &&
	    (job->state == JOB_STARTING || job->state == JOB_RUNNING ||
		job->state == JOB_PAUSED || job->state == JOB_STOPPING) &&
	    cpulist_format(job->cpuset, cpus, sizeof(cpus)) == 0)
		out_str(o, cpus);
	else
		out_null(o);
	OUT_KEY(o, "owner");
	out_who(o, (int64_t)job->owner_uid, 0);
	OUT_KEY(o, "last_actor");
	if (job->actor_uid >= 0)
		out_who(o, job->actor_uid, job->acted_ms);
	else
		out_null(o);
	OUT_KEY(o, "restarts");
	json_out_int(o, job->restarts);
	if (job->reason == NULL) {
		OUT_KEY(o, "reason");
		out_null(o);
	} else if (str_ok(job->reason)) {
		OUT_KEY(o, "reason");
		out_str(o, job->reason);
	}
	/* sd_notify: what the run says of itself, and when it was ready. */
	OUT_KEY(o, "status_text");
	if (job->status_text != NULL && str_ok(job->status_text))
		out_str(o, job->status_text);
	else
		out_null(o);
	if (job->notify_state != NULL) {
		OUT_KEY(o, "notify_state");
		out_str(o, job->notify_state);
	}
	if (job->notify_mainpid != 0) {
		OUT_KEY(o, "notify_main_pid");
		json_out_int(o, job->notify_mainpid);
	}
	OUT_KEY(o, "ready_at");
	out_time(o, job->ready_ms);
	if ((hstate = sup_health_view(job, &hchecked, &hfails, &hlast)) !=
	    NULL) {
		OUT_KEY(o, "health_status");
		out_str(o, hstate);
		OUT_KEY(o, "health_checked_at");
		out_time(o, hchecked);
		OUT_KEY(o, "health_failures");
		json_out_int(o, hfails);
		OUT_KEY(o, "health_output");
		if (hlast != NULL && str_ok(hlast))
			out_str(o, hlast);
		else
			out_null(o);
	}
	/* A restart's in backoff, else a schedule's next tick. */
	OUT_KEY(o, "next_start_at");
	out_time(o, job->state == JOB_BACKOFF ? job->next_start_ms
					      : job->sched_next_ms);
	if (job->spec.schedule != NULL) {
		OUT_KEY(o, "schedule_skipped");
		json_out_int(o, job->sched_skipped);
	}
	OUT_KEY(o, "created_at");
	out_time(o, job->created_ms);
	OUT_KEY(o, "updated_at");
	out_time(o, job->updated_ms);
	if (job->run.number <= 0) {
		OUT_KEY(o, "last_run");
		out_null(o);
	} else if (run_ok(&job->run)) {
		OUT_KEY(o, "last_run");
		out_run(o, &job->run);
	}
	if (u != NULL) {
		OUT_KEY(o, "usage");
		out_usage(o, u);
	}
	json_out_raw(o, "}", 1);
}

/*
 * Write job as the body of req's answer and return status, or return -1
 * and fill err if it cannot be encoded. full: the caller may see all of it
 * (spec_json).
 */
static int
job_reply(struct evhttp_request *req, const struct job *job,
    const struct job_usage *u, int full, int status, struct serr *err)
{
	struct json_out o;
	json_t *spec;

	spec = NULL;
	if (!spec_cached(job, full) && (spec = spec_json(job, full)) == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot encode job %s",
		    job->name);
		return (-1);
	}
	api_out_begin(&o, evhttp_request_get_output_buffer(req));
	out_job(&o, job, spec, u);
	json_out_raw(&o, "\n", 1);
	if (json_out_end(&o) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot encode job %s",
		    job->name);
		return (-1);
	}
	return (status);
}

struct job *
api_job_lookup(struct api_ctx *ctx, struct serr *err)
{
	struct job *job;

	if ((job = supervisor_job_find(ctx->sd->sup, ctx->ref)) == NULL)
		serr_set(err, SERR_NOT_FOUND, "job", "no job %s", ctx->ref);
	return (job);
}

struct job *
api_job_mine(struct api_ctx *ctx, struct serr *err)
{
	struct job *job;

	if ((job = api_job_lookup(ctx, err)) == NULL ||
	    auth_job(ctx->caller, job->owner_uid, job->name, err) == -1)
		return (NULL);
	return (job);
}

/* The caller may see all of job. */
static int
full_view(struct api_ctx *ctx, const struct job *job)
{
	return (auth_owns(ctx->caller, job->owner_uid));
}

int
api_owner_active(struct supervisor *sup, uid_t uid)
{
	const struct job *job;
	int n = 0;

	TAILQ_FOREACH (job, supervisor_jobs(sup), entry)
		if (job->owner_uid == uid && (job_state_active(job->state) ||
						 job->spec.schedule != NULL))
			n++;
	return (n);
}

/*
 * What jobs_max is held against: the caller's active jobs. Admins have no
 * jobs_max, and counting walks every job (with 6,000 jobs it was a fifth
 * of the daemon's time per POST).
 */
static int
api_caller_active(struct api_ctx *ctx)
{
	if (ctx->caller->known && ctx->caller->admin)
		return (0);
	return (api_owner_active(ctx->sd->sup, ctx->caller->uid));
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
	int full;    /* the caller may see all of the job */
	int counted; /* a GET .../wait: in the job's nwaits */
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
		return (supervisor_job_settled(job));
	case API_WAIT_GONE:
		return (0);
	}
	return (1);
}

static void
waiter_watch_cb(struct job *job, int gone, void *arg)
{
	struct api_waiter *w = arg;
	struct evhttp_request *req = api_pending_req(w->pending);
	struct serr err;

	if (!waiter_done(w, job, gone))
		return;
	if (job_reply(req, job, NULL, w->full, 200, &err) == -1)
		api_reply_error(req, &err);
	else
		api_reply_json(req, 200, NULL);
	api_pending_done(w->pending);
	supervisor_unwatch(job, w->watch);
	if (w->counted)
		supervisor_job_wait_end(job->sup, job);
	free(w);
}

static void
waiter_close_cb(struct api_pending *p, void *arg)
{
	struct api_waiter *w = arg;

	(void)p;
	log_debug("%s: client left before the answer", w->job->name);
	supervisor_unwatch(w->job, w->watch);
	if (w->counted)
		supervisor_job_wait_end(w->job->sup, w->job);
	free(w);
}

static struct api_waiter *
api_defer_waiter(struct api_ctx *ctx, struct job *job, enum api_wait kind)
{
	struct api_waiter *w;

	w = xcalloc(1, sizeof(*w));
	w->job = job;
	w->kind = kind;
	w->full = api_full(full_view(ctx, job));
	w->pending = api_pending_new(ctx->req, waiter_close_cb, w);
	w->watch = supervisor_watch(job, waiter_watch_cb, w);
	return (w);
}

static int
api_defer(struct api_ctx *ctx, struct job *job, enum api_wait kind)
{
	(void)api_defer_waiter(ctx, job, kind);
	return (API_DEFERRED);
}

/* Handlers */

int
api_jobs_list(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"state", "usage", NULL};
	const struct job_list *jobs;
	const struct job *job;
	const char *want;
	struct json_out o;
	struct job_usage u;
	json_t *spec;
	int state = -1, n = 0, usage, full;

	(void)out;
	if (api_query_check(ctx, params, err) == -1 ||
	    (usage = api_query_bool(ctx, "usage", 0, err)) == -1)
		return (-1);
	if ((want = api_query_get(ctx, "state")) != NULL &&
	    (state = job_state_parse(want)) == -1) {
		serr_set(
		    err, SERR_INVALID, "state", "unknown state %.32s", want);
		return (-1);
	}
	/*
	 * Streamed, one job at a time, each spec's small tree freed while
	 * still in the cache: one tree of every job would cost far more
	 * memory and time than the text it becomes. A job that cannot be
	 * encoded is left out.
	 */
	api_out_begin(&o, evhttp_request_get_output_buffer(ctx->req));
	json_out_raw(&o, "{\"jobs\":[", 9);
	jobs = supervisor_jobs(ctx->sd->sup);
	TAILQ_FOREACH (job, jobs, entry) {
		if (state != -1 && (int)job->state != state)
			continue;
		full = api_list_full(ctx, full_view(ctx, job));
		spec = NULL;
		if (!spec_cached(job, full) &&
		    (spec = spec_json(job, full)) == NULL)
			continue;
		if (n++ > 0)
			json_out_raw(&o, ",", 1);
		/* ?usage=true (schedctl ps, top): what GET of each would
		 * add; reading it may keep an ended run's figures. */
		if (usage)
			supervisor_job_usage(
			    ctx->sd->sup, (struct job *)(uintptr_t)job, &u);
		out_job(&o, job, spec, usage ? &u : NULL);
	}
	json_out_raw(&o, "]}\n", 3);
	if (json_out_end(&o) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot encode the jobs");
		return (-1);
	}
	return (200);
}

int
api_jobs_create(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job_spec spec;
	struct job *job;
	int rc;

	(void)out;
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
	if (auth_spec(ctx->caller, &spec,
		spec.start || spec.schedule != NULL ? api_caller_active(ctx)
						    : -1,
		err) == -1) {
		jobspec_free(&spec);
		return (-1);
	}
	rc = supervisor_job_create(ctx->sd->sup, &spec, "api", &job, err);
	jobspec_free(&spec);
	if (rc == -1)
		return (-1);
	return (job_reply(ctx->req, job, NULL, api_full(1), 201, err));
}

int
api_job_get(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job_usage u;
	struct job *job;

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	supervisor_job_usage(ctx->sd->sup, job, &u);
	return (job_reply(
	    ctx->req, job, &u, api_full(full_view(ctx, job)), 200, err));
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

/* A live listing under way: answered when the supervisor has read it. */
struct proc_req {
	struct supervisor *sup;
	struct sup_query *q;
	struct api_pending *pending;
};

static void
proc_req_done(void *arg, const struct proc_entry *ents, int n, int truncated,
    const struct serr *err)
{
	struct proc_req *pr = arg;
	struct evhttp_request *req = api_pending_req(pr->pending);
	json_t *a;
	int i;

	if (n < 0)
		api_reply_error(req, err);
	else {
		a = json_array();
		for (i = 0; i < n; i++)
			proc_cb(a, &ents[i]);
		api_reply_json(req, 200,
		    json_pack(
			"{s:o, s:b}", "processes", a, "truncated", truncated));
	}
	api_pending_done(pr->pending);
	free(pr);
}

static void
proc_req_close(struct api_pending *p, void *arg)
{
	struct proc_req *pr = arg;

	(void)p;
	supervisor_query_cancel(pr->sup, pr->q);
	free(pr);
}

int
api_job_processes(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"all", NULL};
	struct proc_req *pr;
	struct job *job;
	json_t *a;
	int all, n, truncated;

	if (api_query_check(ctx, params, err) == -1 ||
	    (all = api_query_bool(ctx, "all", 0, err)) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL)
		return (-1);
	if (!all) {
		pr = xcalloc(1, sizeof(*pr));
		pr->sup = ctx->sd->sup;
		if ((pr->q = supervisor_job_processes(
			 ctx->sd->sup, job, proc_req_done, pr, err)) == NULL) {
			free(pr);
			return (-1);
		}
		pr->pending = api_pending_new(ctx->req, proc_req_close, pr);
		return (API_DEFERRED);
	}
	a = json_array();
	n = supervisor_job_processes_all(
	    ctx->sd->sup, job, proc_cb, a, &truncated, err);
	if (n < 0) {
		json_decref(a);
		return (-1);
	}
	*out = json_pack("{s:o, s:b}", "processes", a, "truncated", truncated);
	return (200);
}

int
api_job_delete(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"force", NULL};
	struct evbuffer *buf = evhttp_request_get_output_buffer(ctx->req);
	struct job *job;
	int force, rc;

	(void)out;
	if (api_query_check(ctx, params, err) == -1 ||
	    (force = api_query_bool(ctx, "force", 0, err)) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL)
		return (-1);
	/* The answer is the job as it was: write it while it exists. */
	if (job_reply(ctx->req, job, NULL, api_full(1), 200, err) == -1)
		return (-1);
	rc = supervisor_job_delete(ctx->sd->sup, job, force, err);
	if (rc == 0)
		return (200);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	if (rc == -1)
		return (-1);
	return (api_defer(ctx, job, API_WAIT_GONE));
}

int
api_job_start(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    (!job_state_active(job->state) &&
		auth_start(ctx->caller,
		    api_caller_active(ctx) - (job->spec.schedule != NULL),
		    err) == -1) ||
	    supervisor_job_start(ctx->sd->sup, job, err) == -1)
		return (-1);
	return (job_reply(ctx->req, job, NULL, api_full(1), 200, err));
}

int
api_job_stop(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    supervisor_job_stop(ctx->sd->sup, job, err) == -1)
		return (-1);
	if (in_run(job->state))
		return (api_defer(ctx, job, API_WAIT_RUN_END));
	return (job_reply(ctx->req, job, NULL, api_full(1), 200, err));
}

int
api_job_restart(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    (!job_state_active(job->state) &&
		auth_start(ctx->caller,
		    api_caller_active(ctx) - (job->spec.schedule != NULL),
		    err) == -1) ||
	    supervisor_job_restart(ctx->sd->sup, job, err) == -1)
		return (-1);
	if (!supervisor_job_settled(job))
		return (api_defer(ctx, job, API_WAIT_RESTARTED));
	return (job_reply(ctx->req, job, NULL, api_full(1), 200, err));
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

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    kill_signal(ctx, &sig, err) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    supervisor_job_kill(ctx->sd->sup, job, sig, err) == -1)
		return (-1);
	return (job_reply(ctx->req, job, NULL, api_full(1), 200, err));
}

int
api_job_pause(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    supervisor_job_pause(ctx->sd->sup, job, err) == -1)
		return (-1);
	return (job_reply(ctx->req, job, NULL, api_full(1), 200, err));
}

int
api_job_resume(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    supervisor_job_resume(ctx->sd->sup, job, err) == -1)
		return (-1);
	return (job_reply(ctx->req, job, NULL, api_full(1), 200, err));
}

int
api_job_wait(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	struct job *job;

	(void)out;
	if (api_query_check(ctx, no_params, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	if (in_run(job->state)) {
		/* Counted: a job with stop.unwaited_ms lives while waited. */
		api_defer_waiter(ctx, job, API_WAIT_RUN_END)->counted = 1;
		supervisor_job_wait_begin(ctx->sd->sup, job);
		return (API_DEFERRED);
	}
	return (job_reply(
	    ctx->req, job, NULL, api_full(full_view(ctx, job)), 200, err));
}

struct runs_out {
	struct json_out o;
	int n;
};

static int
runs_cb(void *arg, const struct run *run)
{
	struct runs_out *r = arg;

	/* Left out, as json_array_append_new left out a NULL run. */
	if (!run_ok(run))
		return (0);
	if (r->n++ > 0)
		json_out_raw(&r->o, ",", 1);
	out_run(&r->o, run);
	return (0);
}

int
api_job_runs(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"limit", NULL};
	struct runs_out r;
	struct job *job;
	long long limit;

	(void)out;
	if (api_query_check(ctx, params, err) == -1 ||
	    api_query_int(ctx, "limit", 1, 10000, 100, &limit, err) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL)
		return (-1);
	api_out_begin(&r.o, evhttp_request_get_output_buffer(ctx->req));
	r.n = 0;
	json_out_raw(&r.o, "{\"runs\":[", 9);
	if (supervisor_runs(ctx->sd->sup, job, (int)limit, runs_cb, &r, err) ==
	    -1) {
		json_out_end(&r.o);
		return (-1);
	}
	json_out_raw(&r.o, "]}\n", 3);
	if (json_out_end(&r.o) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot encode the runs");
		return (-1);
	}
	return (200);
}
