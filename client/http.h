/* SPDX-License-Identifier: ISC */
/*
 * The client's single HTTP helper: one HTTP/1.1 request over a fresh Unix
 * stream socket, answer read with bounded buffers. It knows nothing of JSON
 * or of the daemon's routes; it never prints, it only fills the response.
 */
#ifndef SCHEDD_HTTP_H
#define SCHEDD_HTTP_H

#include <stddef.h>

#define HTTP_BODY_MAX    (64u << 20) /* non-streamed answers: 64 MiB */
#define HTTP_HEADERS_MAX (64u << 10) /* status line and headers */
#define HTTP_ERROR_MAX   512

/*
 * Receives the body of a streamed 2xx answer, piece by piece, as it arrives
 * (chunk framing already removed). Returns 0 to go on, -1 to stop: then
 * http_request() returns HTTP_EABORT and the callback has said why.
 */
typedef int (*http_data_cb)(const char *data, size_t len, void *arg);

struct http_request {
	const char *method; /* "GET", "POST", "DELETE" */
	const char *path;   /* percent-encoded path and query */
	const char *body;   /* NULL: none */
	size_t body_len;    /* bytes of body */
	int timeout_ms; /* whole exchange, or silence while streaming; -1: none
			 */
	http_data_cb on_data; /* non-NULL: 2xx bodies go here, not in memory */
	void *arg;            /* for on_data */
	const char *host;     /* HOST:PORT: TCP instead of the socket; NULL */
	const char *token;    /* bearer token for host; NULL: none */
	int wake_fd; /* > 0: readable ends the request with HTTP_EWAKE */
	/* Non-NULL: called when wake_fd is readable instead; it must drain
	 * the fd and return 0 to go on waiting, -1 to end with HTTP_EWAKE. */
	int (*on_wake)(void *arg);
	void *wake_arg;
};

struct http_response {
	int status;                 /* 100..599 */
	char reason[64];            /* reason phrase, control bytes replaced */
	char content_type[128];     /* "" when absent */
	char *body;                 /* NUL-terminated; NULL when streamed */
	size_t body_len;            /* bytes in body, without the NUL */
	char error[HTTP_ERROR_MAX]; /* why http_request() failed */
};

enum http_result {
	HTTP_OK = 0,        /* an answer was read completely (any status) */
	HTTP_ECONNECT = -1, /* could not connect to the socket */
	HTTP_EIO = -2,      /* broken connection, timeout, early close */
	HTTP_EPROTO = -3,   /* not HTTP, or over a size bound */
	HTTP_EABORT = -4,   /* on_data asked to stop */
	HTTP_EWAKE = -5,    /* wake_fd became readable (a signal came) */
};

/*
 * Connect to sockpath, send req with Host, Content-Type and Content-Length
 * headers, and read the whole answer into resp (which it initialises).
 * Bodies framed by Content-Length, chunked transfer-encoding, or the end of
 * the connection are all understood. Returns an enum http_result; on any
 * failure resp->error holds a sentence without the "schedctl:" prefix
 * ("cannot connect to /run/x.sock: No such file or directory"). The caller
 * frees resp with http_response_free() in every case.
 */
int http_request(const char *sockpath, const struct http_request *req,
    struct http_response *resp);

/* Release the body; accepts a zeroed or already freed response. */
void http_response_free(struct http_response *resp);

/*
 * Percent-encode src (everything but RFC 3986 unreserved bytes) into dst.
 * Returns 0, or -1 if dst (len bytes, NUL included) is too small.
 */
int http_urlencode(char *dst, size_t len, const char *src);

#endif
