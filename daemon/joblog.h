/* SPDX-License-Identifier: ISC */
/*
 * Job output files: STATE/logs/JOBID/RUN.out and RUN.err, opened O_APPEND by
 * the daemon and handed to the child, so output costs the daemon nothing and
 * survives a daemon restart. Paths are built from ids only: nothing from a
 * request ever becomes part of a path.
 */
#ifndef SCHEDD_JOBLOG_H
#define SCHEDD_JOBLOG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/errors.h"

struct evbuffer;

enum joblog_stream {
	JOBLOG_STDOUT = 0,
	JOBLOG_STDERR,
};

/* Remember the state directory and create STATE/logs. Returns 0 or -1. */
int joblog_init(const char *state_dir, struct serr *err);
/* Open (create, append) both files of a run. Returns 0 or -1. */
int joblog_open(int64_t job_id, int64_t run, int *out_fd, int *err_fd,
    struct serr *err);
/* The path of one stream's file into buf. Returns 0, or -1 if too long. */
int joblog_path(int64_t job_id, int64_t run, enum joblog_stream s, char *buf,
    size_t len);
/* Remove the job's log directory and everything in it. */
void joblog_remove_job(int64_t job_id);
/*
 * Append the last `tail` lines (tail < 0: everything, up to max_bytes from
 * the end) of a file to out, and return the file offset reached (for a
 * follower to continue from), or -1 if it cannot be read (a missing file is
 * empty: returns 0).
 */
int64_t joblog_tail(const char *path, long tail, size_t max_bytes,
    struct evbuffer *out);
/* Append bytes from offset up to EOF (at most max_bytes) to out; returns
 * the new offset. */
int64_t joblog_read_from(const char *path, int64_t offset, size_t max_bytes,
    struct evbuffer *out);

#endif
