/* SPDX-License-Identifier: ISC */
/*
 * Allocation that cannot fail: out of memory is fatal. Request sizes are
 * bounded before anything is allocated, so only the machine can cause it.
 */
#ifndef SCHEDD_XMALLOC_H
#define SCHEDD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
/* Caller frees. */
char *xstrdup(const char *s);
/* asprintf that cannot fail; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
