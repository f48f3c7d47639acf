/* SPDX-License-Identifier: ISC */
/*
 * GET /v1/events: chunked NDJSON. A subscriber with ?since=ID first replays
 * from the store in pages, each page sent when the previous one has been
 * written, and only then goes live; since the loop is single-threaded,
 * nothing can slip between the last page and the switch, so a reconnecting
 * client sees every event exactly once. A heartbeat line every 15 s keeps
 * idle streams honest. A subscriber that falls behind (its backlog at
 * API_BACKLOG_MAX) gets no more live events: once all is written it
 * catches up from the store, as a replay, so that it costs a bounded
 * amount of memory and still misses nothing; one that takes nothing for
 * the idle timeout is dropped (api-conn.c), and one that falls behind
 * further than the store keeps events is ended, as its ?since= would be
 * refused.
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/log.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define EVENTS_PAGE	   256
#define EVENTS_HEARTBEAT_S 15

struct sub {
	struct api_pending	*pending;
	struct evhttp_request	*req;
	int64_t			 cursor;	/* last id sent */
	int			 replaying;	/* catching up from the store */
	TAILQ_ENTRY(sub)	 entry;
};
TAILQ_HEAD(sub_list, sub);

static struct sub_list	 subs = TAILQ_HEAD_INITIALIZER(subs);
static struct event	*heartbeat_ev;
static struct schedd	*events_sd;

static void sub_replay(struct sub *);

static void
event_line(struct evbuffer *buf, const struct event_rec *ev)
{
	json_t		*o, *data;
	char		 t[32];
	json_error_t	 jerr;
	struct json_out jo;

	data = ev->data != NULL ? json_loads(ev->data, 0, &jerr) : NULL;
	o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:o}",
	    "id", (json_int_t)ev->id,
	    "time", util_time_format(ev->time_ms, t, sizeof(t)),
	    "job", ev->job != NULL ? json_string(ev->job) : json_null(),
	    "job_id", ev->job_id != 0 ? json_integer(ev->job_id) : json_null(),
	    "run", ev->run != 0 ? json_integer(ev->run) : json_null(),
	    "type", ev->type,
	    "data", data != NULL ? data : json_object());
	if (o == NULL)
		return;
	/* json_dumps's bytes, straight into buf. */
	api_out_begin(&jo, buf);
	json_out_value(&jo, o);
	json_out_raw(&jo, "\n", 1);
	json_out_end(&jo);
	json_decref(o);
}

static void
sub_free(struct sub *s)
{
	TAILQ_REMOVE(&subs, s, entry);
	free(s);
}

/* End the stream from our side. */
static void
sub_end(struct sub *s)
{
	struct api_pending *p = s->pending;

	sub_free(s);
	api_stream_end(p);
}

static void
sub_close_cb(struct api_pending *p, void *arg)
{
	(void)p;
	log_debug("event subscriber left");
	sub_free(arg);
}

struct replay_page {
	struct evbuffer	*buf;
	int64_t		 last;
};

static int
replay_cb(void *arg, const struct event_rec *ev)
{
	struct replay_page *pg = arg;

	event_line(pg->buf, ev);
	pg->last = ev->id;
	return (0);
}

static void
sub_replay_written(struct evhttp_connection *evcon, void *arg)
{
	struct sub *s = arg;

	(void)evcon;
	sub_replay(s);
}

static void
sub_replay(struct sub *s)
{
	struct replay_page	pg;
	struct serr		err;
	int64_t			oldest, last;
	int			n;

	/* Pruned while this reader lagged behind: a gap it cannot see. */
	if (supervisor_event_bounds(events_sd->sup, &oldest, &last,
	    &err) == -1 || (oldest > 0 && s->cursor + 1 < oldest)) {
		log_warnx("ending an event stream that fell behind the "
		    "retained events");
		sub_end(s);
		return;
	}
	pg.buf = evbuffer_new();
	pg.last = s->cursor;
	n = supervisor_events_since(events_sd->sup, s->cursor, EVENTS_PAGE,
	    replay_cb, &pg, &err);
	if (n < 0) {
		evbuffer_free(pg.buf);
		sub_end(s);
		return;
	}
	s->cursor = pg.last;
	if (n == EVENTS_PAGE) {
		/* More to come: continue once this page is on its way. */
		evhttp_send_reply_chunk_with_cb(s->req, pg.buf,
		    sub_replay_written, s);
	} else {
		s->replaying = 0;
		if (evbuffer_get_length(pg.buf) > 0)
			evhttp_send_reply_chunk(s->req, pg.buf);
	}
	evbuffer_free(pg.buf);
}

int
api_events(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = { "since", NULL };
	struct sub	*s;
	long long	 since;
	int64_t		 oldest, last;

	if (api_query_check(ctx, params, err) == -1 ||
	    api_query_int(ctx, "since", 0, INT64_MAX, -1, &since, err) == -1 ||
	    supervisor_event_bounds(ctx->sd->sup, &oldest, &last, err) == -1)
		return (-1);
	if (since >= 0 && oldest > 0 && since + 1 < oldest) {
		*out = json_pack("{s:{s:s, s:s, s:s, s:I}}", "error",
		    "code", "cursor_expired",
		    "message", "events before the cursor are no longer retained",
		    "field", "since", "oldest_id", (json_int_t)oldest);
		return (410);
	}
	if (ctx->sd->shutting_down) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		return (-1);
	}
	s = xcalloc(1, sizeof(*s));
	s->req = ctx->req;
	s->cursor = since >= 0 ? since : last;
	s->replaying = since >= 0;
	TAILQ_INSERT_TAIL(&subs, s, entry);
	s->pending = api_pending_new(ctx->req, sub_close_cb, s);
	api_stream_start(ctx->req, "application/x-ndjson");
	if (s->replaying)
		sub_replay(s);
	return (API_DEFERRED);
}

void
api_events_sink(void *arg, const struct event_rec *ev)
{
	struct sub	*s, *ts;
	struct evbuffer	*line, *copy;
	unsigned char	*data;
	size_t		 len;

	(void)arg;
	if (TAILQ_EMPTY(&subs))
		return;
	line = evbuffer_new();
	event_line(line, ev);
	len = evbuffer_get_length(line);
	data = evbuffer_pullup(line, -1);
	TAILQ_FOREACH_SAFE(s, &subs, entry, ts) {
		if (s->replaying || ev->id <= s->cursor)
			continue;
		s->cursor = ev->id;
		/* evhttp drains what it is given: hand each a copy. */
		copy = evbuffer_new();
		evbuffer_add(copy, data, len);
		if (api_stream_full(s->req)) {
			/* Behind: this line is the last live one; once
			 * everything is written, catch up from the store. */
			log_debug("an event subscriber fell behind");
			s->replaying = 1;
			evhttp_send_reply_chunk_with_cb(s->req, copy,
			    sub_replay_written, s);
		} else
			evhttp_send_reply_chunk(s->req, copy);
		evbuffer_free(copy);
	}
	evbuffer_free(line);
}

static void
heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sub	*s, *ts;
	struct evbuffer	*buf;
	char		 t[32];

	(void)fd;
	(void)what;
	(void)arg;
	TAILQ_FOREACH_SAFE(s, &subs, entry, ts) {
		if (s->replaying)
			continue;
		buf = evbuffer_new();
		evbuffer_add_printf(buf,
		    "{\"type\":\"heartbeat\",\"time\":\"%s\"}\n",
		    util_time_format(now_ms(), t, sizeof(t)));
		evhttp_send_reply_chunk(s->req, buf);
		evbuffer_free(buf);
	}
}

void
api_events_init(struct api *api, struct schedd *sd)
{
	struct timeval tv = { EVENTS_HEARTBEAT_S, 0 };

	(void)api;
	events_sd = sd;
	supervisor_set_sink(sd->sup, api_events_sink, NULL);
	heartbeat_ev = event_new(sd->base, -1, EV_PERSIST, heartbeat_cb, NULL);
	event_add(heartbeat_ev, &tv);
}

void
api_events_shutdown(void)
{
	struct sub *s;

	while ((s = TAILQ_FIRST(&subs)) != NULL)
		sub_end(s);
	if (heartbeat_ev != NULL) {
		event_free(heartbeat_ev);
		heartbeat_ev = NULL;
	}
}
