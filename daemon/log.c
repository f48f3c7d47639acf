/* SPDX-License-Identifier: ISC */
/*
 * Log sinks: terminal, journal-style stderr (when stderr is the journal),
 * or syslog. Formatting happens
 * into a stack buffer so that logging never allocates; long lines are cut.
 * Preserves errno for the caller.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

int log_level = LOG_LEVEL_INFO;

enum log_sink {
	SINK_TERMINAL, /* stderr, with a timestamp */
	SINK_JOURNAL,  /* stderr, "<N>" syslog priority prefix */
	SINK_SYSLOG,   /* syslog(3) */
};

static enum log_sink log_sink = SINK_TERMINAL;

static const int log_prio[] = {
    [LOG_LEVEL_ERROR] = LOG_ERR,
    [LOG_LEVEL_WARN] = LOG_WARNING,
    [LOG_LEVEL_INFO] = LOG_INFO,
    [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const char *const log_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

/*
 * $JOURNAL_STREAM ("DEV:INODE") is systemd's word that stderr is the
 * journal; believe it only while stderr still is that stream.
 */
static int
stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	struct stat sb;
	unsigned long long dev, ino;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &sb) == -1)
		return (0);
	return ((unsigned long long)sb.st_dev == dev &&
		(unsigned long long)sb.st_ino == ino);
}

void
log_init(int to_terminal, enum log_level level)
{
	log_level = level;
	if (stderr_is_journal())
		log_sink = SINK_JOURNAL;
	else if (to_terminal)
		log_sink = SINK_TERMINAL;
	else {
		log_sink = SINK_SYSLOG;
		openlog("schedd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(name, log_names[i]) == 0)
			return ((int)i);
	return (-1);
}

static void
log_vwrite(enum log_level lvl, const char *func, int with_errno,
    const char *fmt, va_list ap)
{
	char msg[1024], stamp[32];
	int saved = errno, n;
	struct timespec ts;
	struct tm tm;

	n = snprintf(msg, sizeof(msg), "%s: ", func);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	switch (log_sink) {
	case SINK_TERMINAL:
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %-5s %s\n", stamp,
		    ts.tv_nsec / 1000000, log_names[lvl], msg);
		break;
	case SINK_JOURNAL:
		fprintf(stderr, "<%d>%s\n", log_prio[lvl], msg);
		break;
	case SINK_SYSLOG:
		syslog(log_prio[lvl], "%s", msg);
		break;
	}
	errno = saved;
}

void
log_write(
    enum log_level lvl, const char *func, int with_errno, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > log_level)
		return;
	va_start(ap, fmt);
	log_vwrite(lvl, func, with_errno, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *func, int with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, func, with_errno, fmt, ap);
	va_end(ap);
	exit(1);
}
