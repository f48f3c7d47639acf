/* SPDX-License-Identifier: ISC */
/*
 * A small HTTP/1.1 client over a Unix stream socket, for schedctl only: one
 * request per connection ("Connection: close"), the answer read through a
 * fixed 16 KiB buffer, bodies framed by Content-Length, chunked encoding or
 * the end of the connection. Every size the daemon controls is bounded
 * before anything is allocated, every wait is a poll() against one deadline,
 * and nothing here may raise SIGPIPE, print, or know what the bytes mean.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "client/http.h"
#include "proto/util.h"

#define HTTP_BUF_SIZE  16384               /* also the longest line we accept */
#define HTTP_PATH_MAX  8192                /* request target */
#define HTTP_CHUNK_MAX ((uint64_t)1 << 40) /* sanity bound on a chunk size */

struct conn {
	int fd;
	int64_t deadline; /* CLOCK_MONOTONIC ms; -1: wait for ever */
	int timeout_ms;
	const struct http_request *req;
	struct http_response *resp;
	int stream;          /* deliver the body to req->on_data */
	int send_errno;      /* the send failed; an answer may still be there */
	size_t cap;          /* bytes allocated for resp->body */
	size_t header_bytes; /* status line and headers so far */
	size_t off;          /* first unread byte in buf */
	size_t len;          /* unread bytes in buf */
	char buf[HTTP_BUF_SIZE];
};

static int conn_fail(struct conn *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Record why the request failed and return code, for "return conn_fail()". */
static int
conn_fail(struct conn *c, int code, const char *fmt, ...)
{
	va_list ap;
	int saved_errno = errno;

	va_start(ap, fmt);
	vsnprintf(c->resp->error, sizeof(c->resp->error), fmt, ap);
	va_end(ap);
	errno = saved_errno;
	return (code);
}

/*
 * Wait until the socket is ready for events or the deadline passes.
 * Returns the revents, or HTTP_EIO on timeout or poll failure.
 */
static int
conn_poll(struct conn *c, short events)
{
	struct pollfd pfd[2];
	int64_t left;
	int n, timeout, nfds;

	for (;;) {
		timeout = -1;
		if (c->deadline >= 0) {
			left = c->deadline - now_ms();
			if (left <= 0)
				goto timedout;
			timeout = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		pfd[0].fd = c->fd;
		pfd[0].events = events;
		pfd[0].revents = 0;
		nfds = 1;
		if (c->req->wake_fd > 0) {
			pfd[1].fd = c->req->wake_fd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			nfds = 2;
		}
		n = poll(pfd, (nfds_t)nfds, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (conn_fail(
			    c, HTTP_EIO, "poll: %s", strerror(errno)));
		}
		if (n == 0)
			goto timedout;
		/* The caller reads wake_fd; the request is over, unless
		 * on_wake (a progress tick) says to go on. */
		if (nfds == 2 && pfd[1].revents != 0) {
			if (c->req->on_wake != NULL &&
			    c->req->on_wake(c->req->wake_arg) == 0) {
				if (pfd[0].revents == 0)
					continue;
				return (pfd[0].revents);
			}
			return (conn_fail(c, HTTP_EWAKE, "interrupted"));
		}
		return (pfd[0].revents);
	}
timedout:
	if (c->timeout_ms % 1000 == 0)
		return (conn_fail(c, HTTP_EIO,
		    "no answer from the daemon within %d s",
		    c->timeout_ms / 1000));
	return (conn_fail(c, HTTP_EIO, "no answer from the daemon within %d ms",
	    c->timeout_ms));
}

static int
conn_connect(struct conn *c, const char *path)
{
	struct sockaddr_un sun;
	struct timeval tv;
	socklen_t sl;
	size_t n;
	int flags, soerr, rev;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = strlen(path);
	if (n == 0 || n >= sizeof(sun.sun_path))
		return (conn_fail(c, HTTP_ECONNECT, "cannot connect to %s: %s",
		    path, strerror(n == 0 ? ENOENT : ENAMETOOLONG)));
	memcpy(sun.sun_path, path, n + 1);

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return (conn_fail(c, HTTP_ECONNECT, "cannot connect to %s: %s",
		    path, strerror(errno)));
	/*
	 * A blocking connect() to a Unix socket whose listen backlog is full
	 * sleeps; the kernel bounds that sleep by SO_SNDTIMEO and then fails
	 * with EAGAIN.
	 */
	if (c->timeout_ms >= 0) {
		tv.tv_sec = c->timeout_ms / 1000;
		tv.tv_usec = (c->timeout_ms % 1000) * 1000;
		(void)setsockopt(
		    c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EAGAIN)
			return (conn_fail(c, HTTP_ECONNECT,
			    "cannot connect to %s: the daemon does not accept connections (timed out)",
			    path));
		if (errno != EINTR && errno != EINPROGRESS)
			return (conn_fail(c, HTTP_ECONNECT,
			    "cannot connect to %s: %s", path, strerror(errno)));
		/* Interrupted: the connection completes in the background. */
		if ((rev = conn_poll(c, POLLOUT)) < 0)
			return (rev);
		soerr = 0;
		sl = sizeof(soerr);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0)
			return (conn_fail(c, HTTP_ECONNECT,
			    "cannot connect to %s: %s", path, strerror(soerr)));
	}
	if ((flags = fcntl(c->fd, F_GETFL)) == -1 ||
	    fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return (conn_fail(c, HTTP_ECONNECT, "cannot connect to %s: %s",
		    path, strerror(errno)));
	return (HTTP_OK);
}

/*
 * Connect to HOST:PORT ([V6]:PORT, names too), the first address that
 * answers, within the request's time. Returns HTTP_OK or an error.
 */
static int
conn_connect_tcp(struct conn *c, const char *hostport)
{
	struct addrinfo hints, *res = NULL, *ai;
	char buf[256], *host, *port;
	int rc, soerr, one = 1;
	socklen_t sl;

	if (strlen(hostport) >= sizeof(buf) ||
	    util_split_hostport(strcpy(buf, hostport), &host, &port) == -1)
		return (conn_fail(c, HTTP_ECONNECT,
		    "cannot connect to %s: expected HOST:PORT", hostport));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return (conn_fail(c, HTTP_ECONNECT, "cannot connect to %s: %s",
		    hostport, gai_strerror(rc)));
	rc = conn_fail(
	    c, HTTP_ECONNECT, "cannot connect to %s: no address", hostport);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (c->fd != -1)
			close(c->fd);
		if ((c->fd = socket(ai->ai_family,
			 ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) ==
		    -1)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			if (errno != EINPROGRESS) {
				rc = conn_fail(c, HTTP_ECONNECT,
				    "cannot connect to %s: %s", hostport,
				    strerror(errno));
				continue;
			}
			if ((rc = conn_poll(c, POLLOUT)) < 0)
				break;
			soerr = 0;
			sl = sizeof(soerr);
			if (getsockopt(
				c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
				soerr = errno;
			if (soerr != 0) {
				rc = conn_fail(c, HTTP_ECONNECT,
				    "cannot connect to %s: %s", hostport,
				    strerror(soerr));
				continue;
			}
		}
		(void)setsockopt(
		    c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		rc = HTTP_OK;
		break;
	}
	freeaddrinfo(res);
	/* Non-blocking already (SOCK_NONBLOCK), as conn_connect leaves it. */
	return (rc);
}

/*
 * Send n bytes. Returns HTTP_OK, 1 when the daemon answered (or went away)
 * before taking everything (the caller then reads the answer), or an error.
 */
static int
conn_send(struct conn *c, const char *p, size_t n)
{
	ssize_t w;
	int rev;

	while (n > 0) {
		if ((rev = conn_poll(c, POLLOUT | POLLIN)) < 0)
			return (rev);
		if (rev & POLLIN)
			return (1);
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			if (errno == EPIPE || errno == ECONNRESET) {
				c->send_errno = errno;
				return (1);
			}
			return (conn_fail(c, HTTP_EIO,
			    "cannot send the request: %s", strerror(errno)));
		}
		p += w;
		n -= (size_t)w;
	}
	return (HTTP_OK);
}

/* Read more into the buffer. Returns the bytes read (0 at EOF) or an error. */
static int
conn_fill(struct conn *c)
{
	ssize_t r;
	int rev;

	if (c->len == 0)
		c->off = 0;
	else if (c->off + c->len == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	}
	if (c->off + c->len == sizeof(c->buf))
		return (conn_fail(c, HTTP_EPROTO, "answer line too long"));
	for (;;) {
		if ((rev = conn_poll(c, POLLIN)) < 0)
			return (rev);
		r = read(c->fd, c->buf + c->off + c->len,
		    sizeof(c->buf) - c->off - c->len);
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return (conn_fail(c, HTTP_EIO,
			    "cannot read the answer: %s", strerror(errno)));
		}
		c->len += (size_t)r;
		return ((int)r);
	}
}

static int
conn_eof(struct conn *c)
{
	return (conn_fail(c, HTTP_EIO,
	    "the daemon closed the connection before the answer was complete"));
}

/*
 * The next line, without its LF or CR LF, NUL-terminated in place. *line
 * points into the buffer and is valid until the next read.
 */
static int
conn_line(struct conn *c, char **line, size_t *linelen)
{
	char *p, *nl;
	size_t scanned = 0, n;
	int r;

	for (;;) {
		p = c->buf + c->off;
		nl = memchr(p + scanned, '\n', c->len - scanned);
		if (nl != NULL)
			break;
		scanned = c->len;
		if ((r = conn_fill(c)) < 0)
			return (r);
		if (r == 0)
			return (conn_eof(c));
	}
	n = (size_t)(nl - p);
	c->off += n + 1;
	c->len -= n + 1;
	*nl = '\0';
	if (n > 0 && p[n - 1] == '\r')
		p[--n] = '\0';
	*line = p;
	*linelen = n;
	return (HTTP_OK);
}

/* Hand body bytes to the callback or append them to resp->body. */
static int
conn_deliver(struct conn *c, const char *p, size_t n)
{
	struct http_response *resp = c->resp;
	size_t want;
	char *nb;

	if (n == 0)
		return (HTTP_OK);
	if (c->stream) {
		if (c->req->on_data(p, n, c->req->arg) == -1)
			return (
			    conn_fail(c, HTTP_EABORT, "stopped by the reader"));
		/*
		 * A streamed body may be long and its reader slow (a pager):
		 * the timeout bounds silence from the daemon, not the whole.
		 */
		if (c->timeout_ms >= 0)
			c->deadline = now_ms() + c->timeout_ms;
		return (HTTP_OK);
	}
	if (n > HTTP_BODY_MAX - resp->body_len)
		return (conn_fail(c, HTTP_EPROTO,
		    "the daemon's answer is larger than %u MiB",
		    HTTP_BODY_MAX >> 20));
	if (resp->body_len + n + 1 > c->cap) {
		want = c->cap == 0 ? 4096 : c->cap;
		while (want < resp->body_len + n + 1)
			want *= 2;
		if (want > HTTP_BODY_MAX + 1)
			want = HTTP_BODY_MAX + 1;
		if ((nb = realloc(resp->body, want)) == NULL)
			return (conn_fail(c, HTTP_EPROTO,
			    "cannot keep the answer: %s", strerror(errno)));
		resp->body = nb;
		c->cap = want;
	}
	memcpy(resp->body + resp->body_len, p, n);
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return (HTTP_OK);
}

/* Deliver exactly n body bytes. */
static int
conn_body_length(struct conn *c, uint64_t n)
{
	size_t take;
	int r;

	while (n > 0) {
		if (c->len == 0) {
			if ((r = conn_fill(c)) < 0)
				return (r);
			if (r == 0)
				return (conn_eof(c));
		}
		take = c->len < n ? c->len : (size_t)n;
		if ((r = conn_deliver(c, c->buf + c->off, take)) != HTTP_OK)
			return (r);
		c->off += take;
		c->len -= take;
		n -= take;
	}
	return (HTTP_OK);
}

/* Deliver everything up to the end of the connection. */
static int
conn_body_eof(struct conn *c)
{
	int r;

	for (;;) {
		if (c->len > 0) {
			r = conn_deliver(c, c->buf + c->off, c->len);
			if (r != HTTP_OK)
				return (r);
			c->off = c->len = 0;
		}
		if ((r = conn_fill(c)) < 0)
			return (r);
		if (r == 0)
			return (HTTP_OK);
	}
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);
	return (-1);
}

/* Count header-ish lines against HTTP_HEADERS_MAX. */
static int
conn_count(struct conn *c, size_t n)
{
	c->header_bytes += n + 2;
	if (c->header_bytes > HTTP_HEADERS_MAX)
		return (conn_fail(c, HTTP_EPROTO,
		    "the daemon's answer headers exceed %u KiB",
		    HTTP_HEADERS_MAX >> 10));
	return (HTTP_OK);
}

static int
conn_body_chunked(struct conn *c)
{
	uint64_t size;
	char *line, *p;
	size_t n;
	int r, v, digits;

	for (;;) {
		if ((r = conn_line(c, &line, &n)) != HTTP_OK)
			return (r);
		size = 0;
		digits = 0;
		for (p = line; (v = hexval(*p)) != -1; p++, digits++) {
			size = size * 16 + (uint64_t)v;
			if (size > HTTP_CHUNK_MAX)
				return (conn_fail(c, HTTP_EPROTO,
				    "chunk size too large in the answer"));
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (digits == 0 || (*p != '\0' && *p != ';'))
			return (conn_fail(c, HTTP_EPROTO,
			    "malformed chunk size in the answer"));
		if (size == 0)
			break;
		if ((r = conn_body_length(c, size)) != HTTP_OK)
			return (r);
		if ((r = conn_line(c, &line, &n)) != HTTP_OK)
			return (r);
		if (n != 0)
			return (conn_fail(c, HTTP_EPROTO,
			    "malformed chunk end in the answer"));
	}
	/* Trailer fields, up to the empty line; ignored but bounded. */
	c->header_bytes = 0;
	for (;;) {
		if ((r = conn_line(c, &line, &n)) != HTTP_OK)
			return (r);
		if (n == 0)
			return (HTTP_OK);
		if ((r = conn_count(c, n)) != HTTP_OK)
			return (r);
	}
}

/* Copy src into dst (len bytes) replacing control bytes with '?'. */
static void
copy_printable(char *dst, size_t len, const char *src, size_t n)
{
	size_t i;

	if (len == 0)
		return;
	if (n > len - 1)
		n = len - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	dst[n] = '\0';
}

static int
parse_status_line(struct conn *c, const char *line, size_t n)
{
	const char *s = line;
	int i;

	if (n < 12 || strncmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' ||
	    s[7] > '9' || s[8] != ' ' || (s[12] != ' ' && s[12] != '\0'))
		goto bad;
	c->resp->status = 0;
	for (i = 9; i < 12; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		c->resp->status = c->resp->status * 10 + (s[i] - '0');
	}
	if (c->resp->status < 100)
		goto bad;
	if (n > 13)
		copy_printable(
		    c->resp->reason, sizeof(c->resp->reason), s + 13, n - 13);
	else
		c->resp->reason[0] = '\0';
	return (HTTP_OK);
bad:
	return (
	    conn_fail(c, HTTP_EPROTO, "the daemon did not answer in HTTP/1.x"));
}

/* Is the last transfer coding of the list "chunked"? */
static int
te_chunked(const char *v)
{
	const char *last = v, *p;
	size_t n;

	for (p = v; *p != '\0'; p++)
		if (*p == ',')
			last = p + 1;
	while (*last == ' ' || *last == '\t')
		last++;
	n = strlen(last);
	while (n > 0 && (last[n - 1] == ' ' || last[n - 1] == '\t'))
		n--;
	return (n == 7 && strncasecmp(last, "chunked", 7) == 0);
}

static int
conn_read_answer(struct conn *c)
{
	struct http_response *resp = c->resp;
	uint64_t clen = 0, v;
	char *line = NULL, *colon, *val, *end, *p;
	size_t n = 0, namelen;
	int r, have_clen, have_te, chunked;

again:
	c->header_bytes = 0;
	have_clen = have_te = chunked = 0;
	if ((r = conn_line(c, &line, &n)) != HTTP_OK)
		return (r);
	if ((r = conn_count(c, n)) != HTTP_OK ||
	    (r = parse_status_line(c, line, n)) != HTTP_OK)
		return (r);
	for (;;) {
		if ((r = conn_line(c, &line, &n)) != HTTP_OK)
			return (r);
		if (n == 0)
			break;
		if ((r = conn_count(c, n)) != HTTP_OK)
			return (r);
		colon = memchr(line, ':', n);
		if (colon == NULL || colon == line || line[0] == ' ' ||
		    line[0] == '\t')
			return (conn_fail(c, HTTP_EPROTO,
			    "malformed header in the daemon's answer"));
		namelen = (size_t)(colon - line);
		val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		end = line + n;
		while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (namelen == 14 &&
		    strncasecmp(line, "Content-Length", namelen) == 0) {
			v = 0;
			if (*val == '\0')
				goto badlen;
			for (p = val; *p != '\0'; p++) {
				if (*p < '0' || *p > '9' ||
				    v > (UINT64_MAX - 9) / 10)
					goto badlen;
				v = v * 10 + (uint64_t)(*p - '0');
			}
			if (have_clen && v != clen)
				goto badlen;
			clen = v;
			have_clen = 1;
		} else if (namelen == 17 &&
			   strncasecmp(line, "Transfer-Encoding", namelen) ==
			       0) {
			have_te = 1;
			chunked = te_chunked(val);
		} else if (namelen == 12 &&
			   strncasecmp(line, "Content-Type", namelen) == 0)
			copy_printable(resp->content_type,
			    sizeof(resp->content_type), val, strlen(val));
	}
	/* Interim answers (100 Continue): the real one follows. */
	if (resp->status < 200 && resp->status != 101)
		goto again;

	c->stream = c->req->on_data != NULL && resp->status >= 200 &&
		    resp->status <= 299;
	if (resp->status == 204 || resp->status == 304 ||
	    strcmp(c->req->method, "HEAD") == 0)
		return (HTTP_OK);
	if (have_te)
		return (chunked ? conn_body_chunked(c) : conn_body_eof(c));
	if (have_clen) {
		if (!c->stream && clen > HTTP_BODY_MAX)
			return (conn_fail(c, HTTP_EPROTO,
			    "the daemon's answer is larger than %u MiB",
			    HTTP_BODY_MAX >> 20));
		return (conn_body_length(c, clen));
	}
	return (conn_body_eof(c));
badlen:
	return (conn_fail(
	    c, HTTP_EPROTO, "bad Content-Length in the daemon's answer"));
}

/* Method and target must not be able to break the request line. */
static int
token_ok(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || s[n] == 0x7f || n >= max)
			return (0);
	return (n > 0);
}

int
http_request(const char *sockpath, const struct http_request *req,
    struct http_response *resp)
{
	struct conn *c;
	char head[HTTP_PATH_MAX + 512];
	int n, r, has_len;

	memset(resp, 0, sizeof(*resp));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(
		    resp->error, sizeof(resp->error), "%s", strerror(errno));
		return (HTTP_EPROTO);
	}
	c->fd = -1;
	c->req = req;
	c->resp = resp;
	c->timeout_ms = req->timeout_ms;
	c->deadline = req->timeout_ms >= 0 ? now_ms() + req->timeout_ms : -1;

	if (!token_ok(req->method, 16) || !token_ok(req->path, HTTP_PATH_MAX)) {
		r = conn_fail(
		    c, HTTP_EPROTO, "cannot send a malformed request");
		goto out;
	}
	has_len = req->body != NULL || (strcmp(req->method, "GET") != 0 &&
					   strcmp(req->method, "HEAD") != 0);
	n = snprintf(head, sizeof(head),
	    "%s %s HTTP/1.1\r\n"
	    "Host: localhost\r\n"
	    "User-Agent: schedctl/%s\r\n"
	    "Connection: close\r\n"
	    "%s",
	    req->method, req->path, PACKAGE_VERSION,
	    req->body != NULL ? "Content-Type: application/json\r\n" : "");
	if (n >= 0 && (size_t)n < sizeof(head) && has_len)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Length: %zu\r\n",
		    req->body != NULL ? req->body_len : 0);
	if (n >= 0 && (size_t)n < sizeof(head) && req->token != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Authorization: Bearer %s\r\n", req->token);
	if (n >= 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		r = conn_fail(c, HTTP_EPROTO, "request too long");
		goto out;
	}

	if ((r = req->host != NULL ? conn_connect_tcp(c, req->host)
				   : conn_connect(c, sockpath)) != HTTP_OK)
		goto out;
	r = conn_send(c, head, (size_t)n);
	if (r == HTTP_OK && req->body != NULL)
		r = conn_send(c, req->body, req->body_len);
	if (r < 0)
		goto out;
	r = conn_read_answer(c);
	if (r == HTTP_EIO && c->send_errno != 0)
		r = conn_fail(c, HTTP_EIO, "cannot send the request: %s",
		    strerror(c->send_errno));
out:
	if (c->fd != -1)
		close(c->fd);
	free(c);
	return (r);
}

void
http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int
http_urlencode(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
		    *s == '_' || *s == '~') {
			if (o + 1 >= len)
				return (-1);
			dst[o++] = (char)*s;
		} else {
			if (o + 3 >= len)
				return (-1);
			dst[o++] = '%';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 15];
		}
	}
	if (o >= len)
		return (-1);
	dst[o] = '\0';
	return (0);
}
