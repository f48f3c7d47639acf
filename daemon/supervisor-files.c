/* SPDX-License-Identifier: ISC */
/*
 * Start order and job files: the "after" graph (unknown names and cycles
 * refused up front, queued jobs started once their dependencies run, the
 * reverse order at shutdown) and reloading the job-file directory. Jobs
 * created through the API are never touched by a reload.
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
#include "daemon/jobfiles.h"
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

/* Reload */

#define FILE_PREFIX "file:"

static int
sup_source_is(const struct job *job, const char *path)
{
	return (strncmp(job->source, FILE_PREFIX, 5) == 0 &&
		strcmp(job->source + 5, path) == 0);
}

/* Replace job's spec with a changed file's; applied at the next start. */
static int
sup_update_spec(struct supervisor *sup, struct job *job,
    const struct jobfile *f, struct serr *err)
{
	struct job_spec spec;
	struct event_rec ev;
	char *etext = NULL;

	jobspec_init(&spec);
	if (jobspec_copy(&spec, &f->spec) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "out of memory");
		return (-1);
	}
	if (store_begin(sup->st, err) == -1)
		goto fail;
	if (store_job_update_spec(sup->st, job->id, f->canonical, job->source,
		now_ms(), err) == -1 ||
	    sup_event_write(sup, &ev, job, 0, "updated",
		json_pack("{s:s}", "path", f->path), &etext, err) == -1 ||
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
	job->file_digest = htab_hash_str(f->canonical);
	job->updated_ms = now_ms();
	/* A placement added to a running job is checked from now on. */
	sup_drift_placed(sup, job);
	/* A changed schedule counts from now. */
	job->sched_next_ms = 0;
	sup_sched_job(sup, job, 0);
	log_info("%s: spec updated from %s (applies at the next start)",
	    job->name, f->path);
	sup_event_announce(sup, &ev);
	free(etext);
	return (0);
fail:
	jobspec_free(&spec);
	return (-1);
}

static int
sup_file_path_cmp(const void *key, const void *elem)
{
	return (strcmp(key, ((const struct jobfile *)elem)->path));
}

/* Whether job's source is one of files, which jobfiles_scan sorted by name:
 * their paths, one directory and a name each, sort the same way. */
static int
sup_file_wanted(const struct jobfile *files, int n, const struct job *job)
{
	if (n == 0 || strncmp(job->source, FILE_PREFIX, 5) != 0)
		return (0);
	return (bsearch(job->source + 5, files, (size_t)n, sizeof(*files),
		    sup_file_path_cmp) != NULL);
}

/* Make what the n files read say (jobfiles_scan's). */
static void
sup_reload_apply(struct supervisor *sup, struct jobfile *files, int n, int boot,
    void (*report)(void *, enum sup_reload_what, const char *, const char *,
	const struct serr *),
    void *arg)
{
	struct job *job, *tj;
	struct serr ferr;
	char source[PATH_MAX + 8], *canon;
	uint64_t digest;
	json_t *j;
	int i, progress, same, *done;

	done = xcalloc((size_t)n + 1, sizeof(*done));

	/* Jobs whose file is gone (files that are bad keep their job). */
	TAILQ_FOREACH_SAFE (job, &sup->jobs, entry, tj) {
		char name[JOBSPEC_NAME_MAX + 1];

		if (strncmp(job->source, FILE_PREFIX, 5) != 0 ||
		    sup_file_wanted(files, n, job) || job->delete_pending)
			continue;
		util_strlcpy(name, job->name, sizeof(name));
		serr_clear(&ferr);
		if (supervisor_job_delete(sup, job, 1, &ferr) == -1)
			report(arg, SUP_RELOAD_ERROR, name, NULL, &ferr);
		else
			report(arg, SUP_RELOAD_REMOVED, name, NULL, NULL);
	}

	/* Bad files, name clashes, unchanged and changed specs. */
	for (i = 0; i < n; i++) {
		struct jobfile *f = &files[i];

		if (!f->ok) {
			report(arg, SUP_RELOAD_ERROR, NULL, f->path, &f->err);
			done[i] = 1;
			continue;
		}
		if ((job = sup_find_name(sup, f->spec.name)) == NULL)
			continue;
		done[i] = 1;
		if (!sup_source_is(job, f->path)) {
			serr_set(&ferr, SERR_CONFLICT, "name",
			    "job %s already exists (source %s)", job->name,
			    job->source);
			report(
			    arg, SUP_RELOAD_ERROR, job->name, f->path, &ferr);
			continue;
		}
		/* The file's text against the one the spec came from; once
		 * after start-up, the spec's text made again. */
		digest = htab_hash_str(f->canonical);
		canon = NULL;
		if (job->file_digest == 0) {
			if ((j = jobspec_to_json(&job->spec)) != NULL)
				canon = json_out_text(j, 1);
			json_decref(j);
			same =
			    canon != NULL && strcmp(canon, f->canonical) == 0;
			if (same)
				job->file_digest = digest;
		} else
			same = job->file_digest == digest;
		serr_clear(&ferr);
		if (same) {
			report(arg, SUP_RELOAD_UNCHANGED, job->name, f->path,
			    NULL);
		} else if (sup_res_check(sup, &f->spec, &ferr) == -1 ||
			   sup_check_after(sup, job->name, &f->spec, &ferr) ==
			       -1 ||
			   sup_update_spec(sup, job, f, &ferr) == -1) {
			report(
			    arg, SUP_RELOAD_ERROR, job->name, f->path, &ferr);
		} else
			report(
			    arg, SUP_RELOAD_CHANGED, job->name, f->path, NULL);
		free(canon);
		if (boot && job->spec.start && job->spec.schedule == NULL &&
		    !job_state_active(job->state) && !sup->shutting_down) {
			job->retries = 0;
			serr_clear(&ferr);
			if (sup_dispatch(sup, job, JEV_START, NULL, &ferr) ==
			    -1)
				report(arg, SUP_RELOAD_ERROR, job->name,
				    f->path, &ferr);
		}
	}

	/* New files, dependencies first: a pass creates every file whose
	 * "after" names exist; what is left after a pass without progress
	 * names unknown jobs or a cycle. */
	do {
		progress = 0;
		for (i = 0; i < n; i++) {
			struct job_spec *spec = &files[i].spec;
			size_t k;
			int ready = 1;

			if (done[i])
				continue;
			for (k = 0; k < spec->nafter; k++)
				if (sup_find_name(sup, spec->after[k]) == NULL)
					ready = 0;
			if (!ready)
				continue;
			done[i] = 1;
			progress = 1;
			snprintf(source, sizeof(source), FILE_PREFIX "%s",
			    files[i].path);
			serr_clear(&ferr);
			if (supervisor_job_create(
				sup, spec, source, &job, &ferr) == -1)
				report(arg, SUP_RELOAD_ERROR, spec->name,
				    files[i].path, &ferr);
			else {
				job->file_digest =
				    htab_hash_str(files[i].canonical);
				report(arg, SUP_RELOAD_ADDED, job->name,
				    files[i].path, NULL);
			}
		}
	} while (progress);
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		serr_set(&ferr, SERR_UNSATISFIABLE, "after",
		    "unknown job in \"after\", or a cycle among job files");
		report(arg, SUP_RELOAD_ERROR, files[i].spec.name, files[i].path,
		    &ferr);
	}
	free(done);
}

int
supervisor_reload(struct supervisor *sup, const char *dir, int boot,
    void (*report)(void *, enum sup_reload_what, const char *, const char *,
	const struct serr *),
    void *arg, struct serr *err)
{
	struct jobfile *files;
	int n;

	if ((n = jobfiles_scan(dir, &files, err)) < 0)
		return (-1);
	sup_reload_apply(sup, files, n, boot, report, arg);
	jobfiles_free(files, n);
	return (0);
}

/* A reload asked for (supervisor_reload_start). */
struct sup_reload {
	void (*report)(void *, enum sup_reload_what, const char *, const char *,
	    const struct serr *);
	void (*done)(void *, const struct serr *);
	void *arg; /* done and report NULL: cancelled */
	TAILQ_ENTRY(sup_reload) entry;
};

/* Tell every reload the read served what it made. */
static void
sup_reload_fanout(void *arg, enum sup_reload_what what, const char *name,
    const char *path, const struct serr *err)
{
	struct supervisor *sup = arg;
	struct sup_reload *r;

	TAILQ_FOREACH (r, &sup->reloads_read, entry)
		if (r->report != NULL)
			r->report(r->arg, what, name, path, err);
}

/* End every reload the read served: done(err), and free them. */
static void
sup_reload_end(struct supervisor *sup, const struct serr *err)
{
	struct sup_reload *r;

	while ((r = TAILQ_FIRST(&sup->reloads_read)) != NULL) {
		TAILQ_REMOVE(&sup->reloads_read, r, entry);
		if (r->done != NULL)
			r->done(r->arg, err);
		free(r);
	}
}

static int sup_reload_next(struct supervisor *sup, struct serr *err);

static void
sup_reload_read(void *arg, struct jobfile *files, int n, const struct serr *err)
{
	struct supervisor *sup = arg;
	struct serr e;

	sup->reload_scan = NULL;
	if (n >= 0 && sup->shutting_down) {
		serr_set(&e, SERR_UNAVAILABLE, NULL, "shutting down");
		err = &e;
	} else if (n >= 0) {
		sup_reload_apply(sup, files, n, 0, sup_reload_fanout, sup);
		err = NULL;
	}
	if (n >= 0)
		jobfiles_free(files, n);
	sup_reload_end(sup, err);
	if (sup_reload_next(sup, &e) == -1)
		sup_reload_end(sup, &e);
}

/*
 * Read the files for every reload waiting, if any, and none is read now.
 * -1 with err if the read cannot start: those reloads are left in
 * reloads_read, for the caller to end.
 */
static int
sup_reload_next(struct supervisor *sup, struct serr *err)
{
	if (sup->reload_scan != NULL || TAILQ_EMPTY(&sup->reloads_wait))
		return (0);
	TAILQ_CONCAT(&sup->reloads_read, &sup->reloads_wait, entry);
	if ((sup->reload_scan = jobfiles_scan_async(sup->sd->base,
		 sup->reload_dir, sup_reload_read, sup, err)) == NULL)
		return (-1);
	return (0);
}

struct sup_reload *
supervisor_reload_start(struct supervisor *sup, const char *dir,
    void (*report)(void *, enum sup_reload_what, const char *, const char *,
	const struct serr *),
    void (*done)(void *, const struct serr *), void *arg, struct serr *err)
{
	struct sup_reload *r;

	if (sup->shutting_down) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "shutting down");
		return (NULL);
	}
	if (util_strlcpy(sup->reload_dir, dir, sizeof(sup->reload_dir)) >=
	    sizeof(sup->reload_dir)) {
		serr_set(
		    err, SERR_INVALID, "jobs_dir", "%s: path too long", dir);
		return (NULL);
	}
	r = xcalloc(1, sizeof(*r));
	r->report = report;
	r->done = done;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&sup->reloads_wait, r, entry);
	if (sup_reload_next(sup, err) == -1) {
		/* Nothing else waited: a read was not in flight. */
		TAILQ_REMOVE(&sup->reloads_read, r, entry);
		free(r);
		return (NULL);
	}
	return (r);
}

void
supervisor_reload_cancel(struct supervisor *sup, struct sup_reload *r)
{
	struct sup_reload *w;

	TAILQ_FOREACH (w, &sup->reloads_wait, entry) {
		if (w == r) {
			TAILQ_REMOVE(&sup->reloads_wait, r, entry);
			free(r);
			return;
		}
	}
	/* Being read: ended with the others, unheard. */
	r->report = NULL;
	r->done = NULL;
}

/* At the end: wait for a read still going, drop every reload unheard. */
void
sup_reload_free(struct supervisor *sup)
{
	struct sup_reload *r;

	jobfiles_async_abandon(sup->reload_scan);
	sup->reload_scan = NULL;
	TAILQ_CONCAT(&sup->reloads_read, &sup->reloads_wait, entry);
	while ((r = TAILQ_FIRST(&sup->reloads_read)) != NULL) {
		TAILQ_REMOVE(&sup->reloads_read, r, entry);
		free(r);
	}
}
