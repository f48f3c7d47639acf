/* SPDX-License-Identifier: ISC */
/*
 * schedctl's daemon-wide commands: health, cpus and reload. health has a
 * one-line rendering; cpus and reload answers are printed by a generic
 * renderer (key: value lines, arrays of objects as tables), so that they
 * stay readable as the daemon's answers grow fields.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/format.h"
#include "client/schedctl.h"
#include "client/table.h"

#define RENDER_DEPTH_MAX 8

static int cmd_health_exec(struct schedctl *, struct args *);
static int cmd_cpus_exec(struct schedctl *, struct args *);
static int cmd_reload_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_health_entry = {
    .name = "health",
    .usage = "",
    .summary = "check that the daemon answers (GET /v1/health)",
    .optstring = "",
    .min_args = 0,
    .max_args = 0,
    .exec = cmd_health_exec,
};

const struct cmd_entry cmd_cpus_entry = {
    .name = "cpus",
    .usage = "",
    .summary = "show the CPU topology and who holds which CPU",
    .optstring = "",
    .min_args = 0,
    .max_args = 0,
    .exec = cmd_cpus_exec,
};

const struct cmd_entry cmd_reload_entry = {
    .name = "reload",
    .usage = "",
    .summary = "re-read the job files, as SIGHUP does",
    .optstring = "",
    .min_args = 0,
    .max_args = 0,
    .exec = cmd_reload_exec,
};

static int
cmd_health_exec(struct schedctl *ctl, struct args *args)
{
	json_t *root = NULL;
	const char *status, *version;
	char up[32], *clean;
	long long ms, jobs, lag, lag_max;
	int rc;

	(void)args;
	if ((rc = ctl_call(ctl, "GET", "/v1/health", NULL, CTL_TIMEOUT_MS,
		 &root)) != CTL_EXIT_OK)
		return (rc);
	if (ctl->json) {
		rc = ctl_print_json(root);
		json_decref(root);
		return (rc);
	}
	status = fmt_str(root, "status");
	version = fmt_str(root, "version");
	clean = table_sanitize(status != NULL ? status : "unknown", NULL);
	fputs(clean, stdout);
	free(clean);
	if (version != NULL) {
		clean = table_sanitize(version, NULL);
		printf(", version %s", clean);
		free(clean);
	}
	if (fmt_int(root, "uptime_ms", &ms))
		printf(", up %s", fmt_duration(ms, up, sizeof(up)));
	if (fmt_int(root, "jobs", &jobs))
		printf(", %lld job%s", jobs, jobs == 1 ? "" : "s");
	if (fmt_int(root, "loop_lag_ms", &lag) &&
	    fmt_int(root, "loop_lag_max_ms", &lag_max))
		printf(
		    ", loop lag %lld ms (%lld ms at most in the last minute)",
		    lag, lag_max);
	fputc('\n', stdout);
	rc = status != NULL && strcmp(status, "ok") == 0 ? CTL_EXIT_OK
							 : CTL_EXIT_ERROR;
	json_decref(root);
	return (rc);
}

static int render(const char *key, const json_t *v, int depth);

/* An array whose elements are all objects: one table, columns by key. */
static int
render_table(const json_t *array, int depth)
{
	struct table *t;
	const char **headers, **cells, *key;
	char **texts;
	const json_t *o, *v;
	size_t ncols = 0, i, c;

	o = json_array_get(array, 0);
	headers = xcalloc(json_object_size(o), sizeof(*headers));
	json_object_foreach ((json_t *)o, key, v)
		headers[ncols++] = key;
	t = table_new(ncols, headers, NULL);
	cells = xcalloc(ncols, sizeof(*cells));
	texts = xcalloc(ncols, sizeof(*texts));
	json_array_foreach (array, i, o) {
		for (c = 0; c < ncols; c++) {
			v = json_object_get(o, headers[c]);
			texts[c] = fmt_value(v);
			cells[c] = texts[c];
		}
		table_add(t, cells);
		for (c = 0; c < ncols; c++)
			free(texts[c]);
	}
	(void)depth;
	table_print(t, stdout, 0);
	table_free(t);
	free(texts);
	free(cells);
	free(headers);
	return (0);
}

static int
is_object_array(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return (0);
	json_array_foreach (v, i, e) {
		if (!json_is_object(e))
			return (0);
	}
	return (json_object_size(json_array_get(v, 0)) > 0);
}

/* key: value, nested objects indented, arrays of objects as tables. */
static int
render(const char *key, const json_t *v, int depth)
{
	const json_t *m;
	const char *k;
	char *text, *clean;
	int indent = depth > 0 ? 2 * (depth - 1) : 0;

	if (json_is_object(v) && depth < RENDER_DEPTH_MAX) {
		if (key != NULL)
			printf("%*s%s:\n", indent, "", key);
		json_object_foreach ((json_t *)v, k, m)
			render(k, m, depth + 1);
		return (0);
	}
	if (is_object_array(v) && depth < RENDER_DEPTH_MAX) {
		if (key != NULL)
			printf("%*s%s:\n", indent, "", key);
		return (render_table(v, depth));
	}
	text = fmt_value(v);
	clean = table_sanitize(text, NULL);
	if (key != NULL)
		printf("%*s%s: ", indent, "", key);
	fputs(clean, stdout);
	fputc('\n', stdout);
	free(clean);
	free(text);
	return (0);
}

static int
show_generic(struct schedctl *ctl, const char *method, const char *path)
{
	json_t *root = NULL;
	int rc;

	if ((rc = ctl_call(ctl, method, path, NULL, CTL_TIMEOUT_MS, &root)) !=
	    CTL_EXIT_OK)
		return (rc);
	if (root == NULL)
		return (CTL_EXIT_OK);
	if (ctl->json)
		rc = ctl_print_json(root);
	else
		render(NULL, root, 0);
	json_decref(root);
	return (rc);
}

static int
cmd_cpus_exec(struct schedctl *ctl, struct args *args)
{
	(void)args;
	return (show_generic(ctl, "GET", "/v1/cpus"));
}

static int
cmd_reload_exec(struct schedctl *ctl, struct args *args)
{
	(void)args;
	return (show_generic(ctl, "POST", "/v1/reload"));
}
