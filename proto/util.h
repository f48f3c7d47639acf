/* SPDX-License-Identifier: ISC */
/*
 * Small pure helpers shared by daemon and client: bounded number parsing,
 * sizes with K/M/G suffixes, signal names, durations, time formatting,
 * strlcpy. No I/O, no allocation unless the contract says so.
 */
#ifndef SCHEDD_UTIL_H
#define SCHEDD_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/*
 * OpenBSD strtonum(3): parse a base-10 integer in [min, max]. On error
 * returns 0 and sets *errstr to "invalid", "too small" or "too large";
 * on success sets *errstr to NULL.
 */
long long util_strtonum(const char *s, long long min, long long max,
    const char **errstr);

/*
 * Parse a size: plain bytes or a number with a K, M or G suffix (powers of
 * 1024; "KiB"-style and lower case accepted too). Returns 0 and stores the
 * byte count, or -1 on a malformed or overflowing value.
 */
int util_parse_size(const char *s, uint64_t *out);

/*
 * Parse a duration for the CLI: a number with an optional "us", "ms" or
 * "s" suffix (no suffix: microseconds). Returns 0 and stores microseconds,
 * or -1.
 */
int util_parse_duration_us(const char *s, uint64_t *out);

/*
 * Signals by name ("SIGTERM", "TERM", case-insensitive) or number ("15").
 * Returns the signal number (1..64) or -1.
 */
int util_signal_parse(const char *s);

/* "SIGTERM" for 15, "SIGRTMIN+3" for real-time ones, NULL if out of range. */
const char *util_signal_name(int sig);

/*
 * Format ms since the epoch as RFC 3339 UTC with milliseconds,
 * "2026-11-21T19:01:15.123Z", into buf (at least 25 bytes). Returns buf.
 */
char *util_time_format(int64_t ms, char *buf, size_t len);

/*
 * Parse an RFC 3339 time ("2026-12-02T21:30:00.123Z", or with an offset
 * "+01:00"; 'T' or a blank between date and time) into ms since the epoch.
 * Returns 0, or -1 when s is not one.
 */
int util_time_parse(const char *s, int64_t *ms);

/* Copy at most len-1 bytes and NUL-terminate; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t len);
/* qsort(3)/bsearch(3) order of two pid_t (a and b point at them). */
int util_pid_cmp(const void *a, const void *b);

/*
 * Split "HOST:PORT" or "[V6]:PORT" in place at its last ':' into *host
 * (brackets removed; maybe "") and *port. Returns 0, or -1 when there is
 * no ':'.
 */
int util_split_hostport(char *s, char **host, char **port);

#endif
