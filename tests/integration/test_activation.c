/* SPDX-License-Identifier: ISC */
/*
 * Socket activation (schedd.socket): a listening Unix socket handed over as
 * fd 3 with LISTEN_FDS=1 and LISTEN_PID=the daemon's pid, the way systemd
 * does it, is served instead of a socket of schedd's own; schedd leaves it
 * in place when it exits, and jobs inherit neither the descriptor nor the
 * variables. Passed to another pid it is ignored; a socket that does not
 * listen, or is not a stream, fails the start-up. Needs no root.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"

/* A Unix socket of type at path (bound; listening if listening). */
static int
unix_socket(const char *path, int type, int listening)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1)
		fail_msg("socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fail_msg("bind %s: %s", path, strerror(errno));
	if (listening && listen(fd, 16) == -1)
		fail_msg("listen: %s", strerror(errno));
	return (fd);
}

static void
close_fd(void *arg)
{
	close((int)(intptr_t)arg);
}

/* What the run of job wrote to stdout. */
static const char *
job_output(struct h *h, const char *job)
{
	if (h_request(h, "GET", h_fmt(h, "/v1/jobs/%s/logs", job), NULL, NULL,
		NULL) != 200)
		h_fail(NULL, "logs of %s: %ld %s", job, h->last_status,
		    h->last_body);
	return (h->last_body);
}

H_TEST(activation__listening_socket__served_and_left_in_place)
{
	struct stat st;
	const char *out, *log;
	json_t *j;
	int fd;

	h_daemon_stop(h, SIGTERM); /* setup's, with a socket of its own */
	/* Where the daemon would make its own: it must not. */
	fd = unix_socket(h->sock, SOCK_STREAM, 1);
	h_defer(h, close_fd, (void *)(intptr_t)fd);
	h_daemon_listen_fd(h, fd, 0);
	h_daemon_start(h);
	h_assert_healthy(h);
	log = h_text(h, h->log);
	if (strstr(log, "socket from systemd") == NULL)
		h_fail(NULL, "no \"socket from systemd\" in the log:\n%s", log);

	/* h_parse's tree is the harness's; the call steals a reference. */
	j = h_job_create(h, json_incref(h_parse(h,
	    "{\"name\":\"env\",\"argv\":[\"/bin/sh\",\"-c\","
	    "\"env; ls -l /proc/$$/fd\"]}")));
	j = h_job_wait(h, "env");
	h_assert_int(j, "last_run.exit_code", 0);
	out = job_output(h, "env");
	if (strstr(out, "LISTEN_") != NULL || strstr(out, "socket:") != NULL)
		h_fail(NULL, "the job inherited the activation:\n%s", out);

	/* SIGTERM: a clean exit that leaves systemd's socket alone. */
	if (h_daemon_stop(h, SIGTERM) != 0)
		h_fail(NULL, "schedd did not exit 0");
	if (stat(h->sock, &st) == -1 || !S_ISSOCK(st.st_mode))
		h_fail(NULL, "%s is gone: schedd removed a socket it did not make",
		    h->sock);
	/* And it still listens: the next daemon takes it over again. */
	h_daemon_start(h);
	h_assert_healthy(h);
}

H_TEST(activation__other_pid__ignored_and_own_socket_made)
{
	const char *log;
	int fd;

	h_daemon_stop(h, SIGTERM);
	/* For pid 1, not for us: schedd makes h->sock itself. */
	fd = unix_socket(h_fmt(h, "%s/other.sock", h->dir), SOCK_STREAM, 1);
	h_defer(h, close_fd, (void *)(intptr_t)fd);
	h_daemon_listen_fd(h, fd, 1);
	h_daemon_start(h);
	h_assert_healthy(h);
	log = h_text(h, h->log);
	if (strstr(log, "socket from systemd") != NULL)
		h_fail(NULL, "took a socket passed to another pid:\n%s", log);
}

H_TEST(activation__not_listening_or_datagram__start_up_fails)
{
	static const struct {
		int type, listening;
		const char *why;
	} cases[] = {
	    {SOCK_STREAM, 0, "is not listening"},
	    {SOCK_DGRAM, 0, "is not a stream socket"},
	};
	const char *args[] = {"--socket", h->sock, "--state-dir", h->state,
	    "--config", h->conf, "--foreground", NULL};
	const char *log;
	size_t i;
	int fd, st;

	h_daemon_stop(h, SIGTERM);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = unix_socket(h_fmt(h, "%s/bad%zu.sock", h->dir, i),
		    cases[i].type, cases[i].listening);
		h_daemon_listen_fd(h, fd, 0);
		st = h_schedd_run(h, args, 10000);
		close(fd);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
			h_fail(NULL, "case %zu: wait status %#x, not exit 1",
			    i, st);
		log = h_text(h, h->log);
		if (strstr(log, cases[i].why) == NULL)
			h_fail(NULL, "case %zu: no \"%s\" in the log:\n%s", i,
			    cases[i].why, log);
		if (access(h->sock, F_OK) == 0)
			h_fail(NULL, "case %zu: schedd made %s anyway", i,
			    h->sock);
	}
	h_daemon_listen_fd(h, 0, 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(activation__listening_socket__served_and_left_in_place),
	    H_UNIT(activation__other_pid__ignored_and_own_socket_made),
	    H_UNIT(activation__not_listening_or_datagram__start_up_fails),
	};

	return (H_MAIN(tests));
}
