/* SPDX-License-Identifier: ISC */
/*
 * The supervisor owns every job and its state machine. Each change goes
 * through one function that writes the new state and its event in one
 * transaction, then announces it (event sink, watches). Actions come from
 * the transition table in job.c; a forbidden pair answers SERR_CONFLICT.
 * Requests are refused with SERR_UNAVAILABLE (503) while the store cannot
 * write; nothing is changed or told that is not stored.
 * Below it: spawn, reaper, store, joblog. Above it: api.
 */
#ifndef SCHEDD_SUPERVISOR_H
#define SCHEDD_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/errors.h"

struct schedd;
struct job;
struct job_list;
struct job_spec;
struct job_watch;
struct run;
struct event_rec;

/* Why a stop was asked; recorded in the "stopping" event. */
enum sup_stop_reason {
	SUP_STOP_REQUEST = 0,	/* the API */
	SUP_STOP_RESTART,	/* a restart */
	SUP_STOP_DELETE,	/* a forced delete */
	SUP_STOP_SHUTDOWN,	/* the daemon is shutting down */
	SUP_STOP_UNWAITED,	/* stop.unwaited_ms: no wait watched it */
};

/*
 * Make the supervisor and load every job from the store. Nothing in the
 * world is touched yet: no cgroup, no process. Returns NULL with err.
 */
struct supervisor *supervisor_new(struct schedd *sd, struct serr *err);
/*
 * Go live, once the daemon can answer: cgroups, the reaper, then every
 * stored job meets the world through the transition table. Runs still
 * alive are adopted (watched through a pidfd; their exit status comes from
 * the kernel), runs that ended meanwhile end with an unknown status and
 * the restart policy applies to them, backoff timers and the queue go on
 * where they were. Returns 0, or -1 with err.
 */
int supervisor_start(struct supervisor *sup, struct serr *err);
/* NULL while the store can write; else why it cannot (health says so). */
const char *supervisor_degraded(struct supervisor *sup);
/* Free every job (watches are told the job is gone). Accepts NULL. */
void supervisor_free(struct supervisor *sup);

/* Where events go after they are stored (the API's event streams). */
void supervisor_set_sink(struct supervisor *sup,
    void (*sink)(void *, const struct event_rec *), void *arg);

/* Reaper hooks. */
int supervisor_pid_known(void *sup, pid_t pid);

/*
 * Who asks for what the supervisor does until the next call (set, or
 * cleared with set 0): the API sets it around each request that changes
 * something. A job created meanwhile is owned by uid; each change stored
 * meanwhile records uid as the job's last actor, and each event says
 * "by": {"uid", "pid"} in its data.
 */
void supervisor_act_as(struct supervisor *sup, int set, uid_t uid,
    pid_t pid);

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
/* 0 while a stop or a restart asked of the job is under way. */
int supervisor_job_settled(const struct job *job);
/* 1 once its deletion is under way: it goes when it has stopped. */
int supervisor_job_leaving(const struct job *job);
/* The path of the job file it was made from (source "file:PATH"), or
 * NULL for a job made through the API. */
const char *supervisor_job_file(const struct job *job);
/* All jobs by id. Lent. */
const struct job_list *supervisor_jobs(struct supervisor *sup);
size_t supervisor_job_count(struct supervisor *sup);

/*
 * The text of a job's spec: its members as jobspec_to_json orders them,
 * "name" the job's, without the braces, as the API's full view sends them
 * (len bytes, not NUL-terminated; NULL on out-of-memory). The job's row
 * stores the same text in braces, so a creation makes it once. It is kept
 * for the SUP_SPEC_TEXTS jobs last asked about (the least recently used
 * one dropped), so that the answers one run brings (create, wait, stop)
 * use it whatever the number of jobs and 10,000 jobs do not hold 10 MB of
 * it.
 */
#define SUP_SPEC_TEXTS 1000
const char *supervisor_spec_text(struct job *job, size_t *len);

/* Start a new run now (synchronous spawn: running or failed after). */
int supervisor_job_start(struct supervisor *sup, struct job *job,
    struct serr *err);
/*
 * A GET .../wait began or ended. A job with stop.unwaited_ms is stopped
 * (its stop policy) once its run has had no wait open for that long: its
 * waiter (schedctl run -w, a Slurm step) died without a word.
 */
void supervisor_job_wait_begin(struct supervisor *sup, struct job *job);
void supervisor_job_wait_end(struct supervisor *sup, struct job *job);
/* A run began or was adopted: with no wait open, the clock starts. */
void sup_unwaited_arm(struct supervisor *sup, struct job *job);

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

/*
 * The job's health ("healthy", "unhealthy", "unknown"), when it has a
 * check (else NULL): when the last verdict came (0: none yet), failures
 * in a row, and what the last check said (NULL: none; lent).
 */
const char *sup_health_view(const struct job *job, int64_t *checked_ms,
    int *fails, const char **last);

/* What the supervisor has done since the daemon started (GET /metrics). */
struct sup_counters {
	uint64_t	 spawns;		/* runs whose process started */
	uint64_t	 spawn_failures;	/* runs that could not start */
	uint64_t	 restarts;		/* automatic restarts begun */
	uint64_t	 store_errors;		/* writes the store refused */
};
/* Lent; valid for the supervisor's life. */
const struct sup_counters *supervisor_counters(struct supervisor *sup);

/* A job's resource use now; -1 in a field that cannot be known. */
struct job_usage {
	int64_t		 cpu_ms;		/* user + system, the whole tree */
	int64_t		 memory_current;	/* bytes */
	int64_t		 memory_peak;		/* bytes */
	int64_t		 nprocs;
	int64_t		 oom_kills;
	int64_t		 runq_delay_us;		/* waiting on a run queue */
	/* Summed over the live threads of its live processes (/proc/PID/
	 * task/TID/sched): preempted, and moved to another CPU. */
	int64_t		 involuntary_switches;
	int64_t		 migrations;
	/* The job's cpu cgroup (cpu.stat, cpu.pressure on v2). */
	int64_t		 nr_periods;
	int64_t		 nr_throttled;
	int64_t		 throttled_us;
	int64_t		 cpu_pressure_us;
};
void supervisor_job_usage(struct supervisor *sup, struct job *job,
    struct job_usage *u);

/* One process of a job, live or as recorded. */
struct proc_entry {
	pid_t		 pid;
	pid_t		 ppid;
	char		 state;		/* kernel letter; 0 if not live */
	char		 comm[32];
	char		 cmdline[4096];	/* NUL-separated argv */
	size_t		 cmdline_len;
	const char	*argv_json;	/* recorded argv (JSON), or NULL */
	char		 cpus_allowed[256];
	const char	*policy;	/* "other", "fifo", ...; NULL unknown */
	int		 priority;	/* RT priority */
	int		 nice;
	int64_t		 user_cpu_ms;	/* -1 unknown */
	int64_t		 system_cpu_ms;
	int64_t		 rss_kb;
	int64_t		 started_ms;
	int64_t		 run;		/* recorded: run number */
	int64_t		 exited_ms;	/* recorded: 0 if not seen to end */
	int		 exit_code;
	int		 signal;
};
/*
 * The live processes of the job: its cgroup's members (or the main process
 * without cgroups) and their children that are zombies. /proc is read off
 * the loop (a forking process's command line can take the kernel seconds
 * to give), so the answer comes later: cb runs once, in the loop, with
 * the entries (n >= 0, lent for the call) or n == -1 and err, and never
 * after supervisor_query_cancel(). Returns the query, or NULL with err
 * (SERR_UNAVAILABLE when too many are under way).
 */
struct sup_query;
struct sup_query *supervisor_job_processes(struct supervisor *sup,
    struct job *job,
    void (*cb)(void *, const struct proc_entry *, int n, int truncated,
	const struct serr *),
    void *arg, struct serr *err);
void supervisor_query_cancel(struct supervisor *sup, struct sup_query *q);
/* Every process recorded for the job's runs, newest run first, at most
 * 100000 (*truncated 1 if there were more). */
int supervisor_job_processes_all(struct supervisor *sup, struct job *job,
    int (*cb)(void *, const struct proc_entry *), void *arg, int *truncated,
    struct serr *err);

/*
 * What supervisor_job_create would do with spec now, done to nothing:
 * *out (caller frees) says "would" (run, queue, create, fail or refuse),
 * the state and status a create would answer, every refusal (code,
 * status, field, message; the first is the one a create answers), the
 * CPUs and how they were chosen, the queue position and its reason, RT
 * budget and DEADLINE bandwidth before and after, and the cgroup
 * settings. Returns 0, or -1 with err (SERR_INTERNAL) only when the answer
 * cannot be built: a refusal is a plan, not an error.
 */
int supervisor_plan(struct supervisor *sup, const struct job_spec *spec,
    json_t **out, struct serr *err);

/*
 * The drift check's findings now (caller frees): "intruders" (threads
 * outside the jobs on granted CPUs: pid, tid, comm, kind, cpu, the job
 * holding it, since), "drift" (jobs' own threads off their spec: what,
 * expected, found, since, times restored) and "drift_scan" (period, last
 * scan, its cost). See supervisor-drift.c for what counts.
 */
json_t *supervisor_drift_json(struct supervisor *sup);

/*
 * GET /v1/cpus's view (caller frees): "cpus" (each CPU's state, topology
 * and the job holding it), the "usable" and "shared" pools,
 * "shared_cpus_min", and "queue" (jobs waiting for a grant, in the order
 * they will start). NULL with SERR_UNSATISFIABLE when the topology could
 * not be read.
 */
json_t *supervisor_cpus_json(struct supervisor *sup, struct serr *err);

/* Past runs, newest first (pass-through to the store). */
int supervisor_runs(struct supervisor *sup, const struct job *job, int limit,
    int (*cb)(void *, const struct run *), void *arg, struct serr *err);
/* Stored events after since (pass-through to the store). */
int supervisor_events_since(struct supervisor *sup, int64_t since, int limit,
    int (*cb)(void *, const struct event_rec *), void *arg,
    struct serr *err);
int supervisor_event_bounds(struct supervisor *sup, int64_t *oldest,
    int64_t *last, struct serr *err);

/* What a job file did to its job (reload.c reports these). */
enum sup_reload_what {
	SUP_RELOAD_ADDED = 0,	/* a new file made a job */
	SUP_RELOAD_CHANGED,	/* a changed file updated its job's spec */
	SUP_RELOAD_UNCHANGED,	/* same spec as before */
	SUP_RELOAD_REMOVED,	/* the file is gone: its job is stopped, removed */
	SUP_RELOAD_ERROR,	/* a bad file; its job (if any) is untouched */
};

/*
 * A job file's spec (text: its canonical JSON, path: the file). No job
 * named spec->name: one is created with source "file:PATH"
 * (SUP_RELOAD_ADDED, started as supervisor_job_create does). That job
 * made from the same file: its spec is replaced when the text differs
 * from the one it was made from (SUP_RELOAD_CHANGED; applied at the next
 * start), else SUP_RELOAD_UNCHANGED. -1 with err when a job of that name
 * came from elsewhere (SERR_CONFLICT, field "name") or the spec is
 * refused as supervisor_job_create would. *jobp is the file's job, or
 * NULL if it has none (lent).
 */
int supervisor_job_from_file(struct supervisor *sup,
    const struct job_spec *spec, const char *text, const char *path,
    struct job **jobp, struct serr *err);
/*
 * Start-up: start job if its spec says start, it has no schedule and it
 * is not active. Unlike supervisor_job_start nothing is checked first: a
 * start that fails is the job's (FAILED, with the reason and its event),
 * as when it ran before. 0, or -1 with err if the start was refused.
 */
int supervisor_job_boot(
    struct supervisor *sup, struct job *job, struct serr *err);

/*
 * Stop every active job (stop signal, SIGKILL after its timeout), each only
 * once no running job lists it in "after" (reverse start order), and call
 * done once none is left running. Later creates and starts are refused.
 */
void supervisor_shutdown(struct supervisor *sup, void (*done)(void *),
    void *arg);

#endif
