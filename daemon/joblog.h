/* SPDX-License-Identifier: ISC */
/*
 * Job output: bounded, rotated, timestamped, and no file per run. A job's
 * stdout and stderr are two pipes that outlive its runs; the child holds
 * them opened read-write (so it never gets EPIPE or SIGPIPE while no
 * daemon reads) and the daemon reads what they hold into the job's
 * current segment file, STATE/logs/JOBID.SEQ.log, in records:
 *
 *   struct joblog_rec (24 bytes: magic, length, read time in ms, run,
 *   stream) and then length bytes of output exactly as written.
 *
 * A segment grows to logs.max_bytes and then the next one is begun; a job
 * keeps logs.keep of them, and all jobs together at most logs_max_total
 * bytes (the oldest segment anywhere goes first). Output that cannot be
 * written (a full disk, or less free than logs_min_free, which keeps room
 * for the database) is read and dropped, and counted. A restarted daemon
 * gets the pipes back from /proc/PID/fd/1 and 2 of the runs it adopts.
 * Moving is bounded per loop turn (JOBLOG_TURN_MAX).
 *
 * logs.direct: the job writes STATE/logs/JOBID.stdout and JOBID.stderr
 * itself (opened O_APPEND by the daemon for each run, kept across runs), at
 * the speed of a plain file. The daemon holds no fd on them (a look stats
 * the name; a file is opened only to be punched), and at most JOBLOG_SEG_OPEN
 * segments of all jobs are open for writing: a running job costs it no fd. It
 * looks at their sizes (every 250 ms while they grow, less often while they do
 * not, and when a run ends) and stores what grew as a reference record (stream
 * JOBLOG_REF + the stream, then a struct joblog_ref) in the segments, so that
 * readers find runs, the time of the look and stream=all order in the same
 * records. It bounds each file to logs.max_bytes x logs.keep by punching out
 * the oldest blocks (FALLOC_FL_PUNCH_HOLE): the size goes on growing, the disk
 * use does not. Where the file system cannot punch holes, direct falls
 * back to the pipes. Paths are built from ids only. Runs of versions before
 * this layout wrote JOBID.RUN.out/.err (or JOBID/RUN.out): those are not read
 * any more, only removed with their job.
 */
#ifndef SCHEDD_JOBLOG_H
#define SCHEDD_JOBLOG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto/errors.h"

struct event_base;
struct joblog;

#define JOBLOG_MAGIC    0x31474c53u   /* "SLG1" */
#define JOBLOG_TURN_MAX (1024 * 1024) /* bytes moved per stream per turn */
#define JOBLOG_SEG_OPEN 256           /* segments open for writing at most */

enum joblog_stream {
	JOBLOG_STDOUT = 0, /* fd 1 */
	JOBLOG_STDERR,     /* fd 2 */
};

/* stream + JOBLOG_REF: a reference record (logs.direct). */
#define JOBLOG_REF 2

/* A reference record's bytes: len bytes of the stream's file at off. */
struct joblog_ref {
	int64_t off;
	int64_t len;
};

/* One record's header, as stored (host byte order). */
struct joblog_rec {
	uint32_t magic;  /* JOBLOG_MAGIC */
	uint32_t len;    /* output bytes that follow */
	int64_t time_ms; /* when the daemon read them (Unix ms) */
	uint32_t run;    /* the job's run number then */
	uint8_t stream;  /* enum joblog_stream, + JOBLOG_REF */
	uint8_t pad[3];
};

/* Daemon-wide settings (schedd.conf). */
struct joblog_conf {
	int64_t max_bytes; /* logs_max_bytes: default per segment */
	int keep;          /* logs_keep: default segments per job */
	int64_t max_total; /* logs_max_total: all jobs' segments */
	int64_t min_free;  /* logs_min_free: below this, output is dropped */
};

/* Counters for /v1/health. */
struct joblog_stats {
	int64_t bytes_written; /* output stored since start-up */
	int64_t bytes_dropped; /* output that could not be stored */
	int64_t total_bytes;   /* all segments now */
	int64_t files;         /* segments now */
	int64_t direct_bytes;  /* held by direct files now (not holes) */
};

/*
 * Remember the state directory and the loop, create STATE/logs, and find
 * the segments a previous daemon left (one readdir; each segment's first
 * record is read). Returns 0, or -1 with err filled; then jobs' output goes
 * to /dev/null (init mode carries on without a state directory).
 */
int joblog_init(const char *state_dir, struct event_base *base,
    const struct joblog_conf *conf, struct serr *err);
/*
 * The output of job job_id, with the segments found for it at start-up.
 * *dropped is where dropped bytes are added up (the job's current run);
 * it must outlive the joblog. Never fails.
 */
struct joblog *joblog_new(int64_t job_id, int64_t *dropped);
/* Per-job limits from the spec; 0 takes the config's default. */
void joblog_set_limits(struct joblog *jl, int64_t max_bytes, int keep);
/* Whether the job's next run writes its own files (logs.direct). */
void joblog_set_direct(struct joblog *jl, int on);
/* Close the pipes and forget the job; its files stay. Accepts NULL. */
void joblog_free(struct joblog *jl);
/* Remove every file of the job (segments, and the old layout's). */
void joblog_remove(struct joblog *jl);
/* Start-up is over: segments of jobs that do not exist are removed. */
void joblog_load_done(void);

/*
 * A run begins: what the pipes hold is moved first (it belongs to the
 * last run), then output counts as run's. Hands back two fds opened
 * read-write on the job's pipes (made now if the job has none), or with
 * logs.direct opened for appending on its files, close-on-exec; the caller
 * gives them to the child and closes them. Returns 0, or -1 with err filled and
 * no fd left open.
 */
int joblog_run_begin(
    struct joblog *jl, int64_t run, int *out_fd, int *err_fd, struct serr *err);
/*
 * A run that a previous daemon started goes on: its pipes are found again
 * as /proc/PID/fd/1 and 2 (when they are pipes). Returns how many streams
 * were found (0..2).
 */
int joblog_adopt(struct joblog *jl, pid_t pid, int64_t run);
/*
 * The journal instead (systemd-journald's stream socket,
 * /run/systemd/journal/stdout): two connections, each already told the
 * identifier (ident, the job's name), its priority (stdout info, stderr
 * err) and to take lines as they are. Returns 0 with both fds
 * (close-on-exec; the caller closes them), or -1 when there is no journal
 * (then files it is).
 */
int joblog_journal_open(const char *ident, int *out_fd, int *err_fd);
/* A run ended: move what the pipes hold now (at most a pipe's size). */
void joblog_drain(struct joblog *jl);
/* Runs up to upto are gone from the store: drop segments holding only
 * them, and hide what is left of them from readers. */
void joblog_prune_runs(struct joblog *jl, int64_t upto);

/* Reading. */

/* The job's segments are first..last; 0 when there are none. */
int joblog_segments(const struct joblog *jl, int64_t *first, int64_t *last);
/* Where run's output can begin: the newest segment whose first record
 * is of an earlier run (records come in run order), else the first. 0
 * when there are none. */
int64_t joblog_seek_run(const struct joblog *jl, int64_t run);
/* Open segment seq for reading; -1 with errno when it is gone. */
int joblog_segment_open(const struct joblog *jl, int64_t seq);
/* Open the job's direct file of stream for reading; -1 with errno. */
int joblog_raw_open(const struct joblog *jl, int stream);
/* Bytes of the stream's direct file below this are punched out. */
int64_t joblog_raw_head(const struct joblog *jl, int stream);
/* Runs below this are pruned: readers skip their records. */
int64_t joblog_min_run(const struct joblog *jl);
/*
 * The record header at off in fd. Returns 1 with rec filled when a whole
 * record is there (header and its len bytes, the file being size bytes
 * long), 0 at the end or on a torn or foreign header.
 */
int joblog_rec_read(int fd, int64_t off, int64_t size, struct joblog_rec *rec);

void joblog_stats(struct joblog_stats *st);

#endif
