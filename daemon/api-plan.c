/* SPDX-License-Identifier: ISC */
/*
 * POST /v1/plan: a job spec in, what a create would do with it out. The
 * spec is decoded and validated exactly as POST /v1/jobs does (a bad one
 * is a 400 naming the field); the supervisor answers the rest. Nothing is
 * started or stored. The caller's access policy applies as to a create.
 */
#include "config.h"

#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/auth.h"
#include "daemon/supervisor.h"
#include "proto/jobspec.h"

int
api_plan(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};
	struct job_spec spec;
	int rc;

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	if (ctx->body == NULL) {
		serr_set(
		    err, SERR_INVALID, NULL, "a job spec body is required");
		return (-1);
	}
	jobspec_init(&spec);
	if (jobspec_from_text(ctx->body, ctx->body_len, &spec, err) == -1)
		return (-1);
	/* What the access policy would refuse, a plan refuses the same way
	 * (403 naming the field and the rule); what it fills in, it fills. */
	if (auth_spec(ctx->caller, &spec, -1, err) == -1) {
		jobspec_free(&spec);
		return (-1);
	}
	rc = supervisor_plan(ctx->sd->sup, &spec, out, err);
	jobspec_free(&spec);
	return (rc == -1 ? -1 : 200);
}
