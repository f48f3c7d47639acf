/* SPDX-License-Identifier: ISC */
/*
 * What the api-*.c files share: the request context, the handler type, the
 * reply helpers and the JSON encoders of jobs and runs. Private to api.
 */
#ifndef SCHEDD_API_INT_H
#define SCHEDD_API_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "daemon/auth.h"
#include "proto/errors.h"
#include "proto/jsonout.h"

struct api;
struct supervisor;
struct schedd;
struct job;
struct event_rec;
struct api_route;
struct event_base;
struct bufferevent;
struct looplag;

#define API_REF_MAX	256		/* a {job} path segment */
#define API_BODY_MAX	(1024 * 1024)	/* the contract's 1 MiB */
#define API_HEADERS_MAX (16 * 1024)	/* the contract's 16 KiB */

/* A handler returned this: it took the request and will reply itself. */
#define API_DEFERRED 0

struct api_ctx {
	struct api		*api;
	struct schedd		*sd;
	struct evhttp_request	*req;
	const struct api_route	*route;
	char			 ref[API_REF_MAX]; /* {job}, decoded */
	struct evkeyvalq	 query;
	const char		*body;	/* raw request body, NUL-ended */
	size_t			 body_len;
	const struct caller	*caller; /* who asks (auth.h) */
};

/*
 * Handler contract: return an HTTP status and set *out (stolen by the
 * router; NULL: the body is what the handler wrote into the request's
 * output buffer, if anything, newline included), return API_DEFERRED
 * having taken ctx->req, or return -1 and fill err.
 */
typedef int (*api_handler)(struct api_ctx *, json_t **, struct serr *);

/* Reject query parameters not in the NULL-ended allowed list. */
int api_query_check(struct api_ctx *ctx, const char *const *allowed,
    struct serr *err);
/* A query parameter's value (lent) or NULL. */
const char *api_query_get(struct api_ctx *ctx, const char *key);
/* "true"/"1" -> 1, "false"/"0" -> 0, absent -> def; else -1 (err filled). */
int api_query_bool(struct api_ctx *ctx, const char *key, int def,
    struct serr *err);
/* Bounded integer parameter; absent -> def. Returns 0 or -1. */
int api_query_int(struct api_ctx *ctx, const char *key, long long min,
    long long max, long long def, long long *out, struct serr *err);

/*
 * Send a reply: body (stolen) as JSON text and a newline, or with body NULL
 * whatever the handler wrote into the request's output buffer (maybe
 * nothing). / Send the contract's error, dropping anything written before.
 */
void api_reply_json(struct evhttp_request *req, int status, json_t *body);
void api_reply_error(struct evhttp_request *req, const struct serr *err);

/*
 * Reply text (proto/jsonout.h) into buf: bytes gather on the stack and
 * reach the evbuffer in a few large evbuffer_add calls instead of one per
 * JSON token; json_out_end flushes them.
 */
void api_out_begin(struct json_out *o, struct evbuffer *buf);

/*
 * Deferred requests: remember req until done or the client goes away.
 * on_close runs if the client disconnects first (then req is gone). While
 * held, the connection is watched for the client leaving, and a client
 * that takes none of what waits for it for the idle timeout is dropped
 * (api-conn.c).
 */
struct api_pending;
struct api_pending *api_pending_new(struct evhttp_request *req,
    void (*on_close)(struct api_pending *, void *), void *arg);
/* Detach from the connection and free; req is not touched. */
void api_pending_done(struct api_pending *p);
struct evhttp_request *api_pending_req(struct api_pending *p);

/*
 * Streamed answers (events, logs). The one rule that bounds a client's
 * memory: a producer makes nothing more while the connection's backlog
 * (bytes queued for the client, not yet taken by the kernel) is at or
 * over API_BACKLOG_MAX, and carries on from the callback of its last
 * chunk (evhttp_send_reply_chunk_with_cb), which runs once everything
 * queued has been written.
 */
#define API_BACKLOG_MAX (256 * 1024)
/* The backlog in bytes; 0 when req has lost its connection. */
size_t api_backlog(struct evhttp_request *req);
/* api_backlog(req) >= API_BACKLOG_MAX, or req has lost its connection. */
int api_stream_full(struct evhttp_request *req);
/* Begin a chunked 200 answer with this Content-Type. */
void api_stream_start(struct evhttp_request *req, const char *ctype);
/* End the answer of p's request, and free p (api_pending_done). */
void api_stream_end(struct api_pending *p);

/*
 * Connections (api-conn.c): raise the open file limit, set the idle
 * timeout and the input bound of every connection, and make the listener
 * back off (and answer 503) at the fd limit. Returns 0, or -1 with err.
 */
int api_conn_init(struct event_base *base, struct evhttp *http,
    struct evhttp_bound_socket *bound, int idle_ms, struct serr *err);
/* Another listener (TCP), with the same back-off at the fd limit. */
void api_conn_listener_add(struct evhttp_bound_socket *bound);
/* Before the listener is freed. */
void api_conn_free(void);

/*
 * Forget the caller kept for the connection that had bev (api.c keeps
 * admin callers of the Unix socket by their connection's bufferevent);
 * every bufferevent of a new connection passes here first. NULL: forget
 * them all.
 */
void api_peer_forget(const struct bufferevent *bev);

/* The loop-lag gauge (api.c owns it). */
const struct looplag *api_looplag(const struct api *api);

/*
 * The answers sent since start-up, for GET /metrics: cb once per (route
 * pattern, method, status) seen, route NULL for requests no route took.
 */
void api_requests_each(void (*cb)(void *, const char *route,
    const char *method, int status, uint64_t n), void *arg);
/* Resolve ctx->ref to a job or fill a 404. */
struct job *api_job_lookup(struct api_ctx *ctx, struct serr *err);
/*
 * How many of uid's jobs count against jobs_max: the active ones (queued
 * to stopping) and the scheduled ones, which start by themselves.
 */
int api_owner_active(struct supervisor *sup, uid_t uid);
/* The same, and a 403 unless the caller owns it or is an admin. */
struct job *api_job_mine(struct api_ctx *ctx, struct serr *err);

/* Handlers. */
int api_health(struct api_ctx *, json_t **, struct serr *);
int api_metrics(struct api_ctx *, json_t **, struct serr *);
int api_web_index(struct api_ctx *, json_t **, struct serr *);
/* Send the status page (GET /) as req's answer (api-web.c). */
void api_web_reply(struct evhttp_request *req);
int api_jobs_list(struct api_ctx *, json_t **, struct serr *);
int api_jobs_create(struct api_ctx *, json_t **, struct serr *);
int api_job_get(struct api_ctx *, json_t **, struct serr *);
int api_job_delete(struct api_ctx *, json_t **, struct serr *);
int api_job_start(struct api_ctx *, json_t **, struct serr *);
int api_job_stop(struct api_ctx *, json_t **, struct serr *);
int api_job_restart(struct api_ctx *, json_t **, struct serr *);
int api_job_kill(struct api_ctx *, json_t **, struct serr *);
int api_job_pause(struct api_ctx *, json_t **, struct serr *);
int api_job_resume(struct api_ctx *, json_t **, struct serr *);
int api_job_wait(struct api_ctx *, json_t **, struct serr *);
int api_job_runs(struct api_ctx *, json_t **, struct serr *);
int api_job_logs(struct api_ctx *, json_t **, struct serr *);
int api_events(struct api_ctx *, json_t **, struct serr *);
int api_reload(struct api_ctx *, json_t **, struct serr *);
int api_job_processes(struct api_ctx *, json_t **, struct serr *);
int api_cpus(struct api_ctx *, json_t **, struct serr *);
int api_policy(struct api_ctx *, json_t **, struct serr *);
/* api-plan.c */
int api_plan(struct api_ctx *, json_t **, struct serr *);

/* Event streams (api-events.c). */
void api_events_init(struct api *api, struct schedd *sd);
void api_events_sink(void *arg, const struct event_rec *ev);
void api_events_shutdown(void);
/* Log followers (api-logs.c). */
void api_logs_shutdown(void);

#endif
