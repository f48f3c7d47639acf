/* SPDX-License-Identifier: ISC */
/*
 * System routes: health and reload. (CPUs and metrics join here as the
 * features behind them land.)
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/conf.h"
#include "daemon/job.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/looplag.h"
#include "daemon/reload.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

/* Job output since start-up, and what it holds on disk now. */
static json_t *
api_health_output(void)
{
	struct joblog_stats st;

	joblog_stats(&st);
	return (json_pack("{s:I, s:I, s:I, s:I}", "written_bytes",
	    (json_int_t)st.bytes_written, "dropped_bytes",
	    (json_int_t)st.bytes_dropped, "stored_bytes",
	    (json_int_t)(st.total_bytes + st.direct_bytes), "files",
	    (json_int_t)st.files));
}

/*
 * GET /v1/health. status is "stopping" during shutdown, "degraded" while
 * the store cannot write (and "degraded" says why: state changes get 503
 * meanwhile), else "ok". Another condition is one more status here and
 * one more member below.
 */
int
api_health(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};
	const struct looplag *lag = api_looplag(ctx->api);
	const char *degraded = supervisor_degraded(ctx->sd->sup);
	const char *status = "ok";
	json_t *o;

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	if (ctx->sd->shutting_down)
		status = "stopping";
	else if (degraded != NULL)
		status = "degraded";
	o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "status", status,
	    "version", SCHEDD_VERSION, "pid", (int)getpid(), "uptime_ms",
	    (json_int_t)(mono_ms() - ctx->sd->started_ms), "jobs",
	    (json_int_t)supervisor_job_count(ctx->sd->sup), "loop_lag_ms",
	    (json_int_t)looplag_last_ms(lag), "loop_lag_max_ms",
	    (json_int_t)looplag_max_ms(lag));
	if (o == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot build the answer");
		return (-1);
	}
	if (degraded != NULL)
		json_object_set_new(o, "degraded", json_string(degraded));
	json_object_set_new(o, "output", api_health_output());
	*out = o;
	return (200);
}

struct reload_report {
	json_t *lists[SUP_RELOAD_ERROR]; /* added, changed, ... */
	json_t *errors;
};

static void
reload_cb(void *arg, enum sup_reload_what what, const char *name,
    const char *path, const struct serr *e)
{
	struct reload_report *r = arg;
	json_t *o;

	if (what != SUP_RELOAD_ERROR) {
		json_array_append_new(r->lists[what], json_string(name));
		return;
	}
	o = json_pack("{s:s, s:s}", "code", serr_code_name(e->code), "message",
	    e->message);
	if (path != NULL)
		json_object_set_new(o, "path", json_string(path));
	if (name != NULL)
		json_object_set_new(o, "job", json_string(name));
	if (e->field[0] != '\0')
		json_object_set_new(o, "field", json_string(e->field));
	json_array_append_new(r->errors, o);
}

/* POST /v1/reload waiting for the files to be read off the loop. */
struct reload_wait {
	struct reload_report r;
	struct reloader *rl;
	struct reload_req *reload;
	struct api_pending *pending;
	char dir[PATH_MAX];
};

static void
reload_wait_free(struct reload_wait *w)
{
	int i;

	for (i = 0; i < SUP_RELOAD_ERROR; i++)
		json_decref(w->r.lists[i]);
	json_decref(w->r.errors);
	free(w);
}

static void
reload_closed(struct api_pending *p, void *arg)
{
	struct reload_wait *w = arg;

	(void)p;
	log_debug("reload: client left before the answer");
	reload_cancel(w->rl, w->reload);
	reload_wait_free(w);
}

static void
reload_done(void *arg, const struct serr *err)
{
	struct reload_wait *w = arg;
	struct evhttp_request *req = api_pending_req(w->pending);
	json_t *out;

	api_pending_done(w->pending);
	if (err != NULL) {
		api_reply_error(req, err);
		reload_wait_free(w);
		return;
	}
	out = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O}", "jobs_dir", w->dir,
	    "added", w->r.lists[SUP_RELOAD_ADDED], "changed",
	    w->r.lists[SUP_RELOAD_CHANGED], "unchanged",
	    w->r.lists[SUP_RELOAD_UNCHANGED], "removed",
	    w->r.lists[SUP_RELOAD_REMOVED], "errors", w->r.errors);
	api_reply_json(req, 200, out);
	reload_wait_free(w);
}

/*
 * The files are read off the loop (reload_start); the answer
 * follows once the changes are made.
 */
int
api_reload(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};
	struct reload_wait *w;
	int i;

	(void)out;
	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	w = xcalloc(1, sizeof(*w));
	for (i = 0; i < SUP_RELOAD_ERROR; i++)
		w->r.lists[i] = json_array();
	w->r.errors = json_array();
	w->rl = ctx->sd->reloader;
	util_strlcpy(w->dir, ctx->sd->conf->jobs_dir, sizeof(w->dir));
	if ((w->reload = reload_start(w->rl, ctx->sd->conf->jobs_dir, reload_cb,
		 reload_done, w, err)) == NULL) {
		reload_wait_free(w);
		return (-1);
	}
	w->pending = api_pending_new(ctx->req, reload_closed, w);
	return (API_DEFERRED);
}

/*
 * GET /v1/cpus: each CPU's place in the topology and who holds it, the
 * pools, and the jobs queued for a grant, in the order they will start.
 */
int
api_cpus(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};
	json_t *d;

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	if ((*out = supervisor_cpus_json(ctx->sd->sup, err)) == NULL)
		return (-1);
	/* Issue 17: intruders, drift and the scan's figures. */
	if ((d = supervisor_drift_json(ctx->sd->sup)) != NULL) {
		json_object_update(*out, d);
		json_decref(d);
	}
	return (200);
}
