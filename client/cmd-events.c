/* SPDX-License-Identifier: ISC */
/*
 * schedctl events: follow the daemon's event stream (GET /v1/events,
 * NDJSON) until interrupted. With --json each line is passed on as the
 * daemon wrote it, heartbeats included; otherwise one readable line per
 * event, heartbeats skipped. Lines are reassembled across chunks with a
 * bound, and every line is flushed at once so a pipe sees events live.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/format.h"
#include "client/schedctl.h"
#include "client/table.h"

#define EVENT_LINE_MAX (1u << 20)

enum {
	OPT_SINCE = CTL_OPT_LONG,
};

static const struct option events_longopts[] = {
    {"since", required_argument, NULL, OPT_SINCE},
    {NULL, 0, NULL, 0},
};

static int cmd_events_exec(struct schedctl *, struct args *);

const struct cmd_entry cmd_events_entry = {
    .name = "events",
    .usage = "[--since ID]",
    .summary = "follow the event stream until interrupted",
    .help =
	"  --since ID           first replay every event after ID, then go live\n",
    .notes =
	"Prints TIME ID JOB TYPE DATA per event, heartbeats skipped; with --json\n"
	"the daemon's NDJSON lines pass through as they are, heartbeats included.\n"
	"Runs until interrupted.\n",
    .optstring = "",
    .longopts = events_longopts,
    .min_args = 0,
    .max_args = 0,
    .exec = cmd_events_exec,
};

struct events {
	struct schedctl *ctl;
	char *line;   /* the line being assembled */
	size_t len;   /* bytes in line */
	size_t cap;   /* bytes allocated */
	int skipping; /* the current line was too long: drop to its end */
};

/* Print s without control bytes. */
static void
put_clean(const char *s)
{
	char *clean = table_sanitize(s, NULL);

	fputs(clean, stdout);
	free(clean);
}

static int
event_human(const char *line, size_t len)
{
	json_t *ev, *data;
	json_error_t jerr;
	const char *type, *s;
	char *text;
	long long id;

	if ((ev = json_loadb(line, len, 0, &jerr)) == NULL) {
		ctl_warnx("unreadable event from the daemon: %s", jerr.text);
		return (0);
	}
	type = fmt_str(ev, "type");
	if (type != NULL && strcmp(type, "heartbeat") == 0) {
		json_decref(ev);
		return (0);
	}
	put_clean((s = fmt_str(ev, "time")) != NULL ? s : "-");
	if (fmt_int(ev, "id", &id))
		printf(" %lld ", id);
	else
		fputs(" - ", stdout);
	put_clean((s = fmt_str(ev, "job")) != NULL ? s : "-");
	fputc(' ', stdout);
	put_clean(type != NULL ? type : "-");
	data = json_object_get(ev, "data");
	if (data != NULL && !json_is_null(data) &&
	    !(json_is_object(data) && json_object_size(data) == 0)) {
		text = fmt_value(data);
		fputc(' ', stdout);
		put_clean(text);
		free(text);
	}
	fputc('\n', stdout);
	json_decref(ev);
	return (ctl_flush_out());
}

static int
event_line(struct events *e)
{
	size_t len = e->len;

	if (len > 0 && e->line[len - 1] == '\r')
		len--;
	if (len == 0)
		return (0);
	if (e->ctl->json) {
		fwrite(e->line, 1, len, stdout);
		fputc('\n', stdout);
		return (ctl_flush_out());
	}
	return (event_human(e->line, len));
}

static int
events_data(const char *data, size_t len, void *arg)
{
	struct events *e = arg;
	const char *nl;
	size_t seg;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		seg = nl != NULL ? (size_t)(nl - data) : len;
		if (!e->skipping && seg > EVENT_LINE_MAX - e->len) {
			ctl_warnx("skipping an event line over %u KiB",
			    EVENT_LINE_MAX >> 10);
			e->skipping = 1;
		}
		if (!e->skipping && seg > 0) {
			if (e->len + seg > e->cap) {
				while (e->len + seg > e->cap)
					e->cap =
					    e->cap == 0 ? 4096 : e->cap * 2;
				e->line = xreallocarray(e->line, e->cap, 1);
			}
			memcpy(e->line + e->len, data, seg);
			e->len += seg;
		}
		if (nl == NULL)
			break;
		if (!e->skipping && event_line(e) == -1)
			return (-1);
		e->len = 0;
		e->skipping = 0;
		data = nl + 1;
		len -= seg + 1;
	}
	return (0);
}

static int
cmd_events_exec(struct schedctl *ctl, struct args *args)
{
	struct events e;
	const char *since = args_get(args, OPT_SINCE);
	char path[64];
	long long id;
	int rc;

	if (since != NULL) {
		if (ctl_parse_number(
			ctl, "--since", since, 0, INT64_MAX, &id) == -1)
			return (CTL_EXIT_USAGE);
		snprintf(path, sizeof(path), "/v1/events?since=%lld", id);
	} else
		snprintf(path, sizeof(path), "/v1/events");
	memset(&e, 0, sizeof(e));
	e.ctl = ctl;
	rc = ctl_stream(ctl, path, CTL_NO_TIMEOUT, events_data, &e);
	free(e.line);
	if (rc == CTL_EXIT_OK) {
		/* The stream has no end of its own: the daemon went away. */
		ctl_warnx("the daemon ended the event stream");
		rc = CTL_EXIT_UNREACHABLE;
	}
	return (rc);
}
