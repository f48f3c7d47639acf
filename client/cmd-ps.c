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
	"                       runq restarts age next status labels command,\n"
	"                       and label.KEY for one label's value (default:\n"
	"                       all but runq; next, status and labels only when\n"
	"                       a listed job has a next start, a STATUS= text\n"
	"                       or labels)\n",
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

/*
 * -o label.KEY: one label's value as a column. The list given to
 * jobcols_parse has "labels" in its place (the column that reads them);
 * keys[i] is KEY for the i-th column so made, else NULL. Returns the new
 * list (caller frees).
 */
static char *
ps_label_cols(const char *list, const char **keys, char *keybuf, size_t len)
{
	const char *p = list, *e;
	size_t cap = strlen(list) + 16, at = 0, kat = 0, n;
	char *out = xmalloc(cap);
	int i = 0;

	out[0] = '\0';
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (i < JC_NCOLS)
			keys[i] = NULL;
		if (n > 6 && strncmp(p, "label.", 6) == 0 && i < JC_NCOLS &&
		    kat + n - 6 + 1 <= len) {
			memcpy(keybuf + kat, p + 6, n - 6);
			keybuf[kat + n - 6] = '\0';
			keys[i] = keybuf + kat;
			kat += n - 6 + 1;
			/* "labels" is shorter than "label.KEY". */
			at += (size_t)snprintf(
			    out + at, cap - at, "%slabels", at > 0 ? "," : "");
		} else
			at += (size_t)snprintf(out + at, cap - at, "%s%.*s",
			    at > 0 ? "," : "", (int)n, p);
		i++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return (out);
}

/* The label.KEY cells of a row: the value, or "-" (null in JSON). */
static void
ps_label_cells(const json_t *job, const char **keys, int n, char **cells,
    json_t *row, int labels_col)
{
	const char *v;
	char name[80];
	int c;

	for (c = 0; c < n; c++) {
		if (keys[c] == NULL)
			continue;
		v = fmt_str(json_object_get(job, "labels"), keys[c]);
		free(cells[c]);
		cells[c] = table_sanitize(v != NULL ? v : "-", NULL);
		snprintf(name, sizeof(name), "label.%s", keys[c]);
		json_object_set_new(
		    row, name, v != NULL ? json_string(v) : json_null());
	}
	/* The labels object only when asked for as a column. */
	if (!labels_col)
		json_object_del(row, "labels");
}

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
	const char *keys[JC_NCOLS];
	enum jobcol cols[JC_NCOLS];
	char *cells[JC_NCOLS], *given = NULL, keybuf[1024], hdr[JC_NCOLS][64];
	int flags[JC_NCOLS];
	json_t *root = NULL, *jobs, *job, *rows, *row;
	struct table *t;
	size_t i;
	int rc, n, c, k, all = args_has(args, 'a') > 0;
	int with_next = 0, with_status = 0, with_labels = 0, labels_col = 0;
	size_t j;

	memset(keys, 0, sizeof(keys));
	if (list != NULL)
		list = given =
		    ps_label_cols(list, keys, keybuf, sizeof(keybuf));
	if ((n = jobcols_parse(list != NULL ? list : JOBCOLS_PS, cols, &bad)) ==
	    -1) {
		rc = ctl_usage_error(ctl,
		    "-o: unknown column '%.*s' (id name owner state pid cpus "
		    "policy cpu mem runq restarts age next status labels "
		    "command, label.KEY)",
		    (int)strcspn(bad, ","), bad);
		free(given);
		return (rc);
	}
	free(given);
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
		if (keys[c] != NULL) {
			/* The header is the key, upper case. */
			for (j = 0;
			     j < sizeof(hdr[c]) - 1 && keys[c][j] != '\0'; j++)
				hdr[c][j] = (char)(keys[c][j] >= 'a' &&
							   keys[c][j] <= 'z'
						       ? keys[c][j] - 'a' + 'A'
						       : keys[c][j]);
			hdr[c][j] = '\0';
			headers[c] = hdr[c];
			flags[c] = 0;
		} else if (cols[c] == JC_LABELS)
			labels_col = 1;
	}
	t = table_new((size_t)n, headers, flags);
	rows = json_array();
	json_array_foreach (jobs, i, job) {
		if (!ps_listed(job, all))
			continue;
		jobcols_row(job, cols, n, -1, cells, &row);
		ps_label_cells(job, keys, n, cells, row, labels_col);
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
