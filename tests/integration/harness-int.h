/* SPDX-License-Identifier: ISC */
/*
 * Private to the harness's files: harness.c (the daemon, processes,
 * cgroups, cleanup), harness-http.c (requests, streams, raw sockets,
 * JSON helpers) and harness-sys.c (readers of the system, mounts). Tests include harness.h only.
 */
#ifndef SCHEDD_HARNESS_INT_H
#define SCHEDD_HARNESS_INT_H

#include <stddef.h>

#include <jansson.h>

struct h;

/* A growing NUL-terminated byte buffer. */
struct h_buf {
	char *p;
	size_t len, cap;
};

/* Append n bytes (aborts on out-of-memory). */
void h_buf_add(struct h_buf *b, const void *p, size_t n);
/* Hand the bytes over (caller frees; "" when empty) and reset b. */
char *h_buf_steal(struct h_buf *b);
/* A whole (small) file; caller frees. NULL if it cannot be read. */
char *h_read_file(const char *path, size_t *lenp);

/* snprintf into a path buffer; aborts if it does not fit (a harness bug). */
void h_pathf(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* h_request with its own timeout. */
long h_request_ex(struct h *h, const char *method, const char *path,
    const char *body, const char *ctype, json_t **json, long timeout_ms);
/* Learn every "pid" in an answer (h_learn_pid). */
void h_learn_json(struct h *h, json_t *j);
/* Close every open stream and raw socket. */
void h_http_close_all(struct h *h);
/* Undo what harness-sys.c set up (mounts); after the processes are gone. */
void h_sys_cleanup(struct h *h);

#endif
