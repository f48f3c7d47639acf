/* SPDX-License-Identifier: ISC */
/*
 * System routes: health and reload. (CPUs and metrics join here as the
 * features behind them land.)
 */
#include "config.h"

#include <unistd.h>

#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/conf.h"
#include "daemon/log.h"
#include "daemon/supervisor.h"

int
api_health(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	*out = json_pack("{s:s, s:s, s:i, s:I, s:I}", "status",
	    ctx->sd->shutting_down ? "stopping" : "ok", "version",
	    SCHEDD_VERSION, "pid", (int)getpid(), "uptime_ms",
	    (json_int_t)(mono_ms() - ctx->sd->started_ms), "jobs",
	    (json_int_t)supervisor_job_count(ctx->sd->sup));
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

int
api_reload(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};
	struct reload_report r;
	int i;

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	for (i = 0; i < SUP_RELOAD_ERROR; i++)
		r.lists[i] = json_array();
	r.errors = json_array();
	if (supervisor_reload(ctx->sd->sup, ctx->sd->conf->jobs_dir, 0,
		reload_cb, &r, err) == -1) {
		for (i = 0; i < SUP_RELOAD_ERROR; i++)
			json_decref(r.lists[i]);
		json_decref(r.errors);
		return (-1);
	}
	*out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "jobs_dir",
	    ctx->sd->conf->jobs_dir, "added", r.lists[SUP_RELOAD_ADDED],
	    "changed", r.lists[SUP_RELOAD_CHANGED], "unchanged",
	    r.lists[SUP_RELOAD_UNCHANGED], "removed",
	    r.lists[SUP_RELOAD_REMOVED], "errors", r.errors);
	return (200);
}
