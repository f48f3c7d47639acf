/* SPDX-License-Identifier: ISC */
/*
 * The reference for the API benchmark: a bare libevent evhttp server on a
 * Unix socket, one thread, answering GET /v1/health with a JSON body of
 * HEALTH_BYTES and any other path with one of OTHER_BYTES, with the same
 * Content-Type as schedd. No routing, no JSON encoding, no credentials:
 * what evhttp itself costs. Runs until SIGTERM or SIGINT.
 *
 * usage: bare-http SOCK HEALTH_BYTES OTHER_BYTES
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static char *body_health, *body_other;
static size_t len_health, len_other;

static char *
make_body(size_t len)
{
	char *b;

	if (len < 8)
		len = 8;
	if ((b = malloc(len)) == NULL)
		exit(1);
	memset(b, 'x', len);
	memcpy(b, "{\"x\":\"", 6);
	memcpy(b + len - 3, "\"}\n", 3);
	return (b);
}

static void
gencb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *buf = evbuffer_new();
	const char *uri = evhttp_request_get_uri(req);

	(void)arg;
	if (strcmp(uri, "/v1/health") == 0)
		evbuffer_add(buf, body_health, len_health);
	else
		evbuffer_add(buf, body_other, len_other);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	struct event_base *base;
	struct evhttp *http;
	struct event *sigterm, *sigint;
	struct sockaddr_un sun;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: bare-http SOCK HEALTH_BYTES "
				"OTHER_BYTES\n");
		return (2);
	}
	len_health = (size_t)atol(argv[2]);
	len_other = (size_t)atol(argv[3]);
	if (len_health < 8)
		len_health = 8;
	if (len_other < 8)
		len_other = 8;
	body_health = make_body(len_health);
	body_other = make_body(len_other);
	signal(SIGPIPE, SIG_IGN);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bare-http: socket path too long\n");
		return (1);
	}
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 128) == -1) {
		perror("bare-http: socket");
		return (1);
	}
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_gencb(http, gencb, NULL);
	if (evhttp_accept_socket_with_handle(http, fd) == NULL) {
		fprintf(stderr, "bare-http: evhttp_accept_socket failed\n");
		return (1);
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	printf("ready\n");
	fflush(stdout);
	event_base_dispatch(base);
	event_free(sigterm);
	event_free(sigint);
	evhttp_free(http);
	event_base_free(base);
	unlink(sun.sun_path);
	free(body_health);
	free(body_other);
	return (0);
}
