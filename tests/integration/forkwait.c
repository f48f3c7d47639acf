/* SPDX-License-Identifier: ISC */
/*
 * A job with many processes that each end cleanly on SIGTERM, as the
 * workers of a pre-forking server do, for the stop tests:
 *
 *   forkwait N FILE MS
 *
 * forks N children, then writes N to FILE (made whole by a rename). On
 * SIGTERM each child finishes its work, MS milliseconds, and exits 0; the
 * parent waits for every child and exits 0, or 2 if any ended otherwise
 * (killed: the stop signal never reached it). Built without sanitizers:
 * thousands of copies must stay small.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term;

static void
on_term(int sig)
{
	(void)sig;
	term = 1;
}

static void
wait_term(const sigset_t *open)
{
	while (!term)
		sigsuspend(open);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, open;
	char tmp[4096];
	long n, i;
	pid_t pid;
	struct timespec linger;
	FILE *fp;
	long ms;
	int st, bad = 0;

	if (argc != 4 || (n = strtol(argv[1], NULL, 10)) < 1 || n > 100000 ||
	    (ms = strtol(argv[3], NULL, 10)) < 0 || ms > 60000) {
		fprintf(stderr, "usage: forkwait N FILE MS\n");
		return (64);
	}
	linger.tv_sec = ms / 1000;
	linger.tv_nsec = (ms % 1000) * 1000000L;
	/* Blocked until sigsuspend: a TERM before it is not lost. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &open);
	sigdelset(&open, SIGTERM);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);

	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			fprintf(stderr, "forkwait: fork %ld: %s\n", i,
			    strerror(errno));
			return (1);
		}
		if (pid == 0) {
			wait_term(&open);
			while (
			    nanosleep(&linger, &linger) == -1 && errno == EINTR)
				;
			_exit(0);
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	if ((fp = fopen(tmp, "w")) == NULL || fprintf(fp, "%ld\n", n) < 0 ||
	    fclose(fp) != 0 || rename(tmp, argv[2]) == -1) {
		fprintf(stderr, "forkwait: %s: %s\n", argv[2], strerror(errno));
		return (1);
	}
	wait_term(&open);
	while ((pid = wait(&st)) != -1 || errno == EINTR)
		if (pid != -1 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			bad++;
	if (bad > 0)
		fprintf(stderr, "forkwait: %d children did not exit 0\n", bad);
	return (bad > 0 ? 2 : 0);
}
