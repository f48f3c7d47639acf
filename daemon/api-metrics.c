/* SPDX-License-Identifier: ISC */
/*
 * GET /metrics: the daemon and its jobs in the Prometheus text exposition
 * format (version 0.0.4), named as Prometheus' own conventions say: a
 * schedd_ prefix, base units (seconds, bytes), _total on counters, one
 * HELP and TYPE per family. It only reads what the supervisor and the
 * router already keep; per job it takes the usage path GET /v1/jobs/{job}
 * uses (a few cgroup files, and the sched and schedstat files of every live
 * thread), so a
 * scrape costs what N job reads cost. It never shows what the caller could
 * not see in GET /v1/jobs: no argv, no environment.
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <stdint.h>
#include <stddef.h>
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
#include "daemon/looplag.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/cpulist.h"

/* The content type Prometheus asks for and parses. */
#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

static void
family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A label value as the format wants it: backslash, double quote and
 * newline escaped. Job names and user names are tame today; this keeps a
 * future one from breaking the page.
 */
static void
label_value(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

/* {job_name="...",job_id="7"}: "job" itself is the label Prometheus gives
 * every target, so a job's own would be renamed exported_job. */
static void
job_labels(struct evbuffer *b, const struct job *job)
{
	evbuffer_add(b, "{job_name=\"", 11);
	label_value(b, job->name);
	evbuffer_add_printf(b, "\",job_id=\"%" PRId64 "\"}", job->id);
}

static void
job_value(struct evbuffer *b, const char *name, const struct job *job, double v)
{
	evbuffer_add_printf(b, "%s", name);
	job_labels(b, job);
	evbuffer_add_printf(b, " %.17g\n", v);
}

struct req_print {
	struct evbuffer *b;
};

static void
requests_cb(
    void *arg, const char *route, const char *method, int status, uint64_t n)
{
	struct req_print *rp = arg;

	evbuffer_add(rp->b, "schedd_api_requests_total{route=\"", 33);
	label_value(rp->b, route != NULL ? route : "other");
	evbuffer_add_printf(rp->b,
	    "\",method=\"%s\",code=\"%d\"} %" PRIu64 "\n", method, status, n);
}

/* The usage of every job, read once for the per-job families. */
struct job_fig {
	const struct job *job;
	struct job_usage u;
};

/* One per-job family of a usage figure, in its units per unit (1e3: ms
 * to s); -1, unknown, is left out. */
static void
job_family(struct evbuffer *b, const struct job_fig *figs, size_t n,
    const char *name, const char *type, const char *help, size_t off,
    double unit)
{
	int64_t v;
	size_t i;

	family(b, name, type, help);
	for (i = 0; i < n; i++) {
		memcpy(&v, (const char *)&figs[i].u + off, sizeof(v));
		if (v >= 0)
			job_value(b, name, figs[i].job, (double)v / unit);
	}
}

/*
 * The scheduling figures (issue 17), health checks and schedules (issue
 * 16) of each job.
 */
static void
metrics_sched(struct evbuffer *b, const struct job_fig *figs, size_t n)
{
	const char *hs, *last;
	int64_t checked;
	int fails;
	size_t i;

	job_family(b, figs, n, "schedd_job_involuntary_switches", "gauge",
	    "Times the job's live threads were preempted.",
	    offsetof(struct job_usage, involuntary_switches), 1);
	job_family(b, figs, n, "schedd_job_migrations", "gauge",
	    "Times the job's live threads moved to another CPU.",
	    offsetof(struct job_usage, migrations), 1);
	job_family(b, figs, n, "schedd_job_cpu_periods_total", "counter",
	    "CFS periods of the job's cpu cgroup (cpu.stat nr_periods).",
	    offsetof(struct job_usage, nr_periods), 1);
	job_family(b, figs, n, "schedd_job_cpu_throttled_periods_total",
	    "counter",
	    "Periods in which limits.cpu_quota_pct held the job back.",
	    offsetof(struct job_usage, nr_throttled), 1);
	job_family(b, figs, n, "schedd_job_cpu_throttled_seconds_total",
	    "counter", "Time limits.cpu_quota_pct held the job back.",
	    offsetof(struct job_usage, throttled_us), 1e6);
	job_family(b, figs, n, "schedd_job_cpu_pressure_seconds_total",
	    "counter",
	    "Time some of the job's tasks waited for a CPU (cgroup v2 "
	    "cpu.pressure, some).",
	    offsetof(struct job_usage, cpu_pressure_us), 1e6);
	family(b, "schedd_job_healthy", "gauge",
	    "1 healthy, 0 unhealthy, by the job's health check (absent: no "
	    "verdict yet).");
	for (i = 0; i < n; i++)
		if ((hs = sup_health_view(
			 figs[i].job, &checked, &fails, &last)) != NULL &&
		    strcmp(hs, "unknown") != 0)
			job_value(b, "schedd_job_healthy", figs[i].job,
			    strcmp(hs, "healthy") == 0 ? 1 : 0);
	family(b, "schedd_job_schedule_skipped_total", "counter",
	    "Ticks of the job's schedule that started nothing (a run was "
	    "active, or schedd was down).");
	for (i = 0; i < n; i++)
		if (figs[i].job->spec.schedule != NULL)
			job_value(b, "schedd_job_schedule_skipped_total",
			    figs[i].job, (double)figs[i].job->sched_skipped);
}

/* Threads on granted CPUs that are not the grantee's (issue 17). */
static void
metrics_drift(struct evbuffer *b, struct supervisor *sup)
{
	json_t *d = supervisor_drift_json(sup), *a, *e;
	const char *kind;
	size_t i, placed = 0;

	/* Only placements someone made count (pinned, moved): a thread
	 * that merely ran there, or a per-CPU kernel thread, does not. */
	a = json_object_get(d, "intruders");
	json_array_foreach (a, i, e)
		if ((kind = json_string_value(json_object_get(e, "kind"))) !=
			NULL &&
		    (strcmp(kind, "pinned") == 0 || strcmp(kind, "moved") == 0))
			placed++;
	family(b, "schedd_cpu_intruders", "gauge",
	    "Threads outside a job placed on its exclusive or pinned CPUs "
	    "(pinned or moved there).");
	evbuffer_add_printf(b, "schedd_cpu_intruders %zu\n", placed);
	family(b, "schedd_cpu_drift", "gauge",
	    "Jobs' own threads or cpusets off their spec now.");
	a = json_object_get(d, "drift");
	evbuffer_add_printf(b, "schedd_cpu_drift %zu\n",
	    json_is_array(a) ? json_array_size(a) : 0);
	json_decref(d);
}

int
api_metrics(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};
	struct evbuffer *b = evhttp_request_get_output_buffer(ctx->req);
	struct supervisor *sup = ctx->sd->sup;
	const struct sup_counters *c = supervisor_counters(sup);
	const struct looplag *lag = api_looplag(ctx->api);
	const struct job_list *jobs = supervisor_jobs(sup);
	struct job *job;
	const struct job *j;
	struct job_fig *figs;
	struct req_print rp;
	size_t njobs = supervisor_job_count(sup), n = 0, i;
	int64_t bystate[JOB_NSTATES] = {0}, granted = 0, queued = 0;
	char owner[AUTH_NAME_MAX];
	int s;

	(void)out;
	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	figs = xcalloc(njobs > 0 ? njobs : 1, sizeof(*figs));
	TAILQ_FOREACH (job, jobs, entry) {
		if (n == njobs)
			break;
		bystate[job->state]++;
		if (job->state == JOB_QUEUED || job->queued_for_cpus)
			queued++;
		if (job->spec.exclusive_cpus > 0 && job->cpuset_valid &&
		    job_state_active(job->state))
			granted += cpulist_count(job->cpuset);
		figs[n].job = job;
		supervisor_job_usage(sup, job, &figs[n].u);
		n++;
	}

	family(b, "schedd_up", "gauge", "1 while the daemon answers.");
	evbuffer_add_printf(b, "schedd_up 1\n");
	family(b, "schedd_build_info", "gauge",
	    "The daemon's version, as a label; the value is always 1.");
	evbuffer_add_printf(
	    b, "schedd_build_info{version=\"%s\"} 1\n", SCHEDD_VERSION);
	family(b, "schedd_uptime_seconds", "gauge",
	    "Seconds since the daemon started.");
	evbuffer_add_printf(b, "schedd_uptime_seconds %.3f\n",
	    (double)(mono_ms() - ctx->sd->started_ms) / 1000.0);
	family(b, "schedd_jobs", "gauge", "Jobs by state.");
	for (s = 0; s < JOB_NSTATES; s++)
		evbuffer_add_printf(b,
		    "schedd_jobs{state=\"%s\"} %" PRId64 "\n",
		    job_state_name((enum job_state)s), bystate[s]);
	family(b, "schedd_spawns_total", "counter",
	    "Runs whose process started, since the daemon started.");
	evbuffer_add_printf(b, "schedd_spawns_total %" PRIu64 "\n", c->spawns);
	family(b, "schedd_spawn_failures_total", "counter",
	    "Runs that could not start (exec, user, cgroup, CPUs).");
	evbuffer_add_printf(
	    b, "schedd_spawn_failures_total %" PRIu64 "\n", c->spawn_failures);
	family(b, "schedd_restarts_total", "counter",
	    "Automatic restarts by a restart policy.");
	evbuffer_add_printf(
	    b, "schedd_restarts_total %" PRIu64 "\n", c->restarts);
	family(b, "schedd_api_requests_total", "counter",
	    "API answers by route pattern (other: no route), method and status.");
	rp.b = b;
	api_requests_each(requests_cb, &rp);
	family(b, "schedd_loop_lag_seconds", "gauge",
	    "How late the event loop ran its last lag probe.");
	evbuffer_add_printf(b, "schedd_loop_lag_seconds %.3f\n",
	    (double)looplag_last_ms(lag) / 1000.0);
	family(b, "schedd_loop_lag_max_seconds", "gauge",
	    "The largest loop lag of the last minute.");
	evbuffer_add_printf(b, "schedd_loop_lag_max_seconds %.3f\n",
	    (double)looplag_max_ms(lag) / 1000.0);
	family(b, "schedd_store_errors_total", "counter",
	    "Database writes that failed (full, read-only, locked).");
	evbuffer_add_printf(
	    b, "schedd_store_errors_total %" PRIu64 "\n", c->store_errors);
	family(b, "schedd_store_degraded", "gauge",
	    "1 while the store cannot write and changes get 503.");
	evbuffer_add_printf(
	    b, "schedd_store_degraded %d\n", supervisor_degraded(sup) != NULL);
	family(b, "schedd_cpus_exclusive_granted", "gauge",
	    "CPUs held exclusively by active jobs.");
	evbuffer_add_printf(
	    b, "schedd_cpus_exclusive_granted %" PRId64 "\n", granted);
	family(b, "schedd_cpu_queue_length", "gauge",
	    "Jobs queued for exclusive CPUs.");
	evbuffer_add_printf(b, "schedd_cpu_queue_length %" PRId64 "\n", queued);

	family(b, "schedd_job_info", "gauge",
	    "One series per job: its state and owner as labels; always 1.");
	for (i = 0; i < n; i++) {
		j = figs[i].job;
		evbuffer_add(b, "schedd_job_info{job_name=\"", 26);
		label_value(b, j->name);
		evbuffer_add_printf(b,
		    "\",job_id=\"%" PRId64 "\",state=\"%s\",owner=\"", j->id,
		    job_state_name(j->state));
		label_value(
		    b, auth_user_name(j->owner_uid, owner, sizeof(owner)));
		evbuffer_add(b, "\"} 1\n", 5);
	}
	family(b, "schedd_job_restarts_total", "counter",
	    "Automatic restarts of the job, over its life.");
	for (i = 0; i < n; i++)
		job_value(b, "schedd_job_restarts_total", figs[i].job,
		    (double)figs[i].job->restarts);
	job_family(b, figs, n, "schedd_job_cpu_seconds_total", "counter",
	    "CPU time (user and system) of the job's current or last run.",
	    offsetof(struct job_usage, cpu_ms), 1e3);
	job_family(b, figs, n, "schedd_job_memory_bytes", "gauge",
	    "Memory charged to the job's cgroup now.",
	    offsetof(struct job_usage, memory_current), 1);
	job_family(b, figs, n, "schedd_job_memory_peak_bytes", "gauge",
	    "The most memory the job's cgroup has been charged.",
	    offsetof(struct job_usage, memory_peak), 1);
	job_family(b, figs, n, "schedd_job_processes", "gauge",
	    "Live processes of the job.", offsetof(struct job_usage, nprocs),
	    1);
	job_family(b, figs, n, "schedd_job_oom_kills_total", "counter",
	    "Processes of the job the kernel killed for want of memory.",
	    offsetof(struct job_usage, oom_kills), 1);
	job_family(b, figs, n, "schedd_job_runqueue_delay_seconds", "gauge",
	    "Time the job's live processes have spent runnable but waiting "
	    "for a CPU (schedstat); it falls when a process ends.",
	    offsetof(struct job_usage, runq_delay_us), 1e6);
	metrics_sched(b, figs, n);
	metrics_drift(b, sup);
	free(figs);
	evhttp_add_header(evhttp_request_get_output_headers(ctx->req),
	    "Content-Type", METRICS_CTYPE);
	return (200);
}
