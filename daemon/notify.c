/* SPDX-License-Identifier: ISC */
/*
 * The sd_notify(3) protocol, written out instead of linking libsystemd:
 * the whole protocol is one datagram of "KEY=VALUE\n" lines sent to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract name when
 * it starts with '@'), so a library dependency would buy nothing but a
 * larger closure and a build-time condition. systemd reads the sender's
 * pid from the kernel (SO_PASSCRED on its end), so nothing else is needed.
 *
 * This module owns that socket and the watchdog timer. It must never block
 * and never fail the daemon: the socket is non-blocking, every send is
 * MSG_DONTWAIT, and a failure is logged and otherwise ignored (a supervisor
 * that cannot hear us will time us out, which is its decision to make).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/log.h"
#include "daemon/notify.h"
#include "proto/util.h"

#define NOTIFY_MSG_MAX   1024 /* one datagram, STATUS included */
#define NOTIFY_WD_MIN_US 1000 /* below this a timer is pointless */
#define NOTIFY_WD_MAX_US (365LL * 24 * 3600 * 1000000)

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;
static struct event *notify_wd_ev;
static int notify_failing; /* last send failed (logged) */

/*
 * $NOTIFY_SOCKET into notify_addr. An abstract name keeps its length
 * exactly (no NUL terminator counts), as the kernel compares all of it.
 */
static int
notify_parse_addr(const char *s)
{
	size_t len = strlen(s);

	if ((s[0] != '/' && s[0] != '@') || len < 2 ||
	    len >= sizeof(notify_addr.sun_path))
		return (-1);
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, s, len);
	if (s[0] == '@') {
		notify_addr.sun_path[0] = '\0';
		notify_addrlen =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else
		notify_addrlen =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				1);
	return (0);
}

/* Send msg as one datagram; log the first failure of a series. */
static void
notify_send(const char *msg, size_t len)
{
	if (notify_fd == -1)
		return;
	if (sendto(notify_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		(struct sockaddr *)&notify_addr, notify_addrlen) == -1) {
		if (!notify_failing)
			log_warn("sd_notify to %s%s",
			    notify_addr.sun_path[0] == '\0' ? "@" : "",
			    notify_addr.sun_path +
				(notify_addr.sun_path[0] == '\0'));
		notify_failing = 1;
		return;
	}
	if (notify_failing)
		log_info("sd_notify works again");
	notify_failing = 0;
}

static void notify_sendf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Format into a bounded buffer; a long STATUS is cut, never split. */
static void
notify_sendf(const char *fmt, ...)
{
	char buf[NOTIFY_MSG_MAX];
	va_list ap;
	int n;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	notify_send(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_send("WATCHDOG=1", 10);
}

/*
 * $WATCHDOG_USEC asks for a keep-alive at least that often; it is meant
 * for us only if $WATCHDOG_PID is unset or names our pid. Pinging at half
 * the period leaves the other half for a busy loop iteration.
 */
static int
notify_watchdog_init(struct event_base *base)
{
	struct timeval tv;
	const char *s, *errstr;
	long long usec, pid;

	if ((s = getenv("WATCHDOG_USEC")) == NULL || *s == '\0')
		return (0);
	usec = util_strtonum(s, NOTIFY_WD_MIN_US, NOTIFY_WD_MAX_US, &errstr);
	if (errstr != NULL) {
		log_warnx("WATCHDOG_USEC=%.32s is %s: no watchdog", s, errstr);
		return (-1);
	}
	if ((s = getenv("WATCHDOG_PID")) != NULL && *s != '\0') {
		pid = util_strtonum(s, 1, INT32_MAX, &errstr);
		if (errstr != NULL) {
			log_warnx(
			    "WATCHDOG_PID=%.32s is %s: no watchdog", s, errstr);
			return (-1);
		}
		if ((pid_t)pid != getpid()) {
			log_debug("the watchdog is for pid %lld, not us", pid);
			return (0);
		}
	}
	if (base == NULL)
		return (0);
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((notify_wd_ev = event_new(
		 base, -1, EV_PERSIST, notify_watchdog_cb, NULL)) == NULL ||
	    event_add(notify_wd_ev, &tv) == -1) {
		log_warnx("cannot arm the watchdog timer");
		if (notify_wd_ev != NULL)
			event_free(notify_wd_ev);
		notify_wd_ev = NULL;
		return (-1);
	}
	log_info("watchdog: WATCHDOG=1 every %lld ms", usec / 1000);
	return (0);
}

int
notify_init(struct event_base *base)
{
	const char *s;

	notify_free();
	if ((s = getenv("NOTIFY_SOCKET")) == NULL || *s == '\0')
		return (0);
	if (notify_parse_addr(s) == -1) {
		log_warnx(
		    "NOTIFY_SOCKET=%.64s is not a path or @name: ignored", s);
		return (-1);
	}
	if ((notify_fd = socket(AF_UNIX,
		 SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1) {
		log_warn("sd_notify socket");
		return (-1);
	}
	log_debug("sd_notify to %s", s);
	return (notify_watchdog_init(base));
}

void
notify_ready(size_t njobs)
{
	notify_sendf(
	    "READY=1\nSTATUS=ready: %zu job%s", njobs, njobs == 1 ? "" : "s");
}

void
notify_status(const char *fmt, ...)
{
	char status[NOTIFY_MSG_MAX - 8];
	va_list ap;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	if (vsnprintf(status, sizeof(status), fmt, ap) < 0)
		status[0] = '\0';
	va_end(ap);
	/* A newline would start a new assignment: keep STATUS one line. */
	status[strcspn(status, "\n")] = '\0';
	notify_sendf("STATUS=%s", status);
}

void
notify_stopping(void)
{
	notify_sendf("STOPPING=1\nSTATUS=stopping every job");
}

void
notify_free(void)
{
	if (notify_wd_ev != NULL) {
		event_free(notify_wd_ev);
		notify_wd_ev = NULL;
	}
	if (notify_fd != -1) {
		close(notify_fd);
		notify_fd = -1;
	}
	notify_failing = 0;
}
