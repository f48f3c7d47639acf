/* SPDX-License-Identifier: ISC */
/*
 * Issue 12's measurement, by hand (root, cgroup v1 pids, cpu and freezer
 * hierarchies): a fork bomb held at pids.max 64 in cgroups made beneath
 * our own, then an event loop with a 10 ms timer whose lateness is
 * recorded while a 1 s tracker tick reads the bomb's stat and cmdline
 * (1) nowhere, (2) in the loop thread, as sup_res_track did, and (3)
 * through procscan's worker. First it times single reads of each /proc
 * file of the bomb's processes, to say which ones the loop may keep.
 * Kills the bomb and removes its cgroups on the way out. Not a test.
 *
 * Usage: procscan-bomb [-s seconds per phase] [-v extra mappings]
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "bench/bench.h"
#include "daemon/procfs.h"
#include "daemon/procscan.h"

#define TIMER_MS 10
#define PIDS_MAX 4096

enum mode {
	MODE_NONE,   /* bomb running, nothing reads it */
	MODE_LOOP,   /* stat + cmdline read in the loop thread */
	MODE_WORKER, /* through procscan */
};

static const char *const mode_names[] = {"none", "loop", "worker"};
static const char *const ctls[] = {"pids", "cpu", "freezer"};
#define NCTLS (sizeof(ctls) / sizeof(ctls[0]))

static char cg[NCTLS][512];

struct run {
	enum mode mode;
	struct event_base *base;
	struct procscan *ps;
	int64_t last_ns;
	struct bench_samples late_ms; /* timer lateness */
	struct bench_samples tick_ms; /* the tracker tick, in the loop */
	struct bench_samples cmd_ms;  /* single cmdline reads (loop mode) */
	struct bench_samples scan_ms; /* worker time per submission */
	size_t procs, skipped, results;
};

static int
write_str(const char *path, const char *s)
{
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		rc = -1;
	close(fd);
	return (rc);
}

/* Our own cgroup in controller ctl, from /proc/self/cgroup. */
static int
own_cgroup(const char *ctl, char *buf, size_t len)
{
	char line[512], *p, *q;
	FILE *f;
	int rc = -1;

	if ((f = fopen("/proc/self/cgroup", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strchr(line, ':')) == NULL ||
		    (q = strchr(p + 1, ':')) == NULL)
			continue;
		*q = '\0';
		if (strcmp(p + 1, ctl) != 0)
			continue;
		q[1 + strcspn(q + 1, "\n")] = '\0';
		snprintf(buf, len, "%s", strcmp(q + 1, "/") == 0 ? "" : q + 1);
		rc = 0;
	}
	fclose(f);
	return (rc);
}

/* The bomb's members, from its pids cgroup. */
static int
members(pid_t *pids, int max)
{
	char path[1024];
	FILE *f;
	int n = 0, pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg[0]);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (n < max && fscanf(f, "%d", &pid) == 1)
		pids[n++] = pid;
	fclose(f);
	return (n);
}

static void
cgroups_make(void)
{
	char own[256], path[1024];
	size_t i;

	for (i = 0; i < NCTLS; i++) {
		if (own_cgroup(ctls[i], own, sizeof(own)) == -1) {
			fprintf(stderr, "no v1 %s hierarchy\n", ctls[i]);
			exit(77);
		}
		snprintf(cg[i], sizeof(cg[i]), "/sys/fs/cgroup/%s%s/psbomb-%d",
		    ctls[i], own, (int)getpid());
		if (mkdir(cg[i], 0755) == -1) {
			perror(cg[i]);
			exit(77);
		}
	}
	snprintf(path, sizeof(path), "%s/pids.max", cg[0]);
	if (write_str(path, "64") == -1) {
		perror(path);
		exit(1);
	}
}

/* Freeze, kill, thaw until empty; then remove the cgroups. */
static void
cgroups_remove(void)
{
	char path[1024];
	pid_t pids[PIDS_MAX];
	int n, i, tries;
	size_t c;

	snprintf(path, sizeof(path), "%s/freezer.state", cg[2]);
	for (tries = 0; tries < 100; tries++) {
		write_str(path, "FROZEN");
		if ((n = members(pids, PIDS_MAX)) <= 0)
			break;
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		write_str(path, "THAWED");
		usleep(20000);
	}
	write_str(path, "THAWED");
	/* We are the subreaper: every member ends up our child. */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	for (c = 0; c < NCTLS; c++)
		if (cg[c][0] != '\0' && rmdir(cg[c]) == -1)
			perror(cg[c]);
}

/*
 * The bomb: join the cgroups, make extra mappings (fork copies each, with
 * the mmap lock held), then fork forever; at pids.max the forks fail, each
 * after copying the mappings.
 */
static void
bomb(int vmas, pid_t boss)
{
	time_t deadline = time(NULL) + 300;
	char path[1024];
	long pg = sysconf(_SC_PAGESIZE);
	char *m;
	size_t i;
	int v;

	for (i = 0; i < NCTLS; i++) {
		if (snprintf(path, sizeof(path), "%s/cgroup.procs", cg[i]) >=
			(int)sizeof(path) ||
		    write_str(path, "0") == -1)
			_exit(1);
	}
	if (vmas > 0) {
		m = mmap(NULL, (size_t)vmas * 2 * (size_t)pg,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(1);
		/* Alternate protections so the kernel cannot merge them. */
		for (v = 0; v < vmas; v++) {
			m[(size_t)v * 2 * (size_t)pg] = 1;
			mprotect(m + ((size_t)v * 2 + 1) * (size_t)pg,
			    (size_t)pg, PROT_READ);
		}
	}
	/* Each member dies on its own if we do, or after 5 minutes. */
	for (;;) {
		if (kill(boss, 0) == -1 || time(NULL) > deadline)
			_exit(0);
		(void)fork();
	}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	int64_t now = bench_now_ns();

	(void)fd;
	(void)what;
	if (r->last_ns != 0)
		bench_samples_add(
		    &r->late_ms, (double)(now - r->last_ns) / 1e6 - TIMER_MS);
	r->last_ns = now;
}

static void
on_done(void *arg, const struct procscan_result *res)
{
	struct run *r = arg;
	size_t i;

	r->results++;
	r->procs += res->n;
	for (i = 0; i < res->n; i++)
		if (res->procs[i].flags & PROCSCAN_SKIPPED)
			r->skipped++;
	bench_samples_add(&r->scan_ms, (double)res->scan_us / 1e3);
}

static void
on_track(evutil_socket_t fd, short what, void *arg)
{
	static pid_t pids[PIDS_MAX];
	static char buf[PROCSCAN_CMDLINE_MAX];
	struct run *r = arg;
	struct proc_stat st;
	int64_t t0 = bench_now_ns(), t;
	int n, i;

	(void)fd;
	(void)what;
	if ((n = members(pids, PIDS_MAX)) < 0)
		return;
	switch (r->mode) {
	case MODE_NONE:
		break;
	case MODE_LOOP:
		/* What sup_res_track did: stat and cmdline, in the loop. */
		for (i = 0; i < n; i++) {
			if (procfs_stat(pids[i], &st) == -1)
				continue;
			t = bench_now_ns();
			if (procfs_cmdline(pids[i], buf, sizeof(buf)) >= 0)
				r->procs++;
			bench_samples_add(
			    &r->cmd_ms, (double)(bench_now_ns() - t) / 1e6);
		}
		break;
	case MODE_WORKER:
		if (procscan_submit(r->ps, 0, pids, (size_t)n) == -1)
			perror("procscan_submit");
		break;
	}
	bench_samples_add(&r->tick_ms, (double)(bench_now_ns() - t0) / 1e6);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void
report(const char *what, struct bench_samples *s)
{
	if (s->n == 0)
		return;
	printf("  %-28s n=%-5zu p50=%8.2f p99=%8.2f max=%8.2f ms\n", what, s->n,
	    bench_samples_pct(s, 50), bench_samples_pct(s, 99),
	    bench_samples_pct(s, 100));
}

static void
phase(enum mode mode, int seconds)
{
	struct run r;
	struct serr err;
	struct timeval tv_t = {0, TIMER_MS * 1000}, tv_k = {1, 0},
		       tv_s = {seconds, 0};
	struct event *timer, *track, *stop;
	size_t i, over = 0;

	memset(&r, 0, sizeof(r));
	r.mode = mode;
	r.base = event_base_new();
	if (mode == MODE_WORKER &&
	    (r.ps = procscan_new(r.base, on_done, &r, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.message);
		exit(1);
	}
	timer = event_new(r.base, -1, EV_PERSIST, on_timer, &r);
	track = event_new(r.base, -1, EV_PERSIST, on_track, &r);
	stop = evtimer_new(r.base, on_stop, r.base);
	event_add(timer, &tv_t);
	event_add(track, &tv_k);
	event_add(stop, &tv_s);
	event_base_dispatch(r.base);

	for (i = 0; i < r.late_ms.n; i++)
		if (r.late_ms.v[i] > 20)
			over++;
	printf("%s: tracker reads the bomb %s\n", mode_names[mode],
	    mode == MODE_NONE   ? "not at all"
	    : mode == MODE_LOOP ? "in the loop thread"
				: "through procscan's worker");
	report("10 ms timer lateness", &r.late_ms);
	printf("  %-28s %zu of %zu\n", "ticks > 20 ms late", over, r.late_ms.n);
	report("tracker tick in the loop", &r.tick_ms);
	report("one cmdline read (loop)", &r.cmd_ms);
	report("worker time per submission", &r.scan_ms);
	if (mode != MODE_NONE)
		printf("  processes read %zu, results %zu, cmdlines "
		       "skipped %zu\n",
		    r.procs, r.results, r.skipped);
	procscan_free(r.ps);
	event_free(timer);
	event_free(track);
	event_free(stop);
	event_base_free(r.base);
	bench_samples_free(&r.late_ms);
	bench_samples_free(&r.tick_ms);
	bench_samples_free(&r.cmd_ms);
	bench_samples_free(&r.scan_ms);
}

/* Time single open+read of each /proc file of every member, for secs. */
static void
probe(int seconds)
{
	static const char *const files[] = {
	    "stat", "status", "schedstat", "cmdline"};
	static pid_t pids[PIDS_MAX];
	struct bench_samples s[4];
	char path[64], buf[8192];
	int64_t end = bench_now_ns() + (int64_t)seconds * 1000000000, t;
	int n, i, fd;
	size_t f;

	memset(s, 0, sizeof(s));
	while (bench_now_ns() < end) {
		n = members(pids, PIDS_MAX);
		for (i = 0; i < n; i++)
			for (f = 0; f < 4; f++) {
				snprintf(path, sizeof(path), "/proc/%d/%s",
				    (int)pids[i], files[f]);
				t = bench_now_ns();
				if ((fd = open(path, O_RDONLY)) == -1)
					continue;
				if (read(fd, buf, sizeof(buf)) >= 0)
					bench_samples_add(&s[f],
					    (double)(bench_now_ns() - t) / 1e6);
				close(fd);
			}
	}
	printf("probe: one open+read of /proc/PID/FILE of the bomb's "
	       "processes\n");
	for (f = 0; f < 4; f++) {
		report(files[f], &s[f]);
		bench_samples_free(&s[f]);
	}
}

static pid_t bomb_pid;

static void
on_signal(int sig)
{
	(void)sig;
	cgroups_remove();
	_exit(1);
}

int
main(int argc, char **argv)
{
	pid_t pids[PIDS_MAX];
	int seconds = 10, vmas = 0, ch, n;

	while ((ch = getopt(argc, argv, "s:v:")) != -1) {
		switch (ch) {
		case 's':
			seconds = atoi(optarg);
			break;
		case 'v':
			vmas = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: procscan-bomb [-s seconds] "
					"[-v mappings]\n");
			return (2);
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "needs root\n");
		return (77);
	}
	/* Orphaned members are reparented to us, to be reaped at the end. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	cgroups_make();
	if ((bomb_pid = fork()) == 0)
		bomb(vmas, getppid());
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Let it fill pids.max. */
	do {
		usleep(100000);
	} while ((n = members(pids, PIDS_MAX)) >= 0 && n < 64);
	printf("bomb: %d processes in %s (pids.max 64), %d extra mappings "
	       "each, %d s per phase\n",
	    n, cg[0], vmas, seconds);
	probe(seconds / 2 > 0 ? seconds / 2 : 1);
	phase(MODE_NONE, seconds);
	phase(MODE_LOOP, seconds);
	phase(MODE_WORKER, seconds);
	cgroups_remove();
	return (0);
}
