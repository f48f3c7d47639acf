/* SPDX-License-Identifier: ISC */
/*
 * No client can freeze schedd or grow its memory without bound (issue 12,
 * the API half). At its open file limit (made small for the test) the
 * daemon idles instead of spinning, logs the condition once instead of per
 * attempt, tells new clients 503, and serves again once connections close.
 * Readers of a big log that never read cost bounded memory, and a paused
 * answer resumes whole when read; an event reader that falls behind
 * catches up from the store without a gap. A client that sends requests
 * and reads no answers is stopped at the input bound, and answered in
 * full once it reads. Idle keep-alive connections are closed after
 * http_idle_timeout_ms while long answers are not, a reader that takes
 * nothing for that long is dropped, and a client leaving a held request
 * is noticed at once. /v1/health reports the loop's lag.
 * Nothing here measures time against a threshold a busy machine could
 * miss: waits are generous deadlines for something that must happen.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

#define MiB (1024L * 1024)

/* /proc readers of the daemon. */

static int
proc_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		fail_msg("opendir %s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

/* utime + stime, in clock ticks. */
static long long
proc_cpu_ticks(struct h *h, pid_t pid)
{
	const char *stat = h_text(h, h_fmt(h, "/proc/%d/stat", (int)pid));
	long long ut, st;

	stat = strrchr(stat, ')');
	if (stat == NULL || sscanf(stat,
				"%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
				"%*s %*s %lld %lld",
				&ut, &st) != 2)
		fail_msg("cannot parse /proc/%d/stat", (int)pid);
	return (ut + st);
}

static long
proc_rss_kb(struct h *h, pid_t pid)
{
	return (atol(h_status_field(h, pid, "VmRSS")));
}

/* The soft "Max open files" of pid. */
static long
proc_nofile(struct h *h, pid_t pid)
{
	const char *all = h_text(h, h_fmt(h, "/proc/%d/limits", (int)pid));
	const char *p = strstr(all, "Max open files");

	if (p == NULL)
		fail_msg("/proc/%d/limits has no Max open files", (int)pid);
	return (atol(p + strlen("Max open files")));
}

static long
file_size(const char *path)
{
	struct stat sb;

	return (stat(path, &sb) == 0 ? (long)sb.st_size : -1);
}

/* How many lines of the daemon's log contain s. */
static int
log_count(struct h *h, const char *s)
{
	const char *all = h_text(h, h->log), *p;
	int n = 0;

	for (p = all; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	return (n);
}

/* Poll until the daemon's log mentions s; 1 if it did in timeout_ms. */
static int
log_wait(struct h *h, const char *s, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;

	while (log_count(h, s) == 0) {
		if (h_now_ms() > deadline)
			return (0);
		h_sleep_ms(20);
	}
	return (1);
}

/* Poll GET /v1/health until it answers 200; 1 if so in timeout_ms. */
static int
health_within(struct h *h, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;

	while (h_request(h, "GET", "/v1/health", NULL, NULL, NULL) != 200) {
		if (h_now_ms() > deadline)
			return (0);
		h_sleep_ms(20);
	}
	return (1);
}

/* A raw connection that sent "GET path" and will read only when told. */
static int
raw_get(struct h *h, const char *path)
{
	const char *req =
	    h_fmt(h, "GET %s HTTP/1.1\r\nHost: schedd\r\n\r\n", path);
	size_t len = strlen(req);
	int fd = h_raw_connect(h);

	if (write(fd, req, len) != (ssize_t)len)
		fail_msg("write: %s", strerror(errno));
	return (fd);
}

/*
 * One chunked answer, read as it comes and counted, not kept (it may be
 * 64 MiB): the status, the body's length, its lines' first bytes if asked.
 */
struct answer {
	int state; /* 0 head, 1 size line, 2 data, 3 data's CRLF, 4 done */
	char head[8192];
	size_t headlen;
	char line[64];
	size_t linelen;
	unsigned long long left, body;
	int status, eof;
	void (*on_data)(void *, const char *, size_t);
	void *arg;
};

static void
answer_feed(struct answer *a, const char *p, size_t n)
{
	size_t k;
	char *end;

	while (n > 0 && a->state != 4) {
		switch (a->state) {
		case 0:
			if (a->headlen + 1 >= sizeof(a->head))
				fail_msg("answer head too long");
			a->head[a->headlen++] = *p++;
			n--;
			a->head[a->headlen] = '\0';
			if (a->headlen >= 4 &&
			    strcmp(a->head + a->headlen - 4, "\r\n\r\n") == 0) {
				a->status = h_raw_status(a->head);
				if (strstr(a->head, "chunked") == NULL)
					fail_msg("not chunked: %s", a->head);
				a->state = 1;
			}
			break;
		case 1:
			if (*p == '\n') {
				a->line[a->linelen] = '\0';
				a->left = strtoull(a->line, &end, 16);
				if (end == a->line)
					fail_msg(
					    "bad chunk size '%s'", a->line);
				a->linelen = 0;
				a->state = a->left == 0 ? 4 : 2;
			} else if (a->linelen + 1 < sizeof(a->line))
				a->line[a->linelen++] = *p;
			p++;
			n--;
			break;
		case 2:
			k = n < a->left ? n : (size_t)a->left;
			if (a->on_data != NULL)
				a->on_data(a->arg, p, k);
			a->body += k;
			a->left -= k;
			p += k;
			n -= k;
			if (a->left == 0) {
				a->left = 2;
				a->state = 3;
			}
			break;
		case 3:
			p++;
			n--;
			if (--a->left == 0)
				a->state = 1;
			break;
		}
	}
}

/*
 * Read fd until the answer is complete, the daemon closes, or idle_ms pass
 * without a byte.
 */
static void
answer_read(int fd, struct answer *a, int idle_ms)
{
	char buf[65536];
	struct pollfd pfd = {fd, POLLIN, 0};
	ssize_t n;

	while (a->state != 4) {
		if (poll(&pfd, 1, idle_ms) <= 0)
			return;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN)) {
			a->eof = 1;
			return;
		}
		if (n > 0)
			answer_feed(a, buf, (size_t)n);
	}
}

/* 1 if the daemon closes fd (EOF) within timeout_ms, whatever comes first. */
static int
closed_within(int fd, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[65536];
	ssize_t n;

	while (h_now_ms() < deadline) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return (1);
	}
	return (0);
}

/* Restart the daemon with this schedd.conf. */
static void
restart_with(struct h *h, const char *conf)
{
	assert_int_equal(h_daemon_stop(h, SIGTERM), 0);
	h_config(h, conf);
	h_daemon_start(h);
}

/* A job that writes bytes of output, then sleeps; waits for the file. */
static const char *
big_log_job(struct h *h, const char *name, long bytes)
{
	json_t *j;
	const char *path;
	int64_t deadline = h_now_ms() + 60000;

	/* Its output is kept whole: files of 64M, two of them. */
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s], s:{s:s, s:i}}", "name",
				name, "argv", "/bin/sh", "-c",
				h_fmt(h,
				    "yes 0123456789abcdefghijklmnopqrstuvwxyz "
				    "| head -c %ld; exec sleep 600",
				    bytes),
				"logs", "max_bytes", "64M", "keep", 2));
	/* Stored: schedd has moved it all from the job's pipe into
	 * STATE/logs (one job writes here, so its count is the daemon's). */
	path = h_fmt(h, "%s/logs", h->state);
	(void)j;
	while (h_int(h_call(h, 200, "GET", NULL, "/v1/health"),
		   "output.written_bytes") < bytes) {
		if (h_now_ms() > deadline)
			fail_msg(
			    "%s: not %ld bytes stored after 60 s", path, bytes);
		h_sleep_ms(50);
	}
	return (path);
}

H_TEST(limits__fd_limit__idle_quiet_503_then_recovers)
{
	enum { SOFT = 64, HARD = 128, EXTRA = 16 };
	int fds[HARD + EXTRA], n, i, got503 = 0;
	long long c0, c1;
	int64_t t0, t1;
	long log0, log1;
	json_t *j;

	assert_int_equal(h_daemon_stop(h, SIGTERM), 0);
	h_daemon_nofile(h, SOFT, HARD);
	h_daemon_start(h);
	/* The daemon raised its soft limit to the hard one; its jobs still
	 * get the one it was started with. */
	assert_int_equal(proc_nofile(h, h->daemon), HARD);
	j = h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "sleeper",
				"argv", "/bin/sleep", "600"));
	assert_int_equal(proc_nofile(h, (pid_t)h_int(j, "last_run.pid")), SOFT);

	/* More idle clients than it has descriptors left. */
	n = HARD - proc_fds(h->daemon) + EXTRA;
	for (i = 0; i < n; i++)
		fds[i] = h_raw_connect(h);
	t0 = h_now_ms();
	while (proc_fds(h->daemon) < HARD) {
		if (h_now_ms() - t0 > 10000)
			fail_msg("the daemon holds %d fds, not %d",
			    proc_fds(h->daemon), HARD);
		h_sleep_ms(20);
	}
	/* Give the listener time to fail, back off and retry a few times. */
	h_sleep_ms(300);

	/* At the limit it idles: no busy loop, no log lines per attempt. */
	log0 = file_size(h->log);
	c0 = proc_cpu_ticks(h, h->daemon);
	t0 = h_now_ms();
	h_sleep_ms(2000);
	c1 = proc_cpu_ticks(h, h->daemon);
	t1 = h_now_ms();
	log1 = file_size(h->log);
	if ((c1 - c0) * 1000 / sysconf(_SC_CLK_TCK) > (t1 - t0) / 2)
		fail_msg("at the fd limit the daemon used %lld ticks of CPU "
			 "in %lld ms",
		    c1 - c0, (long long)(t1 - t0));
	if (log1 - log0 > 4096)
		fail_msg("the log grew by %ld bytes in 2 s at the fd limit",
		    log1 - log0);
	assert_true(log_count(h, "accept: ") >= 1);
	assert_true(log_count(h, "accept: ") <= 2);

	/*
	 * A new client hears 503 with the contract's body. (A client whose
	 * request came after the daemon gave up on it sees a closed
	 * connection instead: allow a few tries.)
	 */
	for (i = 0; i < 5 && !got503; i++) {
		if (h_request(h, "GET", "/v1/health", NULL, NULL, &j) == 503) {
			h_assert_error(j, "unavailable", NULL);
			got503 = 1;
		}
	}
	assert_true(got503);

	/* Once connections close it serves again, by itself. */
	for (i = 0; i < n; i++)
		h_raw_close(h, fds[i]);
	assert_true(health_within(h, 5000));
	h_assert_healthy(h);
}

H_TEST(limits__stalled_log_readers__memory_bounded_then_resume)
{
	const long size = 64 * MiB;
	int fds[5], i;
	long base, rss, peak = 0;
	int64_t end;
	struct answer a;

	big_log_job(h, "big", size);
	base = proc_rss_kb(h, h->daemon);
	/* Four followers and one plain reader that never read. */
	for (i = 0; i < 4; i++)
		fds[i] = raw_get(h, "/v1/jobs/big/logs?follow=true");
	fds[4] = raw_get(h, "/v1/jobs/big/logs");
	end = h_now_ms() + 3000;
	while (h_now_ms() < end) {
		rss = proc_rss_kb(h, h->daemon);
		if (rss > peak)
			peak = rss;
		h_assert_healthy(h);
		h_sleep_ms(100);
	}
	if (peak > base + 64 * 1024)
		fail_msg("daemon RSS %ld KiB with stalled readers, from %ld "
			 "KiB",
		    peak, base);

	/* Each reader has its answer started and waiting. */
	for (i = 0; i < 5; i++) {
		struct pollfd pfd = {fds[i], POLLIN, 0};

		assert_int_equal(poll(&pfd, 1, 5000), 1);
	}
	/* The plain reader, reading now, gets the whole file. */
	memset(&a, 0, sizeof(a));
	answer_read(fds[4], &a, 10000);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.state, 4);
	assert_int_equal(a.body, size);

	for (i = 0; i < 5; i++)
		h_raw_close(h, fds[i]);
	h_assert_healthy(h);
}

/* Lines, counted, from a /v1/events body: ids must go up by one. */
struct ids {
	char line[4096];
	size_t len;
	long long last, n;
	int gap;
};

static void
ids_data(void *arg, const char *p, size_t n)
{
	struct ids *s = arg;
	long long id;

	for (; n > 0; p++, n--) {
		if (*p != '\n') {
			if (s->len + 1 < sizeof(s->line))
				s->line[s->len++] = *p;
			continue;
		}
		s->line[s->len] = '\0';
		s->len = 0;
		if (sscanf(s->line, "{\"id\":%lld,", &id) != 1)
			continue; /* a heartbeat */
		if (s->last != 0 && id != s->last + 1)
			s->gap = 1;
		s->last = id;
		s->n++;
	}
}

H_TEST(limits__stalled_event_reader__catches_up_without_gap)
{
	struct answer a;
	struct ids ids;
	json_t *rows;
	json_int_t target;
	int64_t deadline;
	int fd;

	fd = raw_get(h, "/v1/events?since=0");
	/* Thousands of events (orphans reaped) while the reader reads none. */
	h_job_create(h,
	    json_pack("{s:s, s:[s,s,s]}", "name", "flood", "argv", "/bin/sh",
		"-c",
		"i=0; while [ $i -lt 3000 ]; do (true &); i=$((i+1)); done"));
	h_job_wait(h, "flood");
	assert_true(log_wait(h, "an event subscriber fell behind", 30000));
	rows = h_db_query(h, "SELECT max(id) AS last FROM events", NULL);
	target = h_int(rows, "[0].last");

	/* Read it all: every event once, up to the last one stored. */
	memset(&a, 0, sizeof(a));
	memset(&ids, 0, sizeof(ids));
	a.on_data = ids_data;
	a.arg = &ids;
	deadline = h_now_ms() + 60000;
	while (ids.last < target && !a.eof && a.state != 4 &&
	       h_now_ms() < deadline)
		answer_read(fd, &a, 1000);
	assert_int_equal(a.status, 200);
	assert_false(a.eof);
	assert_false(ids.gap);
	/* At least up to the last one stored when it fell behind: orphans
	 * are reaped a batch per loop turn, so more may follow. */
	if (ids.last < target)
		fail_msg("read up to event %lld of %lld", ids.last,
		    (long long)target);
	h_raw_close(h, fd);
	h_assert_healthy(h);
}

H_TEST(limits__health__reports_loop_lag)
{
	json_t *j = h_call(h, 200, "GET", NULL, "/v1/health");

	assert_true(json_is_integer(h_at(j, "loop_lag_ms")));
	assert_true(json_is_integer(h_at(j, "loop_lag_max_ms")));
	assert_true(h_int(j, "loop_lag_ms") >= 0);
	assert_true(h_int(j, "loop_lag_max_ms") >= h_int(j, "loop_lag_ms"));
	h_assert_ctl(h, 0, "health");
	if (strstr(h->ctl_out, "loop lag") == NULL)
		fail_msg("schedctl health: %s", h->ctl_out);
}

H_TEST(limits__idle_connection__closed_after_timeout_streams_kept)
{
	static const char req[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
	struct h_stream *ev, *logs;
	const char *line;
	int fd, silent;

	restart_with(h, "http_idle_timeout_ms = 300\n");
	/* Answered, kept alive, then idle: closed. */
	fd = h_raw_connect(h);
	assert_int_equal(write(fd, req, sizeof(req) - 1), sizeof(req) - 1);
	silent = h_raw_connect(h);
	assert_true(closed_within(fd, 10000));
	/* Connected and never a byte: closed too. */
	assert_true(closed_within(silent, 10000));
	h_raw_close(h, fd);
	h_raw_close(h, silent);

	/* Long answers outlive the idle timeout many times over. */
	ev = h_stream_open(h, "/v1/events");
	h_job_create(
	    h, json_pack("{s:s, s:[s,s,s]}", "name", "late", "argv", "/bin/sh",
		   "-c", "sleep 1.5; echo late; exec sleep 600"));
	logs = h_stream_open(h, "/v1/jobs/late/logs?follow=true");
	line = h_stream_line(logs, 10000);
	assert_non_null(line);
	assert_string_equal(line, "late");
	h_sleep_ms(1000);
	h_call(h, 200, "POST", NULL, "/v1/jobs/late/stop");
	while ((line = h_stream_line(ev, 10000)) != NULL)
		if (strstr(line, "\"stopped\"") != NULL)
			break;
	assert_non_null(line);
	h_stream_close(ev);
	h_stream_close(logs);
}

H_TEST(limits__reader_taking_nothing__dropped_after_timeout)
{
	struct answer a;
	int fd;

	big_log_job(h, "big", 8 * MiB);
	restart_with(h, "http_idle_timeout_ms = 300\n");
	fd = raw_get(h, "/v1/jobs/big/logs");
	h_sleep_ms(1500);
	/* What was sent before the drop, then the end: never all of it. */
	memset(&a, 0, sizeof(a));
	answer_read(fd, &a, 10000);
	assert_int_equal(a.status, 200);
	assert_true(a.eof);
	assert_true(a.state != 4);
	assert_true(a.body < (unsigned long long)(8 * MiB));
	h_raw_close(h, fd);
	h_assert_healthy(h);
}

H_TEST(limits__client_leaves_held_request__noticed_at_once)
{
	struct h_stream *s;

	h_job_create(h, json_pack("{s:s, s:[s,s]}", "name", "long", "argv",
			    "/bin/sleep", "600"));
	s = h_stream_begin(h, "/v1/jobs/long/wait");
	h_stream_close(s);
	/* Not when the job ends, in ten minutes. */
	assert_true(log_wait(h, "long: client left before the answer", 10000));
	h_assert_healthy(h);
}

/*
 * How many times pat occurs in what recv hands over in pieces: each piece
 * is searched behind the end of the one before it (shorter than pat, so
 * nothing is counted twice).
 */
struct counter {
	const char *pat;
	char work[32 + 64 * 1024];
	size_t keep; /* bytes of the last piece at the start of work */
	size_t n;
};

static void
counter_feed(struct counter *c, const char *buf, size_t len)
{
	size_t plen = strlen(c->pat), total, i;

	if (len > sizeof(c->work) - c->keep)
		fail_msg("counter_feed: piece too large");
	memcpy(c->work + c->keep, buf, len);
	total = c->keep + len;
	for (i = 0; i + plen <= total; i++)
		if (memcmp(c->work + i, c->pat, plen) == 0)
			c->n++;
	c->keep = total < plen - 1 ? total : plen - 1;
	memmove(c->work, c->work + total - c->keep, c->keep);
}

/*
 * A client that sends request after request and reads none of the
 * answers: once the answers fill the socket, schedd stops reading from it
 * when 2 MiB of requests wait (CONN_INPUT_MAX, and at most one read of 16
 * KiB beyond it), so the client's writes block far short of the 16 MiB it
 * tries to send; once it reads, every request it sent is answered.
 */
H_TEST(limits__client_not_reading__input_bounded_then_answered)
{
	static const char req[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
	const size_t rlen = sizeof(req) - 1;
	static struct counter ok = {.pat = "HTTP/1.1 200 "};
	static struct counter any = {.pat = "HTTP/1.1 "};
	static char buf[64 * 1024];
	size_t chunk, pos = 0, sent = 0, nreq;
	int64_t last_sent, deadline;
	struct pollfd pfd;
	ssize_t n;
	int fd;

	for (chunk = 0; chunk + rlen <= sizeof(buf); chunk += rlen)
		memcpy(buf + chunk, req, rlen);
	fd = h_raw_connect(h);
	last_sent = h_now_ms();
	while (sent < (size_t)(16 * MiB) && h_now_ms() - last_sent < 1000) {
		n = send(
		    fd, buf + pos, chunk - pos, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			fail_msg("send: %s", strerror(errno));
		if (n > 0) {
			sent += (size_t)n;
			pos = (pos + (size_t)n) % chunk;
			last_sent = h_now_ms();
		} else
			h_sleep_ms(10);
	}
	if (sent >= (size_t)(4 * MiB))
		fail_msg("schedd took %zu bytes from a client that reads "
			 "nothing",
		    sent);
	assert_true(sent >= (size_t)(2 * MiB));
	h_assert_healthy(h);

	/* Now read, and finish the request cut in the middle. */
	nreq = (sent + rlen - 1) / rlen;
	deadline = h_now_ms() + 60000;
	while (any.n < nreq && h_now_ms() < deadline) {
		pfd.fd = fd;
		pfd.events = POLLIN | (sent % rlen != 0 ? POLLOUT : 0);
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (pfd.revents & POLLOUT) {
			n = send(fd, req + sent % rlen, rlen - sent % rlen,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0)
				break;
			if (n > 0) {
				counter_feed(&ok, buf, (size_t)n);
				counter_feed(&any, buf, (size_t)n);
			}
		}
	}
	if (ok.n != nreq || any.n != nreq)
		fail_msg("%zu requests, %zu answers, %zu of them 200", nreq,
		    any.n, ok.n);
	h_raw_close(h, fd);
	h_assert_healthy(h);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(limits__fd_limit__idle_quiet_503_then_recovers),
	    H_UNIT(limits__stalled_log_readers__memory_bounded_then_resume),
	    H_UNIT(limits__stalled_event_reader__catches_up_without_gap),
	    H_UNIT(limits__health__reports_loop_lag),
	    H_UNIT(limits__idle_connection__closed_after_timeout_streams_kept),
	    H_UNIT(limits__reader_taking_nothing__dropped_after_timeout),
	    H_UNIT(limits__client_leaves_held_request__noticed_at_once),
	    H_UNIT(limits__client_not_reading__input_bounded_then_answered),
	};

	return (H_MAIN(tests));
}
