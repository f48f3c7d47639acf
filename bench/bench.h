/* SPDX-License-Identifier: ISC */
/*
 * Shared helpers of the benchmark programs: a monotonic clock, a growable
 * sample array with percentiles, and a minimal HTTP/1.1 client over a Unix
 * socket with an incremental parser (Content-Length and chunked bodies) that
 * works the same on blocking and non-blocking sockets. Not used by schedd.
 */
#ifndef SCHEDD_BENCH_H
#define SCHEDD_BENCH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* A growable array of samples (any unit). */
struct bench_samples {
	double *v;
	size_t n, cap;
};

void bench_samples_add(struct bench_samples *, double);
void bench_samples_free(struct bench_samples *);
/* Sorts in place; p in 0..100. Returns 0 when empty. */
double bench_samples_pct(struct bench_samples *, double p);

/* Print every sample as "name value" lines (for the driver to pool). */
void bench_samples_print(const char *name, const struct bench_samples *);

/* One client connection with its receive buffer. */
struct bench_conn {
	int fd;
	char *buf; /* received, not yet consumed */
	size_t len, cap;
};

/* A parsed response; body is NUL-terminated and owned by the response. */
struct bench_resp {
	int status;
	char *body;
	size_t body_len, body_cap;
	int chunked; /* for bench_parse_head: a chunked stream */
};

/* Connect to a Unix socket; blocking unless nonblock. -1 on error. */
int bench_connect(struct bench_conn *, const char *path, int nonblock);
void bench_conn_close(struct bench_conn *);
void bench_resp_free(struct bench_resp *);

/* Read what the socket has into the buffer: > 0 bytes read, 0 on EOF, -1
 * on error (errno EAGAIN on an empty non-blocking socket). */
ssize_t bench_fill(struct bench_conn *);

/* Write all of buf (blocking). -1 on error. */
int bench_write_all(int fd, const char *buf, size_t len);

/* Format a request into out (size outlen); returns its length or -1. */
int bench_format(char *out, size_t outlen, const char *method, const char *path,
    const char *body);

/* Parse one complete response from the buffer and consume it: 1 done,
 * 0 need more bytes, -1 malformed. */
int bench_parse_response(struct bench_conn *, struct bench_resp *);

/* Parse the head of a streamed (chunked) response: 1, 0 or -1 as above. */
int bench_parse_head(struct bench_conn *, struct bench_resp *);

/* Parse one chunk of a chunked stream, appending its data to resp->body:
 * 1 a chunk, 2 the last chunk, 0 need more, -1 malformed. */
int bench_parse_chunk(struct bench_conn *, struct bench_resp *);

/* Blocking request and response on a blocking connection. -1 on error. */
int bench_request(struct bench_conn *, const char *method, const char *path,
    const char *body, struct bench_resp *);

/* The integer after "key": in a JSON text, or -1. */
long long bench_json_int(const char *json, const char *key);

/* Resident set (VmRSS) and its peak (VmHWM) of pid in KiB; -1 if unknown. */
long bench_rss_kb(int pid, long *hwm_kb);

/* On-CPU time of pid (all threads) in ns from /proc/PID/schedstat, or -1. */
int64_t bench_cpu_ns(int pid);

#endif /* SCHEDD_BENCH_H */
