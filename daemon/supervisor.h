/* SPDX-License-Identifier: ISC */
/*
 * The supervisor owns every job and its state machine. Each change goes
 * through one function that writes the new state and its event in one
 * transaction, then announces it (event sink, watches). Actions come from
 * the transition table in job.c; a forbidden pair answers SERR_CONFLICT.
 * Below it: spawn, reaper, store, joblog. Above it: api.
 */
#ifndef SCHEDD_SUPERVISOR_H
#define SCHEDD_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/errors.h"

struct schedd;
struct job;
struct job_list;
struct job_spec;
struct job_watch;
struct run;
struct store_event;

/* Why a stop was asked; recorded in the "stopping" event. */
enum sup_stop_reason {
	SUP_STOP_REQUEST = 0,	/* the API */
	SUP_STOP_RESTART,	/* a restart */
	SUP_STOP_DELETE,	/* a forced delete */
	SUP_STOP_SHUTDOWN,	/* the daemon is shutting down */
};

/*
 * Make the supervisor, load every job from the store and reconcile jobs
 * whose process was running when the daemon last stopped: still alive ones
 * are adopted (watched through a pidfd), vanished ones get their run ended.
 * Returns NULL with err on failure.
 */
struct supervisor *supervisor_new(struct schedd *sd, struct serr *err);
/* Free every job (watches are told the job is gone). Accepts NULL. */
void supervisor_free(struct supervisor *sup);

/* Where events go after they are stored (the API's event streams). */
void supervisor_set_sink(struct supervisor *sup,
    void (*sink)(void *, const struct store_event *), void *arg);

/* Reaper hooks. */
int supervisor_pid_known(void *sup, pid_t pid);

/*
 * Create a job from spec (copied) with the given source ("api" or
 * "file:/path"), store it and, if spec->start, start it. Fails with
 * SERR_CONFLICT for a taken name and SERR_UNSATISFIABLE for what this
 * daemon cannot apply. A job whose spawn fails is still created (state
 * failed). *out is lent.
 */
int supervisor_job_create(struct supervisor *sup, const struct job_spec *spec,
    const char *source, struct job **out, struct serr *err);

/* By name, or by id when ref is all digits. NULL if none. Lent. */
struct job *supervisor_job_find(struct supervisor *sup, const char *ref);
/* All jobs by id. Lent. */
const struct job_list *supervisor_jobs(struct supervisor *sup);
size_t supervisor_job_count(struct supervisor *sup);

/* Start a new run now (synchronous spawn: running or failed after). */
int supervisor_job_start(struct supervisor *sup, struct job *job,
    struct serr *err);
/* Begin a stop. Completion is seen through a watch (state not active). */
int supervisor_job_stop(struct supervisor *sup, struct job *job,
    struct serr *err);
/* Stop if active, then start. Completion: a watch sees the new run. */
int supervisor_job_restart(struct supervisor *sup, struct job *job,
    struct serr *err);
/* Send sig to every process of the job. */
int supervisor_job_kill(struct supervisor *sup, struct job *job, int sig,
    struct serr *err);
/*
 * Delete a job that is not active. With force, an active job is stopped
 * first and removed once stopped: returns 1 (pending; a watch sees gone).
 * Returns 0 when removed now (job is freed: do not touch it), -1 on error.
 */
int supervisor_job_delete(struct supervisor *sup, struct job *job, int force,
    struct serr *err);
int supervisor_job_pause(struct supervisor *sup, struct job *job,
    struct serr *err);
int supervisor_job_resume(struct supervisor *sup, struct job *job,
    struct serr *err);

/*
 * Watch a job: cb runs after each state change and once with gone=1 when
 * the job is removed or the supervisor freed (then the watch is freed
 * after cb returns). cb may unwatch itself. Returns the watch.
 */
struct job_watch *supervisor_watch(struct job *job,
    void (*cb)(struct job *, int gone, void *), void *arg);
void supervisor_unwatch(struct job *job, struct job_watch *w);

/* Past runs, newest first (pass-through to the store). */
int supervisor_runs(struct supervisor *sup, const struct job *job, int limit,
    int (*cb)(void *, const struct run *), void *arg, struct serr *err);
/* Stored events after since (pass-through to the store). */
int supervisor_events_since(struct supervisor *sup, int64_t since, int limit,
    int (*cb)(void *, const struct store_event *), void *arg,
    struct serr *err);
int supervisor_event_bounds(struct supervisor *sup, int64_t *oldest,
    int64_t *last, struct serr *err);

enum sup_reload_what {
	SUP_RELOAD_ADDED = 0,	/* a new file made a job */
	SUP_RELOAD_CHANGED,	/* a changed file updated its job's spec */
	SUP_RELOAD_UNCHANGED,	/* same spec as before */
	SUP_RELOAD_REMOVED,	/* the file is gone: its job is stopped, removed */
	SUP_RELOAD_ERROR,	/* a bad file; its job (if any) is untouched */
};

/*
 * Re-read the job files in dir: new files create jobs (source
 * "file:PATH"), changed ones update the spec (applied at the next start),
 * removed ones stop and delete their jobs; jobs created through the API are
 * never touched. With boot, file jobs whose spec says start and that are
 * not active are started too (start-up). report is called once per file or
 * removed job; path may be NULL, err is NULL unless SUP_RELOAD_ERROR.
 * Returns 0, or -1 if the directory cannot be read.
 */
int supervisor_reload(struct supervisor *sup, const char *dir, int boot,
    void (*report)(void *, enum sup_reload_what, const char *name,
    const char *path, const struct serr *err), void *arg, struct serr *err);

/*
 * Stop every active job (stop signal, SIGKILL after its timeout), each only
 * once no running job lists it in "after" (reverse start order), and call
 * done once none is left running. Later creates and starts are refused.
 */
void supervisor_shutdown(struct supervisor *sup, void (*done)(void *),
    void *arg);

#endif
