/* SPDX-License-Identifier: ISC */
/*
 * schedctl policy: who the daemon takes us for, and what its access policy
 * lets us use (GET /v1/policy), each limit with the config section that
 * set it; an admin may ask about another user with -u.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/format.h"
#include "client/http.h"
#include "client/schedctl.h"
#include "client/table.h"

static int cmd_policy_exec(struct schedctl *, struct args *);

static const struct option policy_longopts[] = {
    {"user", required_argument, NULL, 'u'},
    {NULL, 0, NULL, 0},
};

const struct cmd_entry cmd_policy_entry = {
    .name = "policy",
    .usage = "[-u USER]",
    .summary = "show who you are to schedd and what you may use",
    .help = "  -u, --user USER      another user's policy (admins only)\n",
    .notes =
	"Root and members of admin_group may do everything; the limits\n"
	"apply to every other user (schedd.conf(5), [users], [group NAME]\n"
	"and [user NAME] sections).\n",
    .optstring = "u:",
    .longopts = policy_longopts,
    .min_args = 0,
    .max_args = 0,
    .exec = cmd_policy_exec,
};

static const char *const policy_keys[] = {
    "jobs_max",
    "rt_priority_max",
    "nice_min",
    "deadline",
    "exclusive_cpus_max",
    "pids_max",
    "memory_max",
    NULL,
};

static int
cmd_policy_exec(struct schedctl *ctl, struct args *args)
{
	const char *user, *name, *via, *hdr[] = {"LIMIT", "VALUE", "SET BY"};
	const char *cells[3];
	const char *const *k;
	json_t *root = NULL, *caller, *pol, *from;
	char path[CTL_PATH_MAX], enc[512], *v, *who;
	const char *src;
	long long uid, active, pid;
	struct table *t;
	int rc, admin;

	if ((user = args_get(args, 'u')) != NULL) {
		if (http_urlencode(enc, sizeof(enc), user) == -1)
			return (ctl_usage_error(ctl, "-u: name too long"));
		snprintf(path, sizeof(path), "/v1/policy?user=%s", enc);
	} else
		snprintf(path, sizeof(path), "/v1/policy");
	if ((rc = ctl_call(ctl, "GET", path, NULL, CTL_TIMEOUT_MS, &root)) !=
	    CTL_EXIT_OK)
		return (rc);
	if (ctl->json) {
		rc = ctl_print_json(root);
		json_decref(root);
		return (rc);
	}
	caller = json_object_get(root, "caller");
	pol = json_object_get(root, "policy");
	from = json_object_get(pol, "from");
	name = fmt_str(caller, "user");
	via = fmt_str(caller, "via");
	admin = json_is_true(json_object_get(caller, "admin"));
	who = table_sanitize(name != NULL ? name : "unknown", NULL);
	if (fmt_int(caller, "uid", &uid))
		printf("%s %s (uid %lld)", user != NULL ? "user" : "you:", who,
		    uid);
	else
		printf("%s an unknown caller", user != NULL ? "user" : "you:");
	free(who);
	if (user == NULL && via != NULL) {
		printf(", by the %s", strcmp(via, "tcp") == 0
					  ? "TCP listener (token)"
					  : "Unix socket");
		if (fmt_int(caller, "pid", &pid))
			printf(", pid %lld", pid);
	}
	printf("\n%s\n", admin ? "an admin: may do everything; the limits "
				 "below do not apply"
			       : "not an admin: own jobs only, within these "
				 "limits");
	if (fmt_int(root, "active_jobs", &active))
		printf("active jobs: %lld\n", active);
	t = table_new(3, hdr, NULL);
	for (k = policy_keys; *k != NULL; k++) {
		v = fmt_value(json_object_get(pol, *k));
		src = fmt_str(from, *k);
		cells[0] = *k;
		cells[1] = strcmp(v, "-") == 0 || strcmp(v, "null") == 0
			       ? "no cap"
			       : v;
		cells[2] = src != NULL ? src : "-";
		table_add(t, cells);
		free(v);
	}
	table_print(t, stdout, 0);
	table_free(t);
	json_decref(root);
	return (CTL_EXIT_OK);
}
