/* SPDX-License-Identifier: ISC */
/*
 * The /proc scanner against real processes: forked sleeps with a known
 * argv read back through the worker and the loop, a vanished pid, a
 * zombie, ordering, the bounds, and freeing with work pending. A fake
 * /proc tree (procscan_set_root) stands in only where the test needs a
 * read that blocks: its cmdline is a FIFO. Every child is killed and
 * reaped in teardown, and dies with the test process (PDEATHSIG) if the
 * test crashes.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <cmocka.h>

#include "daemon/procfs.h"
#include "daemon/procscan.h"

#define CHILDREN_MAX 16
#define RECS_MAX     (PROCSCAN_QUEUE_MAX + 8)
#define PROCS_KEPT   4

/* What the test keeps of one result. */
struct rec {
	int64_t tag;
	int error;
	size_t npids, n;
	int64_t scan_us;
	struct {
		struct proc_stat st;
		int flags;
		size_t len;
		char cmd[PROCSCAN_CMDLINE_MAX + 1];
	} p[PROCS_KEPT];
};

struct ctx {
	struct event_base *base;
	struct event *tick;
	struct procscan *ps;
	struct rec *recs;
	size_t nrecs;
	int free_in_done; /* procscan_free from the first done */
	char root[64];    /* fake /proc tree, "" if none */
};

static pid_t children[CHILDREN_MAX];
static size_t nchildren;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
children_kill(void)
{
	size_t i;

	for (i = 0; i < nchildren; i++) {
		kill(children[i], SIGKILL);
		while (waitpid(children[i], NULL, 0) == -1 && errno == EINTR)
			;
	}
	nchildren = 0;
}

/*
 * Fork "sleep ARG" and return once it has exec'd (a CLOEXEC pipe closes),
 * so that its cmdline is sleep's and not ours.
 */
static pid_t
spawn_sleep(const char *arg)
{
	int p[2];
	char c;
	pid_t pid, parent = getpid();

	assert_true(nchildren < CHILDREN_MAX);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		execlp("sleep", "sleep", arg, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	children[nchildren++] = pid;
	close(p[1]);
	while (read(p[0], &c, 1) == -1 && errno == EINTR)
		;
	close(p[0]);
	return (pid);
}

static void
on_done(void *arg, const struct procscan_result *r)
{
	struct ctx *c = arg;
	struct rec *rec;
	size_t i;

	if (c->nrecs < RECS_MAX) {
		rec = &c->recs[c->nrecs];
		rec->tag = r->tag;
		rec->error = r->error;
		rec->npids = r->npids;
		rec->n = r->n;
		rec->scan_us = r->scan_us;
		for (i = 0; i < r->n && i < PROCS_KEPT; i++) {
			rec->p[i].st = r->procs[i].stat;
			rec->p[i].flags = r->procs[i].flags;
			rec->p[i].len = r->procs[i].cmdline_len;
			/* The promised NUL after the argv, too. */
			memcpy(rec->p[i].cmd, r->procs[i].cmdline,
			    r->procs[i].cmdline_len + 1);
		}
	}
	c->nrecs++;
	if (c->free_in_done) {
		procscan_free(c->ps);
		c->ps = NULL;
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Turn the loop until want results are in; 0, or -1 after 10 s. */
static int
run_until(struct ctx *c, size_t want)
{
	int64_t end = mono_ms() + 10000;

	while (c->nrecs < want) {
		if (mono_ms() > end)
			return (-1);
		event_base_loop(c->base, EVLOOP_ONCE);
	}
	return (0);
}

/* Turn the loop for ms, whatever happens. */
static void
run_for(struct ctx *c, int ms)
{
	int64_t end = mono_ms() + ms;

	while (mono_ms() < end)
		event_base_loop(c->base, EVLOOP_ONCE);
}

static int
setup(void **state)
{
	struct ctx *c;
	struct timeval tv = {0, 20000};
	struct serr err;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->recs = calloc(RECS_MAX, sizeof(*c->recs))) == NULL ||
	    (c->base = event_base_new()) == NULL)
		return (-1);
	/* EVLOOP_ONCE returns at least every 20 ms. */
	c->tick = event_new(c->base, -1, EV_PERSIST, on_tick, NULL);
	event_add(c->tick, &tv);
	if ((c->ps = procscan_new(c->base, on_done, c, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.message);
		return (-1);
	}
	*state = c;
	return (0);
}

static void
root_remove(const char *root)
{
	char cmd[128];

	if (root[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	procscan_free(c->ps);
	children_kill();
	root_remove(c->root);
	event_free(c->tick);
	event_base_free(c->base);
	free(c->recs);
	free(c);
	return (0);
}

/* A fake /proc tree: ROOT/PID/stat, and ROOT/PID/cmdline as a FIFO
 * (fifo) or holding argv. */
static void
fake_proc(struct ctx *c, pid_t pid, int fifo, const char *argv, size_t len)
{
	char path[128], line[256];
	int fd, n;

	if (c->root[0] == '\0') {
		snprintf(c->root, sizeof(c->root), "/tmp/procscan-XXXXXX");
		assert_non_null(mkdtemp(c->root));
		assert_int_equal(procscan_set_root(c->ps, c->root), 0);
	}
	snprintf(path, sizeof(path), "%s/%d", c->root, (int)pid);
	assert_int_equal(mkdir(path, 0700), 0);
	n = snprintf(line, sizeof(line),
	    "%d (fake) S 1 %d %d 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 "
	    "123456 1000000 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 "
	    "0 17 1 0 0 0 0 0\n",
	    (int)pid, (int)pid, (int)pid);
	snprintf(path, sizeof(path), "%s/%d/stat", c->root, (int)pid);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, line, (size_t)n), n);
	close(fd);
	snprintf(path, sizeof(path), "%s/%d/cmdline", c->root, (int)pid);
	if (fifo) {
		assert_int_equal(mkfifo(path, 0600), 0);
		return;
	}
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, argv, len), (ssize_t)len);
	close(fd);
}

/* Wait until the worker holds the FIFO open for reading, then open its
 * write end: the worker is now blocked in read() until it is closed. */
static int
fifo_writer(struct ctx *c, pid_t pid)
{
	char path[128];
	int64_t end = mono_ms() + 10000;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/cmdline", c->root, (int)pid);
	while ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		assert_int_equal(errno, ENXIO);
		assert_true(mono_ms() < end);
		sleep_ms(1);
	}
	return (fd);
}

struct slow_writer {
	int fd;
	int delay_ms;
	const char *data;
	size_t len;
};

static void *
slow_writer_main(void *arg)
{
	struct slow_writer *w = arg;
	ssize_t n = 0;

	sleep_ms(w->delay_ms);
	if (w->len > 0)
		n = write(w->fd, w->data, w->len);
	(void)n;
	close(w->fd);
	return (NULL);
}

static void
procscan_submit__sleeping_children__stat_and_argv_read(void **state)
{
	struct ctx *c = *state;
	char args[3][32];
	pid_t pids[3];
	struct proc_stat st;
	size_t i, alen;

	for (i = 0; i < 3; i++) {
		/* "300.PID0I": a sleep argument no other process has. */
		snprintf(
		    args[i], sizeof(args[i]), "300.%d0%zu", (int)getpid(), i);
		pids[i] = spawn_sleep(args[i]);
	}
	assert_int_equal(procscan_submit(c->ps, 7, pids, 3), 0);
	assert_int_equal(procscan_pending(c->ps), 1);
	assert_int_equal(run_until(c, 1), 0);
	assert_int_equal(procscan_pending(c->ps), 0);
	assert_int_equal(c->recs[0].tag, 7);
	assert_int_equal(c->recs[0].error, 0);
	assert_int_equal(c->recs[0].npids, 3);
	assert_int_equal(c->recs[0].n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(c->recs[0].p[i].st.pid, pids[i]);
		assert_int_equal(c->recs[0].p[i].st.ppid, getpid());
		assert_string_equal(c->recs[0].p[i].st.comm, "sleep");
		assert_true(c->recs[0].p[i].st.state == 'S' ||
			    c->recs[0].p[i].st.state == 'R');
		/* An independent reader agrees on the identity. */
		assert_int_equal(procfs_stat(pids[i], &st), 0);
		assert_int_equal(c->recs[0].p[i].st.starttime, st.starttime);
		alen = strlen(args[i]);
		assert_int_equal(c->recs[0].p[i].len, 6 + alen + 1);
		assert_memory_equal(c->recs[0].p[i].cmd, "sleep\0", 6);
		assert_memory_equal(c->recs[0].p[i].cmd + 6, args[i], alen + 1);
		assert_int_equal(c->recs[0].p[i].cmd[6 + alen + 1], '\0');
		assert_int_equal(c->recs[0].p[i].flags, 0);
	}
}

static void
procscan_submit__vanished_pid__absent(void **state)
{
	struct ctx *c = *state;
	pid_t pids[3], dead;

	pids[0] = spawn_sleep("300");
	dead = spawn_sleep("300");
	pids[2] = spawn_sleep("300");
	kill(dead, SIGKILL);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	pids[1] = dead;
	assert_int_equal(procscan_submit(c->ps, 1, pids, 3), 0);
	assert_int_equal(run_until(c, 1), 0);
	assert_int_equal(c->recs[0].npids, 3);
	assert_int_equal(c->recs[0].n, 2);
	assert_int_equal(c->recs[0].p[0].st.pid, pids[0]);
	assert_int_equal(c->recs[0].p[1].st.pid, pids[2]);
}

static void
procscan_submit__zombie__state_z_and_empty_argv(void **state)
{
	struct ctx *c = *state;
	pid_t pid;
	siginfo_t si;

	pid = spawn_sleep("300");
	kill(pid, SIGKILL);
	/* Wait for the exit without reaping it. */
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(procscan_submit(c->ps, 1, &pid, 1), 0);
	assert_int_equal(run_until(c, 1), 0);
	assert_int_equal(c->recs[0].n, 1);
	assert_int_equal(c->recs[0].p[0].st.state, 'Z');
	assert_int_equal(c->recs[0].p[0].len, 0);
	assert_string_equal(c->recs[0].p[0].cmd, "");
	assert_int_equal(c->recs[0].p[0].flags, 0);
}

static void
procscan_submit__no_pids__empty_result(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(procscan_submit(c->ps, 3, NULL, 0), 0);
	assert_int_equal(run_until(c, 1), 0);
	assert_int_equal(c->recs[0].tag, 3);
	assert_int_equal(c->recs[0].npids, 0);
	assert_int_equal(c->recs[0].n, 0);
}

static void
procscan_submit__many__delivered_in_order(void **state)
{
	struct ctx *c = *state;
	pid_t pids[2] = {getpid(), spawn_sleep("300")};
	int64_t i;

	for (i = 0; i < 200; i++)
		assert_int_equal(procscan_submit(c->ps, 1000 + i, pids, 2), 0);
	assert_int_equal(run_until(c, 200), 0);
	for (i = 0; i < 200; i++) {
		assert_int_equal(c->recs[i].tag, 1000 + i);
		assert_int_equal(c->recs[i].n, 2);
		assert_int_equal(c->recs[i].p[1].st.pid, pids[1]);
	}
	assert_int_equal(procscan_pending(c->ps), 0);
}

static void
procscan_submit__bounds__eagain_and_e2big(void **state)
{
	struct ctx *c = *state;
	pid_t *many, self = getpid();
	size_t i;

	/* The loop does not run, so nothing is delivered meanwhile. */
	for (i = 0; i < PROCSCAN_QUEUE_MAX; i++)
		assert_int_equal(
		    procscan_submit(c->ps, (int64_t)i, &self, 1), 0);
	errno = 0;
	assert_int_equal(procscan_submit(c->ps, -1, &self, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(procscan_pending(c->ps), PROCSCAN_QUEUE_MAX);

	many = calloc(PROCSCAN_PIDS_MAX + 1, sizeof(*many));
	assert_non_null(many);
	errno = 0;
	assert_int_equal(
	    procscan_submit(c->ps, -1, many, PROCSCAN_PIDS_MAX + 1), -1);
	assert_int_equal(errno, E2BIG);
	free(many);

	/* One delivered frees one slot. */
	assert_int_equal(run_until(c, 1), 0);
	assert_int_equal(procscan_submit(c->ps, 999, &self, 1), 0);
	assert_int_equal(run_until(c, PROCSCAN_QUEUE_MAX + 1), 0);
	for (i = 0; i < PROCSCAN_QUEUE_MAX; i++)
		assert_int_equal(c->recs[i].tag, (int64_t)i);
	assert_int_equal(c->recs[PROCSCAN_QUEUE_MAX].tag, 999);
}

static void
procscan_submit__long_argv__truncated_and_terminated(void **state)
{
	struct ctx *c = *state;
	char *argv;
	pid_t pid = 4242;

	argv = malloc(PROCSCAN_CMDLINE_MAX + 100);
	assert_non_null(argv);
	memset(argv, 'a', PROCSCAN_CMDLINE_MAX + 100);
	fake_proc(c, pid, 0, argv, PROCSCAN_CMDLINE_MAX + 100);
	free(argv);
	assert_int_equal(procscan_submit(c->ps, 1, &pid, 1), 0);
	assert_int_equal(run_until(c, 1), 0);
	assert_int_equal(c->recs[0].n, 1);
	assert_int_equal(c->recs[0].p[0].st.pid, pid);
	assert_string_equal(c->recs[0].p[0].st.comm, "fake");
	assert_int_equal(c->recs[0].p[0].st.starttime, 123456);
	assert_int_equal(c->recs[0].p[0].len, PROCSCAN_CMDLINE_MAX);
	assert_int_equal(c->recs[0].p[0].flags, PROCSCAN_TRUNCATED);
	assert_int_equal(c->recs[0].p[0].cmd[PROCSCAN_CMDLINE_MAX - 1], 'a');
	assert_int_equal(c->recs[0].p[0].cmd[PROCSCAN_CMDLINE_MAX], '\0');
}

static void
procscan_submit__slow_cmdline__budget_skips_the_rest(void **state)
{
	struct ctx *c = *state;
	struct slow_writer w = {-1, PROCSCAN_BUDGET_MS * 2, "slow\0arg", 9};
	pthread_t t;
	pid_t pids[2] = {4242, 4243}, after = 4244;

	fake_proc(c, 4242, 1, NULL, 0);
	fake_proc(c, 4243, 0, "quick", 6);
	fake_proc(c, 4244, 0, "next", 5);
	assert_int_equal(procscan_submit(c->ps, 1, pids, 2), 0);
	assert_int_equal(procscan_submit(c->ps, 2, &after, 1), 0);
	w.fd = fifo_writer(c, 4242);
	assert_int_equal(pthread_create(&t, NULL, slow_writer_main, &w), 0);
	assert_int_equal(run_until(c, 2), 0);
	pthread_join(t, NULL);

	assert_true(c->recs[0].scan_us >= PROCSCAN_BUDGET_MS * 1000);
	assert_int_equal(c->recs[0].n, 2);
	assert_int_equal(c->recs[0].p[0].flags, 0);
	assert_int_equal(c->recs[0].p[0].len, 9);
	assert_memory_equal(c->recs[0].p[0].cmd, "slow\0arg", 9);
	assert_int_equal(c->recs[0].p[1].st.pid, 4243);
	assert_int_equal(c->recs[0].p[1].flags, PROCSCAN_SKIPPED);
	assert_int_equal(c->recs[0].p[1].len, 0);
	assert_string_equal(c->recs[0].p[1].cmd, "");
	/* The budget is per submission: the next one starts afresh. */
	assert_int_equal(c->recs[1].tag, 2);
	assert_int_equal(c->recs[1].p[0].flags, 0);
	assert_string_equal(c->recs[1].p[0].cmd, "next");
}

static void
procscan_free__pending_work__no_callback(void **state)
{
	struct ctx *c = *state;
	pid_t pids[2] = {getpid(), spawn_sleep("300")};
	int i;

	for (i = 0; i < 100; i++)
		assert_int_equal(procscan_submit(c->ps, i, pids, 2), 0);
	procscan_free(c->ps);
	c->ps = NULL;
	run_for(c, 100);
	assert_int_equal(c->nrecs, 0);
}

static void
procscan_free__worker_in_slow_read__waits_for_the_read_only(void **state)
{
	struct ctx *c = *state;
	struct slow_writer w = {-1, 300, NULL, 0};
	pthread_t t;
	pid_t slow = 4242, self = getpid();
	int64_t t0, took;
	int i;

	fake_proc(c, slow, 1, NULL, 0);
	assert_int_equal(procscan_submit(c->ps, 1, &slow, 1), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(procscan_submit(c->ps, 2 + i, &self, 1), 0);
	w.fd = fifo_writer(c, slow);
	assert_int_equal(pthread_create(&t, NULL, slow_writer_main, &w), 0);
	t0 = mono_ms();
	procscan_free(c->ps);
	took = mono_ms() - t0;
	c->ps = NULL;
	pthread_join(t, NULL);
	/* It waited for the read to end (the writer closing), no longer. */
	assert_true(took >= 200);
	assert_true(took < 5000);
	run_for(c, 100);
	assert_int_equal(c->nrecs, 0);
}

static void
procscan_free__inside_done__no_more_calls(void **state)
{
	struct ctx *c = *state;
	pid_t self = getpid();
	int i;

	c->free_in_done = 1;
	for (i = 0; i < 5; i++)
		assert_int_equal(procscan_submit(c->ps, i, &self, 1), 0);
	assert_int_equal(run_until(c, 1), 0);
	assert_null(c->ps);
	run_for(c, 200);
	assert_int_equal(c->nrecs, 1);
	assert_int_equal(c->recs[0].tag, 0);
}

static void
procscan_set_root__too_long__enametoolong(void **state)
{
	struct ctx *c = *state;
	char root[512];

	memset(root, 'x', sizeof(root) - 1);
	root[sizeof(root) - 1] = '\0';
	errno = 0;
	assert_int_equal(procscan_set_root(c->ps, root), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(procscan_submit__sleeping_children__stat_and_argv_read),
	    T(procscan_submit__vanished_pid__absent),
	    T(procscan_submit__zombie__state_z_and_empty_argv),
	    T(procscan_submit__no_pids__empty_result),
	    T(procscan_submit__many__delivered_in_order),
	    T(procscan_submit__bounds__eagain_and_e2big),
	    T(procscan_submit__long_argv__truncated_and_terminated),
	    T(procscan_submit__slow_cmdline__budget_skips_the_rest),
	    T(procscan_free__pending_work__no_callback),
	    T(procscan_free__worker_in_slow_read__waits_for_the_read_only),
	    T(procscan_free__inside_done__no_more_calls),
	    T(procscan_set_root__too_long__enametoolong),
	};

	atexit(children_kill);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
