/* SPDX-License-Identifier: ISC */
/*
 * Start order and job files: the "after" graph (unknown names and cycles
 * refused up front, queued jobs started once their dependencies run, the
 * reverse order at shutdown), and a job file's spec made into its job
 * (reload.c reads the files and calls supervisor_job_from_file).
 */
#include "config.h"

#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/clock.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/jsonout.h"
#include "proto/util.h"

/* Dependencies ("after") */

struct job *
sup_find_name(struct supervisor *sup, const char *name)
{
	return (htab_get_str(&sup->by_name, name));
}

/*
 * Would job `name` with spec's "after" list close a cycle? Walks the
 * existing jobs' lists (the job itself uses the new spec). Depth-bounded
 * by the number of jobs, so a cycle among others cannot loop us.
 */
static int
sup_reaches(struct supervisor *sup, const char *name,
    const struct job_spec *spec, const char *from, size_t depth)
{
	const struct job_spec *s;
	struct job *j;
	size_t i;

	if (strcmp(from, name) == 0)
		return (1);
	if (depth > sup->njobs + 1)
		return (0);
	if ((j = sup_find_name(sup, from)) == NULL)
		return (0);
	s = &j->spec;
	for (i = 0; i < s->nafter; i++) {
		if (strcmp(s->after[i], name) == 0 ||
		    sup_reaches(sup, name, spec, s->after[i], depth + 1))
			return (1);
	}
	return (0);
}

/* Every name in "after" must name a job, and none may lead back. */
int
sup_check_after(struct supervisor *sup, const char *name,
    const struct job_spec *spec, struct serr *err)
{
	char field[32];
	size_t i;

	for (i = 0; i < spec->nafter; i++) {
		snprintf(field, sizeof(field), "after[%zu]", i);
		if (name != NULL && strcmp(spec->after[i], name) == 0) {
			serr_set(err, SERR_UNSATISFIABLE, field,
			    "a job cannot start after itself");
			return (-1);
		}
		if (sup_find_name(sup, spec->after[i]) == NULL) {
			serr_set(err, SERR_UNSATISFIABLE, field,
			    "no job named %s", spec->after[i]);
			return (-1);
		}
		if (name != NULL &&
		    sup_reaches(sup, name, spec, spec->after[i], 0)) {
			serr_set(err, SERR_UNSATISFIABLE, field,
			    "%s already starts after %s: that is a cycle",
			    spec->after[i], name);
			return (-1);
		}
	}
	return (0);
}

/* 1 if every dependency runs; else the first that does not, in buf. */
int
sup_deps_running(
    struct supervisor *sup, const struct job *job, char *buf, size_t len)
{
	struct job *d;
	size_t i;

	for (i = 0; i < job->spec.nafter; i++) {
		d = sup_find_name(sup, job->spec.after[i]);
		if (d == NULL || d->state != JOB_RUNNING) {
			snprintf(buf, len, "waiting for %s (%s)",
			    job->spec.after[i],
			    d == NULL ? "no such job"
				      : job_state_name(d->state));
			return (0);
		}
	}
	return (1);
}

/*
 * Start queued jobs whose dependencies now run (from the loop). Only the
 * queued list is walked, in id order as the job list would be; a job
 * that starts leaves it, one that must wait again keeps its place.
 */
static void
sup_queue_run(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct job *job, *tj;
	char why[RUN_ERROR_MAX];
	int again = 1, cpu_blocked;

	(void)fd;
	(void)what;
	sup->queue_kicked = 0;
	while (again && !sup->shutting_down) {
		again = 0;
		/* Jobs waiting for CPUs start strictly in order: one that
		 * still cannot have its CPUs holds back those after it. */
		cpu_blocked = 0;
		TAILQ_FOREACH_SAFE (job, &sup->queued, qentry, tj) {
			if (job->state != JOB_QUEUED ||
			    !sup_deps_running(sup, job, why, sizeof(why)) ||
			    (cpu_blocked && job->queued_for_cpus))
				continue;
			sup_fact(sup, job, JEV_QUEUE);
			if (job->state == JOB_RUNNING)
				again = 1;
			else if (job->state == JOB_QUEUED &&
				 job->queued_for_cpus)
				cpu_blocked = 1;
		}
	}
}

void
sup_queue_kick(struct supervisor *sup)
{
	if (sup->queue_kicked)
		return;
	sup->queue_kicked = 1;
	event_base_once(
	    sup->sd->base, -1, EV_TIMEOUT, sup_queue_run, sup, NULL);
}

static void
sup_queue_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sup_queue_kick(arg);
}

/* One timer: a later kick than the one due is already covered by it. */
void
sup_queue_kick_in(struct supervisor *sup, int64_t ms)
{
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	int64_t at = now_ms() + ms;

	if (sup->kick_ev == NULL)
		sup->kick_ev = sup_evtimer_new(sup, sup_queue_kick_cb, sup);
	else if (evtimer_pending(sup->kick_ev, NULL) && sup->kick_at <= at)
		return;
	sup->kick_at = at;
	evtimer_add(sup->kick_ev, &tv);
}

/*
 * Mark each job that a job still running lists in its "after"
 * (dependent_runs), for a walk of the shutdown: one pass over the jobs
 * and a lookup per name, where asking it of each job in turn was
 * quadratic (10,000 jobs: 10^8 steps).
 */
void
sup_mark_running_dependents(struct supervisor *sup)
{
	struct job *j, *d;
	size_t i;

	TAILQ_FOREACH (j, &sup->jobs, entry)
		j->dependent_runs = 0;
	TAILQ_FOREACH (j, &sup->jobs, entry) {
		if (j->state != JOB_RUNNING && j->state != JOB_PAUSED &&
		    j->state != JOB_STOPPING && j->state != JOB_STARTING)
			continue;
		for (i = 0; i < j->spec.nafter; i++)
			if ((d = sup_find_name(sup, j->spec.after[i])) != NULL)
				d->dependent_runs = 1;
	}
}

/* Job files (reload.c makes them through supervisor_job_from_file) */

#define FILE_PREFIX "file:"

const char *
supervisor_job_file(const struct job *job)
{
	return (strncmp(job->source, FILE_PREFIX, sizeof(FILE_PREFIX) - 1) == 0
		    ? job->source + sizeof(FILE_PREFIX) - 1
		    : NULL);
}

static int
sup_source_is(const struct job *job, const char *path)
{
	const char *file = supervisor_job_file(job);

	return (file != NULL && strcmp(file, path) == 0);
}

/* Replace job's spec with a changed file's; applied at the next start. */
static int
sup_update_spec(struct supervisor *sup, struct job *job,
    const struct job_spec *fspec, const char *text, const char *path,
    struct serr *err)
{
	struct job_spec spec;
	struct event_rec ev;
	char *etext = NULL;

	jobspec_init(&spec);
	if (jobspec_copy(&spec, fspec) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "out of memory");
		return (-1);
	}
	if (store_begin(sup->st, err) == -1)
		goto fail;
	if (store_job_update_spec(
		sup->st, job->id, text, job->source, now_ms(), err) == -1 ||
	    sup_event_write(sup, &ev, job, 0, "updated",
		json_pack("{s:s}", "path", path), &etext, err) == -1 ||
	    store_commit(sup->st, err) == -1) {
		store_rollback(sup->st);
		free(etext);
		goto fail;
	}
	/* The same name (the file's was looked up): keep the job's string,
	 * which job->name and the by-name index point at. */
	free(spec.name);
	spec.name = job->spec.name;
	job->spec.name = NULL;
	jobspec_free(&job->spec);
	job->spec = spec;
	sup_spec_text_drop(job);
	job->file_digest = htab_hash_str(text);
	job->updated_ms = now_ms();
	/* A placement added to a running job is checked from now on. */
	sup_drift_placed(sup, job);
	/* A changed schedule counts from now. */
	job->sched_next_ms = 0;
	sup_sched_job(sup, job, 0);
	log_info("%s: spec updated from %s (applies at the next start)",
	    job->name, path);
	sup_event_announce(sup, &ev);
	free(etext);
	return (0);
fail:
	jobspec_free(&spec);
	return (-1);
}

int
supervisor_job_from_file(struct supervisor *sup, const struct job_spec *spec,
    const char *text, const char *path, struct job **jobp, struct serr *err)
{
	char source[PATH_MAX + 8], *canon = NULL;
	struct job *job;
	uint64_t digest = htab_hash_str(text);
	json_t *j;
	int same;

	*jobp = NULL;
	if ((job = sup_find_name(sup, spec->name)) == NULL) {
		if (snprintf(source, sizeof(source), FILE_PREFIX "%s", path) >=
		    (int)sizeof(source)) {
			serr_set(
			    err, SERR_INVALID, NULL, "%s: path too long", path);
			return (-1);
		}
		if (supervisor_job_create(sup, spec, source, &job, err) == -1)
			return (-1);
		job->file_digest = digest;
		*jobp = job;
		return (SUP_RELOAD_ADDED);
	}
	if (!sup_source_is(job, path)) {
		serr_set(err, SERR_CONFLICT, "name",
		    "job %s already exists (source %s)", job->name,
		    job->source);
		return (-1);
	}
	*jobp = job;
	/* The file's text against the one the spec came from; once after
	 * start-up, the spec's text made again. */
	if (job->file_digest == 0) {
		if ((j = jobspec_to_json(&job->spec)) != NULL)
			canon = json_out_text(j, 1);
		json_decref(j);
		same = canon != NULL && strcmp(canon, text) == 0;
		free(canon);
		if (same)
			job->file_digest = digest;
	} else
		same = job->file_digest == digest;
	if (same)
		return (SUP_RELOAD_UNCHANGED);
	if (sup_res_check(sup, spec, err) == -1 ||
	    sup_check_after(sup, job->name, spec, err) == -1 ||
	    sup_update_spec(sup, job, spec, text, path, err) == -1)
		return (-1);
	return (SUP_RELOAD_CHANGED);
}
