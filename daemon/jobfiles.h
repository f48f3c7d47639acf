/* SPDX-License-Identifier: ISC */
/*
 * Job files: the .json files of a directory, each exactly a POST /v1/jobs body.
 * Scanning reads and validates them (a file without "name" is named after
 * itself); it does not touch jobs. Bounded: at most JOBFILES_MAX files of at
 * most 1 MiB.
 */
#ifndef SCHEDD_JOBFILES_H
#define SCHEDD_JOBFILES_H

#include <limits.h>
#include <stddef.h>

#include "proto/errors.h"
#include "proto/jobspec.h"

#define JOBFILES_MAX      4096
#define JOBFILES_SIZE_MAX (1024 * 1024)

struct jobfile {
	char path[PATH_MAX];
	int ok;               /* spec is valid; else err says why */
	struct job_spec spec; /* name always set when ok */
	char *canonical;      /* the spec as stored (JSON text) */
	struct serr err;
};

/*
 * Read every *.json in dir, sorted by name. A missing directory is empty.
 * Returns the count (files with errors included, ok = 0) and sets *out,
 * which the caller frees with jobfiles_free; -1 with err if dir cannot be
 * read.
 */
int jobfiles_scan(const char *dir, struct jobfile **out, struct serr *err);
void jobfiles_free(struct jobfile *files, int n);

/*
 * The same scan off the event loop: reading, parsing and checking a few
 * thousand files takes tens of milliseconds. A thread of its own (every
 * signal blocked) runs jobfiles_scan(dir); then done(arg, files, n, err)
 * is called in the loop thread, once, with what jobfiles_scan returned
 * (n = -1 with err), and takes files over. Returns the scan, or NULL
 * with err (no thread, no pipe). jobfiles_async_abandon waits for the
 * thread, frees what it read and the scan; done is not called.
 */
struct event_base;
struct jobfiles_async;
struct jobfiles_async *jobfiles_scan_async(struct event_base *base,
    const char *dir,
    void (*done)(
	void *arg, struct jobfile *files, int n, const struct serr *err),
    void *arg, struct serr *err);
void jobfiles_async_abandon(struct jobfiles_async *a);

#endif
