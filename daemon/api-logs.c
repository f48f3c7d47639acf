/* SPDX-License-Identifier: ISC */
/*
 * GET /v1/jobs/{job}/logs: a run's stdout or stderr as text, always as a
 * chunked answer that the client paces. The file is read in steps, each
 * only once the connection's backlog is under API_BACKLOG_MAX (the next
 * when the last chunk has been written), so that a reader who stops
 * reading costs at most that much memory and no file is ever read whole
 * into memory. With tail=N the start is first found by walking back from
 * the end, 1 MiB per loop turn. Without follow the answer ends at the size
 * the file had when the request came; with follow a 100 ms timer looks
 * for more until the run has ended and the file is drained. Files are read
 * by a path that joblog builds from ids (the flat layout, or the old
 * per-job directory for runs written before it), never from anything in
 * the request; the path is picked once, when the request comes, and the
 * stream keeps it.
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"

#define LOGS_TICK_MS   100
#define LOGS_SCAN_STEP (1024 * 1024) /* tail: bytes looked at per turn */

struct logstream {
	struct api_pending *pending;
	struct evhttp_request *req;
	struct schedd *sd;
	struct event *ev; /* the next step, or the tick */
	char path[PATH_MAX];
	char job_ref[32]; /* the job's id */
	int64_t run;
	int64_t offset; /* the next byte to send */
	int64_t end;    /* the file's size at first */
	long tail;      /* > 0: still walking back */
	long lines;     /* newlines met on the walk */
	int follow;
	TAILQ_ENTRY(logstream) entry;
};
TAILQ_HEAD(logstream_list, logstream);

static struct logstream_list streams = TAILQ_HEAD_INITIALIZER(streams);

static void logs_pump(struct logstream *);

static void
logs_free(struct logstream *ls)
{
	TAILQ_REMOVE(&streams, ls, entry);
	event_free(ls->ev);
	free(ls);
}

static void
logs_end(struct logstream *ls)
{
	struct api_pending *p = ls->pending;

	logs_free(ls);
	api_stream_end(p);
}

static void
logs_close_cb(struct api_pending *p, void *arg)
{
	(void)p;
	logs_free(arg);
}

static int
logs_run_over(struct logstream *ls)
{
	struct job *job;

	job = supervisor_job_find(ls->sd->sup, ls->job_ref);
	return (job == NULL || job->run.number != ls->run ||
		job->run.exited_ms != 0);
}

/* The last chunk is written: carry on. */
static void
logs_written(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	logs_pump(arg);
}

static void
logs_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	logs_pump(arg);
}

static void
logs_pump(struct logstream *ls)
{
	struct timeval now = {0, 0}, tick = {0, LOGS_TICK_MS * 1000};
	struct evbuffer *buf;
	size_t want;
	int sent = 0, over = 0, rc;

	if (ls->tail > 0) {
		rc = joblog_tail_step(ls->path, ls->end, ls->tail, &ls->offset,
		    &ls->lines, LOGS_SCAN_STEP);
		if (rc == -1) {
			logs_end(ls);
			return;
		}
		if (rc == 0) {
			/* Let the loop run before the next step. */
			evtimer_add(ls->ev, &now);
			return;
		}
		ls->tail = 0;
	}
	for (;;) {
		/* A chunk with logs_written is on its way: it carries on. */
		if (api_stream_full(ls->req))
			return;
		/* Decide before reading, so that the last bytes are not
		 * missed. */
		if (ls->follow)
			over = logs_run_over(ls);
		want = API_BACKLOG_MAX - api_backlog(ls->req);
		if (!ls->follow && (int64_t)want > ls->end - ls->offset)
			want = (size_t)(ls->end - ls->offset);
		if (want == 0)
			break;
		buf = evbuffer_new();
		ls->offset = joblog_read_from(ls->path, ls->offset, want, buf);
		if (evbuffer_get_length(buf) == 0) {
			evbuffer_free(buf);
			break;
		}
		evhttp_send_reply_chunk_with_cb(ls->req, buf, logs_written, ls);
		evbuffer_free(buf);
		sent = 1;
	}
	/* Caught up. If anything was sent, logs_written looks again. */
	if (sent)
		return;
	if (!ls->follow || over) {
		logs_end(ls);
		return;
	}
	evtimer_add(ls->ev, &tick);
}

int
api_job_logs(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {
	    "stream", "tail", "follow", "run", NULL};
	struct job *job;
	struct logstream *ls;
	const char *stream;
	char path[PATH_MAX];
	enum joblog_stream which = JOBLOG_STDOUT;
	long long tail, run;
	int64_t size;
	int follow;

	(void)out;
	if (api_query_check(ctx, params, err) == -1 ||
	    api_query_int(ctx, "tail", 0, 1000000, -1, &tail, err) == -1 ||
	    (follow = api_query_bool(ctx, "follow", 0, err)) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    api_query_int(
		ctx, "run", 1, INT64_MAX, job->run.number, &run, err) == -1)
		return (-1);
	if ((stream = api_query_get(ctx, "stream")) != NULL) {
		if (strcmp(stream, "stdout") == 0)
			which = JOBLOG_STDOUT;
		else if (strcmp(stream, "stderr") == 0)
			which = JOBLOG_STDERR;
		else {
			serr_set(err, SERR_INVALID, "stream",
			    "must be stdout or stderr");
			return (-1);
		}
	}
	if (run > job->run.number) {
		serr_set(err, SERR_NOT_FOUND, "run", "job %s has no run %lld",
		    job->name, run);
		return (-1);
	}
	path[0] = '\0';
	if (run > 0 &&
	    joblog_path(job->id, run, which, path, sizeof(path)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "log path too long");
		return (-1);
	}
	if ((size = path[0] != '\0' ? joblog_size(path) : 0) < 0) {
		serr_set(err, SERR_INTERNAL, NULL, "cannot read the log");
		return (-1);
	}
	ls = xcalloc(1, sizeof(*ls));
	ls->req = ctx->req;
	ls->sd = ctx->sd;
	ls->run = run;
	ls->end = size;
	ls->offset = tail >= 0 ? size : 0;
	ls->tail = tail;
	ls->follow = follow && run != 0 && run == job->run.number &&
		     job->run.exited_ms == 0 && !ctx->sd->shutting_down;
	snprintf(ls->job_ref, sizeof(ls->job_ref), "%" PRId64, job->id);
	memcpy(ls->path, path, sizeof(ls->path));
	ls->ev = evtimer_new(ctx->sd->base, logs_step, ls);
	TAILQ_INSERT_TAIL(&streams, ls, entry);
	ls->pending = api_pending_new(ctx->req, logs_close_cb, ls);
	api_stream_start(ctx->req, "text/plain; charset=utf-8");
	logs_pump(ls);
	return (API_DEFERRED);
}

/* Followers end; reads of what is there go on to their end. */
void
api_logs_shutdown(void)
{
	struct logstream *ls, *tls;

	TAILQ_FOREACH_SAFE (ls, &streams, entry, tls)
		if (ls->follow)
			logs_end(ls);
}
