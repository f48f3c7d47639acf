/* SPDX-License-Identifier: ISC */
/*
 * schedctl ps: the jobs as a table (GET /v1/jobs, with ?usage=true when a
 * column needs it), the columns chosen with -o. --json prints the very
 * same rows as objects, typed, so that a script reads what a person sees.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/format.h"
#include "client/jobcols.h"
#include "client/schedctl.h"
#include "client/table.h"

static int cmd_ps_exec(struct schedctl *, struct args *);

static const struct option ps_longopts[] = {
    {"all", no_argument, NULL, 'a'},
    {"output", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

const struct cmd_entry cmd_ps_entry = {
    .name = "ps",
    .usage = "[-a] [-o COLUMN,...]",
    .summary = "list active and scheduled jobs, or all with -a (GET /v1/jobs)",
    .help =
	"  -a, --all            also list created, exited, stopped and failed jobs\n"
	"  -o, --output COLS    these columns, comma-separated, in this order:\n"
	"                       id name owner state pid cpus policy cpu mem\n"
	"                       runq restarts age next status command (default:\n"
	"                       all but runq; next and status only when a\n"
	"                       listed job has a next start or a STATUS= text)\n",
    .notes =
	"CPU% is the run's CPU time over its age, as ps(1) computes it; MEM is\n"
	"the memory charged to the job's cgroup (RSS and page cache); RUNQ is\n"
	"the time its live processes waited for a CPU, in ms. Text too wide for\n"
	"the terminal ends in an ellipsis. With --json: {\"jobs\": [rows]}, each\n"
	"row an object with the same columns (cpu a number, mem bytes, runq ms,\n"
	"age seconds, command the argv; null where the table shows \"-\").\n",
    .optstring = "ao:",
    .longopts = ps_longopts,
    .min_args = 0,
    .max_args = 0,
    .exec = cmd_ps_exec,
};

/* ps lists active jobs, and scheduled ones (armed); -a lists all. */
static int
ps_listed(const json_t *job, int all)
{
	const json_t *sc = json_object_get(job, "schedule");

	return (all || fmt_state_active(fmt_str(job, "state")) ||
		(sc != NULL && !json_is_null(sc)));
}

static int
cmd_ps_exec(struct schedctl *ctl, struct args *args)
{
	const char *list = args_get(args, 'o'), *bad, *headers[JC_NCOLS];
	enum jobcol cols[JC_NCOLS];
	char *cells[JC_NCOLS];
	int flags[JC_NCOLS];
	json_t *root = NULL, *jobs, *job, *rows, *row;
	struct table *t;
	size_t i;
	int rc, n, c, k, all = args_has(args, 'a') > 0;
	int with_next = 0, with_status = 0, with_labels = 0;

	if ((n = jobcols_parse(list != NULL ? list : JOBCOLS_PS, cols, &bad)) ==
	    -1)
		return (ctl_usage_error(ctl,
		    "-o: unknown column '%.*s' (id name owner state pid cpus "
		    "policy cpu mem runq restarts age next status labels "
		    "command)",
		    (int)strcspn(bad, ","), bad));
	if ((rc = ctl_call(ctl, "GET",
		 jobcols_need_usage(cols, n) ? "/v1/jobs?usage=true"
					     : "/v1/jobs",
		 NULL, CTL_TIMEOUT_MS, &root)) != CTL_EXIT_OK)
		return (rc);
	jobs = json_object_get(root, "jobs");
	if (!json_is_array(jobs)) {
		ctl_warnx("the daemon's answer has no job list");
		json_decref(root);
		return (CTL_EXIT_ERROR);
	}
	/* Without -o, NEXT, STATUS and LABELS only when some listed job
	 * has one. */
	if (list == NULL) {
		json_array_foreach (jobs, i, job) {
			if (!ps_listed(job, all))
				continue;
			with_next |= fmt_str(job, "next_start_at") != NULL;
			with_status |= fmt_str(job, "status_text") != NULL;
			with_labels |= json_object_size(
					   json_object_get(job, "labels")) > 0;
		}
		for (c = k = 0; c < n; c++)
			if ((cols[c] != JC_NEXT || with_next) &&
			    (cols[c] != JC_STATUS || with_status) &&
			    (cols[c] != JC_LABELS || with_labels))
				cols[k++] = cols[c];
		n = k;
	}
	for (c = 0; c < n; c++) {
		headers[c] = jobcol_defs[cols[c]].header;
		flags[c] = jobcol_defs[cols[c]].flags;
	}
	t = table_new((size_t)n, headers, flags);
	rows = json_array();
	json_array_foreach (jobs, i, job) {
		if (!ps_listed(job, all))
			continue;
		jobcols_row(job, cols, n, -1, cells, &row);
		table_add(t, (const char *const *)cells);
		json_array_append_new(rows, row);
		for (c = 0; c < n; c++)
			free(cells[c]);
	}
	if (ctl->json) {
		row = json_pack("{s:o}", "jobs", rows);
		rc = ctl_print_json(row);
		json_decref(row);
	} else {
		table_print(t, stdout, ctl_term_width());
		json_decref(rows);
		rc = CTL_EXIT_OK;
	}
	table_free(t);
	json_decref(root);
	return (rc);
}
