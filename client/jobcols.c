/* SPDX-License-Identifier: ISC */
/*
 * Job rows for ps and top: the column table and the one rendering of a job
 * object into text cells and a typed JSON object side by side. It reads
 * only the daemon's job object (with "usage" when asked for) and never
 * prints.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "client/format.h"
#include "client/jobcols.h"
#include "client/schedctl.h"
#include "proto/util.h"
#include "client/table.h"

const struct jobcol_def jobcol_defs[JC_NCOLS] = {
    [JC_ID] = {"id", "ID", TABLE_RIGHT, 0},
    [JC_NAME] = {"name", "NAME", 0, 0},
    [JC_OWNER] = {"owner", "OWNER", 0, 0},
    [JC_STATE] = {"state", "STATE", 0, 0},
    [JC_PID] = {"pid", "PID", TABLE_RIGHT, 0},
    [JC_CPUS] = {"cpus", "CPUS", 0, 0},
    [JC_POLICY] = {"policy", "POLICY", 0, 0},
    [JC_CPU] = {"cpu", "CPU%", TABLE_RIGHT, 1},
    [JC_MEM] = {"mem", "MEM", TABLE_RIGHT, 1},
    [JC_RUNQ] = {"runq", "RUNQ", TABLE_RIGHT, 1},
    [JC_RESTARTS] = {"restarts", "RESTARTS", TABLE_RIGHT, 0},
    [JC_AGE] = {"age", "AGE", TABLE_RIGHT, 0},
    [JC_NEXT] = {"next", "NEXT", TABLE_RIGHT, 0},
    [JC_STATUS] = {"status", "STATUS", 0, 0},
    [JC_LABELS] = {"labels", "LABELS", 0, 0},
    [JC_COMMAND] = {"command", "COMMAND", TABLE_FLEX, 0},
};

int
jobcols_parse(const char *list, enum jobcol *cols, const char **bad)
{
	const char *p = list, *e;
	size_t len;
	int n = 0, c;

	*bad = list;
	for (;;) {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (c = 0; c < JC_NCOLS; c++)
			if (strlen(jobcol_defs[c].name) == len &&
			    strncasecmp(jobcol_defs[c].name, p, len) == 0)
				break;
		if (c == JC_NCOLS || n == JC_NCOLS) {
			*bad = p;
			return (-1);
		}
		cols[n++] = (enum jobcol)c;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return (n);
}

int
jobcols_need_usage(const enum jobcol *cols, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (jobcol_defs[cols[i]].usage)
			return (1);
	return (0);
}

void
jobcols_bytes(long long b, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	double v = (double)b;
	char *dot;
	int u = -1;

	if (b < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (b < 1024) {
		snprintf(buf, len, "%lldB", b);
		return;
	}
	while (v >= 1024.0 && u < 3) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f%c", v, units[u]);
	if ((dot = strstr(buf, ".0")) != NULL && dot[2] == units[u])
		memmove(dot, dot + 2, strlen(dot + 2) + 1);
}

/* CPU time of the run over its age, for a run that has not ended. */
static double
run_cpu_pct(const json_t *job)
{
	const json_t *run = json_object_get(job, "last_run");
	long long cpu;
	int64_t t, el;

	if (!fmt_int(json_object_get(job, "usage"), "cpu_ms", &cpu) ||
	    fmt_str(run, "exited_at") != NULL ||
	    fmt_str(run, "started_at") == NULL ||
	    util_time_parse(fmt_str(run, "started_at"), &t) == -1)
		return (-1);
	if ((el = fmt_now_ms() - t) <= 0)
		return (-1);
	return ((double)cpu * 100.0 / (double)el);
}

/* "k=v,k=v" sorted by key (jansson keeps insertion order); the count. */
static int
labels_text(const json_t *labels, char *buf, size_t len)
{
	const char *keys[64], *key, *t;
	json_t *v;
	size_t n = 0, i, j, at = 0;
	int w;

	buf[0] = '\0';
	if (!json_is_object(labels))
		return (0);
	json_object_foreach ((json_t *)labels, key, v) {
		if (n == sizeof(keys) / sizeof(keys[0]))
			break;
		keys[n++] = key;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			t = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	for (i = 0; i < n && at < len; i++) {
		t = fmt_str(labels, keys[i]);
		w = snprintf(buf + at, len - at, "%s%s=%s", i > 0 ? "," : "",
		    keys[i], t != NULL ? t : "");
		if (w < 0)
			break;
		at += (size_t)w;
	}
	return ((int)n);
}

void
jobcols_row(const json_t *job, const enum jobcol *cols, int n, double cpu_pct,
    char **cells, json_t **obj)
{
	const json_t *sched = json_object_get(job, "sched"), *u, *run;
	const char *s, *when;
	char buf[128];
	long long v;
	int64_t t;
	json_t *o = json_object(), *jv;
	int i;

	u = json_object_get(job, "usage");
	run = json_object_get(job, "last_run");
	for (i = 0; i < n; i++) {
		jv = NULL;
		buf[0] = '\0';
		switch (cols[i]) {
		case JC_ID:
			if (fmt_int(job, "id", &v)) {
				snprintf(buf, sizeof(buf), "%lld", v);
				jv = json_integer(v);
			}
			break;
		case JC_NAME:
		case JC_STATE:
			s = fmt_str(job, cols[i] == JC_NAME ? "name" : "state");
			if (s != NULL) {
				snprintf(buf, sizeof(buf), "%s", s);
				jv = json_string(s);
			}
			break;
		case JC_OWNER:
			if ((s = fmt_str(json_object_get(job, "owner"),
				 "user")) != NULL) {
				snprintf(buf, sizeof(buf), "%s", s);
				jv = json_string(s);
			}
			break;
		case JC_PID:
			if (fmt_int(job, "pid", &v)) {
				snprintf(buf, sizeof(buf), "%lld", v);
				jv = json_integer(v);
			}
			break;
		case JC_CPUS:
			if ((s = fmt_str(job, "cpus_effective")) != NULL ||
			    (s = fmt_str(job, "cpus")) != NULL)
				snprintf(buf, sizeof(buf), "%s", s);
			else if (fmt_int(job, "exclusive_cpus", &v) && v > 0)
				snprintf(buf, sizeof(buf), "%lld excl", v);
			if (buf[0] != '\0')
				jv = json_string(buf);
			break;
		case JC_POLICY:
			s = fmt_str(sched, "policy");
			if (fmt_int(sched, "priority", &v) && v != 0)
				snprintf(buf, sizeof(buf), "%s:%lld",
				    s != NULL ? s : "other", v);
			else
				snprintf(buf, sizeof(buf), "%s",
				    s != NULL ? s : "other");
			jv = json_string(buf);
			break;
		case JC_CPU: {
			double pct = cpu_pct >= 0 ? cpu_pct : run_cpu_pct(job);

			if (pct >= 0) {
				snprintf(buf, sizeof(buf), "%.1f", pct);
				jv = json_real(pct);
			}
			break;
		}
		case JC_MEM:
			if (fmt_int(u, "memory_current", &v) && v >= 0) {
				jobcols_bytes(v, buf, sizeof(buf));
				jv = json_integer(v);
			}
			break;
		case JC_RUNQ:
			if (fmt_int(u, "runq_delay_us", &v) && v >= 0) {
				snprintf(buf, sizeof(buf), "%.1f",
				    (double)v / 1000.0);
				jv = json_real((double)v / 1000.0);
			}
			break;
		case JC_RESTARTS:
			if (fmt_int(job, "restarts", &v)) {
				snprintf(buf, sizeof(buf), "%lld", v);
				jv = json_integer(v);
			}
			break;
		case JC_AGE:
			when = fmt_str(run, "started_at") != NULL
				   ? fmt_str(run, "started_at")
				   : fmt_str(job, "created_at");
			if (when != NULL && util_time_parse(when, &t) == 0) {
				fmt_age(when, buf, sizeof(buf));
				jv = json_integer((fmt_now_ms() - t) / 1000);
			}
			break;
		case JC_NEXT:
			if ((when = fmt_str(job, "next_start_at")) != NULL &&
			    util_time_parse(when, &t) == 0) {
				char d[48];

				snprintf(buf, sizeof(buf), "in %s",
				    fmt_duration(
					t > fmt_now_ms() ? t - fmt_now_ms() : 0,
					d, sizeof(d)));
				jv = json_string(when);
			}
			break;
		case JC_STATUS:
			if ((s = fmt_str(job, "status_text")) != NULL) {
				snprintf(buf, sizeof(buf), "%s", s);
				jv = json_string(s);
			}
			break;
		case JC_LABELS:
			if (labels_text(json_object_get(job, "labels"), buf,
				sizeof(buf)) > 0)
				jv = json_deep_copy(
				    json_object_get(job, "labels"));
			break;
		case JC_COMMAND:
			/* Another user's job: its argv is not ours to see. */
			if (json_is_null(json_object_get(job, "argv"))) {
				cells[i] = xstrdup("(hidden)");
				json_object_set_new(o, "command", json_null());
				continue;
			}
			cells[i] = fmt_argv(json_object_get(job, "argv"));
			json_object_set_new(o, "command",
			    json_incref(json_object_get(job, "argv")));
			continue;
		case JC_NCOLS:
			break;
		}
		cells[i] = xstrdup(buf[0] != '\0' ? buf : "-");
		json_object_set_new(o, jobcol_defs[cols[i]].name,
		    jv != NULL ? jv : json_null());
	}
	*obj = o;
}
