/* SPDX-License-Identifier: ISC */
/*
 * Turning the daemon's JSON into short human text: times, durations, argv,
 * key=value renderings, and the job-state and exit-status rules that ps,
 * show, wait and run agree on.
 */
#ifndef SCHEDD_FORMAT_H
#define SCHEDD_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "client/schedctl.h"

/* Wall-clock now, ms since the epoch. */
int64_t fmt_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC: for intervals, not times. */
int64_t fmt_mono_ms(void);


/*
 * A duration as its two largest units: "350ms", "45s", "1m3s", "2h5m",
 * "3d4h". Negative values print as "0s". Returns buf.
 */
char *fmt_duration(int64_t ms, char *buf, size_t len);

/* Time since the RFC 3339 time s, as fmt_duration; "-" if s is unusable. */
char *fmt_age(const char *s, char *buf, size_t len);

/*
 * argv (a JSON array of strings) joined by spaces, each argument quoted the
 * way a POSIX shell would need it. Caller frees; "-" if argv is not an
 * array.
 */
/*
 * A process entry's command: its argv (fmt_argv), or, without one (a
 * zombie, a kernel thread), the kernel's name in brackets. Caller frees.
 */
char *fmt_proc_cmd(const json_t *proc);
char *fmt_argv(const json_t *argv);

/*
 * Short text for any JSON value: strings as they are (quoted as JSON when
 * they hold blanks, quotes or control bytes), null as "-", arrays of
 * scalars joined by ',', objects as "key=value key=value" of their non-null
 * members. Caller frees.
 */
char *fmt_value(const json_t *v);

/* The string member key of obj, or NULL if absent or not a string. */
const char *fmt_str(const json_t *obj, const char *key);

/* 1 and *out set if member key of obj is an integer, else 0. */
int fmt_int(const json_t *obj, const char *key, long long *out);

/*
 * Is state one in which the job holds or awaits a process (queued,
 * starting, running, paused, stopping, backoff)?
 */
int fmt_state_active(const char *state);

/*
 * How a job's last run ended, for wait and run -w: returns the exit status
 * to pass through (the exit code, 128 + the signal number, or 1 if it could
 * not start or never ran) and writes a sentence without control bytes to
 * buf ("exited with code 0", "killed by SIGKILL (core dumped)", "failed:
 * execve ..."). *ended is 1 when the run ended by itself (an exit code or a
 * signal), 0 when it failed to start, never ran or still runs.
 */
int fmt_run_status(const json_t *job, char *buf, size_t len, int *ended);

#endif
