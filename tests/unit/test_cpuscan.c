/* SPDX-License-Identifier: ISC */
/*
 * The drift scanner: its stat parser on texts the kernel writes (a comm
 * with spaces and parentheses, a negative nice, a kernel thread's flags),
 * and a whole scan through the worker and the loop against processes of
 * the test's own: a forked sleep pinned to one CPU is reported as pinned
 * when that CPU is watched and not at all when it is not, a member's
 * threads are reported as members whatever their affinity, and the test's
 * own process (the daemon's stand-in) never. The scanner only reads;
 * every child is killed and reaped.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <cmocka.h>

#include "daemon/cpuscan.h"

static void
parse__comm_with_spaces_and_parens__fields_after_it(void **state)
{
	/* Fields 1..41 of a real stat, comm "a) (b", nice -5, CPU 1, FIFO 7. */
	const char *text =
	    "4242 (a) (b) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 6 0 0 "
	    "-8 -5 1 0 123456 1000 100 18446744073709551615 1 1 0 0 0 0 0 "
	    "0 0 0 0 0 17 1 7 1 0 0 0\n";
	struct cpuscan_task t;
	int k = -1;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(cpuscan_parse_stat(text, &t, &k), 0);
	assert_int_equal(t.tid, 4242);
	assert_string_equal(t.comm, "a) (b");
	assert_int_equal(t.state, 'S');
	assert_int_equal(t.nice, -5);
	assert_int_equal(t.starttime, 123456);
	assert_int_equal(t.cpu, 1);
	assert_int_equal(t.rt_priority, 7);
	assert_int_equal(t.policy, 1);
	assert_int_equal(k, 0);
}

static void
parse__kernel_thread_flags__kthread(void **state)
{
	/* flags 0x208040 holds PF_KTHREAD (0x200000). */
	const char *text =
	    "14 (ksoftirqd/0) S 2 0 0 0 -1 2129984 0 0 0 0 0 9 0 0 20 0 1 0 "
	    "12 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 "
	    "17 0 0 0 0 0 0\n";
	struct cpuscan_task t;
	int k = 0;

	(void)state;
	assert_int_equal(cpuscan_parse_stat(text, &t, &k), 0);
	assert_int_equal(k, 1);
	assert_string_equal(t.comm, "ksoftirqd/0");
	assert_int_equal(t.cpu, 0);
}

static void
parse__truncated__refused(void **state)
{
	struct cpuscan_task t;
	int k;

	(void)state;
	assert_int_equal(cpuscan_parse_stat("12 (x) S 1 2 3", &t, &k), -1);
	assert_int_equal(cpuscan_parse_stat("12 x S", &t, &k), -1);
}

/* ----------------------------------------------------------- scanning */

struct got {
	struct event_base *base;
	int done;
	int error;
	size_t n;
	struct cpuscan_task t[64]; /* the tasks of the pids asked about */
	pid_t want[4];
	int self_seen;
};

static void
got_done(void *arg, const struct cpuscan_result *r)
{
	struct got *g = arg;
	size_t i, k;

	g->done = 1;
	g->error = r->error;
	for (i = 0; i < r->n; i++) {
		if (r->tasks[i].tgid == getpid())
			g->self_seen = 1;
		for (k = 0; k < 4; k++)
			if (g->want[k] != 0 && r->tasks[i].tgid == g->want[k] &&
			    g->n < 64)
				g->t[g->n++] = r->tasks[i];
	}
	event_base_loopbreak(g->base);
}

static pid_t
sleeper(int cpu)
{
	cpu_set_t set;
	pid_t pid;
	int i;

	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	/* Until it has exec'd, it is a copy of this test under its name. */
	for (i = 0; i < 400; i++) {
		char path[64], comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		if ((f = fopen(path, "re")) != NULL) {
			if (fgets(comm, sizeof(comm), f) == NULL)
				comm[0] = '\0';
			fclose(f);
		}
		if (strcmp(comm, "sleep\n") == 0)
			break;
		usleep(5000);
	}
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		assert_int_equal(sched_setaffinity(pid, sizeof(set), &set), 0);
	}
	return (pid);
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
scan(struct got *g, const cpu_set_t *watch, const pid_t *members, size_t nm)
{
	struct cpuscan *cs;
	struct serr err;
	cpu_set_t online;
	struct timeval tv = {5, 0};
	int i;

	CPU_ZERO(&online);
	for (i = 0; i < (int)sysconf(_SC_NPROCESSORS_ONLN); i++)
		CPU_SET(i, &online);
	g->base = event_base_new();
	assert_non_null(g->base);
	assert_int_equal(event_base_priority_init(g->base, 3), 0);
	cs = cpuscan_new(g->base, got_done, g, &err);
	assert_non_null(cs);
	assert_int_equal(cpuscan_submit(cs, watch, &online, members, nm), 0);
	assert_int_equal(cpuscan_busy(cs), 1);
	/* One at a time. */
	assert_int_equal(cpuscan_submit(cs, watch, &online, members, nm), -1);
	event_base_loopexit(g->base, &tv);
	event_base_dispatch(g->base);
	assert_int_equal(g->done, 1);
	assert_int_equal(cpuscan_busy(cs), 0);
	cpuscan_free(cs);
	event_base_free(g->base);
}

static void
scan__pinned_outsider_and_member__classified(void **state)
{
	struct got g;
	cpu_set_t watch;
	pid_t pinned, member;
	size_t i;
	int last = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;

	(void)state;
	if (last < 1)
		skip();
	pinned = sleeper(last);
	member = sleeper(last);
	memset(&g, 0, sizeof(g));
	g.want[0] = pinned;
	g.want[1] = member;
	CPU_ZERO(&watch);
	CPU_SET(last, &watch);
	scan(&g, &watch, &member, 1);
	assert_int_equal(g.error, 0);
	assert_int_equal(g.n, 2);
	for (i = 0; i < g.n; i++) {
		if (g.t[i].tgid == pinned)
			assert_int_equal(g.t[i].kind, CPUSCAN_PINNED);
		else
			assert_int_equal(g.t[i].kind, CPUSCAN_MEMBER);
		assert_int_equal(CPU_COUNT(&g.t[i].allowed), 1);
		assert_true(CPU_ISSET(last, &g.t[i].allowed));
		assert_string_equal(g.t[i].comm, "sleep");
	}
	assert_int_equal(g.self_seen, 0);

	/* Another CPU watched: the pinned sleep is nobody's business. */
	memset(&g, 0, sizeof(g));
	g.want[0] = pinned;
	CPU_ZERO(&watch);
	CPU_SET(0, &watch);
	scan(&g, &watch, NULL, 0);
	assert_int_equal(g.n, 0);
	reap(pinned);
	reap(member);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		parse__comm_with_spaces_and_parens__fields_after_it),
	    cmocka_unit_test(parse__kernel_thread_flags__kthread),
	    cmocka_unit_test(parse__truncated__refused),
	    cmocka_unit_test(scan__pinned_outsider_and_member__classified),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
