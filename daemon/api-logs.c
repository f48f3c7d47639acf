/* SPDX-License-Identifier: ISC */
/*
 * GET /v1/jobs/{job}/logs: a job's output as text, always as a chunked
 * answer that the client paces. The job's segments (joblog.h) are read
 * record by record, in the order the daemon stored them, which for
 * stream=all is the order the two pipes were read in; records of other
 * streams, runs or times are skipped by their headers; a reference record
 * (logs.direct) is read as the bytes of the job's own file it names, less
 * what is punched out (a line the hole cut is skipped). Every step reads at
 * most LOGS_STEP bytes and LOGS_RECS records, and the next one runs only
 * once the connection's backlog is under API_BACKLOG_MAX (when the last
 * chunk has been written), so a reader who stops reading costs at most
 * that much memory and never holds the loop. tail=N counts the selected
 * lines first (the same bounded steps), then reads again from the start
 * skipping all but the last N. Without follow the answer ends where the
 * output ended when the request came; with follow a 100 ms timer looks for
 * more until the job is deleted, or, with run=N, until that run has ended
 * and its output is stored. Where the output moves on to another run, a
 * line "--- run N ---" says so. timestamps=true starts every line with the
 * time the daemon read it (RFC 3339, ms) and a space; bytes are passed on
 * as they are (binary too), a line is what ends with '\n', and a line
 * that the other stream cuts (stream=all) is ended there and goes on
 * under its own time stamp later. format=json sends one JSON object a
 * line instead: stream, run, time and text ("partial" when no newline
 * ended it).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/api-int.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define LOGS_TICK_MS 100
#define LOGS_STEP    (256 * 1024) /* output bytes looked at per step */
#define LOGS_RECS    4096         /* record headers looked at per step */
#define LOGS_HDR     ((int64_t)sizeof(struct joblog_rec))
#define LOGS_ALL     2 /* stream=all */
#define LOGS_NO_RUN  (-1)

enum logs_phase {
	LOGS_COUNT, /* tail: counting the selected lines */
	LOGS_EMIT,  /* sending (after skipping skip lines) */
};

struct logstream {
	struct api_pending *pending;
	struct evhttp_request *req;
	struct schedd *sd;
	struct event *ev; /* the next step, or the tick */
	char job_ref[32]; /* the job's id */
	int which;        /* enum joblog_stream, or LOGS_ALL */
	int64_t lo, hi;   /* runs selected */
	int64_t since_ms; /* 0: any time */
	int follow, stamps, marks;
	/* Where reading is. */
	int64_t seq0; /* where it began (tail reads again from there) */
	int64_t seq;
	int fd;                /* segment seq, or -1 */
	int64_t off;           /* of the current record */
	struct joblog_rec rec; /* a reference's as the bytes it names */
	int64_t next;          /* the record after it */
	int64_t rem;      /* of rec's bytes still to read; 0: at a header */
	int data_fd;      /* where they are: fd, or raw_fd[stream] */
	int64_t data_off; /* and at which offset */
	int raw_fd[2];    /* the job's direct files (logs.direct), or -1 */
	int cut;          /* a hole cut a line: skip to its end */
	/* Without follow: where the output ended when the request came. */
	int64_t end_seq, end_off;
	enum logs_phase phase;
	long tail;
	int64_t lines;   /* counted newlines */
	int partial;     /* the last counted byte was not a newline */
	int64_t skip;    /* lines still to skip */
	int seen_stream; /* of the last byte counted or skipped; -1 */
	/* format=json: the line being gathered, one object per line. */
	int json;
	char *line;
	size_t linelen;
	int64_t line_ms, line_run;
	int line_stream;
	/* What was sent last. */
	int bol;
	int last_stream;
	int64_t last_run;
	TAILQ_ENTRY(logstream) entry;
};
TAILQ_HEAD(logstream_list, logstream);

static struct logstream_list streams = TAILQ_HEAD_INITIALIZER(streams);

static void logs_pump(struct logstream *);

static void
logs_free(struct logstream *ls)
{
	TAILQ_REMOVE(&streams, ls, entry);
	event_free(ls->ev);
	if (ls->fd != -1)
		close(ls->fd);
	if (ls->raw_fd[0] != -1)
		close(ls->raw_fd[0]);
	if (ls->raw_fd[1] != -1)
		close(ls->raw_fd[1]);
	free(ls->line);
	free(ls);
}

#define LOGS_LINE_MAX 8192 /* format=json: longer lines go in pieces */

/*
 * format=json: the gathered line as one object and a newline: stream,
 * run, the time its first byte was read, its text (without the newline;
 * bytes that are not UTF-8 become U+FFFD), and "partial": true when no
 * newline ended it (the other stream cut it, or the output ended there).
 */
static void
logs_json_flush(struct logstream *ls, struct evbuffer *out, int partial)
{
	char stamp[40], *fixed = NULL;
	json_t *o, *text;
	size_t i, k;
	struct json_out jo;

	if (ls->linelen == 0 && partial)
		return;
	if ((text = json_stringn(ls->line, ls->linelen)) == NULL) {
		/* Not UTF-8: each byte that is not ASCII becomes U+FFFD. */
		fixed = xmalloc(ls->linelen * 3 + 1);
		for (i = k = 0; i < ls->linelen; i++) {
			if ((unsigned char)ls->line[i] < 0x80)
				fixed[k++] = ls->line[i];
			else {
				memcpy(fixed + k, "\xef\xbf\xbd", 3);
				k += 3;
			}
		}
		text = json_stringn(fixed, k);
		free(fixed);
	}
	util_time_format(ls->line_ms, stamp, sizeof(stamp));
	o = json_pack("{s:s, s:I, s:s, s:o}", "stream",
	    ls->line_stream == JOBLOG_STDERR ? "stderr" : "stdout", "run",
	    (json_int_t)ls->line_run, "time", stamp, "text",
	    text != NULL ? text : json_string(""));
	if (partial)
		json_object_set_new(o, "partial", json_true());
	/* json_dumps's bytes, straight into out. */
	api_out_begin(&jo, out);
	json_out_value(&jo, o);
	json_out_raw(&jo, "\n", 1);
	json_out_end(&jo);
	json_decref(o);
	ls->linelen = 0;
}

/* format=json: n bytes of the current record into lines. */
static void
logs_json_take(
    struct logstream *ls, const char *p, size_t n, struct evbuffer *out)
{
	const char *nl;
	size_t k;

	if (ls->line == NULL)
		ls->line = xmalloc(LOGS_LINE_MAX);
	if (ls->linelen > 0 && (ls->line_stream != (int)ls->rec.stream ||
				   ls->line_run != (int64_t)ls->rec.run))
		logs_json_flush(ls, out, 1);
	while (n > 0) {
		if (ls->linelen == 0) {
			ls->line_ms = ls->rec.time_ms;
			ls->line_run = ls->rec.run;
			ls->line_stream = ls->rec.stream;
		}
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (k > LOGS_LINE_MAX - ls->linelen)
			k = LOGS_LINE_MAX - ls->linelen;
		memcpy(ls->line + ls->linelen, p, k);
		ls->linelen += k;
		p += k;
		n -= k;
		if (n > 0 && *p == '\n') {
			logs_json_flush(ls, out, 0);
			p++;
			n--;
		} else if (ls->linelen == LOGS_LINE_MAX)
			logs_json_flush(ls, out, 1);
	}
}

static void
logs_end(struct logstream *ls)
{
	struct api_pending *p = ls->pending;
	struct evbuffer *buf;

	/* What no newline ended yet is sent as it is. */
	if (ls->json && ls->linelen > 0 && ls->req != NULL) {
		buf = evbuffer_new();
		logs_json_flush(ls, buf, 1);
		evhttp_send_reply_chunk(ls->req, buf);
		evbuffer_free(buf);
	}
	logs_free(ls);
	api_stream_end(p);
}

static void
logs_close_cb(struct api_pending *p, void *arg)
{
	(void)p;
	logs_free(arg);
}

/* The last chunk is written: carry on. */
static void
logs_written(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	logs_pump(arg);
}

static void
logs_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	logs_pump(arg);
}

static void
logs_mark(struct logstream *ls, struct evbuffer *out, int64_t run)
{
	/* format=json: each line says its run. */
	if (ls->json) {
		ls->last_run = run;
		return;
	}
	if (!ls->bol)
		evbuffer_add(out, "\n", 1);
	evbuffer_add_printf(out, "--- run %" PRId64 " ---\n", run);
	ls->bol = 1;
	ls->last_run = run;
}

/* Send n bytes of the current record. */
static void
logs_emit(struct logstream *ls, const char *p, size_t n, struct evbuffer *out)
{
	char stamp[40];
	const char *nl;
	size_t k;

	if (ls->json) {
		ls->last_run = ls->rec.run;
		logs_json_take(ls, p, n, out);
		return;
	}
	if (ls->marks && ls->last_run != LOGS_NO_RUN &&
	    (int64_t)ls->rec.run > ls->last_run)
		logs_mark(ls, out, ls->rec.run);
	ls->last_run = ls->rec.run;
	if (ls->last_stream != -1 && ls->last_stream != ls->rec.stream &&
	    !ls->bol) {
		evbuffer_add(out, "\n", 1);
		ls->bol = 1;
	}
	ls->last_stream = ls->rec.stream;
	if (!ls->stamps) {
		evbuffer_add(out, p, n);
		ls->bol = p[n - 1] == '\n';
		return;
	}
	util_time_format(ls->rec.time_ms, stamp, sizeof(stamp));
	while (n > 0) {
		if (ls->bol)
			evbuffer_add_printf(out, "%s ", stamp);
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		evbuffer_add(out, p, k);
		ls->bol = nl != NULL;
		p += k;
		n -= k;
	}
}

/* Count, skip or send n bytes of the current record. */
static void
logs_take(struct logstream *ls, const char *p, size_t n, struct evbuffer *out)
{
	const char *nl;

	/*
	 * The other stream cuts a line (stream=all): sent, it is ended
	 * there (logs_emit), so here it is a line too.
	 */
	if (ls->seen_stream != -1 && ls->seen_stream != ls->rec.stream &&
	    ls->partial) {
		if (ls->phase == LOGS_COUNT)
			ls->lines++;
		else if (ls->skip > 0)
			ls->skip--;
	}
	ls->seen_stream = ls->rec.stream;
	if (ls->phase == LOGS_COUNT) {
		for (nl = p;
		     (nl = memchr(nl, '\n', n - (size_t)(nl - p))) != NULL;
		     nl++)
			ls->lines++;
		ls->partial = p[n - 1] != '\n';
		return;
	}
	while (ls->skip > 0 && n > 0) {
		nl = memchr(p, '\n', n);
		if (nl == NULL) {
			ls->partial = 1;
			return;
		}
		ls->partial = 0;
		ls->skip--;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
		if (ls->last_run != LOGS_NO_RUN || !ls->marks)
			ls->last_run = ls->rec.run;
	}
	if (n > 0)
		logs_emit(ls, p, n, out);
}

/*
 * The record at ls->off is a reference (logs.direct): make ls->rec the
 * bytes it names, less what was punched out since. Returns the byte
 * count (0: none left), with data_fd and data_off set; -1 when the file
 * cannot be read.
 */
static int64_t
logs_ref(struct logstream *ls, struct joblog *jl)
{
	struct joblog_ref ref;
	int64_t head;
	int st = ls->rec.stream - JOBLOG_REF;

	if (pread(ls->fd, &ref, sizeof(ref), ls->off + LOGS_HDR) !=
		(ssize_t)sizeof(ref) ||
	    ref.off < 0 || ref.len < 0)
		return (-1);
	head = joblog_raw_head(jl, st);
	if (ref.off < head) {
		ref.len =
		    ref.off + ref.len > head ? ref.off + ref.len - head : 0;
		ref.off = head;
		ls->cut = 1;
	}
	if (ls->raw_fd[st] == -1 &&
	    (ls->raw_fd[st] = joblog_raw_open(jl, st)) == -1)
		return (-1);
	ls->rec.stream = (uint8_t)st;
	ls->data_fd = ls->raw_fd[st];
	ls->data_off = ref.off;
	return (ref.len);
}

static int
logs_selected(const struct logstream *ls, int64_t min_run)
{
	const struct joblog_rec *r = &ls->rec;

	return ((ls->which == LOGS_ALL || r->stream == ls->which) &&
		(int64_t)r->run >= ls->lo && (int64_t)r->run <= ls->hi &&
		(int64_t)r->run >= min_run && r->time_ms >= ls->since_ms);
}

/*
 * One bounded step of reading. Returns 1 when the step's budget is used
 * (call again), 0 when caught up with what is stored, -1 when the end
 * (without follow: of what there was at first; tail's count: of that) is
 * reached.
 */
static int
logs_read(struct logstream *ls, struct joblog *jl, struct evbuffer *out)
{
	char buf[65536];
	struct stat sb;
	int64_t first, last, len, head, bytes = 0, min_run = joblog_min_run(jl);
	const char *p;
	size_t want;
	ssize_t n;
	int recs = 0, bounded = !ls->follow || ls->phase == LOGS_COUNT;

	for (;;) {
		if (bounded && (ls->end_seq == 0 || ls->seq > ls->end_seq ||
				   (ls->seq == ls->end_seq && ls->rem == 0 &&
				       ls->off >= ls->end_off)))
			return (-1);
		if (bytes >= LOGS_STEP || recs >= LOGS_RECS)
			return (1);
		if (joblog_segments(jl, &first, &last) == 0 || ls->seq > last)
			return (0);
		if (ls->fd == -1) {
			if (ls->seq < first) {
				/* Rotated away under a slow reader. */
				ls->seq = first;
				ls->off = ls->rem = 0;
			}
			if ((ls->fd = joblog_segment_open(jl, ls->seq)) == -1) {
				if (ls->seq >= last)
					return (0);
				ls->seq++;
				ls->off = ls->rem = 0;
				continue;
			}
		}
		if (ls->rem == 0) {
			recs++;
			if (fstat(ls->fd, &sb) == -1 ||
			    joblog_rec_read(
				ls->fd, ls->off, sb.st_size, &ls->rec) == 0) {
				/* The end of this segment (or a torn last
				 * record of a daemon that was killed). */
				if (ls->seq >= last)
					return (0);
				close(ls->fd);
				ls->fd = -1;
				ls->seq++;
				ls->off = 0;
				continue;
			}
			ls->next = ls->off + LOGS_HDR + ls->rec.len;
			ls->data_fd = ls->fd;
			ls->data_off = ls->off + LOGS_HDR;
			ls->cut = 0;
			len = ls->rec.len;
			if (ls->rec.stream >= JOBLOG_REF &&
			    (len = logs_ref(ls, jl)) == -1)
				len = 0;
			if (!logs_selected(ls, min_run) || len == 0) {
				ls->off = ls->next;
				continue;
			}
			ls->rem = len;
		}
		if (ls->data_fd != ls->fd &&
		    (head = joblog_raw_head(jl, ls->rec.stream)) >
			ls->data_off) {
			/* Punched out under a slow reader. */
			ls->rem -= head - ls->data_off;
			ls->data_off = head;
			ls->cut = 1;
			if (ls->rem <= 0) {
				ls->rem = 0;
				ls->off = ls->next;
				continue;
			}
		}
		want = ls->rem < (int64_t)sizeof(buf) ? (size_t)ls->rem
						      : sizeof(buf);
		n = pread(ls->data_fd, buf, want, ls->data_off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			/* Cannot happen to a whole record: give it up. */
			ls->off = ls->next;
			ls->rem = 0;
			continue;
		}
		bytes += n;
		ls->rem -= n;
		ls->data_off += n;
		if (ls->cut && (p = memchr(buf, '\n', (size_t)n)) != NULL) {
			/* The rest of a line whose start is punched out. */
			ls->cut = 0;
			if (p - buf + 1 < n)
				logs_take(ls, p + 1,
				    (size_t)(n - (p - buf + 1)), out);
		} else if (!ls->cut)
			logs_take(ls, buf, (size_t)n, out);
		if (ls->rem == 0)
			ls->off = ls->next;
	}
}

/* tail: the count is done; read again from the start. */
static void
logs_rewind(struct logstream *ls)
{
	int64_t total = ls->lines + (ls->partial ? 1 : 0);

	ls->skip = total > ls->tail ? total - ls->tail : 0;
	ls->phase = LOGS_EMIT;
	ls->seen_stream = -1;
	ls->partial = 0;
	if (ls->fd != -1)
		close(ls->fd);
	ls->fd = -1;
	ls->seq = ls->seq0;
	ls->off = ls->rem = 0;
}

/* Following and caught up: is there more to wait for? */
static int
logs_follow_over(struct logstream *ls, struct job *job, struct evbuffer *out)
{
	if (job == NULL || ls->sd->shutting_down)
		return (1);
	if (ls->marks && ls->last_run != LOGS_NO_RUN &&
	    job->run.number > ls->last_run && job->run.number <= ls->hi &&
	    ls->skip == 0)
		logs_mark(ls, out, job->run.number);
	return (job->run.number > ls->hi ||
		(job->run.number == ls->hi && job->run.exited_ms != 0));
}

static void
logs_pump(struct logstream *ls)
{
	struct timeval now = {0, 0}, tick = {0, LOGS_TICK_MS * 1000};
	struct evbuffer *buf;
	struct job *job;
	int rc, over = 0;

	for (;;) {
		/* A chunk with logs_written is on its way: it carries on. */
		if (api_stream_full(ls->req))
			return;
		job = supervisor_job_find(ls->sd->sup, ls->job_ref);
		if (job == NULL) {
			logs_end(ls);
			return;
		}
		/* Decide before reading, so that the last bytes are not
		 * missed. */
		if (ls->follow && ls->phase == LOGS_EMIT) {
			buf = evbuffer_new();
			over = logs_follow_over(ls, job, buf);
			if (evbuffer_get_length(buf) > 0)
				evhttp_send_reply_chunk(ls->req, buf);
			evbuffer_free(buf);
		}
		buf = evbuffer_new();
		rc = logs_read(ls, job->log, buf);
		if (evbuffer_get_length(buf) > 0) {
			evhttp_send_reply_chunk_with_cb(
			    ls->req, buf, logs_written, ls);
			evbuffer_free(buf);
			if (rc == -1 && ls->phase == LOGS_COUNT)
				logs_rewind(ls);
			else if (rc == -1)
				ls->follow = 0, ls->end_seq = 0;
			return;
		}
		evbuffer_free(buf);
		if (rc == 1) {
			/* Let the loop run before the next step. */
			evtimer_add(ls->ev, &now);
			return;
		}
		if (rc == -1 && ls->phase == LOGS_COUNT) {
			logs_rewind(ls);
			continue;
		}
		if (!ls->follow || over) {
			logs_end(ls);
			return;
		}
		evtimer_add(ls->ev, &tick);
		return;
	}
}

int
api_job_logs(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {"stream", "tail", "follow", "run",
	    "since", "timestamps", "format", NULL};
	struct job *job;
	struct logstream *ls;
	const char *stream, *since, *format;
	int which = JOBLOG_STDOUT, follow, stamps, json = 0;
	long long tail, run;
	int64_t since_ms = 0, first, last, min_run;
	struct stat sb;
	int fd;

	(void)out;
	if (api_query_check(ctx, params, err) == -1 ||
	    api_query_int(ctx, "tail", 0, 1000000, -1, &tail, err) == -1 ||
	    (follow = api_query_bool(ctx, "follow", 0, err)) == -1 ||
	    (stamps = api_query_bool(ctx, "timestamps", 0, err)) == -1 ||
	    (job = api_job_mine(ctx, err)) == NULL ||
	    api_query_int(ctx, "run", 1, INT64_MAX, 0, &run, err) == -1)
		return (-1);
	if ((stream = api_query_get(ctx, "stream")) != NULL) {
		if (strcmp(stream, "stdout") == 0)
			which = JOBLOG_STDOUT;
		else if (strcmp(stream, "stderr") == 0)
			which = JOBLOG_STDERR;
		else if (strcmp(stream, "all") == 0)
			which = LOGS_ALL;
		else {
			serr_set(err, SERR_INVALID, "stream",
			    "must be stdout, stderr or all");
			return (-1);
		}
	}
	if ((format = api_query_get(ctx, "format")) != NULL) {
		if (strcmp(format, "json") == 0)
			json = 1;
		else if (strcmp(format, "text") != 0) {
			serr_set(err, SERR_INVALID, "format",
			    "must be text or json");
			return (-1);
		}
	}
	if ((since = api_query_get(ctx, "since")) != NULL &&
	    util_time_parse(since, &since_ms) == -1) {
		serr_set(err, SERR_INVALID, "since",
		    "must be an RFC 3339 time like 2026-12-02T21:30:00Z");
		return (-1);
	}
	min_run = joblog_min_run(job->log);
	if (run > job->run.number || (run > 0 && run < min_run)) {
		serr_set(err, SERR_NOT_FOUND, "run", "job %s has no run %lld%s",
		    job->name, run,
		    run > 0 && run < min_run ? " (pruned)" : "");
		return (-1);
	}
	ls = xcalloc(1, sizeof(*ls));
	ls->req = ctx->req;
	ls->sd = ctx->sd;
	ls->fd = ls->raw_fd[0] = ls->raw_fd[1] = -1;
	ls->seen_stream = -1;
	ls->which = which;
	ls->since_ms = since_ms;
	ls->stamps = stamps;
	ls->json = json;
	ls->follow = follow && !ctx->sd->shutting_down;
	ls->tail = tail;
	ls->phase = tail >= 0 ? LOGS_COUNT : LOGS_EMIT;
	ls->bol = 1;
	ls->last_stream = -1;
	if (run > 0) {
		/* One run. */
		ls->lo = ls->hi = run;
		ls->last_run = run;
	} else if (since != NULL) {
		/* Everything since then, every run after, marked. */
		ls->lo = 1;
		ls->hi = INT64_MAX;
		ls->marks = 1;
		ls->last_run = LOGS_NO_RUN;
	} else {
		/* The last run; following, the runs after it too. */
		ls->lo = job->run.number;
		ls->hi = follow ? INT64_MAX : job->run.number;
		ls->marks = follow;
		ls->last_run = job->run.number;
	}
	if (joblog_segments(job->log, &first, &last) > 0) {
		/* One run, or the last and on: no need to read the headers
		 * of the segments before it. */
		ls->seq0 = ls->seq = since == NULL && ls->lo > 0
					 ? joblog_seek_run(job->log, ls->lo)
					 : first;
		ls->end_seq = last;
		if ((fd = joblog_segment_open(job->log, last)) != -1) {
			if (fstat(fd, &sb) == 0)
				ls->end_off = sb.st_size;
			close(fd);
		}
	} else
		ls->seq0 = ls->seq = 1;
	snprintf(ls->job_ref, sizeof(ls->job_ref), "%" PRId64, job->id);
	ls->ev = evtimer_new(ctx->sd->base, logs_step, ls);
	TAILQ_INSERT_TAIL(&streams, ls, entry);
	ls->pending = api_pending_new(ctx->req, logs_close_cb, ls);
	api_stream_start(ctx->req,
	    json ? "application/x-ndjson" : "text/plain; charset=utf-8");
	logs_pump(ls);
	return (API_DEFERRED);
}

/* Followers end; reads of what is there go on to their end. */
void
api_logs_shutdown(void)
{
	struct logstream *ls, *tls;

	TAILQ_FOREACH_SAFE (ls, &streams, entry, tls)
		if (ls->follow)
			logs_end(ls);
}
