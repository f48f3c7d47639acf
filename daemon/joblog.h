/* SPDX-License-Identifier: ISC */
/*
 * Job output files, one pair per run, flat in one directory:
 * STATE/logs/JOBID.RUN.out and STATE/logs/JOBID.RUN.err. They are opened
 * O_APPEND by the daemon and handed to the child, so output costs the daemon
 * nothing and survives a daemon restart. There is no per-job directory: each
 * new inode is dear on a journal-less ext4 (its allocator skips recently
 * deleted inodes), so a run makes two and deleting a job unlinks by name.
 * State directories written before that layout keep STATE/logs/JOBID/RUN.out
 * and .err; they are read and removed too, never written. Paths are built
 * from ids only: nothing from a request ever becomes part of a path.
 */
#ifndef SCHEDD_JOBLOG_H
#define SCHEDD_JOBLOG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/errors.h"

struct evbuffer;

enum joblog_stream {
	JOBLOG_STDOUT = 0, /* RUN.out */
	JOBLOG_STDERR,     /* RUN.err */
};

/*
 * Remember the state directory and create STATE/logs. Returns 0, or -1
 * with err filled; then joblog_open() hands out /dev/null and the remove
 * functions do nothing, so that init mode carries on without a state
 * directory.
 */
int joblog_init(const char *state_dir, struct serr *err);
/*
 * Open (create, append) both files of a run: two new inodes, nothing else.
 * Returns 0 with both fds (close-on-exec; the caller closes them), or -1
 * with err filled and no fd left open.
 */
int joblog_open(
    int64_t job_id, int64_t run, int *out_fd, int *err_fd, struct serr *err);
/*
 * The path to read one stream of a run from, into buf: the flat file, or
 * the old layout's file when only that one exists (costs one lstat, plus
 * one when the flat file is missing). Without a log directory (see
 * joblog_init) buf is "": nothing to read. Returns 0, or -1 if buf is too
 * small.
 */
int joblog_path(
    int64_t job_id, int64_t run, enum joblog_stream s, char *buf, size_t len);
/*
 * Remove the files of runs 1..last_run by name, without reading the
 * directory. Only when a flat file is missing does it look for the old
 * layout's directory (one rmdir attempt) and, if that holds files, remove
 * them and it. Failures are logged; errno is not preserved.
 */
void joblog_remove_runs(int64_t job_id, int64_t last_run);
/*
 * Remove every file of the job, flat or in the old layout, by reading all
 * of STATE/logs: its cost grows with every job's runs, so it is for when
 * the run count is unknown (start-up clean-up); deleting a job should use
 * joblog_remove_runs(). Failures are logged.
 */
void joblog_remove_job(int64_t job_id);
/*
 * Reading back, in bounded steps so that a reader of a huge file never
 * holds the loop or much memory. joblog_size: the file's size, 0 when it
 * is missing, -1 (errno set) when it cannot be read.
 */
int64_t joblog_size(const char *path);
/*
 * One step of finding where the last `tail` lines of a file that ends at
 * `end` begin. Start with *pos = end and *lines = 0; each call reads at
 * most max_bytes further back, in 64 KiB blocks. Returns 1 when found,
 * with *pos at the first byte of those lines (0 when the file has fewer;
 * end when tail is 0), 0 when the caller should call again, or -1 if the
 * file cannot be read or got shorter.
 */
int joblog_tail_step(const char *path, int64_t end, long tail, int64_t *pos,
    long *lines, size_t max_bytes);
/*
 * Append bytes from offset up to EOF, at most max_bytes, to out; returns
 * the offset reached. A missing file reads as nothing; one now shorter
 * than offset (emptied) returns its size, for a follower to go on from.
 */
int64_t joblog_read_from(
    const char *path, int64_t offset, size_t max_bytes, struct evbuffer *out);

#endif
