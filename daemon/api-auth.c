/* SPDX-License-Identifier: ISC */
/*
 * GET /v1/policy: who the caller is to schedd, and what the access policy
 * lets them use, each limit with the config section that set it. An admin
 * may ask about any user (?user=NAME or a uid). Changes nothing.
 */
#include "config.h"

#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/auth.h"
#include "daemon/conf.h"
#include "daemon/job.h"
#include "daemon/supervisor.h"
#include "proto/util.h"

/* ?user=: a name or a uid; 0, or -1 with a 404. */
static int
policy_user(const char *v, uid_t *uid, struct serr *err)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	const char *errstr;
	long long id;

	if (getpwnam_r(v, &pw, buf, sizeof(buf), &pwp) == 0 && pwp != NULL) {
		*uid = pwp->pw_uid;
		return (0);
	}
	id = util_strtonum(v, 0, 4294967294LL, &errstr);
	if (errstr == NULL) {
		*uid = (uid_t)id;
		return (0);
	}
	serr_set(err, SERR_NOT_FOUND, "user", "no such user %.64s", v);
	return (-1);
}

static json_t *
policy_json(const struct caller *c, const struct user_policy *pol,
    const char *from[AUTH_POLICY_KEYS])
{
	json_t *o, *f;
	int k;

	o = json_pack("{s:i, s:o, s:i, s:b, s:i, s:o, s:o}", "jobs_max",
	    pol->jobs_max, "rt_priority_max",
	    pol->rt_priority_max == -1
		? json_integer(c->rtprio_rlimit > 0 ? c->rtprio_rlimit : 0)
		: json_integer(pol->rt_priority_max),
	    "nice_min", pol->nice_min, "deadline", pol->deadline,
	    "exclusive_cpus_max", pol->exclusive_cpus_max, "pids_max",
	    pol->pids_max > 0 ? json_integer(pol->pids_max) : json_null(),
	    "memory_max",
	    pol->memory_max > 0 ? json_integer((json_int_t)pol->memory_max)
				: json_null());
	f = json_object();
	for (k = 0; k < AUTH_POLICY_KEYS; k++)
		json_object_set_new(
		    f, config_policy_key_name(1u << k), json_string(from[k]));
	/* rt_priority_max from the RLIMIT: say so. */
	if (pol->rt_priority_max == -1)
		json_object_set_new(f, "rt_priority_max",
		    json_sprintf(
			"%s (RLIMIT_RTPRIO)", from[1] != NULL ? from[1] : "?"));
	json_object_set_new(o, "from", f);
	return (o);
}

int
api_policy(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"user", NULL};
	const struct caller *c = ctx->caller;
	const char *from[AUTH_POLICY_KEYS], *who;
	struct user_policy pol;
	struct caller other;
	json_t *groups;
	uid_t uid;
	int i, active = 0;

	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	if ((who = api_query_get(ctx, "user")) != NULL) {
		if (!c->known || (!c->admin && strcmp(who, c->name) != 0)) {
			serr_set(err, SERR_PERMISSION, "user",
			    "only admins may see another user's policy");
			return (-1);
		}
		if (policy_user(who, &uid, err) == -1)
			return (-1);
		auth_from_uid(uid, 0, &other);
		other.tcp = 0;
		c = &other;
	}
	auth_policy(c, &pol, from);
	if (c->known)
		active = api_owner_active(ctx->sd->sup, c->uid);
	groups = json_array();
	for (i = 0; i < c->ngroups; i++)
		json_array_append_new(groups, json_integer(c->groups[i]));
	*out = json_pack("{s:{s:o, s:s?, s:o, s:o, s:b, s:s, s:o}, s:o, s:i}",
	    "caller", "uid", c->known ? json_integer(c->uid) : json_null(),
	    "user", c->known ? c->name : NULL, "gid",
	    c->known && c->gid != (gid_t)-1 ? json_integer(c->gid)
					    : json_null(),
	    "groups", groups, "admin", c->known && c->admin, "via",
	    c->tcp ? "tcp" : "unix", "pid",
	    c->pid > 0 ? json_integer(c->pid) : json_null(), "policy",
	    policy_json(c, &pol, from), "active_jobs", active);
	return (*out != NULL ? 200 : -1);
}
