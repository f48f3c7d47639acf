/* SPDX-License-Identifier: ISC */
/*
 * The drift scanner's worker and its hand-off to the loop. One request at
 * a time: the loop fills req and signals; the worker walks /proc, fills
 * the result and writes the eventfd; the loop delivers it and may submit
 * again. req and res belong to the worker from submit until the eventfd
 * fires, to the loop otherwise; the flags that say so live under mtx.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/cpuscan.h"
#include "daemon/loop.h"
#include "daemon/thread.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define CS_PF_KTHREAD 0x00200000 /* include/linux/sched.h */

struct cpuscan {
	/* Loop thread only. */
	struct event *ev;
	void (*done)(void *, const struct cpuscan_result *);
	void *arg;
	int joined;

	/* Under mtx. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int requested; /* req is the worker's */
	int busy;      /* submitted, not delivered */
	int stop;

	/* The request and its answer (see the file's comment). */
	cpu_set_t watch, online;
	pid_t *members; /* sorted */
	size_t nmembers;
	struct cpuscan_task *tasks; /* CPUSCAN_TASKS_MAX */
	struct cpuscan_result res;

	pthread_t thread;
	int efd;
};

static void *cpuscan_main(void *);
static void cpuscan_wake(evutil_socket_t, short, void *);

static int64_t
cs_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static void
cs_destroy(struct cpuscan *cs)
{
	if (cs->ev != NULL)
		event_free(cs->ev);
	if (cs->efd != -1)
		close(cs->efd);
	pthread_cond_destroy(&cs->cv);
	pthread_mutex_destroy(&cs->mtx);
	free(cs->members);
	free(cs->tasks);
	free(cs);
}

struct cpuscan *
cpuscan_new(struct event_base *base,
    void (*done)(void *arg, const struct cpuscan_result *r), void *arg,
    struct serr *err)
{
	struct cpuscan *cs;
	int rc;

	cs = xcalloc(1, sizeof(*cs));
	cs->done = done;
	cs->arg = arg;
	cs->efd = -1;
	cs->tasks = xcalloc(CPUSCAN_TASKS_MAX, sizeof(*cs->tasks));
	pthread_mutex_init(&cs->mtx, NULL);
	pthread_cond_init(&cs->cv, NULL);
	if ((cs->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "cpuscan: eventfd: %s",
		    strerror(errno));
		goto fail;
	}
	cs->ev =
	    event_new(base, cs->efd, EV_READ | EV_PERSIST, cpuscan_wake, cs);
	if (cs->ev != NULL)
		event_priority_set(cs->ev, SCHEDD_PRIO_WORK);
	if (cs->ev == NULL || event_add(cs->ev, NULL) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "cpuscan: no event");
		goto fail;
	}
	rc = thread_start(&cs->thread, cpuscan_main, cs, "cpuscan");
	if (rc != 0) {
		serr_set(err, SERR_INTERNAL, NULL, "cpuscan: thread: %s",
		    strerror(rc));
		goto fail;
	}
	return (cs);
fail:
	cs_destroy(cs);
	return (NULL);
}

void
cpuscan_free(struct cpuscan *cs)
{
	if (cs == NULL)
		return;
	pthread_mutex_lock(&cs->mtx);
	__atomic_store_n(&cs->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&cs->cv);
	pthread_mutex_unlock(&cs->mtx);
	pthread_join(cs->thread, NULL);
	event_del(cs->ev);
	cs_destroy(cs);
}

int
cpuscan_busy(const struct cpuscan *cs)
{
	return (cs->busy);
}

int
cpuscan_submit(struct cpuscan *cs, const cpu_set_t *watch,
    const cpu_set_t *online, const pid_t *members, size_t nmembers)
{
	if (nmembers > CPUSCAN_MEMBERS_MAX) {
		errno = E2BIG;
		return (-1);
	}
	if (cs->busy) {
		errno = EBUSY;
		return (-1);
	}
	/* The worker is idle: req is ours to fill. */
	cs->watch = *watch;
	cs->online = *online;
	free(cs->members);
	cs->members = xreallocarray(
	    NULL, nmembers > 0 ? nmembers : 1, sizeof(*cs->members));
	if (nmembers > 0)
		memcpy(cs->members, members, nmembers * sizeof(*members));
	qsort(cs->members, nmembers, sizeof(*cs->members), util_pid_cmp);
	cs->nmembers = nmembers;
	cs->busy = 1;
	pthread_mutex_lock(&cs->mtx);
	cs->requested = 1;
	pthread_cond_signal(&cs->cv);
	pthread_mutex_unlock(&cs->mtx);
	return (0);
}

static void
cpuscan_wake(evutil_socket_t fd, short what, void *arg)
{
	struct cpuscan *cs = arg;
	uint64_t v;
	ssize_t n;
	int ready;

	(void)what;
	n = read(fd, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&cs->mtx);
	ready = cs->busy && !cs->requested;
	pthread_mutex_unlock(&cs->mtx);
	if (!ready)
		return;
	cs->busy = 0;
	cs->done(cs->arg, &cs->res);
}

int
cpuscan_parse_stat(const char *buf, struct cpuscan_task *t, int *kthread)
{
	const char *open, *close, *p;
	unsigned long long f[40];
	long long nice;
	size_t n;
	int i;

	if ((open = strchr(buf, '(')) == NULL ||
	    (close = strrchr(buf, ')')) == NULL || close < open ||
	    close[1] != ' ')
		return (-1);
	t->tid = (pid_t)atoi(buf);
	n = (size_t)(close - open - 1);
	if (n >= sizeof(t->comm))
		n = sizeof(t->comm) - 1;
	memcpy(t->comm, open + 1, n);
	t->comm[n] = '\0';
	p = close + 2;
	t->state = *p;
	/* Fields 4 to 41 (ppid .. policy); f[k - 4] is field k. */
	p++;
	for (i = 0; i < 38; i++) {
		char *end;

		while (*p == ' ')
			p++;
		if (i == 15) { /* field 19, nice, may be negative */
			nice = strtoll(p, &end, 10);
			f[i] = 0;
			t->nice = (int)nice;
		} else
			f[i] = strtoull(p, &end, 10);
		if (end == p)
			return (-1);
		p = end;
	}
	*kthread = (f[9 - 4] & CS_PF_KTHREAD) != 0;
	t->starttime = f[22 - 4];
	t->cpu = (int)f[39 - 4];
	t->rt_priority = (unsigned int)f[40 - 4];
	t->policy = (uint32_t)f[41 - 4];
	return (0);
}

/* Read a small file whole; -1 if it cannot be read. */
static ssize_t
cs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	do
		n = read(fd, buf, len - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n < 0)
		return (-1);
	buf[n] = '\0';
	return (n);
}

/* 1 if a and b share a CPU; *sub 1 if a is within b. */
static int
cs_overlap(const cpu_set_t *a, const cpu_set_t *b, int *sub)
{
	cpu_set_t and;

	CPU_AND(&and, a, b);
	*sub = CPU_EQUAL(&and, a);
	return (CPU_COUNT(&and) > 0);
}

/* One task: reported (into res) or not. */
static void
cs_task(struct cpuscan *cs, pid_t tgid, const char *tid, int member)
{
	struct cpuscan_task t;
	char path[96], buf[1024];
	int kthread, sub, on_watch, n;

	cs->res.ntasks++;
	n = snprintf(
	    path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)tgid, tid);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    cs_read(path, buf, sizeof(buf)) < 0)
		return;
	memset(&t, 0, sizeof(t));
	if (cpuscan_parse_stat(buf, &t, &kthread) == -1)
		return;
	t.tgid = tgid;
	if (sched_getaffinity(t.tid, sizeof(t.allowed), &t.allowed) == -1)
		return;
	on_watch =
	    t.cpu >= 0 && t.cpu < CPU_SETSIZE && CPU_ISSET(t.cpu, &cs->watch);
	if (member)
		t.kind = CPUSCAN_MEMBER;
	else if (!cs_overlap(&t.allowed, &cs->watch, &sub) && !on_watch)
		return;
	else if (kthread) {
		/* Unbound kernel workers go anywhere: not ours to list. */
		if (!sub)
			return;
		t.kind = CPUSCAN_KERNEL;
	} else if (sub)
		t.kind = CPUSCAN_PINNED;
	else if (!CPU_EQUAL(&t.allowed, &cs->online) &&
		 cs_overlap(&t.allowed, &cs->watch, &sub))
		t.kind = CPUSCAN_MOVED;
	else if (on_watch && t.state == 'R')
		t.kind = CPUSCAN_RAN;
	else
		return;
	if (cs->res.n >= CPUSCAN_TASKS_MAX) {
		cs->res.truncated = 1;
		return;
	}
	cs->tasks[cs->res.n++] = t;
}

static void
cs_scan(struct cpuscan *cs)
{
	DIR *proc, *task;
	struct dirent *de, *te;
	char path[64];
	pid_t tgid, self = getpid();
	int member;

	memset(&cs->res, 0, sizeof(cs->res));
	cs->res.tasks = cs->tasks;
	if ((proc = opendir("/proc")) == NULL) {
		cs->res.error = errno;
		return;
	}
	while ((de = readdir(proc)) != NULL) {
		/* A stop does not wait for the rest of the machine. */
		if (__atomic_load_n(&cs->stop, __ATOMIC_RELAXED))
			break;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		tgid = (pid_t)atoi(de->d_name);
		if (tgid == self)
			continue; /* the daemon's own threads */
		member = bsearch(&tgid, cs->members, cs->nmembers,
			     sizeof(*cs->members), util_pid_cmp) != NULL;
		snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
		if ((task = opendir(path)) == NULL)
			continue; /* gone */
		while ((te = readdir(task)) != NULL)
			if (te->d_name[0] != '.')
				cs_task(cs, tgid, te->d_name, member);
		closedir(task);
	}
	closedir(proc);
}

static void *
cpuscan_main(void *arg)
{
	struct cpuscan *cs = arg;
	uint64_t one = 1;
	int64_t t0;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&cs->mtx);
		while (!cs->requested && !cs->stop)
			pthread_cond_wait(&cs->cv, &cs->mtx);
		if (cs->stop) {
			pthread_mutex_unlock(&cs->mtx);
			return (NULL);
		}
		pthread_mutex_unlock(&cs->mtx);
		t0 = cs_mono_us();
		cs_scan(cs);
		cs->res.scan_us = cs_mono_us() - t0;
		pthread_mutex_lock(&cs->mtx);
		cs->requested = 0;
		pthread_mutex_unlock(&cs->mtx);
		n = write(cs->efd, &one, sizeof(one));
		(void)n;
	}
}
