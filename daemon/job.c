/* SPDX-License-Identifier: ISC */
/*
 * The transition table. Reading one row tells everything a state allows;
 * adding a state or an event is adding a row or a column here and an action
 * in the supervisor.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/job.h"
#include "daemon/xmalloc.h"

static const enum job_action job_fsm[JOB_NSTATES][JEV_NEVENTS] = {
	[JOB_CREATED] = {
		[JEV_START] = ACT_SPAWN,
		[JEV_RESTART] = ACT_SPAWN,
		[JEV_DELETE] = ACT_REMOVE,
		[JEV_RECONCILE] = ACT_BEGIN,
		[JEV_TICK] = ACT_TICK,
	},
	[JOB_QUEUED] = {
		[JEV_RESTART] = ACT_SPAWN,
		[JEV_STOP] = ACT_STOP_IDLE,
		[JEV_QUEUE] = ACT_SPAWN,
		[JEV_RECONCILE] = ACT_REQUEUE,
		[JEV_TICK] = ACT_SKIP,
	},
	/* In memory only while a spawn's outcome is stored; stored while a
	 * run with a readiness setting waits to say it is ready. */
	[JOB_STARTING] = {
		[JEV_RESTART] = ACT_RESTART,
		[JEV_STOP] = ACT_STOP,
		[JEV_KILL] = ACT_SIGNAL,
		[JEV_EXIT] = ACT_EXITED,
		[JEV_STARTED] = ACT_RECORD,
		[JEV_RECONCILE] = ACT_ADOPT,
		[JEV_READY] = ACT_READY,
		[JEV_UNHEALTHY] = ACT_FAIL,
		[JEV_TICK] = ACT_SKIP,
	},
	[JOB_RUNNING] = {
		[JEV_RESTART] = ACT_RESTART,
		[JEV_STOP] = ACT_STOP,
		[JEV_KILL] = ACT_SIGNAL,
		[JEV_PAUSE] = ACT_FREEZE,
		[JEV_EXIT] = ACT_EXITED,
		[JEV_RECONCILE] = ACT_ADOPT,
		[JEV_UNHEALTHY] = ACT_FAIL,
		[JEV_TICK] = ACT_SKIP,
	},
	[JOB_PAUSED] = {
		[JEV_RESTART] = ACT_RESTART,
		[JEV_STOP] = ACT_STOP,
		[JEV_KILL] = ACT_SIGNAL,
		[JEV_RESUME] = ACT_THAW,
		[JEV_EXIT] = ACT_EXITED,
		[JEV_RECONCILE] = ACT_ADOPT,
		[JEV_TICK] = ACT_SKIP,
	},
	[JOB_STOPPING] = {
		[JEV_RESTART] = ACT_JOIN_RESTART,
		[JEV_STOP] = ACT_JOIN,
		[JEV_KILL] = ACT_SIGNAL,
		[JEV_EXIT] = ACT_STOP_EXIT,
		[JEV_DRAINED] = ACT_STOPPED,
		[JEV_TIMEOUT] = ACT_KILL_TREE,
		[JEV_RECONCILE] = ACT_ADOPT,
		[JEV_TICK] = ACT_SKIP,
	},
	[JOB_BACKOFF] = {
		[JEV_START] = ACT_SPAWN,
		[JEV_RESTART] = ACT_SPAWN,
		[JEV_STOP] = ACT_STOP_IDLE,
		[JEV_RETRY] = ACT_RETRY,
		[JEV_RECONCILE] = ACT_REARM,
		[JEV_TICK] = ACT_SKIP,
	},
	[JOB_EXITED] = {
		[JEV_START] = ACT_SPAWN,
		[JEV_RESTART] = ACT_SPAWN,
		[JEV_DELETE] = ACT_REMOVE,
		[JEV_POLICY] = ACT_POLICY,
		/* A crash between a run's end and the policy's decision: it
		 * is decided now (an exited job that should rest, rests). */
		[JEV_RECONCILE] = ACT_POLICY,
		[JEV_TICK] = ACT_TICK,
	},
	[JOB_STOPPED] = {
		[JEV_START] = ACT_SPAWN,
		[JEV_RESTART] = ACT_SPAWN,
		[JEV_DELETE] = ACT_REMOVE,
		[JEV_TICK] = ACT_TICK,
	},
	[JOB_FAILED] = {
		[JEV_START] = ACT_SPAWN,
		[JEV_RESTART] = ACT_SPAWN,
		[JEV_DELETE] = ACT_REMOVE,
		[JEV_POLICY] = ACT_POLICY,
		[JEV_TICK] = ACT_TICK,
	},
};

static const char *const job_state_names[JOB_NSTATES] = {
	[JOB_CREATED] = "created",
	[JOB_QUEUED] = "queued",
	[JOB_STARTING] = "starting",
	[JOB_RUNNING] = "running",
	[JOB_PAUSED] = "paused",
	[JOB_STOPPING] = "stopping",
	[JOB_BACKOFF] = "backoff",
	[JOB_EXITED] = "exited",
	[JOB_STOPPED] = "stopped",
	[JOB_FAILED] = "failed",
};

static const char *const job_event_names[JEV_NEVENTS] = {
	[JEV_START] = "start",
	[JEV_RESTART] = "restart",
	[JEV_STOP] = "stop",
	[JEV_KILL] = "kill",
	[JEV_DELETE] = "delete",
	[JEV_PAUSE] = "pause",
	[JEV_RESUME] = "resume",
	[JEV_EXIT] = "exit",
	[JEV_STARTED] = "started",
	[JEV_DRAINED] = "drained",
	[JEV_TIMEOUT] = "timeout",
	[JEV_RETRY] = "retry",
	[JEV_QUEUE] = "queue",
	[JEV_POLICY] = "policy",
	[JEV_RECONCILE] = "reconcile",
	[JEV_READY] = "ready",
	[JEV_UNHEALTHY] = "unhealthy",
	[JEV_TICK] = "tick",
};

enum job_action
job_transition(enum job_state state, enum job_event ev)
{
	if ((unsigned int)state >= JOB_NSTATES ||
	    (unsigned int)ev >= JEV_NEVENTS)
		return (ACT_FORBIDDEN);
	return (job_fsm[state][ev]);
}

const char *
job_state_name(enum job_state state)
{
	if ((unsigned int)state >= JOB_NSTATES)
		return ("unknown");
	return (job_state_names[state]);
}

int
job_state_parse(const char *name)
{
	int i;

	for (i = 0; i < JOB_NSTATES; i++)
		if (strcmp(name, job_state_names[i]) == 0)
			return (i);
	return (-1);
}

const char *
job_event_name(enum job_event ev)
{
	if ((unsigned int)ev >= JEV_NEVENTS)
		return ("unknown");
	return (job_event_names[ev]);
}

int
job_state_active(enum job_state state)
{
	switch (state) {
	case JOB_QUEUED:
	case JOB_STARTING:
	case JOB_RUNNING:
	case JOB_PAUSED:
	case JOB_STOPPING:
	case JOB_BACKOFF:
		return (1);
	default:
		return (0);
	}
}

void
job_text_set(char **text, const char *s)
{
	char *old = *text;
	size_t len;

	if (s == NULL || *s == '\0')
		*text = NULL;
	else {
		/* Copied before the old one goes: s may be it. */
		len = strnlen(s, JOB_TEXT_MAX - 1);
		*text = xmalloc(len + 1);
		memcpy(*text, s, len);
		(*text)[len] = '\0';
	}
	free(old);
}

void
job_text_setf(char **text, const char *fmt, ...)
{
	char buf[JOB_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	job_text_set(text, buf);
}

void
job_text_clear(char **text)
{
	free(*text);
	*text = NULL;
}

const char *
job_text(const char *text)
{
	return (text != NULL ? text : "");
}

static const char job_source_api[] = "api";

const char *
job_source_dup(const char *source)
{
	if (strcmp(source, job_source_api) == 0)
		return (job_source_api);
	return (xstrdup(source));
}

void
job_source_free(const char *source)
{
	if (source != job_source_api)
		free((char *)source);
}
