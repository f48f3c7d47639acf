/* SPDX-License-Identifier: ISC */
/*
 * The listener and the router. One gencb receives every request: it checks
 * header and body sizes, content type and peer credentials, matches the
 * route table ({job} captures one path segment), calls the handler and
 * sends its answer or the contract's error body. libevent answers some
 * malformed requests itself (400, and 413 past the body limit) before any
 * of this runs; those answers are HTML, as proto/openapi.yaml says.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api.h"
#include "daemon/api-int.h"
#include "daemon/auth-token.h"
#include "daemon/auth.h"
#include "daemon/conf.h"
#include "daemon/log.h"
#include "daemon/looplag.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define API_PARTS_MAX	8
#define API_LAG_TICK_MS	100	/* the loop-lag gauge's timer */

enum api_flags {
	API_BODY = 0x100,	/* takes a JSON body */
};

struct api_route {
	enum evhttp_cmd_type	 method;
	const char		*path;
	api_handler		 handler;
	int			 flags;	/* AUTH_* | API_* */
};

/* Keep in step with proto/openapi.yaml (a test compares them). */
static const struct api_route api_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/health", api_health, AUTH_READ },
	{ EVHTTP_REQ_GET, "/v1/jobs", api_jobs_list, AUTH_READ },
	{ EVHTTP_REQ_POST, "/v1/jobs", api_jobs_create, AUTH_WRITE | API_BODY },
	{ EVHTTP_REQ_GET, "/v1/jobs/{job}", api_job_get, AUTH_READ },
	{ EVHTTP_REQ_DELETE, "/v1/jobs/{job}", api_job_delete, AUTH_WRITE },
	{ EVHTTP_REQ_POST, "/v1/jobs/{job}/start", api_job_start, AUTH_WRITE },
	{ EVHTTP_REQ_POST, "/v1/jobs/{job}/stop", api_job_stop, AUTH_WRITE },
	{ EVHTTP_REQ_POST, "/v1/jobs/{job}/restart", api_job_restart,
	    AUTH_WRITE },
	{ EVHTTP_REQ_POST, "/v1/jobs/{job}/kill", api_job_kill,
	    AUTH_WRITE | API_BODY },
	{ EVHTTP_REQ_POST, "/v1/jobs/{job}/pause", api_job_pause, AUTH_WRITE },
	{ EVHTTP_REQ_POST, "/v1/jobs/{job}/resume", api_job_resume,
	    AUTH_WRITE },
	{ EVHTTP_REQ_GET, "/v1/jobs/{job}/wait", api_job_wait, AUTH_READ },
	{ EVHTTP_REQ_GET, "/v1/jobs/{job}/runs", api_job_runs, AUTH_READ },
	{ EVHTTP_REQ_GET, "/v1/jobs/{job}/logs", api_job_logs, AUTH_READ },
	{ EVHTTP_REQ_GET, "/v1/events", api_events, AUTH_READ },
	{ EVHTTP_REQ_POST, "/v1/reload", api_reload, AUTH_ADMIN },
	{ EVHTTP_REQ_GET, "/v1/policy", api_policy, AUTH_READ },
	{ EVHTTP_REQ_GET, "/v1/jobs/{job}/processes", api_job_processes,
	    AUTH_READ },
	{ EVHTTP_REQ_GET, "/v1/cpus", api_cpus, AUTH_READ },
	{ EVHTTP_REQ_POST, "/v1/plan", api_plan, AUTH_READ | API_BODY },
	{ EVHTTP_REQ_GET, "/metrics", api_metrics, AUTH_READ },
	{ EVHTTP_REQ_GET, "/", api_web_index, AUTH_READ },
};
#define API_NROUTES (sizeof(api_routes) / sizeof(api_routes[0]))

/*
 * A request that changes something, waiting for its turn (see
 * api_call_queue): what its handler needs, copied out of the router.
 */
struct api_call {
	struct api		*api;
	struct evhttp_request	*req;
	const struct api_route	*route;
	char			 ref[API_REF_MAX];
	char			*query;		/* the raw query string, or NULL */
	char			*body;
	size_t			 body_len;
	struct caller		 caller;
	struct api_pending	*pending;	/* notices the client leaving */
	TAILQ_ENTRY(api_call)	 entry;
};
TAILQ_HEAD(api_calls, api_call);

#define API_CALL_BATCH	4	/* changing requests run per loop turn */

static void api_run(struct api_ctx *, const char *);
static void api_call_queue(struct api *, const struct api_ctx *,
    const char *, char *, size_t);
static void api_calls_cb(evutil_socket_t, short, void *);

struct api {
	struct schedd		*sd;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	struct evhttp_bound_socket *bound_tcp;	/* listen; NULL: none */
	struct looplag		*lag;
	struct api_calls	 calls;		/* changing requests, in order */
	struct event		*calls_ev;	/* runs some of them */
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int			 fd;
};

/*
 * Answers by route, method and status for /metrics, counted once libevent
 * has sent them (so deferred answers count with their real status). A
 * bounded table: kinds past its end are not counted, and the log says so
 * once.
 */
struct api_reqcount {
	size_t			 route;	/* index in api_routes; NROUTES: none */
	enum evhttp_cmd_type	 method;
	int			 status;
	uint64_t		 n;
};
#define API_REQCOUNT_MAX 256
static struct api_reqcount api_reqcounts[API_REQCOUNT_MAX];
static size_t api_nreqcounts;
static int api_reqcounts_full;

static const char *method_name(enum evhttp_cmd_type);

static void
api_counted(struct evhttp_request *req, void *arg)
{
	size_t			 route = (size_t)(uintptr_t)arg, i;
	enum evhttp_cmd_type	 method = evhttp_request_get_command(req);
	int			 status = evhttp_request_get_response_code(req);
	struct api_reqcount	*c;

	for (i = 0; i < api_nreqcounts; i++) {
		c = &api_reqcounts[i];
		if (c->route == route && c->method == method &&
		    c->status == status) {
			c->n++;
			return;
		}
	}
	if (api_nreqcounts == API_REQCOUNT_MAX) {
		if (!api_reqcounts_full)
			log_warnx("more than %d kinds of answer: the rest "
			    "are not counted", API_REQCOUNT_MAX);
		api_reqcounts_full = 1;
		return;
	}
	c = &api_reqcounts[api_nreqcounts++];
	c->route = route;
	c->method = method;
	c->status = status;
	c->n = 1;
}

void
api_requests_each(void (*cb)(void *, const char *, const char *, int,
    uint64_t), void *arg)
{
	const struct api_reqcount	*c;
	size_t				 i;

	for (i = 0; i < api_nreqcounts; i++) {
		c = &api_reqcounts[i];
		cb(arg, c->route < API_NROUTES ? api_routes[c->route].path :
		    NULL, method_name(c->method), c->status, c->n);
	}
}

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_HEAD:
		return ("HEAD");
	case EVHTTP_REQ_PATCH:
		return ("PATCH");
	case EVHTTP_REQ_OPTIONS:
		return ("OPTIONS");
	default:
		return ("OTHER");
	}
}

/* Replies */

static const char *
status_reason(int status)
{
	switch (status) {
	case 200:
		return ("OK");
	case 201:
		return ("Created");
	case 204:
		return ("No Content");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 409:
		return ("Conflict");
	case 410:
		return ("Gone");
	case 413:
		return ("Payload Too Large");
	case 415:
		return ("Unsupported Media Type");
	case 422:
		return ("Unprocessable Entity");
	case 431:
		return ("Request Header Fields Too Large");
	case 503:
		return ("Service Unavailable");
	default:
		return (status >= 500 ? "Internal Server Error" : "OK");
	}
}

/* JSON text (proto/jsonout.h) into an evbuffer. */

static int
api_out_sink(void *arg, const char *s, size_t len)
{
	return (evbuffer_add(arg, s, len));
}

void
api_out_begin(struct json_out *o, struct evbuffer *buf)
{
	json_out_begin(o, api_out_sink, buf);
}

/* Body and newline into buf, not stealing body. Returns 0 or -1. */
static int
reply_encode(struct evbuffer *buf, const json_t *body)
{
	struct json_out o;

	api_out_begin(&o, buf);
	json_out_value(&o, body);
	json_out_raw(&o, "\n", 1);
	if (json_out_end(&o) == 0)
		return (0);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	return (-1);
}

static json_t *
error_json(const struct serr *err)
{
	json_t *e;

	e = json_pack("{s:s, s:s}", "code", serr_code_name(err->code),
	    "message",
	    err->message[0] != '\0' ? err->message : serr_code_name(err->code));
	if (e != NULL && err->field[0] != '\0')
		json_object_set_new(e, "field", json_string(err->field));
	return (json_pack("{s:o}", "error", e));
}

void
api_reply_json(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer *buf = evhttp_request_get_output_buffer(req);
	struct serr err;

	if (body != NULL && reply_encode(buf, body) == -1) {
		log_warnx("cannot encode a %d reply", status);
		json_decref(body);
		serr_set(&err, SERR_INTERNAL, NULL, "cannot encode the reply");
		status = serr_code_status(err.code);
		/* If even this fails, the status says enough. */
		if ((body = error_json(&err)) != NULL)
			reply_encode(buf, body);
	}
	json_decref(body);
	/* A handler that wrote text (GET /metrics) has set its own. */
	if (evhttp_find_header(evhttp_request_get_output_headers(req),
	    "Content-Type") == NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json; charset=utf-8");
	/*
	 * An answer to HEAD has headers only (RFC 9110 9.3.2), but libevent
	 * 2.1 sends whatever is in the buffer, without a Content-Length: a
	 * client would read the body as the start of the next answer. So
	 * the length goes out and the body does not.
	 */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char len[24];

		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(buf));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", len);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}
	evhttp_send_reply(req, status, status_reason(status), NULL);
}

void
api_reply_error(struct evhttp_request *req, const struct serr *err)
{
	struct evbuffer *buf = evhttp_request_get_output_buffer(req);

	/* A handler may have written part of a body before it failed. */
	evbuffer_drain(buf, evbuffer_get_length(buf));
	api_reply_json(req, serr_code_status(err->code), error_json(err));
}

/* Query parameters */

int
api_query_check(struct api_ctx *ctx, const char *const *allowed,
    struct serr *err)
{
	struct evkeyval		*kv;
	const char *const	*a;

	TAILQ_FOREACH(kv, &ctx->query, next) {
		for (a = allowed; *a != NULL; a++)
			if (strcmp(kv->key, *a) == 0)
				break;
		if (*a == NULL) {
			serr_set(err, SERR_INVALID, kv->key,
			    "unknown query parameter");
			return (-1);
		}
	}
	return (0);
}

const char *
api_query_get(struct api_ctx *ctx, const char *key)
{
	return (evhttp_find_header(&ctx->query, key));
}

int
api_query_bool(struct api_ctx *ctx, const char *key, int def,
    struct serr *err)
{
	const char *v;

	if ((v = api_query_get(ctx, key)) == NULL)
		return (def);
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0')
		return (1);
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return (0);
	serr_set(err, SERR_INVALID, key, "must be true or false");
	return (-1);
}

int
api_query_int(struct api_ctx *ctx, const char *key, long long min,
    long long max, long long def, long long *out, struct serr *err)
{
	const char	*v, *errstr;
	long long	 n;

	if ((v = api_query_get(ctx, key)) == NULL) {
		*out = def;
		return (0);
	}
	n = util_strtonum(v, min, max, &errstr);
	if (errstr != NULL) {
		serr_set(err, SERR_INVALID, key, "must be an integer %lld..%lld",
		    min, max);
		return (-1);
	}
	*out = n;
	return (0);
}

/* Routing */

/*
 * Split path into at most API_PARTS_MAX segments, in place. A trailing '/'
 * is ignored; an empty segment ("//") matches no route. Returns the count
 * or -1.
 */
static int
path_split(char *path, char **parts)
{
	char	*p = path, *slash;
	int	 n = 0, i;

	if (*p++ != '/')
		return (-1);
	while (*p != '\0') {
		if (n == API_PARTS_MAX)
			return (-1);
		parts[n++] = p;
		if ((slash = strchr(p, '/')) == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	for (i = 0; i < n; i++)
		if (parts[i][0] == '\0')
			return (-1);
	return (n);
}

/*
 * Match a request path against a route template. On a match with a {job}
 * capture, the decoded segment goes into ref. Returns 1 on a match. The
 * template is walked in place: copying and splitting it again for every
 * route tried was a twentieth of what a GET cost.
 */
static int
route_match(const char *tmpl, char *const *parts, int nparts, char *ref,
    size_t reflen, int *bad_ref)
{
	const char *t = tmpl;
	char *dec;
	size_t declen, n;
	int i = 0, job = -1;

	/* Templates are well-formed: '/' and segments, none empty. */
	for (;;) {
		while (*t == '/')
			t++;
		if (*t == '\0')
			break;
		n = strcspn(t, "/");
		if (i == nparts)
			return (0);
		if (n == 5 && strncmp(t, "{job}", 5) == 0)
			job = i; /* one {job} at most */
		else if (strncmp(t, parts[i], n) != 0 || parts[i][n] != '\0')
			return (0);
		t += n;
		i++;
	}
	if (i != nparts)
		return (0);
	if (job == -1)
		return (1);
	dec = evhttp_uridecode(parts[job], 0, &declen);
	if (dec == NULL || declen == 0 || declen != strlen(dec) ||
	    declen >= reflen) {
		*bad_ref = 1;
		free(dec);
		return (1);
	}
	memcpy(ref, dec, declen + 1);
	free(dec);
	return (1);
}

/* How many times key (any case) is among the request's headers. */
static int
header_count(struct evhttp_request *req, const char *key)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	struct evkeyval		*kv;
	int			 n = 0;

	TAILQ_FOREACH(kv, h, next)
		if (strcasecmp(kv->key, key) == 0)
			n++;
	return (n);
}

/* Add method's name to the comma-separated list allow, once. */
static void
allow_add(char *allow, size_t len, enum evhttp_cmd_type method)
{
	const char	*m = method_name(method);
	char		*p;
	size_t		 n = strlen(m);

	for (p = allow; (p = strstr(p, m)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ','))
			return;
	p = allow + strlen(allow);
	/* Every method's name fits: 7 methods of at most 7 letters. */
	snprintf(p, len - (size_t)(p - allow), "%s%s", p > allow ? ", " : "",
	    m);
}

static int
headers_size(struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	struct evkeyval		*kv;
	size_t			 n = 0;

	TAILQ_FOREACH(kv, h, next)
		n += strlen(kv->key) + strlen(kv->value) + 4;
	return (n > API_HEADERS_MAX);
}

/* Absent, JSON, or curl -d's default (which carries JSON just as well). */
static int
content_type_ok(struct evhttp_request *req)
{
	const char	*ct;
	size_t		 n;

	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ct == NULL)
		return (1);
	n = strcspn(ct, "; \t");
	if ((n == 16 && strncasecmp(ct, "application/json", n) == 0) ||
	    (n == 33 &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0))
		return (1);
	/* Any structured-syntax "+json" type. */
	return (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

/*
 * Admin callers of the Unix socket, by fd, each with its connection's
 * bufferevent. A Unix socket's peer credentials are fixed when it
 * connects, so reading them again for every request of a keep-alive
 * connection (three system calls) learns nothing. A new connection may
 * reuse both the fd and the address of a freed bufferevent, but every new
 * connection's bufferevent goes through api_peer_forget first
 * (conn_bev_new), so an entry whose fd and bufferevent match was made on
 * this very connection: no fstat per request to tell the socket from an
 * older one. Other callers are read each time: their RLIMIT_RTPRIO is
 * believed only while SO_PEERPIDFD says the process lives.
 */
#define API_PEERS 256
static struct api_peer_seen {
	const struct bufferevent *bev; /* NULL: empty */
	int fd;
	struct caller c;
} api_peers[API_PEERS];

void
api_peer_forget(const struct bufferevent *bev)
{
	size_t i;

	for (i = 0; i < API_PEERS; i++)
		if (bev == NULL || api_peers[i].bev == bev)
			api_peers[i].bev = NULL;
}

/*
 * Who sent req: the peer credentials of a Unix socket, or the bearer token
 * of a TCP connection. Returns 0, or -1 for a TCP request without a valid
 * token (401).
 */
static int
api_peer(struct evhttp_request *req, struct caller *c)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev = NULL;
	struct sockaddr_storage ss;
	struct api_peer_seen *seen = NULL;
	socklen_t len = sizeof(ss);
	int fd = -1;

	if ((evcon = evhttp_request_get_connection(req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evcon)) != NULL)
		fd = bufferevent_getfd(bev);
	if (fd >= 0) {
		seen = &api_peers[fd % API_PEERS];
		if (seen->bev == bev && seen->fd == fd) {
			*c = seen->c;
			return (0);
		}
	}
	memset(&ss, 0, sizeof(ss));
	if (fd == -1 || getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    ss.ss_family == AF_UNIX) {
		auth_from_socket(fd, c);
		if (seen != NULL && c->known && c->admin) {
			seen->bev = bev;
			seen->fd = fd;
			seen->c = *c;
		}
		return (0);
	}
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		len = 0;
	return (auth_token_check(
	    evhttp_find_header(evhttp_request_get_input_headers(req),
		"Authorization"),
	    (struct sockaddr *)&ss, len, c));
}

static void
api_gencb(struct evhttp_request *req, void *arg)
{
	struct api			*api = arg;
	struct api_ctx			 ctx;
	struct caller			 caller;
	const struct evhttp_uri		*uri;
	const struct api_route		*r = NULL;
	struct evbuffer			*in;
	struct serr			 err;
	char				 path[1024], *parts[API_PARTS_MAX];
	char				 allow[64] = "";
	char				*body = NULL;
	const char			*p, *q;
	size_t				 i, len;
	int				 nparts, path_hit = 0,
					 bad_ref = 0;
	enum evhttp_cmd_type		 method;

	memset(&ctx, 0, sizeof(ctx));
	TAILQ_INIT(&ctx.query);
	ctx.api = api;
	ctx.sd = api->sd;
	ctx.req = req;
	ctx.caller = &caller;
	serr_clear(&err);
	method = evhttp_request_get_command(req);
	evhttp_request_set_on_complete_cb(req, api_counted,
	    (void *)(uintptr_t)API_NROUTES);
	/* Over TCP nothing is answered, not even a 404, without a token, */
	if (api_peer(req, &caller) == -1) {
		/* but the status page, which holds no data and is where a
		 * person types the token in. */
		uri = evhttp_request_get_evhttp_uri(req);
		p = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
		if (method == EVHTTP_REQ_GET && p != NULL &&
		    strcmp(p, "/") == 0 && evhttp_uri_get_query(uri) == NULL) {
			api_web_reply(req);
			goto done;
		}
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"schedd\"");
		serr_set(&err, SERR_UNAUTHENTICATED, NULL,
		    "a valid bearer token is required");
		p = NULL;
		goto fail;
	}
	uri = evhttp_request_get_evhttp_uri(req);
	p = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	if (headers_size(req)) {
		serr_set(&err, SERR_HEADERS_TOO_LARGE, NULL,
		    "request headers exceed %d bytes", API_HEADERS_MAX);
		goto fail;
	}
	/*
	 * libevent 2.1 reads the body by the first Content-Length and
	 * ignores the others: two that differ would smuggle the rest in as
	 * another request. Refused, and the connection closed after the
	 * answer so that nothing left of it is read as a request.
	 */
	if (header_count(req, "Content-Length") > 1) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		serr_set(&err, SERR_INVALID, NULL,
		    "more than one Content-Length header");
		goto fail;
	}
	if (p == NULL || util_strlcpy(path, p, sizeof(path)) >= sizeof(path) ||
	    (nparts = path_split(path, parts)) < 0) {
		serr_set(&err, SERR_NOT_FOUND, NULL, "no such route");
		goto fail;
	}
	for (i = 0; i < API_NROUTES; i++) {
		bad_ref = 0;
		if (!route_match(api_routes[i].path, parts, nparts, ctx.ref,
		    sizeof(ctx.ref), &bad_ref))
			continue;
		path_hit = 1;
		if (api_routes[i].method == method) {
			r = &api_routes[i];
			evhttp_request_set_on_complete_cb(req, api_counted,
			    (void *)(uintptr_t)i);
			break;
		}
		allow_add(allow, sizeof(allow), api_routes[i].method);
	}
	if (r == NULL) {
		if (path_hit) {
			/* RFC 9110 15.5.6: a 405 says what the path allows. */
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Allow", allow);
			serr_set(&err, SERR_METHOD, NULL,
			    "method %s not allowed here (allowed: %s)",
			    method_name(method), allow);
		} else
			serr_set(&err, SERR_NOT_FOUND, NULL, "no such route");
		goto fail;
	}
	if (bad_ref) {
		serr_set(&err, SERR_NOT_FOUND, "job", "no such job");
		goto fail;
	}
	ctx.route = r;
	q = evhttp_uri_get_query(uri);
	if (q != NULL && evhttp_parse_query_str(q, &ctx.query) == -1) {
		serr_set(&err, SERR_INVALID, NULL, "malformed query string");
		goto fail;
	}

	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len > API_BODY_MAX) {
		serr_set(&err, SERR_TOO_LARGE, NULL,
		    "request body exceeds %d bytes", API_BODY_MAX);
		goto fail;
	}
	if (len > 0) {
		if (!(r->flags & API_BODY)) {
			serr_set(&err, SERR_INVALID, NULL,
			    "this route takes no request body");
			goto fail;
		}
		if (!content_type_ok(req)) {
			serr_set(&err, SERR_MEDIA_TYPE, NULL,
			    "request body must be application/json");
			goto fail;
		}
		body = xmalloc(len + 1);
		evbuffer_copyout(in, body, len);
		body[len] = '\0';
	}
	ctx.body = body;
	ctx.body_len = len;

	if (auth_check(&caller, r->flags & AUTH_MASK, &err) == -1)
		goto fail;
	if (api->sd->shutting_down && method != EVHTTP_REQ_GET) {
		serr_set(&err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		goto fail;
	}

	/* What changes something waits its turn; reads run at once. */
	if (method != EVHTTP_REQ_GET) {
		api_call_queue(api, &ctx, q, body, len);
		body = NULL;
		goto done;
	}
	api_run(&ctx, p);
	goto done;
fail:
	log_debug("%s %s -> %d %s%s%s", method_name(method),
	    p != NULL ? p : "?", serr_code_status(err.code), err.message,
	    err.field[0] ? " field " : "", err.field);
	api_reply_error(req, &err);
done:
	evhttp_clear_headers(&ctx.query);
	free(body);
}

/*
 * The daemon log's line for each request that changes something: who
 * (uid, name, pid or "tcp"), what, and the answer (0: answered later).
 */
static void
api_log_change(struct api_ctx *ctx, const char *p, int status)
{
	const struct caller *c = ctx->caller;
	char pid[32];

	if (c->pid > 0)
		snprintf(pid, sizeof(pid), "pid %d", (int)c->pid);
	else
		snprintf(pid, sizeof(pid), "%s", c->tcp ? "tcp" : "pid ?");
	if (status == 0)
		log_info("%s %s: uid %d (%s) %s%s", method_name(
		    evhttp_request_get_command(ctx->req)), p, (int)c->uid,
		    c->name, pid, c->admin ? " admin" : "");
	else
		log_info("%s %s: uid %d (%s) %s%s -> %d", method_name(
		    evhttp_request_get_command(ctx->req)), p, (int)c->uid,
		    c->name, pid, c->admin ? " admin" : "", status);
}

/*
 * Run the route's handler for ctx and answer (unless it deferred).
 * p names the path in the log.
 */
static void
api_run(struct api_ctx *ctx, const char *p)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(ctx->req);
	struct serr err;
	json_t *out = NULL;
	int status;

	serr_clear(&err);
	if (method != EVHTTP_REQ_GET)
		supervisor_act_as(ctx->sd->sup, 1, ctx->caller->uid,
		    ctx->caller->pid);
	status = ctx->route->handler(ctx, &out, &err);
	if (method != EVHTTP_REQ_GET) {
		supervisor_act_as(ctx->sd->sup, 0, 0, 0);
		api_log_change(ctx, p, status > 0 ? status
			       : status == API_DEFERRED
				   ? 0
				   : serr_code_status(err.code != SERR_OK
					   ? err.code
					   : SERR_INTERNAL));
	}
	if (status == API_DEFERRED) {
		log_debug("%s %s -> deferred", method_name(method), p);
		return;
	}
	if (status > 0) {
		log_debug("%s %s -> %d", method_name(method), p, status);
		api_reply_json(ctx->req, status, out);
		return;
	}
	json_decref(out);
	if (err.code == SERR_OK)
		serr_set(&err, SERR_INTERNAL, NULL, "handler failed");
	log_debug("%s %s -> %d %s%s%s", method_name(method), p,
	    serr_code_status(err.code), err.message,
	    err.field[0] ? " field " : "", err.field);
	api_reply_error(ctx->req, &err);
}

/*
 * Requests that change something (they sign, spawn, commit) run from a
 * queue at the supervisor's priority, API_CALL_BATCH per loop turn: a
 * burst of them, a hundred stops at once, cannot keep reads and health
 * waiting behind it, since the loop serves client events first and looks
 * for them every few callbacks. Order is kept.
 */
static void
api_call_free(struct api_call *c)
{
	free(c->query);
	free(c->body);
	free(c);
}

static void
api_call_closed(struct api_pending *p, void *arg)
{
	struct api_call *c = arg;

	(void)p;
	TAILQ_REMOVE(&c->api->calls, c, entry);
	api_call_free(c);
}

static void
api_calls_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api *api = arg;
	struct api_call *c;
	struct api_ctx ctx;
	const char *uri;
	int n;

	(void)fd;
	(void)what;
	for (n = 0; n < API_CALL_BATCH && (c = TAILQ_FIRST(&api->calls)) !=
	     NULL; n++) {
		TAILQ_REMOVE(&api->calls, c, entry);
		api_pending_done(c->pending);
		memset(&ctx, 0, sizeof(ctx));
		TAILQ_INIT(&ctx.query);
		ctx.api = api;
		ctx.sd = api->sd;
		ctx.req = c->req;
		ctx.route = c->route;
		memcpy(ctx.ref, c->ref, sizeof(ctx.ref));
		ctx.body = c->body;
		ctx.body_len = c->body_len;
		ctx.caller = &c->caller;
		if (c->query != NULL)
			evhttp_parse_query_str(c->query, &ctx.query);
		uri = evhttp_request_get_uri(c->req);
		api_run(&ctx, uri != NULL ? uri : "?");
		evhttp_clear_headers(&ctx.query);
		api_call_free(c);
	}
	if (!TAILQ_EMPTY(&api->calls))
		event_active(api->calls_ev, EV_TIMEOUT, 1);
}

/* Queue ctx's request; body (may be NULL) is taken over. */
static void
api_call_queue(struct api *api, const struct api_ctx *ctx, const char *query,
    char *body, size_t len)
{
	struct api_call *c;

	c = xcalloc(1, sizeof(*c));
	c->api = api;
	c->req = ctx->req;
	c->route = ctx->route;
	memcpy(c->ref, ctx->ref, sizeof(c->ref));
	c->query = query != NULL ? xstrdup(query) : NULL;
	c->body = body;
	c->body_len = len;
	c->caller = *ctx->caller;
	c->pending = api_pending_new(ctx->req, api_call_closed, c);
	TAILQ_INSERT_TAIL(&api->calls, c, entry);
	if (!event_pending(api->calls_ev, EV_TIMEOUT, NULL))
		event_active(api->calls_ev, EV_TIMEOUT, 1);
}

/* Listener */

/*
 * The socket's directory and its missing parents (mkdir -p): away from
 * /run (configure --runstatedir, e.g. PREFIX/var/run) nothing else makes
 * them.
 */
static int
api_mkdir_parent(const char *sock, struct serr *err)
{
	char	 dir[PATH_MAX], *slash, *p;

	util_strlcpy(dir, sock, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return (0);
	*slash = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			serr_set(err, SERR_INTERNAL, "socket", "mkdir %s: %s",
			    dir, strerror(errno));
			return (-1);
		}
		if (p == slash)
			break;
		*p = '/';
	}
	return (0);
}

/* The first descriptor systemd passes (sd_listen_fds(3)). */
#define API_LISTEN_FDS_START 3

/*
 * A listening socket from systemd (schedd.socket), by the sd_listen_fds
 * protocol written out: LISTEN_PID is our pid and LISTEN_FDS is 1, the
 * socket is fd 3. LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are removed
 * from the environment whatever they say, so that nothing started later
 * mistakes them for its own. Returns the descriptor, -1 when none was
 * passed to us, or -2 with err filled when one was but it is not a
 * listening AF_UNIX stream socket.
 */
static int
api_listen_fd(struct serr *err)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	const char		*pid_s, *n_s, *errstr;
	long long		 pid, n;
	int			 fd = API_LISTEN_FDS_START, type, acc, fl;

	pid_s = getenv("LISTEN_PID");
	n_s = getenv("LISTEN_FDS");
	pid = pid_s != NULL ? util_strtonum(pid_s, 1, INT_MAX, &errstr) : 0;
	if (pid_s != NULL && errstr != NULL)
		pid = 0;
	n = n_s != NULL ? util_strtonum(n_s, 0, INT_MAX - fd, &errstr) : 0;
	if (n_s != NULL && errstr != NULL)
		n = -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (pid_s == NULL || n_s == NULL || pid != (long long)getpid())
		return (-1);
	if (n != 1) {
		serr_set(err, SERR_INVALID, "socket",
		    "LISTEN_FDS=%s: schedd takes exactly one socket", n_s);
		return (-2);
	}
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		serr_set(err, SERR_INVALID, "socket",
		    "LISTEN_FDS: fd %d is not a stream socket", fd);
		return (-2);
	}
	len = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
	    !acc) {
		serr_set(err, SERR_INVALID, "socket",
		    "LISTEN_FDS: fd %d is not listening", fd);
		return (-2);
	}
	memset(&sun, 0, sizeof(sun));
	len = sizeof(sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    sun.sun_family != AF_UNIX) {
		serr_set(err, SERR_INVALID, "socket",
		    "LISTEN_FDS: fd %d is not a Unix socket", fd);
		return (-2);
	}
	/* Jobs must not inherit it; evhttp wants it non-blocking. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		serr_set(err, SERR_INTERNAL, "socket", "LISTEN_FDS: fcntl: %s",
		    strerror(errno));
		return (-2);
	}
	return (fd);
}

/*
 * Make, bind and listen on conf's socket: mode 0660, group socket_group.
 * Returns the descriptor, or -1 with err filled.
 */
static int
api_socket_make(struct api *api, struct schedd *sd, struct serr *err)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	mode_t			 old;
	int			 fd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, sd->conf->socket_path,
	    sizeof(sun.sun_path)) >= sizeof(sun.sun_path)) {
		serr_set(err, SERR_INVALID, "socket", "socket path too long");
		goto fail;
	}
	if (api_mkdir_parent(sun.sun_path, err) == -1)
		goto fail;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "socket: %s",
		    strerror(errno));
		goto fail;
	}
	/* A stale socket from a crash: refuse if something still answers. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		serr_set(err, SERR_CONFLICT, "socket",
		    "%s: another schedd is listening", sun.sun_path);
		goto fail;
	}
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "socket: %s",
		    strerror(errno));
		goto fail;
	}
	unlink(sun.sun_path);
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		serr_set(err, SERR_INTERNAL, "socket", "bind %s: %s",
		    sun.sun_path, strerror(errno));
		goto fail;
	}
	umask(old);
	util_strlcpy(api->path, sun.sun_path, sizeof(api->path));
	if (chmod(sun.sun_path, (mode_t)sd->conf->socket_mode) == -1)
		log_warn("chmod %s", sun.sun_path);
	if (sd->conf->socket_group[0] != '\0' &&
	    (gr = getgrnam(sd->conf->socket_group)) != NULL &&
	    chown(sun.sun_path, 0, gr->gr_gid) == -1)
		log_warn("chown %s", sun.sun_path);
	if (listen(fd, 128) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "listen: %s",
		    strerror(errno));
		goto fail;
	}
	return (fd);
fail:
	if (fd != -1)
		close(fd);
	return (-1);
}

/*
 * The TCP listener of conf's listen (HOST:PORT; [V6]:PORT), with the
 * token file read first: no listener without tokens. Returns 0, or -1
 * with err.
 */
static int
api_listen_tcp(struct api *api, struct schedd *sd, struct serr *err)
{
	struct addrinfo	 hints, *res = NULL;
	char		 buf[128], *host, *port;
	int		 fd = -1, one = 1, rc;

	if (auth_tokens_load(sd->conf->token_file, err) == -1)
		return (-1);
	util_strlcpy(buf, sd->conf->listen, sizeof(buf));
	/* config_apply saw a ':' in it. */
	(void)util_split_hostport(buf, &host, &port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host[0] != '\0' && strcmp(host, "*") != 0
				  ? host
				  : NULL,
		 port, &hints, &res)) != 0) {
		serr_set(err, SERR_INVALID, "listen",
		    "listen %s: %s (a numeric address, such as 127.0.0.1 "
		    "or [::1])",
		    sd->conf->listen, gai_strerror(rc));
		return (-1);
	}
	if ((fd = socket(res->ai_family,
		 res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
		-1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 128) == -1) {
		serr_set(err, SERR_INTERNAL, "listen", "listen %s: %s",
		    sd->conf->listen, strerror(errno));
		goto fail;
	}
	freeaddrinfo(res);
	res = NULL;
	if ((api->bound_tcp = evhttp_accept_socket_with_handle(api->http,
	    fd)) == NULL) {
		serr_set(err, SERR_INTERNAL, "listen", "evhttp_accept_socket");
		goto fail;
	}
	api_conn_listener_add(api->bound_tcp);
	log_info("listening on %s (TCP: bearer tokens only, %d of them; no "
		 "TLS)",
	    sd->conf->listen, auth_tokens_count());
	return (0);
fail:
	if (res != NULL)
		freeaddrinfo(res);
	if (fd != -1)
		close(fd);
	return (-1);
}

struct api *
api_new(struct schedd *sd, struct serr *err)
{
	struct api		*api;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd = -1, activated;

	api = xcalloc(1, sizeof(*api));
	api->sd = sd;
	api->fd = -1;
	TAILQ_INIT(&api->calls);
	if ((api->calls_ev = event_new(sd->base, -1, 0, api_calls_cb, api)) ==
	    NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "event_new");
		goto fail;
	}
	event_priority_set(api->calls_ev, SCHEDD_PRIO_WORK);
	/*
	 * Socket activation: systemd made the socket (its mode and group are
	 * schedd.socket's) and keeps it, so schedd neither makes nor
	 * removes one (api->path stays empty).
	 */
	if ((fd = api_listen_fd(err)) == -2)
		goto fail;
	activated = fd != -1;
	if (!activated && (fd = api_socket_make(api, sd, err)) == -1)
		goto fail;
	auth_init(sd->conf);
	if ((api->http = evhttp_new(sd->base)) == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "evhttp_new");
		goto fail;
	}
	/* Headers between 16 and 64 KiB get our 431; beyond, libevent's. */
	evhttp_set_max_headers_size(api->http, 4 * API_HEADERS_MAX);
	evhttp_set_max_body_size(api->http, API_BODY_MAX);
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(api->http, api_gencb, api);
	if ((api->bound = evhttp_accept_socket_with_handle(api->http,
	    fd)) == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "evhttp_accept_socket");
		goto fail;
	}
	api->fd = fd;
	if (api_conn_init(sd->base, api->http, api->bound,
	    sd->conf->http_idle_timeout_ms, err) == -1)
		goto fail;
	if (sd->conf->listen[0] != '\0' && api_listen_tcp(api, sd, err) == -1)
		goto fail;
	if ((api->lag = looplag_new(sd->base, API_LAG_TICK_MS)) == NULL) {
		serr_set(err, SERR_INTERNAL, NULL,
		    "cannot start the loop-lag timer");
		goto fail;
	}
	api_events_init(api, sd);
	if (activated) {
		memset(&sun, 0, sizeof(sun));
		len = sizeof(sun);
		if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
		    len <= offsetof(struct sockaddr_un, sun_path))
			sun.sun_path[0] = '\0';
		log_info("listening on %s (socket from systemd, LISTEN_FDS)",
		    sun.sun_path[0] != '\0' ? sun.sun_path : "an unnamed socket");
		if (strcmp(sun.sun_path, sd->conf->socket_path) != 0)
			log_warnx("the socket from systemd is not %s, where "
			    "schedctl looks by default", sd->conf->socket_path);
	} else
		log_info("listening on %s", api->path);
	return (api);
fail:
	if (fd >= 0 && api->bound == NULL)
		close(fd);
	api_free(api);
	return (NULL);
}

void
api_shutdown_begin(struct api *api)
{
	(void)api;
	api_events_shutdown();
	api_logs_shutdown();
}

const struct looplag *
api_looplag(const struct api *api)
{
	return (api->lag);
}

void
api_free(struct api *api)
{
	struct api_call *c;

	if (api == NULL)
		return;
	while ((c = TAILQ_FIRST(&api->calls)) != NULL) {
		TAILQ_REMOVE(&api->calls, c, entry);
		api_pending_done(c->pending);
		api_call_free(c);
	}
	if (api->calls_ev != NULL)
		event_free(api->calls_ev);
	looplag_free(api->lag);
	api_conn_free();
	if (api->http != NULL)
		evhttp_free(api->http);
	if (api->path[0] != '\0')
		unlink(api->path);
	auth_tokens_free();
	free(api);
}
