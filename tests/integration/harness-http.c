/* SPDX-License-Identifier: ISC */
/*
 * The harness's client side (contracts in harness.h): libcurl requests over
 * the daemon's Unix socket, streams read line by line through the multi
 * interface, raw sockets for what curl would refuse to send, and the JSON
 * accessors and assertions the tests use. Everything it returns is kept by
 * the harness until teardown; open streams and sockets are closed there.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/integration/harness.h"
#include "tests/integration/harness-int.h"

#define H_MAXSTREAMS         32
#define H_MAXFDS             256
#define H_BODY_MAX           (64u << 20)
#define H_REQUEST_TIMEOUT_MS 30000L

struct h_stream {
	struct h *h;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	struct h_buf buf;
	size_t off;
	char *line;
	int headers_done;
	int done;
	CURLcode result;
	long status;
	char ctype[128];
};

/* What teardown must close. */
static struct {
	struct h_stream *streams[H_MAXSTREAMS];
	int fds[H_MAXFDS];
	int nfds;
} hs;

void
h_http_close_all(struct h *h)
{
	int i;

	for (i = 0; i < H_MAXSTREAMS; i++)
		h_stream_close(hs.streams[i]);
	while (hs.nfds > 0)
		h_raw_close(h, hs.fds[0]);
}

/* ---------------------------------------------------------------- JSON */

json_t *
h_at(json_t *root, const char *path)
{
	char seg[256];
	const char *p = path, *e;
	size_t n;
	char *br;
	long idx;

	while (root != NULL && *p != '\0') {
		e = strchr(p, '.');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof(seg))
			return (NULL);
		memcpy(seg, p, n);
		seg[n] = '\0';
		p += n + (e ? 1 : 0);
		br = strchr(seg, '[');
		if (br != NULL)
			*br = '\0';
		if (seg[0] != '\0')
			root = json_object_get(root, seg);
		while (root != NULL && br != NULL) {
			idx = strtol(br + 1, NULL, 10);
			root = json_array_get(root, (size_t)idx);
			br = strchr(br + 1, '[');
		}
	}
	return (root);
}

static void
h_print_json(const char *label, json_t *j)
{
	char *s;

	if (j == NULL)
		return;
	s = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	print_error("%s: %s\n", label, s ? s : "?");
	free(s);
}

void
h_fail_(const char *file, int line, json_t *j, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("%s\n", msg);
	h_print_json("in", j);
	_fail(file, line);
	abort();
}

json_t *
h_parse(struct h *h, const char *text)
{
	json_error_t e;

	if (text == NULL)
		return (NULL);
	return (h_keep_json(h, json_loads(text, JSON_DECODE_ANY, &e)));
}

const char *
h_str_(const char *file, int line, json_t *j, const char *path)
{
	json_t *v = h_at(j, path);

	if (!json_is_string(v))
		h_fail_(file, line, j, "%s is not a string", path);
	return (json_string_value(v));
}

json_int_t
h_int_(const char *file, int line, json_t *j, const char *path)
{
	json_t *v = h_at(j, path);

	if (!json_is_integer(v))
		h_fail_(file, line, j, "%s is not an integer", path);
	return (json_integer_value(v));
}

void
h_assert_str_(
    const char *file, int line, json_t *j, const char *path, const char *expect)
{
	json_t *v = h_at(j, path);

	if (!json_is_string(v) || strcmp(json_string_value(v), expect) != 0)
		h_fail_(file, line, j, "%s: expected \"%s\", got %s%s%s", path,
		    expect, json_is_string(v) ? "\"" : "",
		    json_is_string(v) ? json_string_value(v)
				      : (v ? "a non-string" : "nothing"),
		    json_is_string(v) ? "\"" : "");
}

void
h_assert_int_(
    const char *file, int line, json_t *j, const char *path, json_int_t expect)
{
	json_t *v = h_at(j, path);

	if (!json_is_integer(v) || json_integer_value(v) != expect)
		h_fail_(file, line, j, "%s: expected %" JSON_INTEGER_FORMAT,
		    path, expect);
}

void
h_assert_null_(const char *file, int line, json_t *j, const char *path)
{
	json_t *v = h_at(j, path);

	/* The contract lists unset fields as null, not absent. */
	if (!json_is_null(v))
		h_fail_(file, line, j, "%s: expected null%s", path,
		    v == NULL ? " (the key is missing)" : "");
}

void
h_assert_error_(
    const char *file, int line, json_t *j, const char *code, const char *field)
{
	json_t *err = json_object_get(j, "error");
	json_t *f = json_object_get(err, "field");
	const char *fs = json_string_value(f);
	size_t n;

	if (!json_is_object(err))
		h_fail_(file, line, j, "no error object");
	if (!json_is_string(json_object_get(err, "code")) ||
	    strcmp(json_string_value(json_object_get(err, "code")), code) != 0)
		h_fail_(file, line, j, "error.code: expected %s", code);
	if (!json_is_string(json_object_get(err, "message")) ||
	    json_string_length(json_object_get(err, "message")) == 0)
		h_fail_(file, line, j, "error.message missing or empty");
	if (field == NULL)
		return;
	if (field[0] == '\0') {
		if (f != NULL)
			h_fail_(file, line, j, "error.field should be absent");
		return;
	}
	n = strlen(field);
	if (fs == NULL || (field[n - 1] == '*' ? strncmp(fs, field, n - 1) != 0
					       : strcmp(fs, field) != 0))
		h_fail_(file, line, j, "error.field: expected %s", field);
}

/* Every "pid" integer in an answer is a process teardown may reap. */
void
h_learn_json(struct h *h, json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach (j, k, v) {
			if (strcmp(k, "pid") == 0 && json_is_integer(v))
				h_learn_pid(h, (pid_t)json_integer_value(v));
			else
				h_learn_json(h, v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			h_learn_json(h, v);
	}
}

/* ---------------------------------------------------------------- HTTP */

static size_t
h_curl_write(char *p, size_t size, size_t n, void *arg)
{
	struct h_buf *b = arg;

	if (b->len + size * n > H_BODY_MAX)
		return (0);
	h_buf_add(b, p, size * n);
	return (size * n);
}

static CURL *
h_easy(struct h *h, const char *method, const char *path, const char *body,
    const char *ctype, struct curl_slist **hdrs, struct h_buf *b)
{
	CURL *c;
	char url[4096], ct[256];

	if ((c = curl_easy_init()) == NULL)
		abort();
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, h_curl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	/* No "Expect: 100-continue" round trip for large bodies. */
	*hdrs = curl_slist_append(NULL, "Expect:");
	if (body != NULL || strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(
		    c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
		if (ctype == NULL)
			ctype = "application/json";
		snprintf(ct, sizeof(ct), "Content-Type:%s%s",
		    ctype[0] ? " " : "", ctype);
		*hdrs = curl_slist_append(*hdrs, ct);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	return (c);
}

long
h_request_ex(struct h *h, const char *method, const char *path,
    const char *body, const char *ctype, json_t **json, long timeout_ms)
{
	struct curl_slist *hdrs = NULL;
	struct h_buf b = {0};
	CURL *c;
	CURLcode rc;
	long status = -1;
	char *ct = NULL;
	json_t *j = NULL;

	c = h_easy(h, method, path, body, ctype, &hdrs, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		h->last_body =
		    h_fmt(h, "transport error: %s", curl_easy_strerror(rc));
		h->last_ctype = "";
		free(b.p);
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		h->last_ctype = h_fmt(h, "%s", ct ? ct : "");
		h->last_body = h_keep(h, h_buf_steal(&b));
		j = h_parse(h, h->last_body);
		h_learn_json(h, j);
	}
	h->last_status = status;
	if (json != NULL)
		*json = j;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return (status);
}

long
h_request(struct h *h, const char *method, const char *path, const char *body,
    const char *ctype, json_t **json)
{
	return (h_request_ex(
	    h, method, path, body, ctype, json, H_REQUEST_TIMEOUT_MS));
}

json_t *
h_call_(const char *file, int line, struct h *h, long expect,
    const char *method, json_t *body, const char *fmt, ...)
{
	char path[8192];
	va_list ap;
	char *text = NULL;
	json_t *j;
	long st;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (body != NULL) {
		text = h_keep(h, json_dumps(body, JSON_COMPACT));
		json_decref(body);
	}
	st = h_request(h, method, path, text, NULL, &j);
	if (st != expect)
		h_fail_(file, line, NULL,
		    "%s %s%s%.300s: expected %ld, got %ld: %s", method, path,
		    text ? " " : "", text ? text : "", expect, st,
		    h->last_body);
	if (j == NULL)
		h_fail_(file, line, NULL, "%s %s: answer is not JSON (%s): %s",
		    method, path, h->last_ctype, h->last_body);
	return (j);
}

const char *
h_call_raw_(const char *file, int line, struct h *h, long expect,
    const char *method, const char *body, const char *ctype, const char *fmt,
    ...)
{
	char path[8192];
	va_list ap;
	long st;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	st = h_request(h, method, path, body, ctype, NULL);
	if (st != expect)
		h_fail_(file, line, NULL,
		    "%s %s: expected %ld, got %ld: %.2000s", method, path,
		    expect, st, h->last_body);
	return (h->last_body);
}

json_t *
h_job_create_(const char *file, int line, struct h *h, json_t *spec)
{
	return (h_call_(file, line, h, 201, "POST", spec, "/v1/jobs"));
}

json_t *
h_job_poll_(const char *file, int line, struct h *h, const char *job,
    const char *state, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	json_t *j;

	for (;;) {
		j = h_call_(
		    file, line, h, 200, "GET", NULL, "/v1/jobs/%s", job);
		if (json_is_string(json_object_get(j, "state")) &&
		    strcmp(json_string_value(json_object_get(j, "state")),
			state) == 0)
			return (j);
		if (h_now_ms() > deadline)
			h_fail_(file, line, j, "job %s not %s after %d ms", job,
			    state, timeout_ms);
		h_sleep_ms(20);
	}
}

const char *
h_job_logs(struct h *h, const char *job, const char *query)
{
	return (h_call_raw(h, 200, "GET", NULL, NULL, "/v1/jobs/%s/logs%s%s",
	    job, query && *query ? "?" : "", query ? query : ""));
}

void
h_assert_counted_lines_gap(struct h *h, const char *job, int min, int gap)
{
	const char *text = h_job_logs(h, job, NULL), *p;
	int n, next = 1, lines = 0, gaps = 0;

	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1, next++, lines++) {
		if (strchr(p, '\n') == NULL || sscanf(p, "n %d", &n) != 1 ||
		    n < next)
			h_fail(NULL,
			    "%s: line %d is not \"n %d\" or after:\n%s", job,
			    lines + 1, next, text);
		if (n > next && (gaps++ > 0 || n - next > gap))
			h_fail(NULL, "%s: lines %d to %d missing:\n%s", job,
			    next, n - 1, text);
		next = n;
	}
	if (lines < min)
		h_fail(NULL, "%s: only %d lines, %d expected:\n%s", job, lines,
		    min, text);
}

void
h_assert_counted_lines(struct h *h, const char *job, int min)
{
	h_assert_counted_lines_gap(h, job, min, 0);
}

void
h_restart_on_tmpfs(struct h *h, const char *size, const char *conf)
{
	h_need_root(h);
	if (h_daemon_stop(h, SIGTERM) != 0)
		h_fail(NULL, "schedd did not exit 0 on SIGTERM");
	h_mount_tmpfs(h, h->state, size);
	h_config(h, conf);
	h_daemon_start(h);
}

void
h_assert_db_writable(struct h *h, const char *name)
{
	json_t *rows;

	h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", name, "argv",
			    "/bin/true", "start", 0));
	rows = h_db_query(
	    h, "SELECT count(*) AS n FROM jobs WHERE name = ?1", name);
	h_assert_int(rows, "[0].n", 1);
}

/* ------------------------------------------------------------- streams */

static size_t
h_stream_header(char *p, size_t size, size_t n, void *arg)
{
	struct h_stream *s = arg;
	size_t len = size * n;
	int code;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		if (sscanf(p, "HTTP/%*s %d", &code) == 1)
			s->status = code;
		s->ctype[0] = '\0';
	} else if (len >= 13 && strncasecmp(p, "content-type:", 13) == 0) {
		snprintf(s->ctype, sizeof(s->ctype), "%.*s", (int)(len - 13),
		    p + 13);
		s->ctype[strcspn(s->ctype, "\r\n")] = '\0';
		memmove(s->ctype, s->ctype + strspn(s->ctype, " "),
		    strlen(s->ctype + strspn(s->ctype, " ")) + 1);
	} else if ((len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n')) {
		if (s->status >= 200)
			s->headers_done = 1;
	}
	return (len);
}

static void
h_stream_pump(struct h_stream *s, int wait_ms)
{
	CURLMsg *m;
	int running, left, nfds;

	if (s->done)
		return;
	if (wait_ms > 0)
		curl_multi_poll(s->multi, NULL, 0, wait_ms, &nfds);
	curl_multi_perform(s->multi, &running);
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg == CURLMSG_DONE) {
			s->done = 1;
			s->result = m->data.result;
		}
	}
}

/*
 * Start GET path. wait_ms > 0: wait that long for the answer's headers
 * (failing without them); otherwise pump for -wait_ms so the request is
 * surely sent and seen, headers or not.
 */
static struct h_stream *
h_stream_new(struct h *h, const char *path, int wait_ms)
{
	struct h_stream *s;
	int64_t deadline;
	int i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		abort();
	s->h = h;
	s->multi = curl_multi_init();
	s->easy = h_easy(h, "GET", path, NULL, NULL, &s->hdrs, &s->buf);
	curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, h_stream_header);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
	curl_multi_add_handle(s->multi, s->easy);
	for (i = 0; i < H_MAXSTREAMS; i++) {
		if (hs.streams[i] == NULL) {
			hs.streams[i] = s;
			break;
		}
	}
	if (i == H_MAXSTREAMS)
		fail_msg("too many open streams");
	deadline = h_now_ms() + (wait_ms > 0 ? wait_ms : -wait_ms);
	while (!s->headers_done && !s->done && h_now_ms() < deadline)
		h_stream_pump(s, 20);
	if (wait_ms > 0 && !s->headers_done && !s->done)
		fail_msg("GET %s: no answer within %d ms", path, wait_ms);
	if (s->done && s->result != CURLE_OK && s->status == 0)
		fail_msg("GET %s: %s", path, curl_easy_strerror(s->result));
	return (s);
}

struct h_stream *
h_stream_open(struct h *h, const char *fmt, ...)
{
	char path[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return (h_stream_new(h, path, 5000));
}

struct h_stream *
h_stream_begin(struct h *h, const char *fmt, ...)
{
	char path[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return (h_stream_new(h, path, -200));
}

long
h_stream_status(struct h_stream *s)
{
	return (s->status);
}

const char *
h_stream_ctype(struct h_stream *s)
{
	return (s->ctype);
}

int
h_stream_ended(struct h_stream *s)
{
	return (s->done && s->off >= s->buf.len);
}

const char *
h_stream_rest(struct h_stream *s)
{
	return (s->buf.p ? s->buf.p + s->off : "");
}

const char *
h_stream_line(struct h_stream *s, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	char *start, *nl;
	size_t n;
	int64_t left;

	for (;;) {
		start = s->buf.p ? s->buf.p + s->off : NULL;
		nl = start ? memchr(start, '\n', s->buf.len - s->off) : NULL;
		if (nl != NULL || (s->done && s->off < s->buf.len)) {
			n = nl ? (size_t)(nl - start) : s->buf.len - s->off;
			free(s->line);
			if ((s->line = strndup(start, n)) == NULL)
				abort();
			s->off += n + (nl ? 1 : 0);
			if (n > 0 && s->line[n - 1] == '\r')
				s->line[n - 1] = '\0';
			if (s->off > 65536) {
				memmove(s->buf.p, s->buf.p + s->off,
				    s->buf.len - s->off + 1);
				s->buf.len -= s->off;
				s->off = 0;
			}
			return (s->line);
		}
		if (s->done)
			return (NULL);
		left = deadline - h_now_ms();
		if (left <= 0)
			return (NULL);
		h_stream_pump(s, left > 100 ? 100 : (int)left);
	}
}

json_t *
h_stream_event(struct h_stream *s, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	const char *line;
	json_t *j;
	int64_t left;

	for (;;) {
		left = deadline - h_now_ms();
		line = h_stream_line(s, left > 0 ? (int)left : 0);
		if (line == NULL)
			return (NULL);
		if (line[0] == '\0')
			continue;
		if ((j = h_parse(s->h, line)) == NULL || !json_is_object(j))
			fail_msg("event stream: not a JSON object: %s", line);
		if (json_is_string(json_object_get(j, "type")) &&
		    strcmp(json_string_value(json_object_get(j, "type")),
			"heartbeat") == 0)
			continue;
		h_learn_json(s->h, j);
		return (j);
	}
}

void
h_stream_close(struct h_stream *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < H_MAXSTREAMS; i++)
		if (hs.streams[i] == s)
			hs.streams[i] = NULL;
	curl_multi_remove_handle(s->multi, s->easy);
	curl_easy_cleanup(s->easy);
	curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->hdrs);
	free(s->buf.p);
	free(s->line);
	free(s);
}

/* ------------------------------------------------------------ raw HTTP */

int
h_raw_connect(struct h *h)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	h_pathf(sun.sun_path, sizeof(sun.sun_path), "%s", h->sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fail_msg("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fail_msg("connect %s: %s", h->sock, strerror(errno));
	if (hs.nfds < H_MAXFDS)
		hs.fds[hs.nfds++] = fd;
	return (fd);
}

void
h_raw_close(struct h *h, int fd)
{
	int i;

	(void)h;
	for (i = 0; i < hs.nfds; i++) {
		if (hs.fds[i] == fd) {
			hs.fds[i] = hs.fds[--hs.nfds];
			break;
		}
	}
	close(fd);
}

/* Value of header name in [start, end) into out; 0 if found. */
static int
h_hdr(const char *start, const char *end, const char *name, char *out,
    size_t outlen)
{
	size_t n = strlen(name);
	const char *p = start, *eol;

	while (p < end) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			p += n + 1;
			while (p < eol && *p == ' ')
				p++;
			snprintf(out, outlen, "%.*s", (int)(eol - p), p);
			return (0);
		}
		p = eol + 2;
	}
	return (-1);
}

/*
 * Parse one response at buf[pos..len): returns the offset after it, or 0 if
 * it is not complete. Fills the body's (dechunked) text into body if not NULL.
 */
static size_t
h_raw_one(const char *buf, size_t len, size_t pos, struct h_buf *body)
{
	const char *hend, *p, *crlf;
	char v[64];
	size_t bstart, size;
	char *endp;

	hend = memmem(buf + pos, len - pos, "\r\n\r\n", 4);
	if (hend == NULL)
		return (0);
	bstart = (size_t)(hend - buf) + 4;
	if (h_hdr(buf + pos, hend + 2, "transfer-encoding", v, sizeof(v)) ==
		0 &&
	    strcasestr(v, "chunked") != NULL) {
		p = buf + bstart;
		for (;;) {
			crlf = memmem(p, (size_t)(buf + len - p), "\r\n", 2);
			if (crlf == NULL)
				return (0);
			size = strtoul(p, &endp, 16);
			p = crlf + 2;
			if (size == 0) {
				/* No trailers from evhttp: just the last CRLF.
				 */
				if (buf + len - p < 2)
					return (0);
				return ((size_t)(p + 2 - buf));
			}
			if ((size_t)(buf + len - p) < size + 2)
				return (0);
			if (body != NULL)
				h_buf_add(body, p, size);
			p += size + 2;
		}
	}
	if (h_hdr(buf + pos, hend + 2, "content-length", v, sizeof(v)) == 0) {
		size = strtoul(v, NULL, 10);
		if (len - bstart < size)
			return (0);
		if (body != NULL)
			h_buf_add(body, buf + bstart, size);
		return (bstart + size);
	}
	/* No length: the body runs to the end of what was read. */
	if (body != NULL)
		h_buf_add(body, buf + bstart, len - bstart);
	return (len);
}

int
h_raw_count(const char *buf, size_t len)
{
	size_t pos = 0, next;
	int n = 0;

	while (pos < len && (next = h_raw_one(buf, len, pos, NULL)) != 0) {
		n++;
		pos = next;
	}
	return (n);
}

int
h_raw_status(const char *buf)
{
	int code;

	if (buf == NULL || sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		return (-1);
	return (code);
}

json_t *
h_raw_json(struct h *h, const char *buf, size_t len)
{
	struct h_buf b = {0};
	char *text;

	if (h_raw_one(buf, len, 0, &b) == 0) {
		free(b.p);
		return (NULL);
	}
	text = h_keep(h, h_buf_steal(&b));
	return (h_parse(h, text));
}

const char *
h_raw_exchange(struct h *h, const void *req, size_t len, int nresp,
    int timeout_ms, size_t *outlen)
{
	struct h_buf b = {0};
	struct pollfd pfd;
	int64_t deadline = h_now_ms() + timeout_ms;
	size_t sent = 0;
	char tmp[16384];
	ssize_t n;
	int fd, sending = 1, left;

	fd = h_raw_connect(h);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		if (sending && sent == len)
			sending = 0;
		if (nresp > 0 && b.len > 0 && h_raw_count(b.p, b.len) >= nresp)
			break;
		left = (int)(deadline - h_now_ms());
		if (left <= 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN | (sending ? POLLOUT : 0);
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (pfd.revents & POLLOUT) {
			n = write(fd, (const char *)req + sent, len - sent);
			if (n > 0)
				sent += (size_t)n;
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				sending = 0; /* EPIPE: the server gave up */
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, tmp, sizeof(tmp));
			if (n > 0)
				h_buf_add(&b, tmp, (size_t)n);
			else if (n == 0 ||
				 (n == -1 && errno != EAGAIN && errno != EINTR))
				break;
		}
	}
	h_raw_close(h, fd);
	if (outlen != NULL)
		*outlen = b.len;
	return (h_keep(h, h_buf_steal(&b)));
}
