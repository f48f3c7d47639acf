/* SPDX-License-Identifier: ISC */
/*
 * The job state machine as data: state and event names, and one table
 * transitions[state][event] -> action. A pair with no action is forbidden,
 * which the supervisor answers with 409 conflict by construction (s6).
 * Pure: the actions themselves live in the supervisor.
 */
#ifndef SCHEDD_JOB_H
#define SCHEDD_JOB_H

#include "daemon/schedd.h"

enum job_event {
	JEV_START = 0,	/* start asked (API, create, reload) */
	JEV_STOP,	/* stop asked */
	JEV_KILL,	/* signal every process */
	JEV_DELETE,	/* remove the job */
	JEV_EXIT,	/* main process ended */
	JEV_TIMEOUT,	/* stop timeout expired */
	JEV_RETRY,	/* backoff timer expired */
	JEV_PAUSE,	/* freeze */
	JEV_RESUME,	/* thaw */
	JEV_NEVENTS
};

enum job_action {
	ACT_FORBIDDEN = 0, /* not allowed in this state: 409 */
	ACT_SPAWN,	/* start a new run */
	ACT_STOP,	/* send the stop signal, arm the timeout */
	ACT_STOP_IDLE,	/* nothing runs: go to stopped (cancel backoff/queue) */
	ACT_JOIN,	/* already on the way: just wait */
	ACT_SIGNAL,	/* signal the job's processes */
	ACT_KILL_TREE,	/* SIGKILL everything left */
	ACT_EXITED,	/* record the end of a run that ended by itself */
	ACT_STOPPED,	/* record the end of a run that we stopped */
	ACT_REMOVE,	/* delete the job */
	ACT_FREEZE,	/* pause */
	ACT_THAW,	/* resume */
};

/* The action for event in state (ACT_FORBIDDEN if not allowed). */
enum job_action job_transition(enum job_state state, enum job_event ev);

/* "running" etc.; "unknown" out of range. */
const char *job_state_name(enum job_state state);
/* The state for a name, or -1. */
int job_state_parse(const char *name);
/* "start" etc. */
const char *job_event_name(enum job_event ev);
/* 1 for states with a live (or starting) process or a pending start. */
int job_state_active(enum job_state state);

#endif
