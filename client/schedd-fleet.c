/* SPDX-License-Identifier: ISC */
/*
 * schedd-fleet: follow several schedd daemons' event streams (GET
 * /v1/events?since=ID, over their TCP listeners with a token, or their
 * Unix sockets) and print one merged stream, each line tagged with its
 * node, resumable from a cursor file that holds the last id seen per node.
 * Read-only: it never changes anything on a node, and placement stays the
 * cluster scheduler's. One child process per node holds that node's
 * stream (client/http.c is blocking), reconnecting with a bounded backoff;
 * the parent multiplexes the children's pipes, so no two nodes' lines
 * can interleave within a line.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client/http.h"

#define FLEET_NODES_MAX 64
#define FLEET_LINE_MAX  (1u << 20)

struct node {
	const char *name; /* HOST:PORT, or a socket path */
	long long since;  /* the last id printed (the cursor) */
	int fd;           /* the child's pipe, read end */
	pid_t pid;
	char *buf; /* a line being assembled */
	size_t len, cap;
};

static struct node nodes[FLEET_NODES_MAX];
static int nnodes;
static const char *token;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: schedd-fleet [--token-file F] [--cursor FILE] [--since ID]\n"
	    "                    [--until-idle SEC] NODE...\n"
	    "NODE is HOST:PORT (a schedd TCP listener, with the token) or the\n"
	    "path of a schedd socket. Prints NODE EVENT-JSON per event.\n");
	exit(2);
}

static void
warnx_(const char *fmt, ...)
{
	va_list ap;

	fputs("schedd-fleet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The first word of the first line that is not blank or a comment. */
static char *
read_token(const char *path)
{
	char line[1024], *p, *e;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		warnx_("%s: %s", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		e = p + strcspn(p, " \t\r\n");
		*e = '\0';
		fclose(f);
		return (strdup(p));
	}
	fclose(f);
	warnx_("%s: no token in it", path);
	exit(1);
}

/* --- the child: one node's stream ---------------------------------------- */

struct child {
	int out;         /* the pipe to the parent */
	long long since; /* the last id passed on */
	char *buf;
	size_t len, cap;
	int skipping;
};

static int
child_line(struct child *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *ev;
	char *out;
	ssize_t w;
	size_t off = 0;

	if ((ev = json_loadb(line, len, 0, &jerr)) == NULL)
		return (0);
	/* Heartbeats say the stream is alive; they are no event. */
	if (!json_is_integer(json_object_get(ev, "id"))) {
		json_decref(ev);
		return (0);
	}
	c->since = json_integer_value(json_object_get(ev, "id"));
	json_decref(ev);
	/* One write of the line and its newline: the parent's read. */
	if ((out = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(out, line, len);
	out[len] = '\n';
	while (off < len + 1) {
		if ((w = write(c->out, out + off, len + 1 - off)) == -1) {
			if (errno == EINTR)
				continue;
			free(out);
			return (-1);
		}
		off += (size_t)w;
	}
	free(out);
	return (0);
}

static int
child_data(const char *data, size_t len, void *arg)
{
	struct child *c = arg;
	const char *nl;
	size_t n;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (!c->skipping) {
			if (c->len + n > FLEET_LINE_MAX)
				c->skipping = 1;
			else {
				if (c->len + n > c->cap) {
					c->cap = c->len + n + 4096;
					if ((c->buf = realloc(
						 c->buf, c->cap)) == NULL)
						return (-1);
				}
				memcpy(c->buf + c->len, data, n);
				c->len += n;
			}
		}
		if (nl == NULL)
			break;
		if (!c->skipping && c->len > 0 &&
		    child_line(c, c->buf, c->len) == -1)
			return (-1);
		c->len = 0;
		c->skipping = 0;
		data = nl + 1;
		len -= n + 1;
	}
	return (0);
}

static void
child_run(struct node *n, int out)
{
	struct http_request req;
	struct http_response resp;
	struct child c;
	struct timespec ts;
	char path[64];
	int r, delay_ms = 200, said = 0;
	json_t *body;

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.since = n->since;
	for (;;) {
		snprintf(path, sizeof(path), "/v1/events?since=%lld", c.since);
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.path = path;
		req.timeout_ms = 60000; /* heartbeats come every 15 s */
		req.on_data = child_data;
		req.arg = &c;
		if (n->name[0] != '/') {
			req.host = n->name;
			req.token = token;
		}
		c.len = 0;
		c.skipping = 0;
		r = http_request(
		    n->name[0] == '/' ? n->name : NULL, &req, &resp);
		if (r == HTTP_OK && resp.status == 410 && resp.body != NULL &&
		    (body = json_loads(resp.body, 0, NULL)) != NULL) {
			json_t *old = json_object_get(
			    json_object_get(body, "error"), "oldest_id");

			/* Pruned: say so, and go on from what is left. */
			if (json_is_integer(old)) {
				warnx_("%s: events after %lld are gone; "
				       "resuming at %lld",
				    n->name, c.since,
				    (long long)json_integer_value(old) - 1);
				c.since = json_integer_value(old) - 1;
			}
			json_decref(body);
			http_response_free(&resp);
			continue;
		}
		if (r == HTTP_OK &&
		    (resp.status == 401 || resp.status == 403)) {
			warnx_("%s: %d %s (the token?)", n->name, resp.status,
			    resp.reason);
			http_response_free(&resp);
			_exit(1);
		}
		if (!said)
			warnx_("%s: %s; reconnecting", n->name,
			    r != HTTP_OK ? resp.error : "the stream ended");
		said = 1;
		http_response_free(&resp);
		ts.tv_sec = delay_ms / 1000;
		ts.tv_nsec = (long)(delay_ms % 1000) * 1000000;
		(void)nanosleep(&ts, NULL);
		delay_ms = delay_ms * 2 > 5000 ? 5000 : delay_ms * 2;
	}
}

/* --- the parent: merge, tag, keep the cursor --------------------------- */

static void
cursor_read(const char *path)
{
	char line[1024], name[512];
	long long id;
	FILE *f;
	int i;

	if ((f = fopen(path, "r")) == NULL)
		return; /* none yet: from --since */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%511s %lld", name, &id) != 2)
			continue;
		for (i = 0; i < nnodes; i++)
			if (strcmp(nodes[i].name, name) == 0)
				nodes[i].since = id;
	}
	fclose(f);
}

/* Written whole and renamed into place: a crash leaves the old one. */
static void
cursor_write(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int i;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL)
		return;
	for (i = 0; i < nnodes; i++)
		fprintf(f, "%s %lld\n", nodes[i].name, nodes[i].since);
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		warnx_("%s: %s", path, strerror(errno));
}

static void
parent_line(struct node *n, const char *line, size_t len)
{
	json_t *ev;

	if ((ev = json_loadb(line, len, 0, NULL)) != NULL) {
		if (json_is_integer(json_object_get(ev, "id")))
			n->since =
			    json_integer_value(json_object_get(ev, "id"));
		json_decref(ev);
	}
	printf("%s %.*s\n", n->name, (int)len, line);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"token-file", required_argument, NULL, 't'},
	    {"cursor", required_argument, NULL, 'c'},
	    {"since", required_argument, NULL, 's'},
	    {"until-idle", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pollfd pfd[FLEET_NODES_MAX];
	const char *cursor = NULL;
	long long since = 0, idle_ms = -1, last;
	char buf[65536], *nl, *p;
	ssize_t r;
	int ch, i, open_fds, pipefd[2], changed;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			token = read_token(optarg);
			break;
		case 'c':
			cursor = optarg;
			break;
		case 's':
			since = strtoll(optarg, &p, 10);
			if (*p != '\0' || since < 0)
				usage();
			break;
		case 'u':
			idle_ms = strtoll(optarg, &p, 10) * 1000;
			if (*p != '\0' || idle_ms < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > FLEET_NODES_MAX)
		usage();
	for (i = 0; i < argc; i++) {
		nodes[i].name = argv[i];
		nodes[i].since = since;
		if (argv[i][0] != '/' && token == NULL) {
			warnx_("%s: a TCP node needs --token-file", argv[i]);
			return (2);
		}
	}
	nnodes = argc;
	if (cursor != NULL)
		cursor_read(cursor);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (i = 0; i < nnodes; i++) {
		if (pipe2(pipefd, O_CLOEXEC) == -1) {
			warnx_("pipe: %s", strerror(errno));
			return (1);
		}
		fflush(NULL);
		if ((nodes[i].pid = fork()) == -1) {
			warnx_("fork: %s", strerror(errno));
			return (1);
		}
		if (nodes[i].pid == 0) {
			close(pipefd[0]);
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			child_run(&nodes[i], pipefd[1]);
			_exit(0);
		}
		close(pipefd[1]);
		nodes[i].fd = pipefd[0];
	}

	last = now_ms();
	for (;;) {
		open_fds = 0;
		for (i = 0; i < nnodes; i++) {
			pfd[i].fd = nodes[i].fd;
			pfd[i].events = POLLIN;
			open_fds += nodes[i].fd != -1;
		}
		if (open_fds == 0)
			break;
		if (poll(pfd, (nfds_t)nnodes, idle_ms >= 0 ? 200 : -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		changed = 0;
		for (i = 0; i < nnodes; i++) {
			if (nodes[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if ((r = read(nodes[i].fd, buf, sizeof(buf))) <= 0) {
				close(nodes[i].fd);
				nodes[i].fd = -1;
				continue;
			}
			if (nodes[i].len + (size_t)r > nodes[i].cap) {
				nodes[i].cap = nodes[i].len + (size_t)r + 4096;
				nodes[i].buf =
				    realloc(nodes[i].buf, nodes[i].cap);
				if (nodes[i].buf == NULL)
					return (1);
			}
			memcpy(nodes[i].buf + nodes[i].len, buf, (size_t)r);
			nodes[i].len += (size_t)r;
			p = nodes[i].buf;
			while ((nl = memchr(p, '\n',
				    nodes[i].len -
					(size_t)(p - nodes[i].buf))) != NULL) {
				parent_line(&nodes[i], p, (size_t)(nl - p));
				p = nl + 1;
				changed = 1;
			}
			nodes[i].len -= (size_t)(p - nodes[i].buf);
			memmove(nodes[i].buf, p, nodes[i].len);
		}
		if (changed) {
			last = now_ms();
			if (cursor != NULL)
				cursor_write(cursor);
		}
		if (idle_ms >= 0 && now_ms() - last >= idle_ms)
			break;
	}
	for (i = 0; i < nnodes; i++)
		if (nodes[i].pid > 0) {
			kill(nodes[i].pid, SIGTERM);
			(void)waitpid(nodes[i].pid, NULL, 0);
		}
	return (0);
}
