/* SPDX-License-Identifier: ISC */
/*
 * Reloading the job files: what jobs_dir says, made into jobs through the
 * supervisor's public calls (supervisor_job_from_file, _delete, _boot).
 * It sits above the supervisor and needs nothing of its insides. New
 * files create jobs (source "file:PATH"), changed ones update the spec
 * (applied at the next start), removed ones stop and delete their jobs;
 * jobs created through the API are never touched. The report callback is
 * called once per file or removed job; path may be NULL, err is NULL
 * unless SUP_RELOAD_ERROR.
 */
#ifndef SCHEDD_RELOAD_H
#define SCHEDD_RELOAD_H

#include "daemon/supervisor.h"
#include "proto/errors.h"

struct schedd;
struct reloader;
struct reload_req;

typedef void reload_report_fn(void *arg, enum sup_reload_what what,
    const char *name, const char *path, const struct serr *err);

struct reloader *reload_new(struct schedd *sd);
/* Waits for a read in flight; every reload still asked for is dropped
 * unheard. Before supervisor_free. */
void reload_free(struct reloader *rl);

/*
 * Read dir now, in the caller (start-up, before the loop runs). With boot,
 * file jobs whose spec says start and that are not active are started
 * too. Returns 0, or -1 if the directory cannot be read.
 */
int reload_now(struct reloader *rl, const char *dir, int boot,
    reload_report_fn *report, void *arg, struct serr *err);

/*
 * The same without boot, the files read off the loop (jobfiles_scan_async):
 * report is called as above and then done(arg, NULL), or only done(arg,
 * err) if the directory cannot be read or schedd is shutting down, later,
 * in the loop. What changes meanwhile (through the API) is seen by the
 * reload as if it came before. Reloads asked for while one reads the
 * files wait for it and then share the next read. Returns the reload, or
 * NULL with err; reload_cancel(r) before done: report and done are not
 * called (the reload itself may still be made).
 */
struct reload_req *reload_start(struct reloader *rl, const char *dir,
    reload_report_fn *report, void (*done)(void *, const struct serr *err),
    void *arg, struct serr *err);
void reload_cancel(struct reloader *rl, struct reload_req *r);

#endif
