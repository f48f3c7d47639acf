/* SPDX-License-Identifier: ISC */
/*
 * The sd_notify protocol, in a few lines rather than a libsystemd
 * dependency: datagrams to $NOTIFY_SOCKET (a path, or abstract when it
 * starts with '@'). Every call is a no-op when the variable is unset.
 */
#ifndef SCHEDD_NOTIFY_H
#define SCHEDD_NOTIFY_H

#include <stddef.h>

struct event_base;

/* Read $NOTIFY_SOCKET and $WATCHDOG_USEC (and $WATCHDOG_PID); when a
 * watchdog is asked for, send WATCHDOG=1 from a timer at half its period.
 * Returns 0, or -1 if the variable is malformed (logged, then ignored). */
int notify_init(struct event_base *base);
/* "READY=1\nSTATUS=..." once the socket listens and the state is loaded. */
void notify_ready(size_t njobs);
/* "STATUS=..." (printf-style). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "STOPPING=1". */
void notify_stopping(void);
/* Stop the watchdog timer and forget the socket. */
void notify_free(void);

#endif
