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

#include <sched.h>

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/cgroup.h"
#include "daemon/htab.h"
#include "daemon/policy.h"
#include "daemon/supervisor.h"
#include "proto/errors.h"

#define SUP_PRUNE_EVERY 1000

struct store_event;
struct sup_res;

struct job_watch {
	void (*cb)(struct job *, int, void *);
	void *arg;
	int dead; /* unwatched while callbacks run */
	TAILQ_ENTRY(job_watch) entry;
};

/*
 * The job indexes. Every job is in jobs (id order), by_id and by_name
 * (its name never changes). by_pid maps main processes not yet reaped (or,
 * adopted, not yet seen to end); by_session maps the main pid of each
 * job's newest run, which is the session id its orphans carry. queued holds
 * exactly the jobs in JOB_QUEUED, in id order (the order they start in).
 */
struct supervisor {
	struct schedd *sd;
	struct store *st;
	struct job_list jobs;
	size_t njobs;
	struct htab by_id;
	struct htab by_name;
	struct htab by_pid;
	struct htab by_session;
	struct job_list queued;
	void (*sink)(void *, const struct store_event *);
	void *sink_arg;
	int64_t events_until_prune;
	int shutting_down;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
	int queue_kicked; /* sup_queue_run is scheduled */
	struct sup_res
	    *res; /* cgroups, CPUs, policy books (supervisor-res.c) */
};

enum run_op {
	RUN_NONE = 0, /* the change touches no run row */
	RUN_BEGIN,    /* insert job->run */
	RUN_END,      /* record job->run's end */
};

/* The one way a job changes state (see supervisor.c). data is stolen. */
void sup_change(struct supervisor *sup, struct job *job, enum job_state to,
    enum run_op op, const char *type, json_t *data);
/* Write an event in the caller's transaction; *text is freed by the
 * caller after sup_event_announce. data is stolen. */
int sup_event_write(struct supervisor *sup, struct store_event *ev,
    const struct job *job, int64_t run, const char *type, json_t *data,
    char **text, struct serr *err);
void sup_event_announce(struct supervisor *sup, const struct store_event *ev);
/* ACT_SPAWN. */
int act_spawn(struct supervisor *sup, struct job *job, struct serr *err);
int sup_stop(struct supervisor *sup, struct job *job, enum sup_stop_reason why,
    struct serr *err);

/* supervisor-files.c */
struct job *sup_find_name(struct supervisor *sup, const char *name);
int sup_check_after(struct supervisor *sup, const char *name,
    const struct job_spec *spec, struct serr *err);
int sup_deps_running(
    struct supervisor *sup, const struct job *job, char *buf, size_t len);
void sup_queue_kick(struct supervisor *sup);
int sup_has_running_dependents(struct supervisor *sup, const struct job *job);

/* supervisor-res.c: cgroups, CPUs, policies. */
struct sup_spawn_res {
	int fds[CGROUP_FDS_MAX]; /* cgroup.procs to join */
	int nfds;
	cpu_set_t affinity;
	int has_affinity;
	struct policy_attr attr;
	int has_attr;
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
void sup_res_started(struct supervisor *sup, struct job *job);
void sup_res_run_ended(struct supervisor *sup, struct job *job);
/* Processes in the job's cgroup (-1: no cgroup). */
int sup_res_nprocs(struct supervisor *sup, const struct job *job);
/* SIGKILL the rest of the job's cgroup and wait (bounded) until empty. */
int sup_res_drain(struct supervisor *sup, struct job *job, int max_ms);
/* Remember the cgroup's members (pid, start time) as a stop begins. */
void sup_res_snapshot(struct supervisor *sup, struct job *job);
/* Wait, bounded, until every remembered member is a zombie or gone. */
void sup_res_wait_exited(struct supervisor *sup, struct job *job, int max_ms);
/* Signal every process of the job's cgroup; -1 without one. */
int sup_res_signal(struct supervisor *sup, struct job *job, int sig);
int sup_res_freeze(
    struct supervisor *sup, struct job *job, int frozen, struct serr *err);
void sup_res_remove(struct supervisor *sup, struct job *job);
void sup_res_reconcile(struct supervisor *sup);
int sup_res_oom_poll(struct supervisor *sup, struct job *job);
/* Record running jobs' processes on a timer (bounded per tick). */
void sup_res_track_start(struct supervisor *sup);

#endif
