/* SPDX-License-Identifier: ISC */
/*
 * The job state machine as data: state and event names, and one table
 * transitions[state][event] -> action. A pair with no action is forbidden,
 * which the supervisor answers with 409 conflict by construction (s6).
 * Pure: the actions themselves live in the supervisor. Beside it, the
 * helpers that own a job's optional texts.
 */
#ifndef SCHEDD_JOB_H
#define SCHEDD_JOB_H

#include "daemon/schedd.h"

/*
 * Every event that can change a job. The first group comes from requests
 * (the API, job files, shutdown); the second from the kernel and from the
 * supervisor's own timers and queue. The supervisor dispatches each through
 * the table below and nothing else; an empty cell is 409 for a request and
 * nothing to do for the rest.
 */
enum job_event {
	JEV_START = 0,	/* start asked (API, create, job files) */
	JEV_RESTART,	/* stop if active, then start */
	JEV_STOP,	/* stop asked */
	JEV_KILL,	/* signal every process */
	JEV_DELETE,	/* remove the job */
	JEV_PAUSE,	/* freeze */
	JEV_RESUME,	/* thaw */
	JEV_EXIT,	/* main process ended (its facts are on job->run) */
	JEV_STARTED,	/* a spawn's outcome, to be recorded */
	JEV_DRAINED,	/* nothing of a stopping run is left */
	JEV_TIMEOUT,	/* stop timeout expired */
	JEV_RETRY,	/* backoff timer expired */
	JEV_QUEUE,	/* the queue's kick: may it start now? */
	JEV_POLICY,	/* apply the restart policy to the ended run */
	JEV_RECONCILE,	/* start-up: a stored job meets the world */
	JEV_READY,	/* the run said it is ready (sd_notify, s6 fd) */
	JEV_UNHEALTHY,	/* not ready in time, or the watchdog starved */
	JEV_TICK,	/* the job's schedule says: start now */
	JEV_NEVENTS
};

enum job_action {
	ACT_FORBIDDEN = 0, /* not allowed in this state: 409 */
	ACT_SPAWN,	/* start a new run (or queue) */
	ACT_RETRY,	/* an automatic restart: count it, then spawn */
	ACT_RESTART,	/* stop, and start again once stopped */
	ACT_STOP,	/* send the stop signal, arm the timeout */
	ACT_STOP_IDLE,	/* nothing runs: go to stopped (cancel backoff/queue) */
	ACT_JOIN,	/* already on the way: just wait */
	ACT_JOIN_RESTART, /* already stopping: start again once stopped */
	ACT_SIGNAL,	/* signal the job's processes */
	ACT_KILL_TREE,	/* SIGKILL everything left */
	ACT_EXITED,	/* record the end of a run that ended by itself */
	ACT_STOP_EXIT,	/* the main process of a stopping run ended */
	ACT_STOPPED,	/* record the end of a run that we stopped */
	ACT_RECORD,	/* record a spawn: running, or failed */
	ACT_POLICY,	/* back off, give up, or rest */
	ACT_REMOVE,	/* delete the job */
	ACT_FREEZE,	/* pause */
	ACT_THAW,	/* resume */
	ACT_ADOPT,	/* start-up: watch a live run, or end a lost one */
	ACT_REARM,	/* start-up: the backoff timer again */
	ACT_REQUEUE,	/* start-up: still queued, in order */
	ACT_BEGIN,	/* start-up: a created job whose start a crash cut off */
	ACT_READY,	/* starting -> running */
	ACT_FAIL,	/* record why, signal the run, SIGKILL after the grace */
	ACT_TICK,	/* a scheduled start: the next tick, then start */
	ACT_SKIP,	/* a tick while a run is active: counted, skipped */
	ACT_NACTIONS
};

/* The action for event in state (ACT_FORBIDDEN if not allowed). */
enum job_action job_transition(enum job_state state, enum job_event ev);

/* "running" etc.; "unknown" out of range. */
const char *job_state_name(enum job_state state);
/* The state for a name, or -1. */
int job_state_parse(const char *name);
/* "start" etc.; "unknown" out of range. */
const char *job_event_name(enum job_event ev);
/* 1 for states with a live (or starting) process or a pending start. */
int job_state_active(enum job_state state);

/*
 * A job's texts that are empty for most jobs (reason, run.error,
 * status_text, health_why) live on the heap only while set, so an empty
 * one costs a pointer: NULL is "", and a set one is never "". Setting
 * copies at most JOB_TEXT_MAX - 1 bytes of s (what the fixed buffers held
 * before), frees the old text, and clears on NULL or ""; s may be the
 * old text itself. job_text_clear frees; job_text reads, "" for none.
 */
#define JOB_TEXT_MAX 256
void job_text_set(char **text, const char *s);
void job_text_setf(char **text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void job_text_clear(char **text);
const char *job_text(const char *text);

/*
 * A job's source: "api" for nearly every job, which all share one static
 * copy; any other ("file:/path") is the job's own. job_source_dup never
 * fails (xmalloc); job_source_free frees what it made.
 */
const char *job_source_dup(const char *source);
void job_source_free(const char *source);

#endif
