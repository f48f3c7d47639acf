/* SPDX-License-Identifier: ISC */
/*
 * Reloading the job files, above the supervisor: jobfiles.c reads and
 * checks the files, and each is made into its job through the
 * supervisor's public calls. Start-up reads in the caller; SIGHUP and
 * POST /v1/reload read off the loop, and the changes are made in one
 * callback once the files are in.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/schedd.h"
#include "daemon/jobfiles.h"
#include "daemon/reload.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

/* A reload asked for (reload_start). */
struct reload_req {
	reload_report_fn *report;
	void (*done)(void *, const struct serr *);
	void *arg; /* done and report NULL: cancelled */
	TAILQ_ENTRY(reload_req) entry;
};
TAILQ_HEAD(reload_reqs, reload_req);

struct reloader {
	struct schedd *sd;
	/* Reloads waiting for the next read, and those served by the read
	 * of dir in flight (scan). */
	struct reload_reqs wait, read;
	struct jobfiles_async *scan;
	char dir[PATH_MAX];
};

struct reloader *
reload_new(struct schedd *sd)
{
	struct reloader *rl = xcalloc(1, sizeof(*rl));

	rl->sd = sd;
	TAILQ_INIT(&rl->wait);
	TAILQ_INIT(&rl->read);
	return (rl);
}

static int
file_path_cmp(const void *key, const void *elem)
{
	return (strcmp(key, ((const struct jobfile *)elem)->path));
}

/* Whether file (a job's) is one of files, which jobfiles_scan sorted by
 * name: their paths, one directory and a name each, sort the same way. */
static int
file_wanted(const struct jobfile *files, int n, const char *file)
{
	return (n > 0 && bsearch(file, files, (size_t)n, sizeof(*files),
			     file_path_cmp) != NULL);
}

/* Stop and delete the jobs whose file is gone (a bad file keeps its job). */
static void
reload_removed(struct supervisor *sup, const struct jobfile *files, int n,
    reload_report_fn *report, void *arg)
{
	struct job *job, *next;
	const char *file;
	struct serr e;
	char name[JOBSPEC_NAME_MAX + 1];

	/* A delete may take the job off the list, never another. */
	TAILQ_FOREACH_SAFE (job, supervisor_jobs(sup), entry, next) {
		if ((file = supervisor_job_file(job)) == NULL ||
		    supervisor_job_leaving(job) || file_wanted(files, n, file))
			continue;
		util_strlcpy(name, job->name, sizeof(name));
		serr_clear(&e);
		if (supervisor_job_delete(sup, job, 1, &e) == -1)
			report(arg, SUP_RELOAD_ERROR, name, NULL, &e);
		else
			report(arg, SUP_RELOAD_REMOVED, name, NULL, NULL);
	}
}

/* Make what the n files read say (jobfiles_scan's). */
static void
reload_apply(struct reloader *rl, struct jobfile *files, int n, int boot,
    reload_report_fn *report, void *arg)
{
	struct supervisor *sup = rl->sd->sup;
	struct job *job;
	struct serr e;
	int i, progress, what, *done;

	reload_removed(sup, files, n, report, arg);
	done = xcalloc((size_t)n + 1, sizeof(*done));

	/* Bad files, and the files of jobs that exist. */
	for (i = 0; i < n; i++) {
		struct jobfile *f = &files[i];

		if (!f->ok) {
			report(arg, SUP_RELOAD_ERROR, NULL, f->path, &f->err);
			done[i] = 1;
			continue;
		}
		if (supervisor_job_find(sup, f->spec.name) == NULL)
			continue;
		done[i] = 1;
		serr_clear(&e);
		what = supervisor_job_from_file(
		    sup, &f->spec, f->canonical, f->path, &job, &e);
		if (what == -1)
			report(
			    arg, SUP_RELOAD_ERROR, f->spec.name, f->path, &e);
		else
			report(arg, (enum sup_reload_what)what, f->spec.name,
			    f->path, NULL);
		/* Start-up starts what a file says should run, changed or
		 * not, even when its change was refused. */
		serr_clear(&e);
		if (boot && job != NULL &&
		    supervisor_job_boot(sup, job, &e) == -1)
			report(arg, SUP_RELOAD_ERROR, job->name, f->path, &e);
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
				if (supervisor_job_find(sup, spec->after[k]) ==
				    NULL)
					ready = 0;
			if (!ready)
				continue;
			done[i] = 1;
			progress = 1;
			serr_clear(&e);
			if (supervisor_job_from_file(sup, spec,
				files[i].canonical, files[i].path, &job,
				&e) == -1)
				report(arg, SUP_RELOAD_ERROR, spec->name,
				    files[i].path, &e);
			else
				report(arg, SUP_RELOAD_ADDED, job->name,
				    files[i].path, NULL);
		}
	} while (progress);
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		serr_set(&e, SERR_UNSATISFIABLE, "after",
		    "unknown job in \"after\", or a cycle among job files");
		report(arg, SUP_RELOAD_ERROR, files[i].spec.name, files[i].path,
		    &e);
	}
	free(done);
}

int
reload_now(struct reloader *rl, const char *dir, int boot,
    reload_report_fn *report, void *arg, struct serr *err)
{
	struct jobfile *files;
	int n;

	if ((n = jobfiles_scan(dir, &files, err)) < 0)
		return (-1);
	reload_apply(rl, files, n, boot, report, arg);
	jobfiles_free(files, n);
	return (0);
}

/* Tell every reload the read served what it made. */
static void
reload_fanout(void *arg, enum sup_reload_what what, const char *name,
    const char *path, const struct serr *err)
{
	struct reloader *rl = arg;
	struct reload_req *r;

	TAILQ_FOREACH (r, &rl->read, entry)
		if (r->report != NULL)
			r->report(r->arg, what, name, path, err);
}

/* End every reload the read served: done(err), and free them. */
static void
reload_end(struct reloader *rl, const struct serr *err)
{
	struct reload_req *r;

	while ((r = TAILQ_FIRST(&rl->read)) != NULL) {
		TAILQ_REMOVE(&rl->read, r, entry);
		if (r->done != NULL)
			r->done(r->arg, err);
		free(r);
	}
}

static int reload_next(struct reloader *rl, struct serr *err);

static void
reload_read(void *arg, struct jobfile *files, int n, const struct serr *err)
{
	struct reloader *rl = arg;
	struct serr e;

	rl->scan = NULL;
	if (n >= 0 && rl->sd->shutting_down) {
		serr_set(&e, SERR_UNAVAILABLE, NULL, "shutting down");
		err = &e;
	} else if (n >= 0) {
		reload_apply(rl, files, n, 0, reload_fanout, rl);
		err = NULL;
	}
	if (n >= 0)
		jobfiles_free(files, n);
	reload_end(rl, err);
	if (reload_next(rl, &e) == -1)
		reload_end(rl, &e);
}

/*
 * Read the files for every reload waiting, if any, and none is read now.
 * -1 with err if the read cannot start: those reloads are left in read,
 * for the caller to end.
 */
static int
reload_next(struct reloader *rl, struct serr *err)
{
	if (rl->scan != NULL || TAILQ_EMPTY(&rl->wait))
		return (0);
	TAILQ_CONCAT(&rl->read, &rl->wait, entry);
	if ((rl->scan = jobfiles_scan_async(
		 rl->sd->base, rl->dir, reload_read, rl, err)) == NULL)
		return (-1);
	return (0);
}

struct reload_req *
reload_start(struct reloader *rl, const char *dir, reload_report_fn *report,
    void (*done)(void *, const struct serr *), void *arg, struct serr *err)
{
	struct reload_req *r;

	if (rl->sd->shutting_down) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "shutting down");
		return (NULL);
	}
	if (util_strlcpy(rl->dir, dir, sizeof(rl->dir)) >= sizeof(rl->dir)) {
		serr_set(
		    err, SERR_INVALID, "jobs_dir", "%s: path too long", dir);
		return (NULL);
	}
	r = xcalloc(1, sizeof(*r));
	r->report = report;
	r->done = done;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&rl->wait, r, entry);
	if (reload_next(rl, err) == -1) {
		/* Nothing else waited: a read was not in flight. */
		TAILQ_REMOVE(&rl->read, r, entry);
		free(r);
		return (NULL);
	}
	return (r);
}

void
reload_cancel(struct reloader *rl, struct reload_req *r)
{
	struct reload_req *w;

	TAILQ_FOREACH (w, &rl->wait, entry) {
		if (w == r) {
			TAILQ_REMOVE(&rl->wait, r, entry);
			free(r);
			return;
		}
	}
	/* Being read: ended with the others, unheard. */
	r->report = NULL;
	r->done = NULL;
}

void
reload_free(struct reloader *rl)
{
	struct reload_req *r;

	if (rl == NULL)
		return;
	jobfiles_async_abandon(rl->scan);
	TAILQ_CONCAT(&rl->read, &rl->wait, entry);
	while ((r = TAILQ_FIRST(&rl->read)) != NULL) {
		TAILQ_REMOVE(&rl->read, r, entry);
		free(r);
	}
	free(rl);
}
