/* SPDX-License-Identifier: ISC */
/*
 * Plans: what POST /v1/jobs would do with a spec, answered without doing
 * it. The plan runs the create's own checks in the create's order (name,
 * resources, "after", the store) and then the start's own steps
 * (dependencies, then sup_res_plan: the CPU step and admission of
 * sup_res_prepare, undone before it returns), all against the books as
 * they are in this loop turn, so a plan and a create made from the same
 * state agree. It never stores, spawns, creates a cgroup or changes the
 * books; nothing it calls sleeps.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/conf.h"
#include "daemon/spawn.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "proto/cpulist.h"
#include "proto/jobspec.h"

/* The HTTP status a create answers for an error code. */
static int
plan_status(enum serr_code code)
{
	switch (code) {
	case SERR_INVALID:
		return (400);
	case SERR_CONFLICT:
		return (409);
	case SERR_UNSATISFIABLE:
		return (422);
	case SERR_UNAVAILABLE:
		return (503);
	default:
		return (500);
	}
}

static json_t *
plan_refusal(const struct serr *e)
{
	return (
	    json_pack("{s:s, s:i, s:s, s:o}", "code", serr_code_name(e->code),
		"status", plan_status(e->code), "message", e->message, "field",
		e->field[0] != '\0' ? json_string(e->field) : json_null()));
}

static const char *
plan_cpus_text(const struct cpulist *cl, char *buf, size_t len)
{
	if (cpulist_count(cl) == 0 || cpulist_format(cl, buf, len) == -1)
		return (NULL);
	return (buf);
}

/* RT budget and DEADLINE bandwidth, before and after admission. */
static json_t *
plan_admission(const struct job_spec *spec, const struct sup_res_plan *p)
{
	const struct job_sched *s = &spec->sched;
	json_t *o, *rt = json_null(), *dl = json_null();

	if (s->set && (s->policy == POLICY_FIFO || s->policy == POLICY_RR))
		rt = json_pack("{s:b, s:I, s:I, s:I, s:I}", "needed",
		    p->before.rt_pool_us > 0, "pool_us",
		    (json_int_t)p->before.rt_pool_us, "used_before_us",
		    (json_int_t)p->before.rt_used_us, "used_after_us",
		    (json_int_t)p->after.rt_used_us, "job_us",
		    (json_int_t)p->rt_us);
	if (s->set && s->policy == POLICY_DEADLINE)
		dl = json_pack("{s:i, s:I, s:I, s:I, s:I, s:b}", "cpus",
		    p->ncpus, "capacity_ppm_per_cpu",
		    (json_int_t)p->before.dl_cpu_ppm, "capacity_ppm",
		    (json_int_t)p->before.dl_cpu_ppm *
			(p->ncpus > 0 ? p->ncpus : 1),
		    "used_before_ppm", (json_int_t)p->before.dl_used_ppm,
		    "used_after_ppm", (json_int_t)p->after.dl_used_ppm,
		    "unlimited", p->before.dl_unlimited);
	o = json_pack("{s:s, s:o, s:o}", "policy",
	    s->set ? jobspec_policy_name(s->policy) : "other", "rt_budget", rt,
	    "deadline", dl);
	return (o);
}

/* The cgroup settings the job would get. */
static json_t *
plan_cgroup(const struct job_spec *spec, const struct sup_res_plan *p, int rc)
{
	const struct job_limits *l = &spec->limits;
	char buf[4096];
	const char *cpus = NULL;

	if (p->backend == NULL)
		return (json_null());
	/* No CPUs to show for a start that would fail or wait for them. */
	if (rc == 0)
		cpus = plan_cpus_text(&p->cpus, buf, sizeof(buf));
	return (json_pack("{s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "backend",
	    p->backend, "cpuset_cpus",
	    cpus != NULL ? json_string(cpus) : json_null(), "follows_pool",
	    p->kind == 0, "cpu_quota_us",
	    l->cpu_quota_pct != 0 ? json_integer(l->cpu_quota_pct * 1000)
				  : json_null(),
	    "cpu_period_us",
	    l->cpu_quota_pct != 0 ? json_integer(100000) : json_null(),
	    "memory_max",
	    l->memory_max != 0 ? json_integer(l->memory_max) : json_null(),
	    "pids_max",
	    l->pids_max != 0 ? json_integer(l->pids_max) : json_null(),
	    "rt_runtime_us",
	    p->rt_groups && p->rt_us > 0 ? json_integer(p->rt_us)
					 : json_null()));
}

int
supervisor_plan(struct supervisor *sup, const struct job_spec *spec,
    json_t **out, struct serr *err)
{
	struct sup_res_plan p;
	struct spawn_creds creds;
	struct job self;
	struct serr e;
	json_t *refusals, *queue = json_null(), *cpus = json_null();
	const char *would, *state, *placement;
	char buf[4096], why[RUN_ERROR_MAX];
	int64_t id;
	int rc, status = 201, refused = 0;
	size_t ahead = 0;
	struct job *q;

	refusals = json_array();
	/* The create's checks, each on its own so that every reason shows;
	 * the first is the one a create answers. */
	serr_clear(&e);
	if (sup->shutting_down) {
		serr_set(&e, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		json_array_append_new(refusals, plan_refusal(&e));
	}
	if (spec->name != NULL && sup_find_name(sup, spec->name) != NULL) {
		serr_set(&e, SERR_CONFLICT, "name", "a job named %s exists",
		    spec->name);
		json_array_append_new(refusals, plan_refusal(&e));
	}
	serr_clear(&e);
	if (sup_res_check(sup, spec, &e) == -1)
		json_array_append_new(refusals, plan_refusal(&e));
	serr_clear(&e);
	if (sup_check_after(sup, spec->name, spec, &e) == -1)
		json_array_append_new(refusals, plan_refusal(&e));
	serr_clear(&e);
	if (sup_writable(sup, &e) == -1)
		json_array_append_new(refusals, plan_refusal(&e));
	serr_clear(&e);
	if ((id = store_job_next_id(sup->st, &e)) == -1)
		id = INT64_MAX;
	refused = json_array_size(refusals) > 0;

	/* The start's steps, as act_spawn takes them. */
	memset(&self, 0, sizeof(self));
	self.spec = *spec; /* a shallow copy: read only */
	self.id = id;
	serr_clear(&e);
	why[0] = '\0';
	if (!sup_deps_running(sup, &self, why, sizeof(why))) {
		rc = 1;
		memset(&p, 0, sizeof(p));
		/* The CPUs it would get once they run, for the record. */
		(void)sup_res_plan(sup, spec, id, &p, &e);
		serr_clear(&e);
	} else {
		rc = sup_res_plan(sup, spec, id, &p, &e);
		if (rc == 1)
			snprintf(why, sizeof(why), "%s", p.why);
	}
	if (rc == 0) {
		if (spawn_creds_resolve(spec->user, spec->group, &creds, &e) ==
		    -1)
			rc = -1;
		spawn_creds_free(&creds);
	}

	if (refused) {
		would = "refuse";
		state = NULL;
		status = json_integer_value(
		    json_object_get(json_array_get(refusals, 0), "status"));
	} else if (!spec->start) {
		would = "create";
		state = "created";
	} else if (rc == 1) {
		would = "queue";
		state = "queued";
	} else if (rc == -1) {
		would = "fail";
		state = "failed";
	} else {
		would = "run";
		state = "running";
	}
	if (rc == 1) {
		TAILQ_FOREACH (q, &sup->queued, qentry)
			ahead++;
		queue = json_pack("{s:I, s:s, s:I}", "position",
		    (json_int_t)ahead + 1, "reason", why, "ahead",
		    (json_int_t)ahead);
	}
	placement = p.kind == 2   ? "exclusive"
		    : p.kind == 1 ? "pinned"
				  : "shared";
	if (!refused && rc != -1) {
		const char *text = plan_cpus_text(&p.cpus, buf, sizeof(buf));

		cpus = json_pack("{s:s, s:o, s:i, s:s}", "placement", placement,
		    "cpus",
		    rc == 0 && text != NULL ? json_string(text) : json_null(),
		    "count", p.kind == 2 ? spec->exclusive_cpus : p.ncpus,
		    "why",
		    p.kind == 2   ? (rc == 0 ? p.order : why)
		    : p.kind == 1 ? "the spec's cpus list"
				  : "the shared pool: every usable CPU no "
				    "job holds exclusively (it grows and "
				    "shrinks with grants)");
	}
	*out = json_pack("{s:s, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "would", would, "state",
	    state != NULL ? json_string(state) : json_null(), "status", status,
	    "refusals", refusals, "error",
	    rc == -1 && !refused ? plan_refusal(&e) : json_null(), "cpus", cpus,
	    "queue", queue, "admission", plan_admission(spec, &p), "cgroup",
	    plan_cgroup(spec, &p, refused ? -1 : rc));
	if (*out == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot build the plan");
		return (-1);
	}
	return (0);
}
