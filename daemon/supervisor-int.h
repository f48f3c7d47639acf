/* SPDX-License-Identifier: ISC */
/*
 * What the supervisor-*.c files share and nobody else may see: the
 * supervisor's state, the one state-change function and the actions that
 * more than one file needs.
 */
#ifndef SCHEDD_SUPERVISOR_INT_H
#define SCHEDD_SUPERVISOR_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <limits.h>
#include <sched.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/cgroup.h"
#include "daemon/htab.h"
#include "daemon/policy.h"
#include "daemon/procfs.h"
#include "daemon/job.h"
#include "daemon/supervisor.h"
#include "proto/errors.h"

#define JOB_PIDS_MAX       4096 /* a job's members looked at, at most */
#define SUP_PRUNE_EVERY    1000
#define SUP_RESERVE_BYTES  (8 << 20) /* the store's reserve (see store.h) */
#define SUP_POLL_MIN_MS    2
#define SUP_POLL_MAX_MS    50
#define SUP_EXITINFO_TRIES 50 /* x 20 ms: an adopted exit's status */

/* What a job's poll_ev waits for. */
enum sup_poll {
	SUP_POLL_NONE = 0,
	SUP_POLL_DRAIN,    /* a stopping run, main gone: wait until its tree
			      is gone, catching what the signal missed */
	SUP_POLL_EXITINFO, /* an adopted process ended: wait for its status */
};
#define SUP_HELD_MAX    4096 /* kernel facts kept while the store fails */
#define SUP_RETRY_MS    250  /* how often a failing store is tried again */
#define SUP_FLUSH_BATCH 64   /* held facts stored per loop turn */

struct event_rec;
struct store_job;
struct sup_res;
struct cpus;
struct job_sched;
struct policy_attr;
struct sup_view;
struct rusage;

struct job_watch {
	void (*cb)(struct job *, int, void *);
	void *arg;
	int dead; /* unwatched while callbacks run */
	TAILQ_ENTRY(job_watch) entry;
};

/*
 * A fact the store could not take yet: an event for a job (its facts are
 * on the job: the run's end, a spawn's outcome) or a reaped orphan. Held
 * in order and dispatched again, in order, once the store can write.
 */
struct sup_held {
	int64_t job_id;    /* 0: an orphan */
	enum job_event ev; /* for a job */
	pid_t pid;         /* an orphan: */
	int status;
	int has_ps;
	struct proc_stat ps;
	TAILQ_ENTRY(sup_held) entry;
};
TAILQ_HEAD(sup_held_list, sup_held);

/*
 * The job indexes. Every job is in jobs (id order), by_id and by_name
 * (its name never changes). by_pid maps main processes not yet reaped (or,
 * adopted, not yet seen to end); by_session maps the main pid of each
 * job's newest run, which is the session id its orphans carry. queued holds
 * exactly the jobs in JOB_QUEUED, in id order (the order they start in).
 */
struct supervisor {
	struct schedd *sd;
	pid_t self; /* our pid: every main process's parent */
	struct jobnotify *jn; /* jobs' NOTIFY_SOCKETs */
	struct {
		int set; /* a request is being served */
		uid_t uid;
		pid_t pid; /* 0: not known (TCP) */
	} actor;           /* who asks for what is done now */
	struct store *st;
	struct job_list jobs;
	size_t njobs;
	struct htab by_id;
	struct htab by_name;
	struct htab by_pid;
	struct htab by_session;
	struct htab by_check; /* health check pid -> struct sup_health */
	struct job_list queued;
	struct job_list spec_lru; /* jobs with a spec_text, last used last */
	size_t nspec_texts;
	void (*sink)(void *, const struct event_rec *);
	void *sink_arg;
	int64_t events_until_prune;
	int shutting_down;
	/* Jobs whose stop has members left to signal, by id, served one
	 * SUP_STOP_BATCH per turn of stop_more_ev, in turn. */
	int64_t *stop_more;
	size_t nstop_more;
	struct event *stop_more_ev;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
	int queue_kicked; /* sup_queue_run is scheduled */
	struct sup_res
	    *res; /* cgroups, CPUs, policy books (supervisor-res.c) */
	struct sup_view *view; /* process views, tracker (-view.c) */
	struct sup_drift *drift; /* drift checks (-drift.c) */
	/* The store's health (see sup_change). */
	struct sup_held_list held;
	size_t nheld;
	size_t nheld_orphans;       /* of nheld, orphans (bounded) */
	unsigned long orphans_lost; /* not held, this time degraded */
	struct event *retry_ev;     /* tries the store again */
	struct event *shutdown_ev;  /* the shutdown looks again */
	struct event *kick_ev;      /* a timed sup_queue_kick */
	int64_t kick_at;            /* when kick_ev is due (now_ms) */
	int degraded; /* the last write failed: SERR_UNAVAILABLE */
	char degraded_why[SERR_MESSAGE_MAX];
	char reserve_path[4096];
	int flushing; /* inside sup_flush */
	struct sup_counters counters; /* for /metrics */
};

enum run_op {
	RUN_NONE = 0, /* the change touches no run row */
	RUN_BEGIN,    /* insert job->run */
	RUN_END,      /* record job->run's end */
};

/* What a change stores beside the state; job_rec_get() gives the job's
 * values now, to be edited before sup_change(). */
struct job_rec {
	char reason[RUN_ERROR_MAX];
	int64_t next_start_ms;
	int retries;
	int64_t restarts;
};
void job_rec_get(const struct job *job, struct job_rec *rec);

/*
 * The one way a job changes state. In one transaction: the run row (op),
 * the job's state with rec's fields (NULL: the job's own) and the event.
 * Only once that commits are memory, the event stream and the watches
 * told. Returns 0, or -1 with err: SERR_UNAVAILABLE when the store cannot
 * write now (the supervisor is then degraded), and nothing has changed.
 * data is stolen.
 */
int sup_change(struct supervisor *sup, struct job *job, enum job_state to,
    const struct job_rec *rec, enum run_op op, const char *type, json_t *data,
    struct serr *err);
/* Write an event in the caller's transaction; *text is freed by the
 * caller after sup_event_announce. data is stolen. */
int sup_event_write(struct supervisor *sup, struct event_rec *ev,
    const struct job *job, int64_t run, const char *type, json_t *data,
    char **text, struct serr *err);
void sup_event_announce(struct supervisor *sup, const struct event_rec *ev);

/*
 * Dispatch: the table's action for (job->state, ev) runs; an empty cell is
 * SERR_CONFLICT. arg is the event's argument (a stop reason, a signal).
 * The action may free the job (ACT_REMOVE): do not touch it after 0.
 */
int sup_dispatch(struct supervisor *sup, struct job *job, enum job_event ev,
    const void *arg, struct serr *err);
/*
 * A fact (from the kernel, a timer, the queue): dispatched now, or held in
 * order behind earlier facts while the store cannot write. Never fails.
 */
void sup_fact(struct supervisor *sup, struct job *job, enum job_event ev);
/*
 * A request (API, job files): refused with SERR_UNAVAILABLE while the
 * store cannot write (nothing is done then), else dispatched.
 */
int sup_request(struct supervisor *sup, struct job *job, enum job_event ev,
    const void *arg, struct serr *err);

/*
 * What supervisor.c (jobs, indexes, requests and the table),
 * supervisor-store.c (the change door, held facts) and supervisor-exit.c
 * (how runs end, orphans, start-up reconcile) share.
 */
int sys_pidfd_open(pid_t pid);
/* 1 with the wait status once the kernel knows it, 0 not yet, -1. */
int pidfd_exit_status(int pidfd, int *status);
void pid_add(struct supervisor *sup, pid_t pid, struct job *job);
struct job *pid_find(struct supervisor *sup, pid_t pid);
void pid_del(struct supervisor *sup, pid_t pid);
void session_add(struct supervisor *sup, struct job *job);
void session_del(struct supervisor *sup, struct job *job);
struct job *job_alloc(void);
/*
 * A job's cpuset is shared with every job of the same CPUs: set points it
 * at the shared copy of cl (cl may be the job's own), drop gives it back
 * and points it at an empty set. supervisor-res.c.
 */
void sup_cpuset_set(struct job *job, const struct cpulist *cl);
void sup_cpuset_drop(struct job *job);
void job_close_pidfd(struct job *job);
void sup_job_link(struct supervisor *sup, struct job *job);
/* The in-memory state: sup_change() and loading only. */
void sup_state_set(struct supervisor *sup, struct job *job, enum job_state to);
void sup_notify(struct job *job, int gone);
void sup_arm_timer(struct supervisor *sup, struct job *job, uint32_t ms);
void sup_check_shutdown(struct supervisor *sup);
int sup_conflict(const struct job *job, enum job_event ev, struct serr *err);
/* Signal the job's processes (its cgroup, else its group, else main). */
int sup_signal(struct job *job, int sig);

/* supervisor-ready.c: readiness and the watchdog. */
int sup_ready_init(struct supervisor *sup, struct serr *err);
void sup_ready_free(struct supervisor *sup);
/* Before a spawn: NOTIFY_SOCKET/WATCHDOG_USEC into env (room for 2 more;
 * *nenv grows), and the s6 pipe whose write end *child_fd the child gets
 * (-1: none). Returns 0, or -1 with err. */
int sup_ready_prepare(struct supervisor *sup, struct job *job, char **env,
    int *nenv, int *child_fd, struct serr *err);
/* After the spawn (run.pid 0: it failed): closes child_fd, watches. */
void sup_ready_spawned(struct supervisor *sup, struct job *job, int child_fd);
/* The run's start is stored as starting: arm its ready timeout. */
void sup_ready_recorded(struct supervisor *sup, struct job *job);
/* The job's state becomes to (sup_state_set): watchdog and timers. */
void sup_ready_state(
    struct supervisor *sup, struct job *job, enum job_state to);
/* Start-up adopted job: its socket and timers again. */
void sup_ready_adopted(struct supervisor *sup, struct job *job);
/* The job is freed. */
void sup_ready_release(struct supervisor *sup, struct job *job);

/* supervisor-schedule.c: scheduled starts. Arm (or drop) job's schedule;
 * boot: at start-up, where ticks missed meanwhile are decided. */
void sup_sched_job(struct supervisor *sup, struct job *job, int boot);
void sup_sched_release(struct job *job);
int act_tick(struct supervisor *, struct job *, const void *, struct serr *);
int act_skip(struct supervisor *, struct job *, const void *, struct serr *);

/* supervisor-health.c: health checks. */
void sup_health_state(
    struct supervisor *sup, struct job *job, enum job_state to);
/* 1 if pid was a health check's (then it is handled). */
int sup_health_reaped(struct supervisor *sup, pid_t pid, int status);
void sup_health_release(struct supervisor *sup, struct job *job);

/* The environment a job's processes get (PATH, HOME, ...); *search is
 * the PATH to find argv[0] in. Room for 2 more entries. */
struct spawn_creds;
char **sup_build_env(const struct job *job, const struct spawn_creds *creds,
    const char *default_path, const char **search);
void sup_free_env(char **envp);

/* supervisor-store.c */
void sup_degrade(struct supervisor *sup, const struct serr *err);
/*
 * Hide from readers (and drop what is wholly theirs) the output of runs
 * that runs_keep pruned: at each run's start, and at load, since the
 * output's floor is kept in memory only.
 */
void sup_prune_output(struct supervisor *sup, struct job *job);
void sup_reserve(struct supervisor *sup);
/* -1 with SERR_UNAVAILABLE (the store's reason) while it cannot write:
 * an action checks it before it acts in the world. */
int sup_refuse_degraded(struct supervisor *sup, struct serr *err);
/* 0 if a request may act now, else -1 with SERR_UNAVAILABLE. */
int sup_writable(struct supervisor *sup, struct serr *err);
void sup_hold(struct supervisor *sup, struct sup_held *h);
void sup_hold_event(struct supervisor *sup, struct job *job, enum job_event ev);

/* supervisor-exit.c: the actions of ends and start-up, and their helpers. */
int act_policy(struct supervisor *, struct job *, const void *, struct serr *);
int act_exited(struct supervisor *, struct job *, const void *, struct serr *);
int act_stopped(struct supervisor *, struct job *, const void *, struct serr *);
int act_stop_exit(
    struct supervisor *, struct job *, const void *, struct serr *);
int act_adopt(struct supervisor *, struct job *, const void *, struct serr *);
int act_rearm(struct supervisor *, struct job *, const void *, struct serr *);
int act_requeue(struct supervisor *, struct job *, const void *, struct serr *);
int act_begin(struct supervisor *, struct job *, const void *, struct serr *);
int act_ready(struct supervisor *, struct job *, const void *, struct serr *);
int act_fail(struct supervisor *, struct job *, const void *, struct serr *);
void sup_arm_poll(struct supervisor *sup, struct job *job, int mode, int ms);
void sup_watch_pidfd(struct supervisor *sup, struct job *job);
void sup_oom_cb(evutil_socket_t fd, short what, void *arg);
void sup_reaped(void *arg, pid_t pid, int status, const struct rusage *ru,
    const struct proc_stat *ps);
/* Store an orphan's end; h->pid is 0 after, unless the store failed. */
void sup_orphan_record(struct supervisor *sup, struct sup_held *h);
int sup_load_job(void *arg, const struct store_job *row);
void sup_reconcile(struct supervisor *sup);

/* supervisor-files.c */
struct job *sup_find_name(struct supervisor *sup, const char *name);
int sup_check_after(struct supervisor *sup, const char *name,
    const struct job_spec *spec, struct serr *err);
int sup_deps_running(
    struct supervisor *sup, const struct job *job, char *buf, size_t len);
/* A timer at SCHEDD_PRIO_WORK, not yet added; out of memory is fatal. */
struct event *sup_evtimer_new(struct supervisor *sup,
    void (*cb)(evutil_socket_t, short, void *), void *arg);
void sup_queue_kick(struct supervisor *sup);
/* The same, ms from now. */
void sup_queue_kick_in(struct supervisor *sup, int64_t ms);
void sup_mark_running_dependents(struct supervisor *sup);

/* supervisor-res.c: cgroups, CPUs, policies. Nothing here waits: what
 * takes time (a tree dying, a cgroup emptying) is polled by a timer. */
struct sup_spawn_res {
	int fds[CGROUP_FDS_MAX]; /* cgroup.procs to join */
	int nfds;
	cpu_set_t affinity;
	int has_affinity;
	struct policy_attr attr;
	int has_attr;
	int64_t retry_ms; /* queued: a kick is due in this many ms */
};

int sup_res_init(struct supervisor *sup, struct serr *err);
void sup_res_free(struct supervisor *sup);
/* 422 for what can never be granted (at create and start). */
int sup_res_check(
    struct supervisor *sup, const struct job_spec *spec, struct serr *err);
/* Before a spawn: 0 ready (sr filled), 1 must queue (why says for what),
 * -1 cannot start (err). */
int sup_res_prepare(struct supervisor *sup, struct job *job,
    struct sup_spawn_res *sr, char *why, size_t whylen, struct serr *err);
void sup_res_spawn_done(
    struct supervisor *sup, struct job *job, struct sup_spawn_res *sr);
/* The run started: watch its OOM kills (oom_cb, with the job) if it has a
 * memory limit of its own. */
void sup_res_started(struct supervisor *sup, struct job *job,
    void (*oom_cb)(evutil_socket_t, short, void *));
/* Release the run's CPUs and policy claim; returns 1 if anything was
 * released (queued jobs may fit now). */
int sup_res_run_ended(struct supervisor *sup, struct job *job);
/*
 * A dry run of a start for spec as job id would be, from the books as
 * they are now: the CPU step and admission of sup_res_prepare, undone
 * before returning, so that nothing changes. 0 would run (p->cpus), 1
 * would queue (p->why), -1 would fail (err). sup_res_check is the
 * caller's.
 */
struct sup_res_plan {
	int kind; /* 0 shared pool, 1 pinned list, 2 exclusive grant */
	struct cpulist cpus;
	int ncpus;
	char why[RUN_ERROR_MAX]; /* queued: for what */
	char order[256];         /* exclusive: how the CPUs were chosen */
	struct policy_figures before, after;
	int64_t rt_us;       /* the job's RT budget */
	const char *backend; /* "v1", "v2" or NULL */
	int rt_groups;
};
int sup_res_plan(struct supervisor *sup, const struct job_spec *spec,
    int64_t id, struct sup_res_plan *p, struct serr *err);
/* The cpuset a pinned or exclusive job's cgroup has now (the drift
 * check): 0, or -1 when it has none of its own or it cannot be read. */
int sup_res_cpuset_now(
    struct supervisor *sup, const struct job *job, struct cpulist *out);
/* Write the job's CPUs into its cpuset again (on_drift restore). */
int sup_res_cpuset_restore(
    struct supervisor *sup, struct job *job, struct serr *err);
/* Processes in the job's cgroup (-1: no cgroup). */
int sup_res_nprocs(struct supervisor *sup, const struct job *job);
/* The job's spec_text goes (its spec changed, or it does). */
void sup_spec_text_drop(struct job *job);
/* Remember the cgroup's members (pid, start time), which had the stop
 * signal already (a stop under way when schedd restarted). */
void sup_res_snapshot(struct supervisor *sup, struct job *job);
/*
 * A stop begins: sig to every member of the cgroup, each remembered (pid,
 * start time) as it is signalled (the stop is done once they are gone);
 * cgroup.procs is read again until it names no one new (a bounded number
 * of times). At most SUP_STOP_BATCH are signalled per call, so that a job
 * of many thousand processes does not hold the loop: *more says members
 * are left, for sup_res_stop_more (a later loop turn), which goes on the
 * same way. Return how many were signalled, -1 without a cgroup.
 */
#define SUP_STOP_BATCH 128
/* Forget what a stop signalled and had yet to (its run ended, the job
 * goes). */
void sup_res_stop_forget(struct job *job);
int sup_res_stop_signal(
    struct supervisor *sup, struct job *job, int sig, int *more);
int sup_res_stop_more(
    struct supervisor *sup, struct job *job, int sig, int *more);
/*
 * A stop's catch-up, at each poll once the main process is gone: sig to
 * each member the stop missed, which is then remembered. The kernel lists a
 * child in its parent's cgroup a moment after the fork that made it could still
 * be stopped, so a shell signalled as it forks may leave a child that no read
 * of cgroup.procs named in time (the stop then waited for its timeout).
 * Only orphans (no parent among the members): a child that a living parent
 * made after the signal, as a trap's cleanup command, is its parent's to
 * stop.
 */
void sup_res_stop_catchup(struct supervisor *sup, struct job *job, int sig);
/* 1 once the cgroup is empty and every remembered member has exited. */
int sup_res_tree_gone(struct supervisor *sup, struct job *job);
/* Signal every process of the job's cgroup; -1 without one. */
int sup_res_signal(struct supervisor *sup, struct job *job, int sig);
int sup_res_freeze(
    struct supervisor *sup, struct job *job, int frozen, struct serr *err);
void sup_res_remove(struct supervisor *sup, struct job *job);
/*
 * Shutdown: remove every job cgroup that is empty and hand the others
 * (SIGKILLed) to the removal timer. Returns how many are still to go; the
 * shutdown finishes once none is, so nothing waits after the loop.
 */
int sup_res_release_all(struct supervisor *sup);
void sup_res_reconcile(struct supervisor *sup);
/* Did the job's cgroup see an OOM kill since the last look? Then the run
 * says so (job->run.oom_killed) and 1 is returned; the caller records. */
int sup_res_oom_poll(struct supervisor *sup, struct job *job);
/* The job's member pids (its cgroup's, or the main process without
 * one), up to max: the count or -1. */
int sup_res_pids(
    struct supervisor *sup, const struct job *job, pid_t *pids, int max);
/* Its cgroup's figures: 0, or -1 without a cgroup. */
int sup_res_usage(
    struct supervisor *sup, const struct job *job, struct cgroup_usage *u);
/* 1 if jobs have cgroups whose members can be tracked. */
int sup_res_tracked(struct supervisor *sup);
/* The CPU books (topology, grants) or NULL; lent. */
const struct cpus *sup_res_cpus(struct supervisor *sup);
/* A job's "sched" as the kernel's attributes: an unset or NULL s is
 * SCHED_OTHER at nice 0 (and the child calls nothing); reset_on_fork is
 * SCHED_FLAG_RESET_ON_FORK. */
void sup_policy_attr(const struct job_sched *s, struct policy_attr *a);

/* supervisor-drift.c: the periodic drift check (timer and worker). */
struct sup_drift;
void sup_drift_start(struct supervisor *sup);
void sup_drift_free(struct supervisor *sup);
/* The job's cpuset or spec changed: if it is placed (cpus or
 * exclusive_cpus, its cpuset known), the drift checks look for jobs to
 * check again at their next tick. */
void sup_drift_placed(struct supervisor *sup, const struct job *job);

/* supervisor-view.c: usage, process trees, the tracker. */
void sup_view_init(struct supervisor *sup);
void sup_view_start(struct supervisor *sup);
void sup_view_free(struct supervisor *sup);

#endif
