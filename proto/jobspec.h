/* SPDX-License-Identifier: ISC */
/*
 * The job spec: the body of POST /v1/jobs, the content of a job file and the
 * spec stored in the database, all one format. This module turns JSON into a
 * validated struct job_spec and back. It owns every range and pattern check
 * and names the offending field path ("sched.priority") in struct serr.
 * Pure: no libevent, no I/O, no syscalls.
 */
#ifndef SCHEDD_JOBSPEC_H
#define SCHEDD_JOBSPEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/errors.h"
#include "proto/schedule.h"

#define JOBSPEC_NAME_MAX     64	    /* name length, without NUL */
#define JOBSPEC_ARGV_MAX     4096   /* argv elements */
#define JOBSPEC_ENV_MAX	     4096   /* env entries */
#define JOBSPEC_AFTER_MAX    256    /* after entries */
#define JOBSPEC_STRING_MAX   65536  /* any one string, bytes */
#define JOBSPEC_PATH_MAX     4096   /* cwd */
#define JOBSPEC_USER_MAX     256    /* user and group names */
#define JOBSPEC_CPUS_MAX     1024   /* cpus list text */
#define JOBSPEC_TIMEOUT_MAX  86400000 /* stop.timeout_ms, backoff_*_ms: 1 day */
#define JOBSPEC_LABELS_MAX   32     /* labels entries */
#define JOBSPEC_LABEL_KEY_MAX 63    /* a label's key, bytes */
#define JOBSPEC_LABEL_VALUE_MAX 256 /* a label's value, bytes */

enum jobspec_policy {
	POLICY_OTHER = 0,	/* SCHED_OTHER, with nice */
	POLICY_BATCH,		/* SCHED_BATCH, with nice */
	POLICY_IDLE,		/* SCHED_IDLE */
	POLICY_FIFO,		/* SCHED_FIFO, priority 1..99 */
	POLICY_RR,		/* SCHED_RR, priority 1..99 */
	POLICY_DEADLINE,	/* SCHED_DEADLINE, runtime <= deadline <= period */
};

/* What the daemon does when a pinned or exclusive job's processes drift
 * from their spec (issue 17): report it (an event), or also restore them. */
enum jobspec_drift {
	DRIFT_UNSET = 0,	/* absent: as DRIFT_REPORT */
	DRIFT_REPORT,		/* "report" */
	DRIFT_RESTORE,		/* "restore": affinity and policy put back */
};

enum jobspec_restart {
	RESTART_NO = 0,		/* never restart (default) */
	RESTART_ON_FAILURE,	/* non-zero exit, signal, OOM */
	RESTART_ALWAYS,		/* any end not requested by a stop */
};

/* Here and in job_spec the 4-byte members sit in pairs: every job's spec
 * stays in memory while the job exists, and holes add up. */
struct job_sched {
	int		 set;		/* "sched" was present */
	enum jobspec_policy policy;
	int		 priority;	/* fifo/rr: 1..99, else 0 */
	int		 nice;		/* other/batch: -20..19 */
	int		 has_nice;
	int		 reset_on_fork;
	uint64_t	 runtime_us;	/* deadline only */
	uint64_t	 deadline_us;
	uint64_t	 period_us;
};

struct job_limits {
	int		 set;		/* "limits" was present */
	uint64_t	 memory_max;	/* bytes, 0 = unset */
	int64_t		 pids_max;	/* 0 = unset; 1..4194304 */
	int		 cpu_quota_pct; /* 0 = unset; 1..100*ncpus (<= 100000) */
	int		 cpu_weight;	/* 0 = unset; 1..10000 */
};

struct job_restart {
	int		 set;		/* "restart" was present */
	enum jobspec_restart policy;
	int		 max_retries;	/* -1 = forever (absent) */
	uint32_t	 backoff_ms;	/* default 100 */
	uint32_t	 backoff_max_ms; /* default 30000 */
	uint32_t	 reset_after_ms; /* up this long: backoff resets; default 10000 */
	int		 on_unhealthy;	/* restart when the health check fails */
};

struct job_stop {
	int		 signal;	/* default SIGTERM */
	uint32_t	 timeout_ms;	/* default 10000 */
	uint32_t	 unwaited_ms;	/* stop a run no wait has watched this
					   long (its waiter died); 0: never */
};

struct job_ready {
	int		 set;		/* "ready" was present */
	int		 notify;	/* NOTIFY_SOCKET, sd_notify READY=1 */
	int		 fd;		/* s6 style: a line on this fd; 0 none */
	uint32_t	 timeout_ms;	/* then fail; default 90000 */
};

/* A health check: a command, or an HTTP GET on loopback or a socket.
 * Made only when "health" is given (job_spec's health: NULL otherwise). */
struct job_health {
	char	       **exec;		/* nexec + NULL, or NULL */
	size_t		 nexec;
	char		*http;		/* http://LOOPBACK[:PORT]/PATH, or NULL */
	char		*unix_socket;	/* the HTTP check's socket, or NULL */
	uint32_t	 interval_ms;	/* default 30000 */
	uint32_t	 timeout_ms;	/* default 5000 */
	int		 retries;	/* failures in a row: unhealthy; 3 */
};

/* When the job starts by itself: a cron line, a calendar, an interval.
 * Made only when "schedule" is given (job_spec's schedule: NULL otherwise). */
struct job_schedule {
	char		*cron;		/* the text given, or NULL */
	char		*calendar;	/* the text given, or NULL */
	int64_t		 every_ms;	/* or 0 */
	int		 catch_up;	/* one run for ticks missed while down */
	struct schedule	 when;		/* parsed */
};

#define JOBSPEC_READY_FD_MIN 3
#define JOBSPEC_READY_FD_MAX 1023
struct job_logs {
	uint64_t	 max_bytes;	/* per segment file; 0 = the config's */
	int		 keep;		/* segment files kept; 0 = the config's */
	int		 journal;	/* JOBSPEC_JOURNAL_* */
	int		 direct;	/* the child writes files itself */
};

#define JOBSPEC_JOURNAL_DEFAULT	0	/* the config's logs_journal */
#define JOBSPEC_JOURNAL_NO	1	/* false: files */
#define JOBSPEC_JOURNAL_YES	2	/* true: the journal, when there is one */

#define JOBSPEC_LOG_BYTES_MIN	(64 * 1024)
#define JOBSPEC_LOG_BYTES_MAX	(1ULL << 40)
#define JOBSPEC_LOG_KEEP_MAX	1000
#define JOBSPEC_RUNS_KEEP_MAX	1000000

struct job_spec {
	char		*name;		/* NULL: the daemon generates one */
	char	       **argv;		/* argc elements plus NULL */
	size_t		 argc;		/* 1..JOBSPEC_ARGV_MAX */
	char	       **env_keys;	/* nenv keys, sorted, unique */
	char	       **env_values;	/* nenv values */
	size_t		 nenv;
	char	       **env_secret;	/* nsecret keys of env, never shown */
	size_t		 nsecret;
	char		*cwd;		/* NULL: "/" */
	char		*user;		/* NULL: the daemon's user */
	char		*group;		/* NULL: the user's primary group */
	char		*cpus;		/* canonical CPU list or NULL */
	struct job_sched sched;
	struct job_limits limits;
	struct job_restart restart;
	struct job_stop	 stop;
	char	       **after;		/* nafter job names */
	size_t		 nafter;
	int		 start;		/* default 1 */
	struct job_ready ready;
	uint32_t	 watchdog_ms;	/* WATCHDOG=1 at least this often; 0 */
	/* Rarely given, and every job's spec stays in memory while the job
	 * exists: out of line, NULL when absent. */
	struct job_health *health;	/* NULL: no "health" */
	struct job_schedule *schedule;	/* NULL: no "schedule" */
	struct job_logs	 logs;		/* output bounds */
	int		 exclusive_cpus; /* 0 = none, else 1..CPULIST_MAX */
	int		 on_drift;	/* enum jobspec_drift; 0: absent */
	int		 runs_keep;	/* runs kept in history; 0 = the config's */
	json_t		*labels;	/* object of strings, or NULL (none) */
	char		*cpus_within;	/* canonical CPU list grants must lie
					   in, or NULL (no bound) */
};

/* An HTTP check's URL taken apart. */
struct jobspec_url {
	char host[64];	/* 127.0.0.1, ::1 (no brackets) or localhost */
	int port;	/* default 80 */
	char path[1024]; /* from the first '/', query included */
};
/*
 * Parse "http://HOST[:PORT]/PATH" with HOST a loopback address (127/8,
 * [::1]) or localhost. Returns 0, or -1 with why.
 */
int jobspec_url_parse(const char *url, struct jobspec_url *u,
    const char **why);

/* Set every field to its default (no allocation). */
void jobspec_init(struct job_spec *spec);

/*
 * Decode and validate a POST /v1/jobs body. Unknown fields, wrong types,
 * out-of-range values, strings containing NUL bytes and names breaking the
 * pattern all fail with SERR_INVALID and err->field set to the path
 * ("argv[3]", "sched.priority", "env.LANG"). On success the caller owns the
 * spec's strings and frees them with jobspec_free(). On failure spec is left
 * freed and re-initialised. Returns 0 or -1.
 */
int jobspec_from_json(const json_t *root, struct job_spec *spec,
    struct serr *err);

/*
 * Same, from text: malformed JSON fails with SERR_INVALID naming the line
 * and column in the message. len bounds the text (need not be NUL-ended).
 */
int jobspec_from_text(const char *text, size_t len, struct job_spec *spec,
    struct serr *err);

/*
 * Encode spec as JSON with every default filled in, in the same shape
 * jobspec_from_json accepts (a round trip is the identity). Caller
 * json_decref()s. NULL only on out-of-memory.
 */
json_t *jobspec_to_json(const struct job_spec *spec);

/* Deep copy; returns 0 or -1 (out of memory). dst must be fresh. */
int jobspec_copy(struct job_spec *dst, const struct job_spec *src);

/* Free what spec owns and re-initialise it. Accepts a NULL spec. */
void jobspec_free(struct job_spec *spec);

/* 1 if name matches [A-Za-z0-9][A-Za-z0-9._-]{0,63} and is not all digits. */
int jobspec_name_valid(const char *name);

/* 1 if key is one of spec's env_secret. */
int jobspec_env_secret(const struct job_spec *spec, const char *key);

/* "fifo" etc.; NULL for out of range. */
const char *jobspec_policy_name(enum jobspec_policy policy);
/* "no", "on-failure", "always". */
const char *jobspec_restart_name(enum jobspec_restart policy);

#endif
