/* SPDX-License-Identifier: ISC */
/*
 * Core types shared by the daemon's modules: the daemon state (struct
 * schedd), a job and its runs, and the state enum. Nothing else lives here.
 */
#ifndef SCHEDD_SCHEDD_H
#define SCHEDD_SCHEDD_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include "daemon/clock.h"
#include "daemon/htab.h"
#include "daemon/loop.h"
#include "proto/cpulist.h"
#include "proto/jobspec.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                     \
	for ((var) = TAILQ_FIRST(head);                                 \
	     (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);     \
	     (var) = (tvar))
#endif

#define SCHEDD_VERSION PACKAGE_VERSION

struct event_base;
struct evhttp;
struct store;
struct supervisor;
struct api;
struct config;

enum job_state {
	JOB_CREATED = 0,	/* never started */
	JOB_QUEUED,		/* waiting for exclusive CPUs */
	JOB_STARTING,		/* being spawned (transient) */
	JOB_RUNNING,		/* main process alive */
	JOB_PAUSED,		/* tree frozen */
	JOB_STOPPING,		/* stop signal sent, waiting for the exit */
	JOB_BACKOFF,		/* waiting to restart */
	JOB_EXITED,		/* ended by itself */
	JOB_STOPPED,		/* ended on request */
	JOB_FAILED,		/* could not start, or gave up restarting */
	JOB_NSTATES
};

#define RUN_ERROR_MAX 256

/*
 * One run of a job: a spawn attempt and, if it started, its process. The
 * job's own (job->run) owns its strings; a run handed to a callback lends
 * them.
 */
struct run {
	int64_t		 id;		/* runs.id; 0: no run yet */
	int64_t		 number;	/* 1, 2, ... within the job */
	pid_t		 pid;		/* main process; 0: never started */
	uint64_t	 pid_start;	/* its /proc starttime (clock ticks) */
	int64_t		 started_ms;
	int64_t		 exited_ms;	/* 0: not ended */
	int		 exit_code;	/* -1: none */
	int		 signal;	/* 0: none */
	int		 core_dumped;
	int		 oom_killed;
	char		*error;		/* job_text (job.h): NULL none */
	int64_t		 user_cpu_ms;	/* -1: unknown */
	int64_t		 system_cpu_ms;
	int64_t		 max_rss_kb;
	int64_t		 output_dropped; /* output bytes that could not be stored */
	char		*cpus;		/* the CPUs it was given, as a
					   canonical list; NULL: unknown */
};

struct job_watch;
TAILQ_HEAD(job_watches, job_watch);

/* A process, as identified everywhere: pid and /proc start time. */
struct proc_id {
	pid_t		 pid;
	uint64_t	 start;
};

struct job_usage;
struct joblog;

struct job {
	int64_t		 id;
	/* Its spec's name (spec.name), owned by the spec: never NULL, ""
	 * until set. The indexes borrow it (htab by_name). */
	const char	*name;
	const char	*source;	/* "api" or "file:/path": job_source_dup */
	struct job_spec	 spec;
	/* The API's cache: spec's members as the full view sends them, kept
	 * for the SUP_SPEC_TEXTS jobs last answered about (spec_lru; see
	 * supervisor_spec_text); whoever changes spec drops it. */
	char		*spec_text;
	size_t		 spec_text_len;
	TAILQ_ENTRY(job) spec_lru; /* while spec_text is set */
	/* A job file's: htab_hash_str of the text (jobfile canonical) its
	 * spec was made from, for a reload to tell an unchanged file
	 * without making the spec's text again; 0: not known yet. */
	uint64_t	 file_digest;
	int64_t		 restarts;
	int64_t		 created_ms;
	int64_t		 updated_ms;
	struct run	 run;		/* the last run */
	char		*reason;	/* why this state; job_text: NULL none */
	int64_t		 next_start_ms;	/* backoff: when; 0: none */
	const struct cpulist *cpuset;	/* CPUs of the current run, shared
					   (sup_cpuset_set); never NULL */
	/* The ints are in pairs: every running job has a struct job, and
	 * holes in it add up. */
	enum job_state	 state;
	int		 retries;	/* consecutive automatic restarts */
	int		 cpuset_valid;	/* cpuset is known */
	int		 has_cgroup;	/* its cgroups exist */
	int		 queued_for_cpus; /* queued: waiting for a grant */
	int		 oom_fd;	/* readable on an OOM kill; -1 */
	pid_t		 notify_mainpid; /* sd_notify MAINPID=; 0 none */
	uid_t		 owner_uid;	/* who created it; 0 for job files */
	struct event	*oom_ev;
	int64_t		 oom_base;	/* oom_kill count at the run's start */
	struct job_usage *usage_end;	/* the ended run's usage, once read */
	char		*status_text;	/* sd_notify STATUS=; job_text */
	const char	*notify_state;	/* "reloading", "stopping" or NULL */
	int64_t		 ready_ms;	/* when the run said it is ready; 0 */
	int64_t		 actor_uid;	/* who last acted on it; -1: nobody */
	int64_t		 acted_ms;	/* when; 0: never */
	struct joblog	*log;		/* its output (joblog.h) */

	/* Supervisor-private from here on. */
	int		 notifying;	/* inside watch callbacks */
	int		 ready_fd;	/* s6 readiness pipe's read end; -1 */
	struct supervisor *sup;		/* owner */
	int		 pidfd;		/* of run.pid while alive; -1 */
	int		 adopted;	/* not our child: watched by pidfd */
	struct proc_id	*stop_procs;	/* what a stop signalled (to see gone) */
	int		 nstop_procs;
	struct sup_stop_todo *stop_todo; /* members a cut round has yet to
					    look at (supervisor-res.c) */
	/* One bit each: they are only ever set to 1 and back to 0. */
	unsigned int	 delete_pending:1; /* remove once stopped */
	unsigned int	 restart_pending:1; /* start again once stopped */
	unsigned int	 draining:1;	/* stopping, main gone, tree not yet */
	unsigned int	 killing:1;	/* the stop timed out: SIGKILL rounds */
	unsigned int	 stop_unrecorded:1; /* stopped at shutdown, unstored */
	unsigned int	 health_killing:1; /* the run failed its check: killing */
	unsigned int	 ready_recorded:1; /* the run's start is stored */
	unsigned int	 ready_pending:1; /* READY came before that */
	unsigned int	 dependent_runs:1; /* a running job lists it in
					      "after" (shutdown walk) */
	unsigned int	 stop_more:1;	/* members the stop has yet to signal
					   (sup->stop_more) */
	unsigned int	 stop_calls:8;	/* turns of it so far */
	int		 poll_mode;	/* what poll_ev waits for (SUP_POLL_*) */
	int		 poll_ms;	/* its next interval */
	int		 poll_tries;
	int		 scan_out;	/* a scan of them is under way */
	struct htab	 seen;		/* members the tracker has recorded */
	int64_t		 scan_run;	/* the run they belong to */
	struct event	*timer;		/* stop timeout or backoff */
	struct event	*tree_timer;	/* SIGKILL what outlived the run */
	struct event	*pidfd_ev;	/* main process exit (pidfd readable) */
	struct event	*poll_ev;	/* drain or exit status, re-checked */
	struct event	*ready_ev;
	struct event	*health_timer;	/* ready timeout, watchdog, kill */
	char		*health_why;	/* for ACT_FAIL: why it failed; job_text */
	const char	*fail_type;	/* its event: "not_ready", "watchdog", ... */
	struct sup_health *health;	/* health checks, when the spec has */
	int64_t		 sched_next_ms;	/* a schedule's next tick; 0: none */
	int64_t		 sched_skipped;	/* ticks skipped */
	struct event	*sched_timer;
	struct event	*unwaited_ev;	/* stop.unwaited_ms: none for so long */
	int		 nwaits;	/* GET .../wait requests open */
	int		 on_queue;	/* linked by qentry */
	struct job_watches watches;
	TAILQ_ENTRY(job) entry;
	TAILQ_ENTRY(job) qentry;	/* on the supervisor's queued list */
};
TAILQ_HEAD(job_list, job);

/*
 * An event as stored and streamed (GET /v1/events). Strings are lent:
 * valid until the callback that is given the record returns.
 */
struct event_rec {
	int64_t		 id;
	int64_t		 time_ms;
	int64_t		 job_id;	/* 0: not about a job */
	const char	*job;		/* job name or NULL */
	int64_t		 run;		/* run number; 0: none */
	const char	*type;
	const char	*data;		/* JSON object text */
};

/* The daemon: made in main() and handed to each module's init. */
struct schedd {
	struct event_base *base;
	struct config	*conf;
	struct store	*store;
	struct supervisor *sup;
	struct api	*api;
	struct reloader	*reloader;	/* job files (reload.h) */
	int64_t		 started_ms;	/* for uptime */
	int		 shutting_down;
};

#endif
