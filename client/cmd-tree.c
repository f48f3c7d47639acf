/* SPDX-License-Identifier: ISC */
/*
 * schedctl tree: the live processes of a job (GET /v1/jobs/{job}/processes)
 * drawn as a tree by parent pid, ps f style. What the daemon lists is taken
 * as it is: a process whose parent is not in the list is a root, and a
 * cycle in bad data can never make the walk loop.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/format.h"
#include "client/schedctl.h"
#include "client/table.h"

static int cmd_tree_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_tree_entry = {
    .name = "tree",
    .usage = "JOB",
    .summary = "show the live process tree of a job",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_tree_exec,
};

#define TREE_COLS 9

struct proc {
	const json_t *obj;
	long long pid;
	long long ppid;
	int seen;
};

static int
proc_cmp(const void *a, const void *b)
{
	const struct proc *pa = a, *pb = b;

	return (pa->pid < pb->pid ? -1 : pa->pid > pb->pid);
}

static void
size_text(long long kb, char *buf, size_t len)
{
	if (kb < 0)
		snprintf(buf, len, "-");
	else if (kb < 1024)
		snprintf(buf, len, "%lldK", kb);
	else if (kb < 1024 * 1024)
		snprintf(buf, len, "%.1fM", (double)kb / 1024.0);
	else
		snprintf(buf, len, "%.1fG", (double)kb / (1024.0 * 1024.0));
}

static void
proc_row(struct table *t, const struct proc *p, int depth)
{
	const json_t *o = p->obj;
	const char *cells[TREE_COLS], *policy;
	char pid[32], ppid[32], pol[64], nice[16], rss[32], cpu[32];
	char *cmd, *line;
	long long n, u, s;
	size_t len;
	int indent;

	snprintf(pid, sizeof(pid), "%lld", p->pid);
	snprintf(ppid, sizeof(ppid), "%lld", p->ppid);
	policy = fmt_str(o, "policy");
	if (fmt_int(o, "priority", &n) && n > 0 &&
	    (policy != NULL &&
		(strcmp(policy, "fifo") == 0 || strcmp(policy, "rr") == 0)))
		snprintf(pol, sizeof(pol), "%s:%lld", policy, n);
	else
		snprintf(pol, sizeof(pol), "%s", policy != NULL ? policy : "-");
	if (fmt_int(o, "nice", &n))
		snprintf(nice, sizeof(nice), "%lld", n);
	else
		snprintf(nice, sizeof(nice), "-");
	size_text(fmt_int(o, "rss_kb", &n) ? n : -1, rss, sizeof(rss));
	if (fmt_int(o, "user_cpu_ms", &u) && fmt_int(o, "system_cpu_ms", &s))
		fmt_duration(u + s, cpu, sizeof(cpu));
	else
		snprintf(cpu, sizeof(cpu), "-");

	cmd = fmt_proc_cmd(o);
	indent = depth > 0 ? 2 * (depth - 1) + 3 : 0;
	len = strlen(cmd) + (size_t)indent + 1;
	line = xmalloc(len);
	snprintf(line, len, "%*s%s%s", depth > 0 ? 2 * (depth - 1) : 0, "",
	    depth > 0 ? "\\_ " : "", cmd);
	free(cmd);

	cells[0] = pid;
	cells[1] = ppid;
	cells[2] = fmt_str(o, "state");
	cells[3] = pol;
	cells[4] = nice;
	cells[5] = fmt_str(o, "cpus_allowed");
	cells[6] = rss;
	cells[7] = cpu;
	cells[8] = line;
	table_add(t, cells);
	free(line);
}

/* Depth-first from procs[i]; seen marks keep bad data from looping. */
static void
tree_walk(struct table *t, struct proc *procs, size_t n, size_t i, int depth)
{
	size_t j;

	procs[i].seen = 1;
	proc_row(t, &procs[i], depth);
	for (j = 0; j < n; j++)
		if (!procs[j].seen && procs[j].ppid == procs[i].pid)
			tree_walk(t, procs, n, j, depth + 1);
}

static int
cmd_tree_exec(struct schedctl *ctl, struct args *args)
{
	static const char *const headers[TREE_COLS] = {"PID", "PPID", "S",
	    "POLICY", "NI", "CPUS", "RSS", "TIME", "COMMAND"};
	static const int flags[TREE_COLS] = {TABLE_RIGHT, TABLE_RIGHT, 0, 0,
	    TABLE_RIGHT, 0, TABLE_RIGHT, TABLE_RIGHT, TABLE_FLEX};
	char path[CTL_PATH_MAX];
	json_t *root = NULL, *list, *o;
	struct proc *procs;
	struct table *t;
	size_t i, j, n = 0;
	int rc, orphan;

	if (ctl_job_path(
		ctl, path, sizeof(path), args->argv[0], "/processes") == -1)
		return (CTL_EXIT_USAGE);
	if ((rc = ctl_call(ctl, "GET", path, NULL, CTL_TIMEOUT_MS, &root)) !=
	    CTL_EXIT_OK)
		return (rc);
	list = json_object_get(root, "processes");
	if (!json_is_array(list)) {
		ctl_warnx("the daemon's answer has no process list");
		json_decref(root);
		return (CTL_EXIT_ERROR);
	}
	if (ctl->json) {
		rc = ctl_print_json(root);
		json_decref(root);
		return (rc);
	}

	procs = xcalloc(json_array_size(list), sizeof(*procs));
	json_array_foreach (list, i, o) {
		if (!fmt_int(o, "pid", &procs[n].pid))
			continue;
		if (!fmt_int(o, "ppid", &procs[n].ppid))
			procs[n].ppid = 0;
		procs[n].obj = o;
		n++;
	}
	qsort(procs, n, sizeof(*procs), proc_cmp);
	t = table_new(TREE_COLS, headers, flags);
	/* Roots: parent outside the job (or itself). Then anything left. */
	for (i = 0; i < n; i++) {
		orphan = 1;
		for (j = 0; j < n && orphan; j++)
			if (j != i && procs[j].pid == procs[i].ppid)
				orphan = 0;
		if (orphan && !procs[i].seen)
			tree_walk(t, procs, n, i, 0);
	}
	for (i = 0; i < n; i++)
		if (!procs[i].seen)
			tree_walk(t, procs, n, i, 0);
	table_print(t, stdout, ctl_term_width());
	if (json_is_true(json_object_get(root, "truncated")))
		ctl_warnx("%zu processes shown; the job has more than the "
			  "daemon lists",
		    n);
	table_free(t);
	free(procs);
	json_decref(root);
	return (CTL_EXIT_OK);
}
