/* SPDX-License-Identifier: ISC */
/*
 * The reference for the spawn benchmark: one thread keeps C children of
 * ARGV in flight with posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK)) and
 * waitpid, until N have been spawned and reaped. This is what a supervisor
 * could do at best, with no API, no bookkeeping and no storage.
 *
 * usage: bare-spawn -n N -c C -- ARGV...
 * prints: "rate <jobs/s>" and "elapsed_s <s>"
 *
 * With -l (latency), ARGV is bench/stamp-static, run N times one at a time
 * with its stdout on a pipe; prints "spawn_to_exec_us" (posix_spawn called
 * -> the child's first instruction) and "exit_to_reap_us" (the child's last
 * stamp -> waitpid returned) samples: the floor under the daemon's
 * create -> running and exit -> event latencies.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

extern char **environ;

static long
stamp_of(const char *buf, char tag)
{
	const char *p;
	char pat[3] = {tag, ' ', '\0'};

	if ((p = strstr(buf, pat)) == NULL)
		return (-1);
	return (strtol(p + 2, NULL, 10));
}

static int
latency(long n, char **argv)
{
	posix_spawn_file_actions_t fa;
	struct bench_samples exec, reap;
	char buf[256];
	int64_t t0, t_reap;
	ssize_t k;
	size_t len;
	long i, s_ns, e_ns;
	int pfd[2], st;
	pid_t pid;

	memset(&exec, 0, sizeof(exec));
	memset(&reap, 0, sizeof(reap));
	for (i = 0; i < n; i++) {
		if (pipe2(pfd, O_CLOEXEC) == -1) {
			perror("pipe2");
			return (1);
		}
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(
		    &fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		t0 = bench_now_ns();
		if ((errno = posix_spawn(
			 &pid, argv[0], &fa, NULL, argv, environ)) != 0) {
			perror("posix_spawn");
			return (1);
		}
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[1]);
		while (waitpid(pid, &st, 0) == -1)
			if (errno != EINTR) {
				perror("waitpid");
				return (1);
			}
		t_reap = bench_now_ns();
		len = 0;
		while (len < sizeof(buf) - 1 &&
		       (k = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)k;
		buf[len] = '\0';
		close(pfd[0]);
		if ((s_ns = stamp_of(buf, 'S')) == -1 ||
		    (e_ns = stamp_of(buf, 'E')) == -1) {
			fprintf(
			    stderr, "bare-spawn: no stamps from %s\n", argv[0]);
			return (1);
		}
		bench_samples_add(&exec, (double)(s_ns - t0) / 1e3);
		bench_samples_add(&reap, (double)(t_reap - e_ns) / 1e3);
	}
	bench_samples_print("spawn_to_exec_us", &exec);
	bench_samples_print("exit_to_reap_us", &reap);
	bench_samples_free(&exec);
	bench_samples_free(&reap);
	return (0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bare-spawn [-l] -n N -c C -- ARGV...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	long n = 2000, c = 1, started = 0, reaped = 0;
	int64_t t0, t1;
	int ch, st, lat = 0;
	pid_t pid;

	while ((ch = getopt(argc, argv, "n:c:l")) != -1) {
		switch (ch) {
		case 'l':
			lat = 1;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'c':
			c = atol(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || n < 1 || c < 1)
		usage();
	if (lat)
		return (latency(n, argv));

	/* Like the daemon: stdin from /dev/null, output to a file. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	t0 = bench_now_ns();
	while (reaped < n) {
		while (started < n && started - reaped < c) {
			if ((errno = posix_spawn(&pid, argv[0], &fa, NULL, argv,
				 environ)) != 0) {
				perror("posix_spawn");
				return (1);
			}
			started++;
		}
		if ((pid = waitpid(-1, &st, 0)) == -1) {
			if (errno == EINTR)
				continue;
			perror("waitpid");
			return (1);
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bare-spawn: child failed: %d\n", st);
			return (1);
		}
		reaped++;
	}
	t1 = bench_now_ns();
	printf("rate %.1f\n", (double)n / ((double)(t1 - t0) / 1e9));
	printf("elapsed_s %.4f\n", (double)(t1 - t0) / 1e9);
	return (0);
}
