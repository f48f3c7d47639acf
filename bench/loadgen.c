/* SPDX-License-Identifier: ISC */
/*
 * An HTTP load generator for Unix sockets: C keep-alive connections on one
 * epoll loop, each sending GET PATH as soon as its previous answer is in
 * (no pipelining), for D seconds after a short warm-up. Every answer must be
 * 200.
 *
 * usage: loadgen -s SOCK -c C -d SECONDS [-w WARMUP_S] -u PATH
 * prints: "rate <req/s>", "body_bytes <n>", "lat_p50_us", "lat_p99_us"
 */
#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

struct lg_conn {
	struct bench_conn c;
	struct bench_resp r;
	int64_t sent_ns;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -s SOCK -c C -d SECONDS [-w WARMUP_S] -u PATH\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev, evs[256];
	struct bench_samples lat;
	struct lg_conn *conns;
	const char *sock = NULL, *path = "/v1/health";
	char req[1024];
	double dur = 3, warm = 0.5;
	int64_t t_start, t_meas = 0, t_end, now;
	long nconn = 64, i, done = 0, errors = 0;
	long body_len = -1;
	int ep, ch, n, k, rc, reqlen;

	while ((ch = getopt(argc, argv, "s:c:d:w:u:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			nconn = atol(optarg);
			break;
		case 'd':
			dur = atof(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		case 'u':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (sock == NULL || nconn < 1 || dur <= 0)
		usage();
	memset(&lat, 0, sizeof(lat));
	reqlen = bench_format(req, sizeof(req), "GET", path, NULL);
	if ((conns = calloc((size_t)nconn, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("loadgen");
		return (1);
	}
	for (i = 0; i < nconn; i++) {
		if (bench_connect(&conns[i].c, sock, 1) == -1) {
			perror("connect");
			return (1);
		}
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].c.fd, &ev) == -1) {
			perror("epoll_ctl");
			return (1);
		}
	}
	t_start = bench_now_ns();
	t_end = t_start + (int64_t)((warm + dur) * 1e9);
	for (i = 0; i < nconn; i++) {
		conns[i].sent_ns = t_start;
		/* A request this small fits the socket buffer at once. */
		if (write(conns[i].c.fd, req, (size_t)reqlen) != reqlen) {
			perror("write");
			return (1);
		}
	}
	for (;;) {
		n = epoll_wait(ep, evs, 256, 1000);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "loadgen: no answer for 1 s\n");
			return (1);
		}
		now = bench_now_ns();
		if (t_meas == 0 && now - t_start >= (int64_t)(warm * 1e9))
			t_meas = now;
		if (now >= t_end)
			break;
		for (k = 0; k < n; k++) {
			struct lg_conn *lc = &conns[evs[k].data.u64];

			if (bench_fill(&lc->c) <= 0) {
				if (errno == EAGAIN)
					continue;
				fprintf(stderr, "loadgen: connection lost\n");
				return (1);
			}
			if ((rc = bench_parse_response(&lc->c, &lc->r)) == 0)
				continue;
			/* Bodies may differ by a few bytes (uptime_ms). */
			if (rc == -1 || lc->r.status != 200)
				errors++;
			body_len = (long)lc->r.body_len;
			if (t_meas != 0) {
				done++;
				if (lat.n < 2000000)
					bench_samples_add(&lat,
					    (double)(now - lc->sent_ns) / 1e3);
			}
			lc->sent_ns = now;
			if (write(lc->c.fd, req, (size_t)reqlen) != reqlen) {
				perror("write");
				return (1);
			}
		}
	}
	printf("rate %.1f\n", (double)done / ((double)(now - t_meas) / 1e9));
	printf("body_bytes %ld\n", body_len);
	printf("errors %ld\n", errors);
	printf("lat_p50_us %.1f\n", bench_samples_pct(&lat, 50));
	printf("lat_p99_us %.1f\n", bench_samples_pct(&lat, 99));
	for (i = 0; i < nconn; i++) {
		bench_resp_free(&conns[i].r);
		bench_conn_close(&conns[i].c);
	}
	free(conns);
	bench_samples_free(&lat);
	if (errors != 0)
		fprintf(stderr, "loadgen: %ld answers were not 200\n", errors);
	return (errors != 0);
}
