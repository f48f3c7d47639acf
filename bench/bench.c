/* SPDX-License-Identifier: ISC */
/*
 * Helpers shared by the benchmark clients: clock, samples, and a small
 * HTTP/1.1 client for Unix sockets. It parses just what schedd and
 * libevent send (status line, Content-Length, chunked transfer); it is not a
 * general HTTP client and never needs to be.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

void
bench_samples_add(struct bench_samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap != 0 ? s->cap * 2 : 1024;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	s->v[s->n++] = v;
}

void
bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

double
bench_samples_pct(struct bench_samples *s, double p)
{
	size_t i;

	if (s->n == 0)
		return (0);
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	i = (size_t)(p / 100.0 * (double)(s->n - 1) + 0.5);
	if (i >= s->n)
		i = s->n - 1;
	return (s->v[i]);
}

void
bench_samples_print(const char *name, const struct bench_samples *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		printf("%s %.3f\n", name, s->v[i]);
}

int
bench_connect(struct bench_conn *c, const char *path, int nonblock)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof(*c));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(c->fd);
		c->fd = -1;
		return (-1);
	}
	if (nonblock)
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->cap = 65536;
	if ((c->buf = malloc(c->cap)) == NULL)
		return (-1);
	return (0);
}

void
bench_conn_close(struct bench_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void
bench_resp_free(struct bench_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

ssize_t
bench_fill(struct bench_conn *c)
{
	ssize_t n;

	if (c->cap - c->len < 16384) {
		c->cap *= 2;
		if ((c->buf = realloc(c->buf, c->cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	do
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return (n);
}

int
bench_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

int
bench_format(char *out, size_t outlen, const char *method, const char *path,
    const char *body)
{
	int n;

	if (body != NULL)
		n = snprintf(out, outlen,
		    "%s %s HTTP/1.1\r\nHost: schedd\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s",
		    method, path, strlen(body), body);
	else
		n = snprintf(out, outlen,
		    "%s %s HTTP/1.1\r\nHost: schedd\r\n\r\n", method, path);
	if (n < 0 || (size_t)n >= outlen)
		return (-1);
	return (n);
}

static void
consume(struct bench_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static void
body_append(struct bench_resp *r, const char *p, size_t n)
{
	if (r->body_len + n + 1 > r->body_cap) {
		r->body_cap = r->body_len + n + 1 + 4096;
		if ((r->body = realloc(r->body, r->body_cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

/*
 * Find the end of the head; fill status, content length (-1 if none) and
 * chunked. Returns the head's length, 0 if incomplete, -1 if malformed.
 */
static long
parse_head(struct bench_conn *c, int *status, long *clen, int *chunked)
{
	char *end, *line, *next;
	size_t hlen;

	c->buf[c->len] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return (0);
	hlen = (size_t)(end - c->buf) + 4;
	if (strncmp(c->buf, "HTTP/1.", 7) != 0 || c->len < 12)
		return (-1);
	*status = atoi(c->buf + 9);
	*clen = -1;
	*chunked = 0;
	for (line = strstr(c->buf, "\r\n") + 2; line < end; line = next + 2) {
		next = strstr(line, "\r\n");
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			*clen = atol(line + 15);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
			 strstr(line, "chunked") != NULL &&
			 strstr(line, "chunked") < next)
			*chunked = 1;
	}
	return ((long)hlen);
}

int
bench_parse_chunk(struct bench_conn *c, struct bench_resp *r)
{
	char *eol, *endp;
	size_t size, hdr;

	c->buf[c->len] = '\0';
	if ((eol = memchr(c->buf, '\n', c->len)) == NULL)
		return (0);
	size = strtoul(c->buf, &endp, 16);
	if (endp == c->buf)
		return (-1);
	hdr = (size_t)(eol - c->buf) + 1;
	if (c->len < hdr + size + 2)
		return (0);
	body_append(r, c->buf + hdr, size);
	consume(c, hdr + size + 2);
	return (size == 0 ? 2 : 1);
}

int
bench_parse_head(struct bench_conn *c, struct bench_resp *r)
{
	long hlen, clen;
	int chunked;

	if ((hlen = parse_head(c, &r->status, &clen, &chunked)) <= 0)
		return ((int)hlen);
	r->chunked = chunked;
	r->body_len = 0;
	consume(c, (size_t)hlen);
	return (1);
}

int
bench_parse_response(struct bench_conn *c, struct bench_resp *r)
{
	long hlen, clen;
	int status, chunked, rc;
	size_t save_len;
	char *save = NULL;

	if ((hlen = parse_head(c, &status, &clen, &chunked)) <= 0)
		return ((int)hlen);
	if (!chunked) {
		if (clen < 0)
			clen = 0;
		if (c->len < (size_t)hlen + (size_t)clen)
			return (0);
		r->status = status;
		r->body_len = 0;
		body_append(r, c->buf + hlen, (size_t)clen);
		consume(c, (size_t)hlen + (size_t)clen);
		return (1);
	}
	/* Chunked: parse on a copy so that an incomplete body leaves the
	 * buffer untouched for the next attempt. */
	save_len = c->len;
	if ((save = malloc(save_len + 1)) == NULL)
		return (-1);
	memcpy(save, c->buf, save_len);
	consume(c, (size_t)hlen);
	r->status = status;
	r->body_len = 0;
	while ((rc = bench_parse_chunk(c, r)) == 1)
		;
	if (rc != 2) {
		memcpy(c->buf, save, save_len);
		c->len = save_len;
	}
	free(save);
	return (rc == 2 ? 1 : rc);
}

int
bench_request(struct bench_conn *c, const char *method, const char *path,
    const char *body, struct bench_resp *r)
{
	char req[8192];
	int n, rc;

	if ((n = bench_format(req, sizeof(req), method, path, body)) == -1 ||
	    bench_write_all(c->fd, req, (size_t)n) == -1)
		return (-1);
	while ((rc = bench_parse_response(c, r)) == 0)
		if (bench_fill(c) <= 0)
			return (-1);
	return (rc == 1 ? 0 : -1);
}

long long
bench_json_int(const char *json, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if (json == NULL || (p = strstr(json, pat)) == NULL)
		return (-1);
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return (-1);
	return (strtoll(p, NULL, 10));
}

long
bench_rss_kb(int pid, long *hwm_kb)
{
	char path[64], line[256];
	FILE *f;
	long rss = -1;

	if (hwm_kb != NULL)
		*hwm_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			rss = atol(line + 6);
		else if (hwm_kb != NULL && strncmp(line, "VmHWM:", 6) == 0)
			*hwm_kb = atol(line + 6);
	}
	fclose(f);
	return (rss);
}

int64_t
bench_cpu_ns(int pid)
{
	char path[64];
	FILE *f;
	long long ns = -1;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	if (fscanf(f, "%lld", &ns) != 1)
		ns = -1;
	fclose(f);
	return (ns);
}
