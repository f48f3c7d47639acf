/* SPDX-License-Identifier: ISC */
/*
 * The probe of the fault benchmark (issue 12): while bench/faults.py hurts a
 * schedd, this watches it from outside. One keep-alive connection sends
 * GET /v1/health every INTERVAL ms (never two at once: a stalled answer
 * delays the next probe, and the report corrects for the probes it
 * swallowed), and every SAMPLE ms it reads the daemon's VmRSS from
 * /proc/PID/status and utime+stime from /proc/PID/stat. It only measures;
 * it runs until SIGTERM or SIGINT or for at most MAX seconds, then prints
 * every sample, CLOCK_MONOTONIC in ns (the clock of Python's
 * time.monotonic()), one a line:
 *
 *   lat  SENT_NS LATENCY_US     an answer 200
 *   bad  SENT_NS LATENCY_US     an answer, not 200
 *   open SENT_NS WAITED_US      still unanswered at exit
 *   err  T_NS ERRNO             connect, write or read failed (reconnects)
 *   rss  T_NS KB                VmRSS
 *   cpu  T_NS MS                utime+stime
 *   st   T_NS STATE             the state letter of /proc/PID/stat, as
 *                               its code (R 82, S 83, D 68, ...)
 *   wc   T_NS I                 in D: the kernel function it waits in,
 *                               /proc/PID/wchan, named by a line
 *   wchan I NAME
 *
 * usage: faultprobe -s SOCK -p PID -d MAX_S [-i INTERVAL_MS] [-r SAMPLE_MS]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

#define MAX_LINES	4000000	/* 40 MB of samples: far more than 30 s */

struct line {
	char kind[5];
	int64_t t_ns;
	double v;
};

static struct line *lines;
static size_t nlines, caplines;
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
record(const char *kind, int64_t t_ns, double v)
{
	if (nlines == caplines) {
		if (caplines >= MAX_LINES)
			return;
		caplines = caplines != 0 ? caplines * 2 : 8192;
		if ((lines = realloc(lines, caplines * sizeof(*lines))) ==
		    NULL) {
			perror("faultprobe: realloc");
			exit(1);
		}
	}
	snprintf(lines[nlines].kind, sizeof(lines[nlines].kind), "%s", kind);
	lines[nlines].t_ns = t_ns;
	lines[nlines].v = v;
	nlines++;
}

#define MAX_WCHAN	32
static char wchans[MAX_WCHAN][64];
static int nwchans;

/* Index of pid's /proc/PID/wchan in wchans[], or -1. */
static int
wchan_index(int pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	for (i = 0; i < nwchans; i++)
		if (strcmp(wchans[i], buf) == 0)
			return (i);
	if (nwchans == MAX_WCHAN)
		return (-1);
	snprintf(wchans[nwchans], sizeof(wchans[0]), "%s", buf);
	return (nwchans++);
}

/* utime+stime of pid in ms from /proc/PID/stat, or -1; its state letter
 * in *state. */
static double
cpu_ms(int pid, long hz, char *state)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: start after the last ')'.
	 * Then field 3 is state; utime and stime are fields 14 and 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		state, &ut, &st) != 3)
		return (-1);
	return ((double)(ut + st) * 1000.0 / (double)hz);
}

static void
usage(void)
{
	fprintf(stderr, "usage: faultprobe -s SOCK -p PID -d MAX_S "
			"[-i INTERVAL_MS] [-r SAMPLE_MS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bench_conn c;
	struct bench_resp r;
	struct sigaction sa;
	struct pollfd pfd;
	const char *sock = NULL;
	char req[256];
	double max_s = 30, interval_ms = 10, sample_ms = 100, v;
	int64_t now, t_end, next_probe, next_sample, sent = 0, wait_ns;
	ssize_t n;
	long hz, rss;
	size_t i;
	int ch, pid = -1, reqlen, rc, connected = 0, inflight = 0, timeout, w;
	char state;

	while ((ch = getopt(argc, argv, "s:p:d:i:r:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'p':
			pid = atoi(optarg);
			break;
		case 'd':
			max_s = atof(optarg);
			break;
		case 'i':
			interval_ms = atof(optarg);
			break;
		case 'r':
			sample_ms = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (sock == NULL || pid <= 0 || max_s <= 0 || interval_ms <= 0 ||
	    sample_ms <= 0)
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	hz = sysconf(_SC_CLK_TCK);
	memset(&r, 0, sizeof(r));
	c.fd = -1;
	c.buf = NULL;
	reqlen = bench_format(req, sizeof(req), "GET", "/v1/health", NULL);

	now = bench_now_ns();
	t_end = now + (int64_t)(max_s * 1e9);
	next_probe = next_sample = now;
	while (!stop && (now = bench_now_ns()) < t_end) {
		if (now >= next_sample) {
			rss = bench_rss_kb(pid, NULL);
			if (rss >= 0)
				record("rss", now, (double)rss);
			if ((v = cpu_ms(pid, hz, &state)) >= 0) {
				record("cpu", now, v);
				record("st", now, (double)state);
				if (state == 'D' && (w = wchan_index(pid)) >= 0)
					record("wc", now, (double)w);
			}
			next_sample += (int64_t)(sample_ms * 1e6);
			if (next_sample <= now) /* we were descheduled */
				next_sample = now + (int64_t)(sample_ms * 1e6);
		}
		if (!inflight && now >= next_probe) {
			if (!connected) {
				if (bench_connect(&c, sock, 1) == -1) {
					record("err", now, errno);
					bench_conn_close(&c);
					goto next;
				}
				connected = 1;
			}
			/* 40 bytes always fit an empty socket buffer. */
			if (write(c.fd, req, (size_t)reqlen) != reqlen) {
				record("err", now, errno);
				bench_conn_close(&c);
				connected = 0;
				goto next;
			}
			sent = now;
			inflight = 1;
		next:
			/* Keep to the grid; ticks missed while an answer was
			 * late are skipped (the report accounts for them). */
			do
				next_probe += (int64_t)(interval_ms * 1e6);
			while (next_probe <= now);
		}
		wait_ns = next_sample - now;
		if (!inflight && next_probe - now < wait_ns)
			wait_ns = next_probe - now;
		if (t_end - now < wait_ns)
			wait_ns = t_end - now;
		timeout = wait_ns > 0 ? (int)((wait_ns + 999999) / 1000000) : 0;
		pfd.fd = connected ? c.fd : -1;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, timeout);
		if (rc <= 0 || !connected || !(pfd.revents & (POLLIN | POLLHUP |
		    POLLERR)))
			continue;
		now = bench_now_ns();
		errno = 0;
		if ((n = bench_fill(&c)) <= 0) {
			if (n == -1 && errno == EAGAIN)
				continue;
			/* EOF or error: the next probe reconnects. */
			record("err", now, n == 0 ? EPIPE : errno);
			bench_conn_close(&c);
			connected = 0;
			inflight = 0;
			continue;
		}
		while (inflight && (rc = bench_parse_response(&c, &r)) != 0) {
			if (rc == -1) {
				record("err", now, EPROTO);
				bench_conn_close(&c);
				connected = 0;
				inflight = 0;
				break;
			}
			record(r.status == 200 ? "lat" : "bad", sent,
			    (double)(now - sent) / 1e3);
			inflight = 0;
		}
	}
	now = bench_now_ns();
	if (inflight)
		record("open", sent, (double)(now - sent) / 1e3);
	for (i = 0; i < nlines; i++)
		printf("%s %lld %.1f\n", lines[i].kind,
		    (long long)lines[i].t_ns, lines[i].v);
	for (w = 0; w < nwchans; w++)
		printf("wchan %d %s\n", w, wchans[w]);
	if (nlines == MAX_LINES)
		fprintf(stderr, "faultprobe: sample buffer full\n");
	bench_resp_free(&r);
	if (connected)
		bench_conn_close(&c);
	free(lines);
	return (fflush(stdout) == 0 ? 0 : 1);
}
