/* SPDX-License-Identifier: ISC */
/*
 * The SQLite store: jobs, runs, processes and events. Opens the database in
 * WAL mode, migrates it by PRAGMA user_version, prepares every statement of
 * sql/queries.sql once. Callers group writes into one transaction with
 * store_begin/commit so that a state change and its event land together.
 * A write that fails because of the disk (full, read-only, I/O) or another
 * process's lock fails with SERR_UNAVAILABLE and a message naming the
 * cause; the store waits at most STORE_BUSY_MS for a lock. Called by the
 * supervisor only, never from the API layer.
 */
#ifndef SCHEDD_STORE_H
#define SCHEDD_STORE_H

#include <stdint.h>

#include <sys/types.h>

#include "proto/errors.h"

#define STORE_BUSY_MS 2 /* longest wait for another process's lock */
/* A commit that leaves the WAL at STORE_CKPT_FRAMES pages or more wakes the
 * checkpoint thread; one that leaves it at STORE_WAL_MAX_FRAMES checkpoints
 * itself, as SQLite would, so that the WAL stays bounded when the thread
 * falls behind. At SQLite's own 1,000 a job created and waited for every
 * 0.9 ms woke it every 60 jobs, and its copies and two fdatasyncs took
 * 14 % of schedd's CPU; at 4,000, 5 % (a WAL of about 16 MB where it was 4). */
#define STORE_CKPT_FRAMES    4000
#define STORE_WAL_MAX_FRAMES 16000

struct store;
struct run;

struct event_rec;

/* A job row as loaded at start-up. Strings are lent. */
struct store_job {
	int64_t		 id;
	const char	*name;
	const char	*source;
	const char	*spec;
	const char	*state;
	int64_t		 restarts;
	int64_t		 created_ms;
	int64_t		 updated_ms;
	const char	*reason;	/* NULL: none */
	int64_t		 next_start_ms;	/* 0: none */
	int		 retries;	/* consecutive automatic restarts */
	int64_t		 owner_uid;	/* who created it; 0 for job files */
	int64_t		 actor_uid;	/* who last acted on it; -1: nobody */
	int64_t		 acted_ms;	/* when; 0: never */
	int64_t		 sched_next_ms;	/* a schedule's next tick; 0: none */
	int64_t		 sched_skipped;	/* ticks skipped */
};

/*
 * Take the state directory's lock, the file at path (created 0600): a
 * POSIX record lock, which belongs to this process alone. flock(2) would
 * belong to the open file, which a job's child shares from its clone to its
 * execve: a daemon killed in that window would leave its lock to the child,
 * and a schedd started at once would find its own directory "in use".
 * Returns the fd (close-on-exec; closing it releases the lock), or -1 with
 * errno (EAGAIN: another process holds it).
 */
int store_lock(const char *path);

/*
 * Open (creating if needed) the database at path and bring its schema up
 * to date. sync_full: synchronous=FULL instead of NORMAL. Returns the store
 * (caller closes with store_close) or NULL with err filled.
 */
struct store *store_open(const char *path, int sync_full, struct serr *err);
/* Finalize statements and close. Accepts NULL. */
void store_close(struct store *st);

/* The WAL and its checkpoints, for tests and diagnostics. */
struct store_wal {
	int frames;                      /* after the last commit */
	int thread;                      /* 1: a checkpoint thread runs */
	unsigned int thread_checkpoints; /* made by the thread */
	unsigned int inline_checkpoints; /* made in a commit */
};
void store_wal_stats(struct store *st, struct store_wal *w);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(struct store *st, struct serr *err);
int store_commit(struct store *st, struct serr *err);
void store_rollback(struct store *st);

/* The id the next inserted job will get, or -1. */
int64_t store_job_next_id(struct store *st, struct serr *err);
/* actor_uid: who created it (acted_at is created_ms), or -1: nobody. */
int store_job_insert(struct store *st, int64_t id, const char *name,
    const char *source, const char *spec_json, const char *state,
    int64_t created_ms, int64_t owner_uid, int64_t actor_uid, struct serr *err);
/* A scheduled job's next tick (0: none) and its count of skipped ones. */
int store_job_update_schedule(struct store *st, int64_t id, int64_t next_ms,
    int64_t skipped, struct serr *err);
/* reason may be NULL; next_start_ms 0 means none; actor_uid: who made
 * the change (acted_at is updated_ms), or -1: the actor stays as it was. */
int store_job_update_state(struct store *st, int64_t id, const char *state,
    int64_t restarts, int retries, int64_t updated_ms, const char *reason,
    int64_t next_start_ms, int64_t actor_uid, struct serr *err);
int store_job_update_spec(struct store *st, int64_t id, const char *spec_json,
    const char *source, int64_t updated_ms, struct serr *err);
/* Deletes the job, its runs and processes (not its events). */
int store_job_delete(struct store *st, int64_t id, struct serr *err);
/* Call cb for every job, by id. cb returns 0 to go on, -1 to stop.
 * Returns 0 or -1. */
int store_job_load(struct store *st,
    int (*cb)(void *, const struct store_job *), void *arg, struct serr *err);

/*
 * Insert run (run->id set on success). A run with pid 0 is recorded with
 * a NULL pid. Its main process is the run's row: ppid, comm and argv (a
 * JSON array) are its own (NULL: unknown); store_process_list gives it
 * with the run's other processes.
 */
int store_run_insert(struct store *st, int64_t job_id, struct run *run,
    pid_t ppid, const char *comm, const char *argv_json, struct serr *err);
/* Record the end of run: exit fields, error, rusage. */
int store_run_end(struct store *st, const struct run *run, struct serr *err);
/* Delete the job's runs numbered upto and below, with their processes
 * (ON DELETE CASCADE). Returns 0 or -1. */
int store_run_prune(
    struct store *st, int64_t job_id, int64_t upto, struct serr *err);
/* Call cb for the job's runs, newest first, at most limit. Returns the
 * number visited or -1. */
int store_run_list(struct store *st, int64_t job_id, int limit,
    int (*cb)(void *, const struct run *), void *arg, struct serr *err);

/* A process of run_id other than its main one (which is the run's row):
 * one the tracker saw, an orphan reaped. Once per (pid, pid_start). */
int store_process_insert(struct store *st, int64_t run_id, pid_t pid,
    uint64_t pid_start, pid_t ppid, const char *comm, const char *argv_json,
    int64_t first_seen_ms, struct serr *err);
/* exit_code -1 / signal 0 for "none". */
int store_process_exit(struct store *st, int64_t run_id, pid_t pid,
    uint64_t pid_start, int64_t exited_ms, int exit_code, int sig,
    struct serr *err);

/* A recorded process (strings lent during the callback). */
struct store_process {
	int64_t		 run;		/* run number */
	pid_t		 pid;
	uint64_t	 pid_start;
	pid_t		 ppid;
	const char	*comm;
	const char	*argv;		/* JSON array text or NULL */
	int64_t		 first_seen_ms;
	int64_t		 exited_ms;	/* 0: not seen to end */
	int		 exit_code;	/* -1: none */
	int		 signal;	/* 0: none */
};
/* The job's recorded processes, newest run first; returns the count or
 * -1. */
int store_process_list(struct store *st, int64_t job_id, int limit,
    int (*cb)(void *, const struct store_process *), void *arg,
    struct serr *err);

/* The job, run number and run id that recorded process (pid,
 * pid_start): 1 and all set, 0 if none did, -1 on error. */
int store_process_owner(struct store *st, pid_t pid, uint64_t pid_start,
    int64_t *job_id, int64_t *run, int64_t *run_id, struct serr *err);

/* Can the store write now? A small write that needs room, in its own
 * transaction: 0, or -1 with err (SERR_UNAVAILABLE: why not). */
int store_probe(struct store *st, struct serr *err);

/*
 * Preallocate bytes in the file at path (the reserve). Returns 0, or -1
 * with errno (no reserve then). store_reserve_release() deletes it to give
 * its space to the database: returns 1 if it did, 0 if none was held.
 */
int store_reserve(struct store *st, const char *path, int64_t bytes);
/* 1 if the last failure was SQLITE_FULL (the reserve may help). */
int store_disk_full(const struct store *st);
int store_reserve_release(struct store *st);

/* Append ev (ev->id set on success). */
int store_event_insert(struct store *st, struct event_rec *ev,
    struct serr *err);
/* Events with id > since, in order, at most limit; returns the count
 * visited or -1. */
int store_event_since(struct store *st, int64_t since, int limit,
    int (*cb)(void *, const struct event_rec *), void *arg,
    struct serr *err);
/* Oldest retained id (0 if none) and the last id ever given (0 if none). */
int store_event_bounds(struct store *st, int64_t *oldest, int64_t *last,
    struct serr *err);
/* Delete events with id <= upto. */
int store_event_prune(struct store *st, int64_t upto, struct serr *err);

#endif
