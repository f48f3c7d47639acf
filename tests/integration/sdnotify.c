/* SPDX-License-Identifier: ISC */
/*
 * A job for the readiness tests that speaks sd_notify(3) itself, on the
 * wire, as a program linked against libsystemd would: one datagram per
 * message to $NOTIFY_SOCKET ('@' for the abstract namespace).
 *
 *   sdnotify [-d MS] [-s STATUS] [-w COUNT:MS] [-t]
 *
 * waits MS, sends STATUS=STATUS and READY=1, then WATCHDOG=1 COUNT times
 * every MS (-t: WATCHDOG=trigger at the end), then sleeps until killed.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1)
		;
}

static int
notify(const char *msg)
{
	struct sockaddr_un sun;
	const char *path = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t n;
	int fd, rc;

	if (path == NULL || (n = strlen(path)) == 0 ||
	    n >= sizeof(sun.sun_path))
		return (-1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	rc = sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, len) ==
		     (ssize_t)strlen(msg)
		 ? 0
		 : -1;
	close(fd);
	return (rc);
}

int
main(int argc, char **argv)
{
	char buf[512];
	long delay = 0, wd_n = 0, wd_ms = 0;
	const char *status = NULL;
	int ch, trigger = 0, i;

	while ((ch = getopt(argc, argv, "d:s:w:t")) != -1) {
		switch (ch) {
		case 'd':
			delay = atol(optarg);
			break;
		case 's':
			status = optarg;
			break;
		case 'w':
			if (sscanf(optarg, "%ld:%ld", &wd_n, &wd_ms) != 2)
				return (2);
			break;
		case 't':
			trigger = 1;
			break;
		default:
			return (2);
		}
	}
	sleep_ms(delay);
	snprintf(buf, sizeof(buf), "%s%s%sREADY=1", status ? "STATUS=" : "",
	    status ? status : "", status ? "\n" : "");
	if (notify(buf) == -1) {
		perror("sdnotify: NOTIFY_SOCKET");
		return (1);
	}
	for (i = 0; i < wd_n; i++) {
		sleep_ms(wd_ms);
		notify("WATCHDOG=1");
	}
	if (trigger)
		notify("WATCHDOG=trigger");
	for (;;)
		pause();
}
