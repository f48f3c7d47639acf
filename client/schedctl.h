/* SPDX-License-Identifier: ISC */
/*
 * What schedctl's command files share: the command descriptor (tmux's
 * cmd_entry), parsed arguments, the one way to talk to the daemon and to
 * report its errors, and the exit codes every command keeps to.
 */
#ifndef SCHEDD_SCHEDCTL_H
#define SCHEDD_SCHEDCTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "client/http.h"

/* Exit codes; wait and run -w pass the job's own status through instead. */
#define CTL_EXIT_OK          0 /* done */
#define CTL_EXIT_ERROR       1 /* the daemon answered an error */
#define CTL_EXIT_USAGE       2 /* bad command line */
#define CTL_EXIT_UNREACHABLE 3 /* no daemon, or the connection broke */
#define CTL_EXIT_NOJOB       4 /* the daemon has no such job */
/* Not an exit code: a request ended because ctl->wake_fd became readable. */
#define CTL_WOKEN (-1)

/* The daemon's default socket: configure's runstatedir (Makefile.am). */
#ifndef SCHEDD_RUNSTATEDIR
#define SCHEDD_RUNSTATEDIR "/run"
#endif
#define CTL_SOCKET_DEFAULT SCHEDD_RUNSTATEDIR "/schedd/schedd.sock"
#define CTL_TIMEOUT_MS     60000 /* default bound on one request */
#define CTL_NO_TIMEOUT     (-1)  /* wait, stop, logs -f, events */
#define CTL_PATH_MAX       2048  /* request paths we build */

/* Values for long options without a short letter start here. */
#define CTL_OPT_LONG 256

struct cmd_entry;

/* One invocation: global options and the command being run. */
struct schedctl {
	const char *socket_path;     /* --socket, $SCHEDD_SOCKET or default */
	const char *host;            /* --host, $SCHEDD_HOST: TCP; NULL */
	char *token;                 /* read from --token-file; NULL */
	int json;                    /* --json: print the daemon's JSON */
	int wake_fd;                 /* > 0: readable ends requests */
	int quiet_unreachable;       /* say nothing of a lost daemon */
	int (*on_wake)(void *);      /* or calls this (http.h) */
	void *wake_arg;
	const struct cmd_entry *cmd; /* the command being run */
};

/* A parsed option, in command-line order. */
struct args_opt {
	int opt;           /* short letter or CTL_OPT_LONG + n */
	const char *value; /* its argument, NULL if it takes none */
};

/* A command's options and operands after parsing. */
struct args {
	struct args_opt *opts;
	int nopts;
	int argc;    /* operands */
	char **argv; /* borrowed from main's argv */
};

/*
 * A command, tmux style. The dispatcher parses optstring/longopts (plus
 * --json and -h/--help for every command), checks the operand count against
 * min_args/max_args and calls exec, which returns the exit status.
 */
struct cmd_entry {
	const char *name;    /* "run" */
	const char *usage;   /* synopsis after the name; "\n" starts another */
	const char *summary; /* one line for "schedctl help" */
	const char *help;    /* option descriptions, or NULL */
	const char *notes;   /* a paragraph after the options, or NULL */
	const char *
	    optstring; /* short options, getopt syntax, no leading '+' or ':' */
	const struct option
	    *longopts; /* NULL or terminated by a zeroed entry */
	int in_order;  /* options end at the first operand (run) */
	int min_args;  /* operands */
	int max_args;  /* -1: no limit */
	int (*exec)(struct schedctl *, struct args *);
};

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_policy_entry;
extern const struct cmd_entry cmd_ps_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_top_entry;
extern const struct cmd_entry cmd_tree_entry;
extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_restart_entry;
extern const struct cmd_entry cmd_pause_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_rm_entry;
extern const struct cmd_entry cmd_kill_entry;
extern const struct cmd_entry cmd_wait_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_events_entry;
extern const struct cmd_entry cmd_cpus_entry;
extern const struct cmd_entry cmd_reload_entry;
extern const struct cmd_entry cmd_health_entry;
extern const struct cmd_entry cmd_plan_entry;

/* run's long options (plan takes the same). */
extern const struct option cmd_run_longopts[];
/*
 * Build a job spec from run's options and operands (or read -f FILE as it
 * is) and POST it to path. Returns the exit status; *answer (caller
 * frees) is the daemon's JSON answer when it is CTL_EXIT_OK.
 */
int cmd_run_request(
    struct schedctl *ctl, struct args *args, const char *path, json_t **answer);

/* Allocation that cannot fail: out of memory prints and exits 1. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);

/* The last value given for opt, or NULL. */
const char *args_get(const struct args *args, int opt);
/* How many times opt was given. */
int args_has(const struct args *args, int opt);

/* "schedctl: " + message on stderr. */
void ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Report a command-line mistake: "schedctl: CMD: message", then the
 * command's usage, on stderr. Returns CTL_EXIT_USAGE.
 */
int ctl_usage_error(struct schedctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parse a base-10 integer option value in [min, max]. On a bad value
 * reports a usage error naming optname and returns -1.
 */
int ctl_parse_number(struct schedctl *ctl, const char *optname, const char *s,
    long long min, long long max, long long *out);

/*
 * Build "/v1/jobs/<job, percent-encoded><suffix>" into buf. Returns 0, or
 * -1 after a usage error if it does not fit.
 */
int ctl_job_path(struct schedctl *ctl, char *buf, size_t len, const char *job,
    const char *suffix);

/*
 * One request with an optional JSON body. On a 2xx answer stores the
 * parsed body in *out (NULL when the answer is empty; caller decrefs) and
 * returns CTL_EXIT_OK. Otherwise prints the daemon's error or the
 * connection's failure and returns CTL_EXIT_ERROR or CTL_EXIT_UNREACHABLE.
 */
int ctl_call(struct schedctl *ctl, const char *method, const char *path,
    const json_t *body, int timeout_ms, json_t **out);

/* As ctl_call, with a body that is already serialised (run -f). */
int ctl_call_raw(struct schedctl *ctl, const char *method, const char *path,
    const char *body, size_t body_len, int timeout_ms, json_t **out);

/*
 * A GET whose 2xx body is handed to cb as it arrives (logs, events).
 * Error answers are printed as by ctl_call. Returns CTL_EXIT_OK when the
 * daemon ended the body, the exit code otherwise; when cb returns -1 the
 * exit status is CTL_EXIT_ERROR and cb has already said why.
 */
int ctl_stream(struct schedctl *ctl, const char *path, int timeout_ms,
    http_data_cb cb, void *arg);

/* Print a daemon answer as pretty JSON (JSON_INDENT(2)) on stdout. */
int ctl_print_json(const json_t *root);

/*
 * Flush stdout. Returns 0 or -1; on -1 the failure has been reported once
 * (silently for EPIPE: the reader went away).
 */
int ctl_flush_out(void);

/* Write raw bytes to stdout after what stdio holds; -1 as ctl_flush_out. */
int ctl_write_out(const char *data, size_t len);

/*
 * GET /v1/jobs/{job}/wait without a timeout, report how the run ended, and
 * return the job's status for wait and run -w (cmd-jobs.c). *lost (when
 * lost is not NULL) says whether the daemon could not be reached or went
 * away, which the status alone cannot: a job may exit 3 too.
 */
int cmd_wait_job(struct schedctl *ctl, const char *job, int *lost);

/*
 * POST /v1/jobs/{job}/stop showing progress on stderr (a terminal): the
 * signal sent, a countdown to SIGKILL, and whether SIGKILL was needed.
 * Returns as ctl_call, with the job's answer in *out (caller decrefs).
 */
int ctl_stop_progress(struct schedctl *ctl, const char *job, json_t **out);

/* Columns of the terminal on stdout, or 0 when stdout is not a terminal. */
int ctl_term_width(void);

#endif
