/* SPDX-License-Identifier: ISC */
/*
 * schedctl plan: run's options and command (or a job file) sent to
 * POST /v1/plan, and the daemon's answer printed as sentences: what a
 * create would do, on which CPUs and why, where it would queue, the RT
 * budget and DEADLINE bandwidth before and after, the cgroup settings and
 * every reason it would be refused. Nothing is created. Like run it checks
 * only its own syntax; the daemon decides everything else.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/format.h"
#include "client/runopts.h"
#include "client/schedctl.h"
#include "client/table.h"

static int cmd_plan_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_plan_entry = {
    .name = "plan",
    .usage = "[-e KEY=VALUE]... [options] [--] CMD [ARG ...]\n"
	     "-f JOB.json",
    .summary = "say what run would do, without doing it (POST /v1/plan)",
    .help = RUN_JOB_OPTIONS_HELP
    "  -f, --file JOB.json  plan this job file as it is ('-': stdin);\n"
    "                       no other job option may be given with it\n",
    .notes =
	"Prints whether the job would run, queue, be created, fail to start or\n"
	"be refused; its CPUs and how they were chosen; its place in the queue\n"
	"and what it waits for; RT budget and DEADLINE bandwidth before and\n"
	"after; its cgroup settings; and every reason a create would be refused\n"
	"(the first is the answer a create gets). A plan and a run made from the\n"
	"same state agree. Exits 0 if the job would run, queue or be created,\n"
	"1 if it would be refused or fail to start.\n",
    .optstring = "e:f:",
    .longopts = cmd_run_longopts,
    .in_order = 1,
    .min_args = 0,
    .max_args = -1,
    .exec = cmd_plan_exec,
};

/* One member's text, sanitized for the terminal; "?" if absent. */
static void
put(const json_t *o, const char *key)
{
	const char *s = fmt_str(o, key);
	char *clean = table_sanitize(s != NULL ? s : "?", NULL);

	fputs(clean, stdout);
	free(clean);
}

static const char *
pct(long long ppm, char *buf, size_t len)
{
	snprintf(buf, len, "%lld.%02lld%%", ppm / 10000, ppm / 100 % 100);
	return (buf);
}

static void
print_admission(const json_t *a)
{
	const json_t *rt = json_object_get(a, "rt_budget");
	const json_t *dl = json_object_get(a, "deadline");
	long long pool, before, after, job, cap, cpus;
	char b1[32], b2[32], b3[32];

	printf("policy: ");
	put(a, "policy");
	fputc('\n', stdout);
	if (json_is_object(rt)) {
		if (!json_is_true(json_object_get(rt, "needed")))
			printf("RT budget: not needed on this machine (no RT "
			       "group scheduling for job cgroups)\n");
		else if (fmt_int(rt, "pool_us", &pool) &&
			 fmt_int(rt, "used_before_us", &before) &&
			 fmt_int(rt, "used_after_us", &after) &&
			 fmt_int(rt, "job_us", &job))
			printf("RT budget: %lld of %lld us handed out, %lld "
			       "after (this job's cgroup gets %lld us)\n",
			    before, pool, after, job);
	}
	if (json_is_object(dl) && fmt_int(dl, "capacity_ppm", &cap) &&
	    fmt_int(dl, "used_before_ppm", &before) &&
	    fmt_int(dl, "cpus", &cpus)) {
		printf("DEADLINE bandwidth: %s of %s on %lld CPU%s used",
		    pct(before, b1, sizeof(b1)), pct(cap, b2, sizeof(b2)), cpus,
		    cpus == 1 ? "" : "s");
		if (fmt_int(dl, "used_after_ppm", &after) && after != before)
			printf(", %s after", pct(after, b3, sizeof(b3)));
		fputc('\n', stdout);
	}
}

static void
print_cgroup(const json_t *c)
{
	long long v, per;

	if (!json_is_object(c)) {
		printf(
		    "cgroup: none (this daemon runs jobs without cgroups)\n");
		return;
	}
	printf("cgroup (");
	put(c, "backend");
	printf("): cpuset ");
	if (fmt_str(c, "cpuset_cpus") != NULL)
		put(c, "cpuset_cpus");
	else
		printf("-");
	if (json_is_true(json_object_get(c, "follows_pool")))
		printf(" (the shared pool's, following it)");
	if (fmt_int(c, "cpu_quota_us", &v) && fmt_int(c, "cpu_period_us", &per))
		printf(", cpu quota %lld us every %lld us", v, per);
	if (fmt_int(c, "memory_max", &v))
		printf(", memory max %lld bytes", v);
	if (fmt_int(c, "pids_max", &v))
		printf(", pids max %lld", v);
	if (fmt_int(c, "rt_runtime_us", &v))
		printf(", RT runtime %lld us", v);
	fputc('\n', stdout);
}

static void
print_refusal(const char *lead, const json_t *r)
{
	long long status;

	printf("%s", lead);
	if (fmt_int(r, "status", &status))
		printf(" %lld", status);
	printf(" ");
	put(r, "code");
	if (fmt_str(r, "field") != NULL) {
		printf(" (");
		put(r, "field");
		printf(")");
	}
	printf(": ");
	put(r, "message");
	fputc('\n', stdout);
}

static int
cmd_plan_exec(struct schedctl *ctl, struct args *args)
{
	json_t *p = NULL, *cpus, *q, *r;
	const char *would;
	long long pos, ahead, status;
	size_t i;
	int rc;

	if (args_has(args, 'w'))
		return (ctl_usage_error(ctl, "a plan cannot wait (-w)"));
	if ((rc = cmd_run_request(ctl, args, "/v1/plan", &p)) != CTL_EXIT_OK)
		goto out;
	if (!json_is_object(p) || (would = fmt_str(p, "would")) == NULL) {
		ctl_warnx("the daemon's answer is not a plan");
		rc = CTL_EXIT_ERROR;
		goto out;
	}
	rc = strcmp(would, "refuse") == 0 || strcmp(would, "fail") == 0
		 ? CTL_EXIT_ERROR
		 : CTL_EXIT_OK;
	if (ctl->json) {
		if (ctl_print_json(p) != CTL_EXIT_OK)
			rc = CTL_EXIT_ERROR;
		goto out;
	}

	printf("would ");
	put(p, "would");
	if (fmt_int(p, "status", &status))
		printf(" (a create answers %lld", status);
	if (fmt_str(p, "state") != NULL) {
		printf(", state ");
		put(p, "state");
	}
	printf(")\n");
	json_array_foreach (json_object_get(p, "refusals"), i, r)
		print_refusal(i == 0 ? "refused:" : "also refused:", r);
	if (json_is_object(r = json_object_get(p, "error")))
		print_refusal("start fails:", r);
	if (json_is_object(cpus = json_object_get(p, "cpus"))) {
		printf("CPUs: ");
		put(cpus, "placement");
		printf(" ");
		if (fmt_str(cpus, "cpus") != NULL)
			put(cpus, "cpus");
		else
			printf("(none now)");
		printf(": ");
		put(cpus, "why");
		fputc('\n', stdout);
	}
	if (json_is_object(q = json_object_get(p, "queue")) &&
	    fmt_int(q, "position", &pos) && fmt_int(q, "ahead", &ahead)) {
		printf("queue: position %lld (%lld ahead): ", pos, ahead);
		put(q, "reason");
		fputc('\n', stdout);
	}
	print_admission(json_object_get(p, "admission"));
	print_cgroup(json_object_get(p, "cgroup"));
out:
	json_decref(p);
	return (rc);
}
