/* SPDX-License-Identifier: ISC */
/*
 * What one client may cost, and how the listener behaves when the daemon
 * runs out of file descriptors. Every connection gets an idle timeout and
 * a bound on what it can make us buffer in either direction: requests
 * beyond the largest evhttp takes, answers beyond API_BACKLOG_MAX (streams
 * pause until the client has read). Requests answered later (held: /wait,
 * streams) watch for the client leaving and drop it when it has taken
 * nothing for the idle timeout. At the fd limit the listener backs off for
 * 100 ms at a time instead of spinning on a readable socket, new clients
 * get a 503 through one spare descriptor kept for that, and the condition
 * is logged once per 10 s with counts, never once per attempt; libevent's
 * own warnings are capped the same way. Knows nothing of routes or jobs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "daemon/api-int.h"
#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/xmalloc.h"

/*
 * What a client can make us buffer before we stop reading from it: above
 * the largest request evhttp accepts (64 KiB of headers and a 1 MiB body,
 * which a chunked upload may send as one chunk that evhttp takes only
 * whole). Only a client that sends while it is not being read from (while
 * its answer is written, or held) ever reaches it.
 */
#define CONN_INPUT_MAX (2 * API_BODY_MAX)

#define CONN_RETRY_MS   100 /* listener back-off at the fd limit */
#define CONN_REPORT_S   10  /* at most one line per this many seconds */
#define CONN_REFUSE_MAX 64  /* 503s per failed accept, at most */
#define CONN_LOG_LINES  10  /* libevent lines per CONN_REPORT_S */

struct api_pending {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	void (*on_close)(struct api_pending *, void *);
	void *arg;
};

static struct {
	struct timeval idle; /* http_idle_timeout_ms */
	struct evconnlistener *lev;
	struct evconnlistener *lev_tcp; /* the TCP listener, or NULL */
	int reserve_fd;                 /* /dev/null, closed to refuse */
	struct event *retry_ev;         /* re-enables the listener */
	struct event *report_ev;        /* the once-per-10-s line */
	int at_limit;                   /* report_ev is pending */
	unsigned long failed;           /* accepts failed, this period */
	unsigned long refused;          /* 503s sent, this period */
	char busy[512];                 /* the 503, whole */
	size_t busy_len;
} conn = {.reserve_fd = -1};

/* libevent's messages, at most CONN_LOG_LINES per CONN_REPORT_S. */
static void
conn_libevent_log(int severity, const char *msg)
{
	static int64_t window;
	static unsigned long lines, dropped;
	enum log_level lvl;
	int64_t now = mono_ms() / 1000;

	switch (severity) {
	case EVENT_LOG_DEBUG:
		lvl = LOG_LEVEL_DEBUG;
		break;
	case EVENT_LOG_MSG:
		lvl = LOG_LEVEL_INFO;
		break;
	case EVENT_LOG_WARN:
		lvl = LOG_LEVEL_WARN;
		break;
	default:
		lvl = LOG_LEVEL_ERROR;
		break;
	}
	if (now - window >= CONN_REPORT_S) {
		if (dropped > 0)
			log_write(LOG_LEVEL_WARN, "libevent", 0,
			    "%lu more lines left out in the last %d s", dropped,
			    CONN_REPORT_S);
		window = now;
		lines = dropped = 0;
	}
	if (lines++ >= CONN_LOG_LINES) {
		dropped++;
		return;
	}
	log_write(lvl, "libevent", 0, "%s", msg);
}

/*
 * The soft limit up to the hard one. Every client holds a descriptor, and
 * systemd hands services a soft 1024 under a hard 512K so that those that
 * need more raise it themselves. Jobs get the first one back (spawn.c).
 */
static void
conn_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t old;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("setrlimit RLIMIT_NOFILE %llu",
		    (unsigned long long)rl.rlim_max);
		return;
	}
	log_info("open file limit raised from %llu to %llu",
	    (unsigned long long)old, (unsigned long long)rl.rlim_max);
}

static unsigned long long
conn_nofile(void)
{
	struct rlimit rl;

	return (getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 0);
}

/*
 * The input bound, set only while it is reached. libevent's read high
 * watermark, once set, runs after every change to the input buffer and
 * re-enables reading each time the buffer is below it (an event_add, with
 * the idle timeout, per change: six for each GET, a tenth of what a GET
 * costs). Here the watermark is set when the input reaches CONN_INPUT_MAX,
 * which stops reading at once, and taken away when evhttp has consumed
 * the input below it. The read that crosses the mark can bring in up to
 * libevent's largest single read (16 KiB) beyond it: still a bound.
 */
static void
conn_input_cb(
    struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct bufferevent *bev = arg;
	size_t len = evbuffer_get_length(in), high = 0;

	(void)info;
	bufferevent_getwatermark(bev, EV_READ, NULL, &high);
	if (len >= CONN_INPUT_MAX && high == 0)
		bufferevent_setwatermark(bev, EV_READ, 0, CONN_INPUT_MAX);
	else if (len < CONN_INPUT_MAX && high != 0)
		bufferevent_setwatermark(bev, EV_READ, 0, 0);
}

/* Each new connection's bufferevent: evhttp's own, plus the input bound. */
static struct bufferevent *
conn_bev_new(struct event_base *base, void *arg)
{
	struct bufferevent *bev;

	(void)arg;
	/*
	 * Without BEV_OPT_CLOSE_ON_FREE, as evhttp makes it: it closes. The
	 * input's callbacks run as the buffer changes (a socket bufferevent
	 * does not defer them), as libevent's own watermark callback does.
	 */
	if ((bev = bufferevent_socket_new(base, -1, 0)) != NULL &&
	    evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb, bev) ==
		NULL) {
		bufferevent_free(bev);
		bev = NULL;
	}
	/*
	 * A new connection: whoever was known by this bufferevent's address
	 * is not its caller. Without one, evhttp makes its own at an address
	 * we never see, so every caller is forgotten.
	 */
	api_peer_forget(bev);
	return (bev);
}

/*
 * Out of descriptors: give the spare one up for a moment, accept, answer
 * 503 and close, so that clients waiting in the backlog learn it now
 * instead of hanging. Returns how many were refused.
 */
static unsigned long
conn_refuse_pending(void)
{
	char junk[4096];
	unsigned long n = 0;
	ssize_t r;
	int fd;

	while (conn.reserve_fd != -1 && n < CONN_REFUSE_MAX) {
		close(conn.reserve_fd);
		fd = accept4(evconnlistener_get_fd(conn.lev), NULL, NULL,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd != -1) {
			/*
			 * Read what the request already sent, so that the
			 * close does not flag a reset before the answer is
			 * read; a request still to come meets EPIPE.
			 */
			r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
			r = send(fd, conn.busy, conn.busy_len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			(void)r;
			close(fd);
			n++;
		}
		conn.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			break;
	}
	return (n);
}

static void
conn_report(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = {CONN_REPORT_S, 0};

	(void)fd;
	(void)what;
	(void)arg;
	if (conn.failed == 0) {
		log_info("no failed accept in %d s", CONN_REPORT_S);
		conn.at_limit = 0;
		return;
	}
	log_warnx("in the last %d s: %lu accepts failed, %lu clients "
		  "answered 503 (open file limit %llu)",
	    CONN_REPORT_S, conn.failed, conn.refused, conn_nofile());
	conn.failed = conn.refused = 0;
	evtimer_add(conn.report_ev, &tv);
}

static void
conn_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (conn.reserve_fd == -1)
		conn.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Still at the limit: accept fails at once and we are back. */
	evconnlistener_enable(conn.lev);
	if (conn.lev_tcp != NULL)
		evconnlistener_enable(conn.lev_tcp);
}

/*
 * accept(2) failed with something other than EAGAIN or ECONNABORTED: the
 * listener stays readable, so it must stop listening for a while or the
 * loop spins. EMFILE and ENFILE are the usual; ENOBUFS and ENOMEM back
 * off too, and anything else as well, since retrying at once cannot help.
 */
static void
conn_accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval retry = {0, CONN_RETRY_MS * 1000};
	struct timeval report = {CONN_REPORT_S, 0};
	int e = errno;
	unsigned long refused = 0;

	(void)arg;
	if ((e == EMFILE || e == ENFILE) && lev == conn.lev)
		refused = conn_refuse_pending();
	evconnlistener_disable(lev);
	evtimer_add(conn.retry_ev, &retry);
	conn.failed++;
	conn.refused += refused;
	if (conn.at_limit)
		return;
	log_warnx("accept: %s (open file limit %llu): %s", strerror(e),
	    conn_nofile(),
	    conn.reserve_fd != -1 ? "new clients get 503 until some leave"
				  : "retrying every 100 ms");
	conn.at_limit = 1;
	evtimer_add(conn.report_ev, &report);
}

int
api_conn_init(struct event_base *base, struct evhttp *http,
    struct evhttp_bound_socket *bound, int idle_ms, struct serr *err)
{
	static const char body[] =
	    "{\"error\":{\"code\":\"unavailable\",\"message\":"
	    "\"schedd is out of file descriptors; try again later\"}}\n";
	const struct timeval *common;
	int n;

	event_set_log_callback(conn_libevent_log);
	conn_raise_nofile();
	conn.idle.tv_sec = idle_ms / 1000;
	conn.idle.tv_usec = (idle_ms % 1000) * 1000;
	/*
	 * Every connection's reads and writes are re-armed with this one
	 * timeout for each request: as a libevent common timeout they join
	 * the tail of one queue instead of the timer heap, where each re-arm
	 * cost a removal and an insertion (a tenth of the instructions of a
	 * GET with 64 connections). The same duration either way.
	 */
	if (idle_ms > 0 &&
	    (common = event_base_init_common_timeout(base, &conn.idle)) != NULL)
		conn.idle = *common;
	evhttp_set_timeout_tv(http, &conn.idle);
	evhttp_set_bevcb(http, conn_bev_new, NULL);
	n = snprintf(conn.busy, sizeof(conn.busy),
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    sizeof(body) - 1, body);
	conn.busy_len = n > 0 && (size_t)n < sizeof(conn.busy) ? (size_t)n : 0;
	conn.lev = evhttp_bound_socket_get_listener(bound);
	conn.retry_ev = evtimer_new(base, conn_retry, NULL);
	conn.report_ev = evtimer_new(base, conn_report, NULL);
	if (conn.lev == NULL || conn.retry_ev == NULL ||
	    conn.report_ev == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "listener set-up failed");
		api_conn_free();
		return (-1);
	}
	evconnlistener_set_error_cb(conn.lev, conn_accept_error);
	/* Without it, a full table only means backing off, with no 503. */
	if ((conn.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("open /dev/null");
	return (0);
}

void
api_conn_listener_add(struct evhttp_bound_socket *bound)
{
	if ((conn.lev_tcp = evhttp_bound_socket_get_listener(bound)) != NULL)
		evconnlistener_set_error_cb(conn.lev_tcp, conn_accept_error);
}

void
api_conn_free(void)
{
	if (conn.retry_ev != NULL)
		event_free(conn.retry_ev);
	if (conn.report_ev != NULL)
		event_free(conn.report_ev);
	if (conn.reserve_fd != -1)
		close(conn.reserve_fd);
	memset(&conn, 0, sizeof(conn));
	conn.reserve_fd = -1;
}

/* Held requests */

/*
 * While a request is held, the client has nothing to send: no read
 * timeout, but reading on (with evhttp's read callback off, as evhttp
 * itself does while it writes), so that a client leaving is seen at once
 * instead of when the answer comes. The idle timeout becomes the stall
 * timeout: a client with data waiting that takes none of it for that long
 * is dropped (libevent's write timeout).
 */
static void
conn_hold(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	bufferevent_data_cb wcb;
	bufferevent_event_cb ecb;
	void *cbarg;

	if (bev == NULL)
		return;
	bufferevent_getcb(bev, NULL, &wcb, &ecb, &cbarg);
	bufferevent_setcb(bev, NULL, wcb, ecb, cbarg);
	bufferevent_set_timeouts(bev, NULL, &conn.idle);
	bufferevent_enable(bev, EV_READ);
}

/* Back to the idle timeout for reads and writes (evhttp's own setting). */
static void
conn_release(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);

	if (bev != NULL)
		bufferevent_set_timeouts(bev, &conn.idle, &conn.idle);
}

static void
api_pending_closecb(struct evhttp_connection *evcon, void *arg)
{
	struct api_pending *p = arg;

	(void)evcon;
	/*
	 * libevent detaches a request the handler still holds (req->evcon =
	 * NULL) before freeing the connection; such a request is ours to
	 * free. One still attached is freed by libevent right after us.
	 */
	if (evhttp_request_get_connection(p->req) == NULL)
		evhttp_request_free(p->req);
	p->req = NULL;
	if (p->on_close != NULL)
		p->on_close(p, p->arg);
	free(p);
}

struct api_pending *
api_pending_new(struct evhttp_request *req,
    void (*on_close)(struct api_pending *, void *), void *arg)
{
	struct api_pending *p;

	p = xcalloc(1, sizeof(*p));
	p->req = req;
	p->evcon = evhttp_request_get_connection(req);
	p->on_close = on_close;
	p->arg = arg;
	if (p->evcon != NULL) {
		evhttp_connection_set_closecb(p->evcon, api_pending_closecb, p);
		conn_hold(p->evcon);
	}
	return (p);
}

struct evhttp_request *
api_pending_req(struct api_pending *p)
{
	return (p->req);
}

void
api_pending_done(struct api_pending *p)
{
	if (p == NULL)
		return;
	if (p->evcon != NULL) {
		evhttp_connection_set_closecb(p->evcon, NULL, NULL);
		conn_release(p->evcon);
	}
	free(p);
}

/* Streams */

size_t
api_backlog(struct evhttp_request *req)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return (0);
	return (evbuffer_get_length(bufferevent_get_output(bev)));
}

int
api_stream_full(struct evhttp_request *req)
{
	/* Gone: nothing more can go out (its close callback comes). */
	if (evhttp_request_get_connection(req) == NULL)
		return (1);
	return (api_backlog(req) >= API_BACKLOG_MAX);
}

void
api_stream_start(struct evhttp_request *req, const char *ctype)
{
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply_start(req, 200, "OK");
}

void
api_stream_end(struct api_pending *p)
{
	struct evhttp_request *req = p->req;

	api_pending_done(p);
	evhttp_send_reply_end(req);
}
