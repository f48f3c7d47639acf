/* SPDX-License-Identifier: ISC */
/*
 * Logging with the OpenBSD vocabulary. Lines go to stderr with <prio>
 * prefixes when stderr is systemd's journal ($JOURNAL_STREAM names it), to
 * the terminal (stderr, plain) in foreground mode, and to syslog otherwise. Every call site
 * passes __func__ through the macros below.
 */
#ifndef SCHEDD_LOG_H
#define SCHEDD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,	/* fatal and errors only */
	LOG_LEVEL_WARN,		/* plus warnings */
	LOG_LEVEL_INFO,		/* plus state changes (default) */
	LOG_LEVEL_DEBUG,	/* everything */
};

extern int log_level;	/* the one extern global (STYLE.md) */

/* Pick the sink. to_terminal: plain lines on stderr. */
void log_init(int to_terminal, enum log_level level);
/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

void log_write(enum log_level lvl, const char *func, int with_errno,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_fatal(const char *func, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define log_warn(...)  log_write(LOG_LEVEL_WARN, __func__, 1, __VA_ARGS__)
#define log_warnx(...) log_write(LOG_LEVEL_WARN, __func__, 0, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __func__, 0, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __func__, 0, __VA_ARGS__)
/* Only before the event loop runs (and xmalloc on out-of-memory). */
#define fatal(...)     log_fatal(__func__, 1, __VA_ARGS__)
#define fatalx(...)    log_fatal(__func__, 0, __VA_ARGS__)

#endif
