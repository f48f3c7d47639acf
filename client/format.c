/* SPDX-License-Identifier: ISC */
/*
 * Human renderings of the daemon's JSON for schedctl: RFC 3339 times to
 * ages, argv to a shell-quoted line, any value to compact key=value text,
 * and how a job's last run maps to an exit status. Pure functions of their
 * arguments (and the clock); no I/O, and nothing here talks to the daemon.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "client/format.h"
#include "client/schedctl.h"
#include "client/table.h"
#include "proto/util.h"

/* A growing string: the few renderings here are all short. */
struct sbuf {
	char *s;
	size_t len;
	size_t cap;
};

static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

static char *
sbuf_take(struct sbuf *b)
{
	if (b->s == NULL)
		return (xstrdup(""));
	return (b->s);
}

int64_t
fmt_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
fmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

char *
fmt_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s;

	if (ms < 0)
		ms = 0;
	s = ms / 1000;
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return (buf);
}

char *
fmt_age(const char *s, char *buf, size_t len)
{
	int64_t t;

	if (s == NULL || util_time_parse(s, &t) == -1) {
		snprintf(buf, len, "-");
		return (buf);
	}
	/* Whole seconds: "ago" does not need milliseconds. */
	t = (fmt_now_ms() - t) / 1000;
	if (t < 60) {
		snprintf(buf, len, "%llds", (long long)(t < 0 ? 0 : t));
		return (buf);
	}
	return (fmt_duration(t * 1000, buf, len));
}

/* Append s quoted for a POSIX shell if it needs it. */
static void
quote_arg(struct sbuf *b, const char *s)
{
	const char *p;
	int plain = *s != '\0';

	for (p = s; *p != '\0' && plain; p++)
		if (strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_@%+=:,./-",
			*p) == NULL)
			plain = 0;
	if (plain) {
		sbuf_str(b, s);
		return;
	}
	sbuf_str(b, "'");
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			sbuf_str(b, "'\\''");
		else
			sbuf_add(b, p, 1);
	}
	sbuf_str(b, "'");
}

char *
fmt_argv(const json_t *argv)
{
	struct sbuf b = {NULL, 0, 0};
	const json_t *v;
	size_t i;

	if (!json_is_array(argv))
		return (xstrdup("-"));
	json_array_foreach (argv, i, v) {
		if (i > 0)
			sbuf_str(&b, " ");
		quote_arg(&b, json_is_string(v) ? json_string_value(v) : "?");
	}
	return (sbuf_take(&b));
}

static int
needs_json_quotes(const char *s)
{
	if (*s == '\0')
		return (1);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == '"' || *s == '\\' ||
		    *s == 0x7f)
			return (1);
	return (0);
}

static void
value_add(struct sbuf *b, const json_t *v, int nested)
{
	const json_t *e;
	const char *key;
	char *s, num[64];
	size_t i;
	int first;

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (needs_json_quotes(json_string_value(v))) {
			s = json_dumps(v, JSON_ENCODE_ANY);
			sbuf_str(b, s != NULL ? s : "?");
			free(s);
		} else
			sbuf_str(b, json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		sbuf_str(b, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		sbuf_str(b, num);
		break;
	case JSON_TRUE:
		sbuf_str(b, "true");
		break;
	case JSON_FALSE:
		sbuf_str(b, "false");
		break;
	case JSON_NULL:
		sbuf_str(b, "-");
		break;
	case JSON_ARRAY:
		first = 1;
		json_array_foreach (v, i, e) {
			if (json_is_object(e) || json_is_array(e)) {
				/* Not a list of scalars: show it as JSON. */
				s = json_dumps(v, JSON_COMPACT);
				sbuf_str(b, s != NULL ? s : "?");
				free(s);
				return;
			}
		}
		json_array_foreach (v, i, e) {
			if (!first)
				sbuf_str(b, ",");
			first = 0;
			value_add(b, e, 1);
		}
		if (first)
			sbuf_str(b, "-");
		break;
	case JSON_OBJECT:
		if (nested) {
			s = json_dumps(v, JSON_COMPACT);
			sbuf_str(b, s != NULL ? s : "?");
			free(s);
			break;
		}
		first = 1;
		json_object_foreach ((json_t *)v, key, e) {
			if (json_is_null(e))
				continue;
			if (!first)
				sbuf_str(b, " ");
			first = 0;
			sbuf_str(b, key);
			sbuf_str(b, "=");
			value_add(b, e, 1);
		}
		if (first)
			sbuf_str(b, "-");
		break;
	}
}

char *
fmt_value(const json_t *v)
{
	struct sbuf b = {NULL, 0, 0};

	if (v == NULL)
		return (xstrdup("-"));
	value_add(&b, v, 0);
	return (sbuf_take(&b));
}

const char *
fmt_str(const json_t *obj, const char *key)
{
	return (json_string_value(json_object_get(obj, key)));
}

int
fmt_int(const json_t *obj, const char *key, long long *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return (0);
	*out = json_integer_value(v);
	return (1);
}

int
fmt_state_active(const char *state)
{
	static const char *const active[] = {"queued", "starting", "running",
	    "paused", "stopping", "backoff", NULL};
	size_t i;

	if (state == NULL)
		return (0);
	for (i = 0; active[i] != NULL; i++)
		if (strcmp(state, active[i]) == 0)
			return (1);
	return (0);
}

int
fmt_run_status(const json_t *job, char *buf, size_t len, int *ended)
{
	const json_t *run = json_object_get(job, "last_run");
	const char *error, *sig, *state;
	long long code;
	char *clean;
	int signo;

	*ended = 0;
	state = fmt_str(job, "state");
	if (!json_is_object(run)) {
		snprintf(buf, len, "has not run (%s)",
		    state != NULL ? state : "unknown state");
		return (CTL_EXIT_ERROR);
	}
	if ((error = fmt_str(run, "error")) != NULL) {
		clean = table_sanitize(error, NULL);
		snprintf(buf, len, "failed: %s", clean);
		free(clean);
		return (CTL_EXIT_ERROR);
	}
	if ((sig = fmt_str(run, "signal")) != NULL) {
		signo = util_signal_parse(sig);
		*ended = 1;
		snprintf(buf, len, "killed by %s%s%s", sig,
		    json_is_true(json_object_get(run, "core_dumped"))
			? " (core dumped)"
			: "",
		    json_is_true(json_object_get(run, "oom_killed"))
			? " (out of memory)"
			: "");
		return (signo > 0 ? 128 + signo : CTL_EXIT_ERROR);
	}
	if (fmt_int(run, "exit_code", &code)) {
		snprintf(buf, len, "exited with code %lld", code);
		*ended = 1;
		/* The kernel gives 0..255; anything else is not an exit status.
		 */
		return (code >= 0 && code <= 255 ? (int)code : CTL_EXIT_ERROR);
	}
	snprintf(buf, len, "has not ended (%s)",
	    state != NULL ? state : "unknown state");
	return (CTL_EXIT_ERROR);
}

char *
fmt_proc_cmd(const json_t *proc)
{
	const json_t *argv = json_object_get(proc, "argv");
	const char *comm;
	size_t len;
	char *cmd;

	if (json_is_array(argv) && json_array_size(argv) > 0)
		return (fmt_argv(argv));
	comm = fmt_str(proc, "comm");
	len = (comm != NULL ? strlen(comm) : 1) + 3;
	cmd = xmalloc(len);
	snprintf(cmd, len, "[%s]", comm != NULL ? comm : "?");
	return (cmd);
}
