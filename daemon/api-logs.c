/* SPDX-License-Identifier: ISC */
/*
 * GET /v1/jobs/{job}/logs: a run's stdout or stderr as text. Without follow
 * the (tail of the) file is one reply; with follow the reply is chunked and
 * a 100 ms timer sends what was appended until the run has ended and the
 * file is drained. Files are read by a path that joblog builds from ids
 * (the flat layout, or the old per-job directory for runs written before
 * it), never from anything in the request; the path is picked once, when
 * the request comes, and a follower keeps it.
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

#define LOGS_MAX_BYTES	(16 * 1024 * 1024)	/* one reply or tick */
#define LOGS_TICK_MS	100

struct follower {
	struct api_pending	*pending;
	struct evhttp_request	*req;
	struct schedd		*sd;
	struct event		*tick;
	char			 path[PATH_MAX];
	char			 job_ref[32];	/* the job's id */
	int64_t			 run;
	int64_t			 offset;
	TAILQ_ENTRY(follower)	 entry;
};
TAILQ_HEAD(follower_list, follower);

static struct follower_list followers = TAILQ_HEAD_INITIALIZER(followers);

static void
follower_free(struct follower *f)
{
	TAILQ_REMOVE(&followers, f, entry);
	event_free(f->tick);
	free(f);
}

static void
follower_end(struct follower *f)
{
	struct evhttp_request *req = f->req;

	api_pending_done(f->pending);
	follower_free(f);
	evhttp_send_reply_end(req);
}

static void
follower_close_cb(struct api_pending *p, void *arg)
{
	(void)p;
	follower_free(arg);
}

static int
follower_run_over(struct follower *f)
{
	struct job *job;

	job = supervisor_job_find(f->sd->sup, f->job_ref);
	return (job == NULL || job->run.number != f->run ||
	    job->run.exited_ms != 0);
}

static void
follower_tick(evutil_socket_t fd, short what, void *arg)
{
	struct follower	*f = arg;
	struct evbuffer	*buf;
	struct timeval	 tv = { 0, LOGS_TICK_MS * 1000 };
	int		 over;

	(void)fd;
	(void)what;
	/* Decide before reading, so that the last bytes are not missed. */
	over = follower_run_over(f);
	buf = evbuffer_new();
	f->offset = joblog_read_from(f->path, f->offset, LOGS_MAX_BYTES, buf);
	if (evbuffer_get_length(buf) > 0)
		evhttp_send_reply_chunk(f->req, buf);
	evbuffer_free(buf);
	if (over) {
		follower_end(f);
		return;
	}
	evtimer_add(f->tick, &tv);
}

int
api_job_logs(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = { "stream", "tail", "follow",
		"run", NULL };
	struct job		*job;
	struct follower		*f;
	struct evbuffer		*buf;
	struct timeval		 tv = { 0, LOGS_TICK_MS * 1000 };
	const char		*stream;
	char			 path[PATH_MAX];
	enum joblog_stream	 which = JOBLOG_STDOUT;
	long long		 tail, run;
	int64_t			 offset;
	int			 follow;

	(void)out;
	if (api_query_check(ctx, params, err) == -1 ||
	    api_query_int(ctx, "tail", 0, 1000000, -1, &tail, err) == -1 ||
	    (follow = api_query_bool(ctx, "follow", 0, err)) == -1 ||
	    (job = api_job_lookup(ctx, err)) == NULL ||
	    api_query_int(ctx, "run", 1, INT64_MAX, job->run.number, &run,
	    err) == -1)
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
	if (run > 0 && joblog_path(job->id, run, which, path,
	    sizeof(path)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "log path too long");
		return (-1);
	}
	buf = evbuffer_new();
	offset = path[0] != '\0' ?
	    joblog_tail(path, (long)tail, LOGS_MAX_BYTES, buf) : 0;
	if (offset < 0) {
		evbuffer_free(buf);
		serr_set(err, SERR_INTERNAL, NULL, "cannot read the log");
		return (-1);
	}
	evhttp_add_header(evhttp_request_get_output_headers(ctx->req),
	    "Content-Type", "text/plain; charset=utf-8");
	if (!follow || run == 0 || run != job->run.number ||
	    job->run.exited_ms != 0 || ctx->sd->shutting_down) {
		evhttp_send_reply(ctx->req, 200, "OK", buf);
		evbuffer_free(buf);
		return (API_DEFERRED);
	}
	f = xcalloc(1, sizeof(*f));
	f->req = ctx->req;
	f->sd = ctx->sd;
	f->run = run;
	f->offset = offset;
	snprintf(f->job_ref, sizeof(f->job_ref), "%" PRId64, job->id);
	memcpy(f->path, path, sizeof(f->path));
	f->tick = evtimer_new(ctx->sd->base, follower_tick, f);
	TAILQ_INSERT_TAIL(&followers, f, entry);
	f->pending = api_pending_new(ctx->req, follower_close_cb, f);
	evhttp_send_reply_start(ctx->req, 200, "OK");
	if (evbuffer_get_length(buf) > 0)
		evhttp_send_reply_chunk(ctx->req, buf);
	evbuffer_free(buf);
	evtimer_add(f->tick, &tv);
	return (API_DEFERRED);
}

void
api_logs_shutdown(void)
{
	struct follower *f;

	while ((f = TAILQ_FIRST(&followers)) != NULL)
		follower_end(f);
}
