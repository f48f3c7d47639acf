/* SPDX-License-Identifier: ISC */
/*
 * The columns of a job row, shared by ps and top: one table of columns
 * (name for -o, header, alignment), and one function that turns a job
 * object into both the row's text cells and its JSON object, so that the
 * table and --json can never say different things.
 */
#ifndef SCHEDD_JOBCOLS_H
#define SCHEDD_JOBCOLS_H

#include <stddef.h>

#include <jansson.h>

enum jobcol {
	JC_ID = 0,   /* job id */
	JC_NAME,     /* job name */
	JC_OWNER,    /* owner's user name */
	JC_STATE,    /* job state */
	JC_PID,      /* main process, while it runs */
	JC_CPUS,     /* CPUs in effect, asked for, or "N excl" */
	JC_POLICY,   /* "fifo:50", "other" */
	JC_CPU,      /* CPU %: see jobcols_row */
	JC_MEM,      /* memory charged to the job's cgroup */
	JC_RUNQ,     /* run-queue delay of the live processes, ms */
	JC_RESTARTS, /* automatic restarts */
	JC_AGE,      /* since the last run (or the job) started */
	JC_NEXT,     /* a schedule's next tick, or a restart's in backoff */
	JC_STATUS,   /* what the job said with sd_notify's STATUS= */
	JC_LABELS,   /* labels, KEY=VALUE,... sorted by key */
	JC_COMMAND,  /* argv, "(hidden)" for another user's job */
	JC_NCOLS
};

struct jobcol_def {
	const char *name;   /* for -o and the JSON key */
	const char *header; /* table header */
	int flags;          /* TABLE_* */
	int usage;          /* needs the job's usage (GET ?usage=true) */
};

extern const struct jobcol_def jobcol_defs[JC_NCOLS];

/* The default columns of ps (NEXT, STATUS and LABELS join when a row has
 * one). */
#define JOBCOLS_PS                                                             \
	"id,name,owner,state,pid,cpus,policy,cpu,mem,restarts,age,next,"       \
	"status,labels,command"

/*
 * Parse a comma-separated list of column names (case-insensitive) into
 * cols (at most JC_NCOLS). Returns the count, or -1 with *bad set to the
 * first unknown name (pointing into list).
 */
int jobcols_parse(const char *list, enum jobcol *cols, const char **bad);

/* Does any of cols need usage? */
int jobcols_need_usage(const enum jobcol *cols, int n);

/*
 * One row for job: cells[i] (caller frees each) and, in *obj, a new JSON
 * object with the same columns typed (numbers as numbers, "-" as null).
 * cpu_pct < 0: CPU % is the run's CPU time over its age (as ps); else the
 * value to show (top's figure over its interval).
 */
void jobcols_row(const json_t *job, const enum jobcol *cols, int n,
    double cpu_pct, char **cells, json_t **obj);

/* Text for a number of bytes: 512B, 1.5K, 64M, 1.2G. */
void jobcols_bytes(long long b, char *buf, size_t len);

#endif
