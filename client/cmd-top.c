/* SPDX-License-Identifier: ISC */
/*
 * schedctl top: every job, refreshed, sorted, on the whole screen (the
 * alternate screen of the terminal, plain ANSI sequences: no curses
 * needed), quitting on q; off a terminal, the same table printed again at
 * each interval, and with --json one JSON object per interval. Each refresh
 * is one GET /v1/jobs?usage=true; CPU % and the run-queue delay are the
 * change of the job's figures over the interval (the first frame shows
 * them since the run started). Keys are read from stdin, in raw mode when
 * it is a terminal, which is restored on every way out.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client/format.h"
#include "client/jobcols.h"
#include "client/schedctl.h"
#include "client/table.h"
#include "proto/util.h"

static int cmd_top_exec(struct schedctl *, struct args *);

static const struct option top_longopts[] = {
    {"delay", required_argument, NULL, 'd'},
    {"iterations", required_argument, NULL, 'n'},
    {"sort", required_argument, NULL, 's'},
    {"all", no_argument, NULL, 'a'},
    {NULL, 0, NULL, 0},
};

const struct cmd_entry cmd_top_entry = {
    .name = "top",
    .usage = "[-a] [-d SECONDS] [-n N] [-s COLUMN]",
    .summary = "a live view of the jobs: CPU %, memory, run-queue delay",
    .help = "  -a, --all            also jobs that are not active\n"
	    "  -d, --delay SECONDS  between refreshes (default 2; e.g. 0.5)\n"
	    "  -n, --iterations N   stop after N refreshes\n"
	    "  -s, --sort COLUMN    cpu (default), mem, runq, restarts, name,\n"
	    "                       state or id\n",
    .notes =
	"On a terminal: q quits; c, m, d, r, n, s and i sort by CPU, memory,\n"
	"run-queue delay, restarts, name, state and id. CPU% and RUNQ (ms of\n"
	"waiting for a CPU per second) are over the last interval. Off a\n"
	"terminal the table is printed at each interval; with --json, one\n"
	"object per interval: {\"time\", \"jobs\": [rows as ps --json]}.\n",
    .optstring = "ad:n:s:",
    .longopts = top_longopts,
    .min_args = 0,
    .max_args = 0,
    .exec = cmd_top_exec,
};

static const enum jobcol top_cols[] = {JC_ID, JC_NAME, JC_STATE, JC_CPU, JC_MEM,
    JC_RUNQ, JC_RESTARTS, JC_CPUS, JC_PID, JC_COMMAND};
#define TOP_NCOLS ((int)(sizeof(top_cols) / sizeof(top_cols[0])))

/* What the last frame saw of a job, for the rates of the next. */
struct seen {
	long long id;
	long long run;
	long long cpu_ms;  /* -1 unknown */
	long long runq_us; /* -1 unknown */
};

struct top {
	struct seen *prev;
	size_t nprev;
	int64_t prev_ms; /* CLOCK_MONOTONIC of the last frame; 0: none */
	enum jobcol sort;
	int all;
};

static volatile sig_atomic_t top_quit, top_resized;
static struct termios top_saved;
static int top_raw, top_screen;

static void
top_on_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_quit = 1;
}

/* Put the terminal back as it was; safe to call more than once. */
static void
top_restore(void)
{
	if (top_screen) {
		/* Show the cursor, leave the alternate screen. */
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		top_screen = 0;
	}
	if (top_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved);
		top_raw = 0;
	}
}

static const struct seen *
seen_find(const struct top *tp, long long id)
{
	size_t i;

	for (i = 0; i < tp->nprev; i++)
		if (tp->prev[i].id == id)
			return (&tp->prev[i]);
	return (NULL);
}

/* One row, sorted by the key. */
struct trow {
	json_t *obj; /* typed, as ps --json */
	char *cells[TOP_NCOLS];
};

static enum jobcol top_sort_key;

static double
row_num(const struct trow *r, const char *key)
{
	return (json_number_value(json_object_get(r->obj, key)));
}

static int
row_cmp(const void *a, const void *b)
{
	const struct trow *ra = a, *rb = b;
	const char *key = jobcol_defs[top_sort_key].name;
	const char *sa, *sb;
	double x, y;

	switch (top_sort_key) {
	case JC_NAME:
	case JC_STATE:
		sa = json_string_value(json_object_get(ra->obj, key));
		sb = json_string_value(json_object_get(rb->obj, key));
		return (strcmp(sa != NULL ? sa : "", sb != NULL ? sb : ""));
	case JC_ID:
		x = row_num(ra, key);
		y = row_num(rb, key);
		return (x < y ? -1 : x > y);
	default:
		/* Largest first, as top does. */
		x = row_num(ra, key);
		y = row_num(rb, key);
		return (x < y ? 1 : x > y ? -1 : 0);
	}
}

/* Terminal lines, or 0 when stdout is not a terminal. */
static int
term_lines(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		return (ws.ws_row);
	return (0);
}

/* One frame: fetch, compute, print. Returns an exit code or -1 to go on. */
static int
top_frame(struct schedctl *ctl, struct top *tp)
{
	json_t *root = NULL, *jobs, *job, *u, *out;
	struct trow *rows;
	struct seen *now;
	const struct seen *was;
	const char *headers[TOP_NCOLS];
	int flags[TOP_NCOLS], c, lines, rc, running = 0;
	struct table *t;
	size_t i, n = 0, nnow = 0;
	long long id, run, cpu, runq;
	int64_t t_ms, el;
	double pct;
	char buf[64], stamp[64];
	time_t wall;
	struct tm tm;
	FILE *fp;
	char *text = NULL;
	size_t textlen = 0;

	if ((rc = ctl_call(ctl, "GET", "/v1/jobs?usage=true", NULL,
		 CTL_TIMEOUT_MS, &root)) != CTL_EXIT_OK)
		return (rc);
	t_ms = fmt_mono_ms();
	el = tp->prev_ms > 0 ? t_ms - tp->prev_ms : 0;
	jobs = json_object_get(root, "jobs");
	rows = xcalloc(json_array_size(jobs) + 1, sizeof(*rows));
	now = xcalloc(json_array_size(jobs) + 1, sizeof(*now));
	json_array_foreach (jobs, i, job) {
		u = json_object_get(job, "usage");
		if (!fmt_int(job, "id", &id))
			continue;
		run = fmt_int(json_object_get(job, "last_run"), "run", &run)
			  ? run
			  : 0;
		cpu = fmt_int(u, "cpu_ms", &cpu) ? cpu : -1;
		runq = fmt_int(u, "runq_delay_us", &runq) ? runq : -1;
		now[nnow].id = id;
		now[nnow].run = run;
		now[nnow].cpu_ms = cpu;
		now[nnow].runq_us = runq;
		nnow++;
		if (fmt_state_active(fmt_str(job, "state")))
			running++;
		if (!tp->all && !fmt_state_active(fmt_str(job, "state")))
			continue;
		/* Over the interval when the same run was seen before. */
		pct = -1;
		was = seen_find(tp, id);
		if (el > 0 && was != NULL && was->run == run && cpu >= 0 &&
		    was->cpu_ms >= 0 && cpu >= was->cpu_ms)
			pct = (double)(cpu - was->cpu_ms) * 100.0 / (double)el;
		jobcols_row(
		    job, top_cols, TOP_NCOLS, pct, rows[n].cells, &rows[n].obj);
		if (el > 0 && was != NULL && was->run == run && runq >= 0 &&
		    was->runq_us >= 0) {
			/* ms waited per second of the interval. */
			double r =
			    runq >= was->runq_us
				? (double)(runq - was->runq_us) / (double)el
				: 0;

			for (c = 0; c < TOP_NCOLS; c++)
				if (top_cols[c] == JC_RUNQ) {
					free(rows[n].cells[c]);
					snprintf(buf, sizeof(buf), "%.1f", r);
					rows[n].cells[c] = xstrdup(buf);
					json_object_set_new(
					    rows[n].obj, "runq", json_real(r));
				}
		}
		n++;
	}
	free(tp->prev);
	tp->prev = now;
	tp->nprev = nnow;
	tp->prev_ms = t_ms;
	top_sort_key = tp->sort;
	qsort(rows, n, sizeof(*rows), row_cmp);

	wall = time(NULL);
	gmtime_r(&wall, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (ctl->json) {
		out = json_pack("{s:s, s:[]}", "time", stamp, "jobs");
		for (i = 0; i < n; i++)
			json_array_append(
			    json_object_get(out, "jobs"), rows[i].obj);
		json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(out);
	} else {
		for (c = 0; c < TOP_NCOLS; c++) {
			headers[c] = jobcol_defs[top_cols[c]].header;
			flags[c] = jobcol_defs[top_cols[c]].flags;
		}
		t = table_new((size_t)TOP_NCOLS, headers, flags);
		for (i = 0; i < n; i++)
			table_add(t, (const char *const *)rows[i].cells);
		/* Built off screen, shown in one write: no flicker. */
		fp = open_memstream(&text, &textlen);
		if (fp != NULL) {
			fprintf(fp,
			    "schedctl top - %s - %zu jobs, %d active - "
			    "sorted by %s%s\n",
			    stamp, json_array_size(jobs), running,
			    jobcol_defs[tp->sort].name,
			    top_screen ? " - q quits" : "");
			table_print(t, fp, ctl_term_width());
			fclose(fp);
		}
		if (top_screen) {
			/* Home, then each line cleared to its end. */
			fputs("\033[H", stdout);
			lines = term_lines();
			{
				char *p = text, *e;
				int k = 0;

				while (p != NULL && *p != '\0' &&
				       (lines == 0 || k < lines - 1)) {
					e = strchr(p, '\n');
					fwrite(p, 1,
					    e != NULL ? (size_t)(e - p)
						      : strlen(p),
					    stdout);
					fputs("\033[K\r\n", stdout);
					k++;
					p = e != NULL ? e + 1 : NULL;
				}
			}
			fputs("\033[J", stdout);
		} else {
			if (text != NULL)
				fputs(text, stdout);
			fputc('\n', stdout);
		}
		free(text);
		table_free(t);
	}
	fflush(stdout);
	for (i = 0; i < n; i++) {
		for (c = 0; c < TOP_NCOLS; c++)
			free(rows[i].cells[c]);
		json_decref(rows[i].obj);
	}
	free(rows);
	json_decref(root);
	return (-1);
}

static enum jobcol
sort_key(const char *s)
{
	static const struct {
		const char *name;
		enum jobcol col;
	} keys[] = {{"cpu", JC_CPU}, {"mem", JC_MEM}, {"runq", JC_RUNQ},
	    {"restarts", JC_RESTARTS}, {"name", JC_NAME}, {"state", JC_STATE},
	    {"id", JC_ID}};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, s) == 0)
			return (keys[i].col);
	return (JC_NCOLS);
}

/* A key pressed: 1 to quit, 0 otherwise (a sort key changes tp). */
static int
top_key(struct top *tp, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return (1);
	case 'c':
		tp->sort = JC_CPU;
		break;
	case 'm':
		tp->sort = JC_MEM;
		break;
	case 'd':
		tp->sort = JC_RUNQ;
		break;
	case 'r':
		tp->sort = JC_RESTARTS;
		break;
	case 'n':
		tp->sort = JC_NAME;
		break;
	case 's':
		tp->sort = JC_STATE;
		break;
	case 'i':
		tp->sort = JC_ID;
		break;
	}
	return (0);
}

static int
cmd_top_exec(struct schedctl *ctl, struct args *args)
{
	struct top tp;
	struct termios raw;
	struct sigaction sa;
	struct pollfd pfd;
	const char *v;
	long long iters = -1, done = 0;
	double delay = 2.0;
	char *end, ch;
	int64_t next, left;
	int rc = CTL_EXIT_OK, r, keys;

	memset(&tp, 0, sizeof(tp));
	tp.sort = JC_CPU;
	tp.all = args_has(args, 'a') > 0;
	if ((v = args_get(args, 'd')) != NULL) {
		errno = 0;
		delay = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' || delay < 0.1 ||
		    delay > 3600)
			return (ctl_usage_error(ctl,
			    "-d: '%s' is not a number of seconds (0.1..3600)",
			    v));
	}
	if ((v = args_get(args, 'n')) != NULL &&
	    ctl_parse_number(ctl, "-n", v, 1, INT64_MAX, &iters) == -1)
		return (CTL_EXIT_USAGE);
	if ((v = args_get(args, 's')) != NULL &&
	    (tp.sort = sort_key(v)) == JC_NCOLS)
		return (ctl_usage_error(ctl,
		    "-s: unknown column '%s' (cpu, mem, runq, restarts, name, "
		    "state, id)",
		    v));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = top_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	/* Full screen only on a terminal, and never for JSON. */
	if (!ctl->json && isatty(STDOUT_FILENO)) {
		if (isatty(STDIN_FILENO) &&
		    tcgetattr(STDIN_FILENO, &top_saved) == 0) {
			raw = top_saved;
			raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			raw.c_cc[VMIN] = 0;
			raw.c_cc[VTIME] = 0;
			if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
				top_raw = 1;
		}
		/* Alternate screen, cursor hidden, cleared. */
		fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
		top_screen = 1;
		atexit(top_restore);
	}
	keys = top_screen;
	while (!top_quit) {
		if ((r = top_frame(ctl, &tp)) != -1) {
			rc = r;
			break;
		}
		if (iters > 0 && ++done >= iters)
			break;
		next = fmt_mono_ms() + (int64_t)(delay * 1000.0);
		while (!top_quit && (left = next - fmt_mono_ms()) > 0) {
			pfd.fd = STDIN_FILENO;
			pfd.events = POLLIN;
			pfd.revents = 0;
			r = poll(&pfd, keys ? 1 : 0, (int)left);
			if (r == -1 && errno != EINTR)
				break;
			if (top_resized) {
				top_resized = 0;
				break;
			}
			if (r > 0 && (pfd.revents & (POLLIN | POLLHUP))) {
				if (read(STDIN_FILENO, &ch, 1) != 1) {
					keys =
					    0; /* end of input: no more keys */
					continue;
				}
				if (top_key(&tp, ch))
					top_quit = 1;
				else
					break; /* show the new order now */
			}
		}
	}
	top_restore();
	free(tp.prev);
	return (rc);
}
