/* SPDX-License-Identifier: ISC */
/*
 * System routes: health. (CPUs, reload and metrics join here as the
 * features behind them land.)
 */
#include "config.h"

#include <unistd.h>

#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/supervisor.h"

int
api_health(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = { NULL };

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	*out = json_pack("{s:s, s:s, s:i, s:I, s:I}",
	    "status", ctx->sd->shutting_down ? "stopping" : "ok",
	    "version", SCHEDD_VERSION,
	    "pid", (int)getpid(),
	    "uptime_ms", (json_int_t)(mono_ms() - ctx->sd->started_ms),
	    "jobs", (json_int_t)supervisor_job_count(ctx->sd->sup));
	return (200);
}
