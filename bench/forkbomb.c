/* SPDX-License-Identifier: ISC */
/*
 * The fork bomb of bench/faults.py (issue 12), run as a schedd job with a
 * pids_max. Every bomber makes two children and exits, as `:(){ :|:& };:`
 * does, so schedd (the subreaper) reaps a stream of orphans; a fork that
 * fails (EAGAIN at pids_max) is retried at once instead of ending the
 * bomber, so the tree never dies out the way dash's does. The first process
 * stays as the job's main process. Everything exits by itself after
 * SECONDS (default 60) even if nothing stops the job: a bound, not the
 * way the benchmark ends it.
 *
 * usage: forkbomb [SECONDS]
 */
#include "config.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

int
main(int argc, char **argv)
{
	double end;
	pid_t pid;
	int made;

	end = now_s() + (argc > 1 ? atof(argv[1]) : 60);
	do
		pid = fork();
	while (pid == -1 && now_s() < end);
	if (pid > 0) {
		/* The main process: wait out the bound. */
		while (now_s() < end)
			sleep(1);
		return (0);
	}
	for (made = 0; made < 2 && now_s() < end;) {
		pid = fork();
		if (pid == 0)
			made = 0; /* a new bomber */
		else if (pid > 0)
			made++;
	}
	_exit(0);
}
