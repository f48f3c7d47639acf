/* SPDX-License-Identifier: ISC */
/*
 * The /proc scanner's worker thread and its hand-off to the loop. The
 * queues live under one mutex; the worker waits on a condition variable
 * for work (and for the loop to take results when PROCSCAN_DONE_MAX are
 * waiting), and wakes the loop by writing an eventfd. The worker owns the
 * submission it is scanning; the loop owns everything else. The worker
 * must never call libevent, the logger (log.c's sink and level are
 * unguarded globals) or xmalloc (whose fatal exits from the wrong thread).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/loop.h"
#include "daemon/procfs.h"
#include "daemon/procscan.h"
#include "daemon/thread.h"
#include "daemon/xmalloc.h"

/* One submission: its pids in, its result out. */
struct procscan_job {
	TAILQ_ENTRY(procscan_job) entry;
	pid_t *pids;
	struct procscan_result result;
	struct procscan_proc *procs; /* result.procs, owned */
	char *argv;                  /* every cmdline, owned */
};
TAILQ_HEAD(procscan_jobs, procscan_job);

struct procscan {
	/* Loop thread only. */
	struct event *ev;
	void (*done)(void *, const struct procscan_result *);
	void *arg;
	size_t pending; /* accepted, not delivered */
	int delivering; /* inside done */
	int dead;       /* freed inside done */
	int joined;

	/* Set before the first submission, read by the worker. */
	char root[128];

	/* Under mtx. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct procscan_jobs todo;
	struct procscan_jobs done_q;
	size_t ndone;
	atomic_int stop; /* also read without mtx */

	/* The worker's. */
	pthread_t thread;
	int efd; /* eventfd: results waiting */
	char cmdbuf[PROCSCAN_CMDLINE_MAX];
};

static void *procscan_main(void *);
static void procscan_wake(evutil_socket_t, short, void *);
static void procscan_destroy(struct procscan *);

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/*
 * Wake the loop: from the worker when a result is posted, from the loop
 * when it leaves results for the next turn. The eventfd is non-blocking
 * and its counter cannot reach its maximum, so nothing is lost.
 */
static void
poke(int efd)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(efd, &one, sizeof(one));
	(void)n;
}

static void
job_free(struct procscan_job *job)
{
	if (job == NULL)
		return;
	free(job->pids);
	free(job->procs);
	free(job->argv);
	free(job);
}

struct procscan *
procscan_new(struct event_base *base,
    void (*done)(void *arg, const struct procscan_result *r), void *arg,
    struct serr *err)
{
	struct procscan *ps;
	int rc;

	ps = xcalloc(1, sizeof(*ps));
	ps->done = done;
	ps->arg = arg;
	snprintf(ps->root, sizeof(ps->root), "/proc");
	TAILQ_INIT(&ps->todo);
	TAILQ_INIT(&ps->done_q);
	atomic_init(&ps->stop, 0);
	pthread_mutex_init(&ps->mtx, NULL);
	pthread_cond_init(&ps->cv, NULL);
	if ((ps->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "procscan: eventfd: %s",
		    strerror(errno));
		goto fail;
	}
	ps->ev =
	    event_new(base, ps->efd, EV_READ | EV_PERSIST, procscan_wake, ps);
	if (ps->ev != NULL)
		event_priority_set(ps->ev, SCHEDD_PRIO_WORK);
	if (ps->ev == NULL || event_add(ps->ev, NULL) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "procscan: no event");
		goto fail;
	}
	rc = thread_start(&ps->thread, procscan_main, ps, "procscan");
	if (rc != 0) {
		serr_set(err, SERR_INTERNAL, NULL, "procscan: thread: %s",
		    strerror(rc));
		goto fail;
	}
	return (ps);
fail:
	procscan_destroy(ps);
	return (NULL);
}

static void
procscan_destroy(struct procscan *ps)
{
	struct procscan_job *job;

	while ((job = TAILQ_FIRST(&ps->todo)) != NULL) {
		TAILQ_REMOVE(&ps->todo, job, entry);
		job_free(job);
	}
	while ((job = TAILQ_FIRST(&ps->done_q)) != NULL) {
		TAILQ_REMOVE(&ps->done_q, job, entry);
		job_free(job);
	}
	if (ps->ev != NULL)
		event_free(ps->ev);
	if (ps->efd != -1)
		close(ps->efd);
	pthread_cond_destroy(&ps->cv);
	pthread_mutex_destroy(&ps->mtx);
	free(ps);
}

void
procscan_free(struct procscan *ps)
{
	if (ps == NULL)
		return;
	if (!ps->joined) {
		pthread_mutex_lock(&ps->mtx);
		atomic_store(&ps->stop, 1);
		pthread_cond_signal(&ps->cv);
		pthread_mutex_unlock(&ps->mtx);
		pthread_join(ps->thread, NULL);
		ps->joined = 1;
	}
	/* From here on the eventfd can never call done again. */
	event_del(ps->ev);
	if (ps->delivering) {
		ps->dead = 1;
		return;
	}
	procscan_destroy(ps);
}

int
procscan_submit(struct procscan *ps, int64_t tag, const pid_t *pids, size_t n)
{
	struct procscan_job *job;

	if (n > PROCSCAN_PIDS_MAX) {
		errno = E2BIG;
		return (-1);
	}
	if (ps->pending >= PROCSCAN_QUEUE_MAX || ps->dead) {
		errno = EAGAIN;
		return (-1);
	}
	job = xcalloc(1, sizeof(*job));
	job->pids = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*job->pids));
	if (n > 0)
		memcpy(job->pids, pids, n * sizeof(*pids));
	job->result.tag = tag;
	job->result.npids = n;
	pthread_mutex_lock(&ps->mtx);
	TAILQ_INSERT_TAIL(&ps->todo, job, entry);
	pthread_cond_signal(&ps->cv);
	pthread_mutex_unlock(&ps->mtx);
	ps->pending++;
	return (0);
}

size_t
procscan_pending(const struct procscan *ps)
{
	return (ps->pending);
}

int
procscan_set_root(struct procscan *ps, const char *root)
{
	int n;

	n = snprintf(ps->root, sizeof(ps->root), "%s", root);
	if (n < 0 || (size_t)n >= sizeof(ps->root)) {
		snprintf(ps->root, sizeof(ps->root), "/proc");
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/*
 * The loop side: take one result per wake-up, so that a burst of results
 * shares the loop with everything else; if more are waiting, poke the
 * eventfd again and come back on the next turn.
 */
static void
procscan_wake(evutil_socket_t fd, short what, void *arg)
{
	struct procscan *ps = arg;
	struct procscan_job *job;
	uint64_t v;
	int more;

	(void)what;
	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&ps->mtx);
	if ((job = TAILQ_FIRST(&ps->done_q)) != NULL) {
		TAILQ_REMOVE(&ps->done_q, job, entry);
		ps->ndone--;
		pthread_cond_signal(&ps->cv);
	}
	more = !TAILQ_EMPTY(&ps->done_q);
	pthread_mutex_unlock(&ps->mtx);
	if (job == NULL)
		return;
	ps->pending--;
	ps->delivering = 1;
	ps->done(ps->arg, &job->result);
	ps->delivering = 0;
	job_free(job);
	if (ps->dead) {
		procscan_destroy(ps);
		return;
	}
	if (more)
		poke(ps->efd);
}

/*
 * What follows runs in the worker thread.
 */

/* Read the whole of an fd into buf, at most len bytes. -1 with errno. */
static ssize_t
read_all(int fd, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-1);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return ((ssize_t)off);
}

/* 1 if errno says the process is gone (or its pid is another's now). */
static int
gone(int e)
{
	return (e == ENOENT || e == ESRCH);
}

/* Append len bytes and a NUL to the job's argv arena. 0 or -1 (full). */
static int
argv_append(struct procscan_job *job, size_t *used, size_t *cap,
    const char *buf, size_t len)
{
	size_t want = *used + len + 1, ncap;
	char *p;

	if (want > PROCSCAN_ARGV_BYTES_MAX)
		return (-1);
	if (want > *cap) {
		for (ncap = *cap > 0 ? *cap : 4096; ncap < want; ncap *= 2)
			;
		if (ncap > PROCSCAN_ARGV_BYTES_MAX)
			ncap = PROCSCAN_ARGV_BYTES_MAX;
		if ((p = realloc(job->argv, ncap)) == NULL)
			return (-1);
		job->argv = p;
		*cap = ncap;
	}
	memcpy(job->argv + *used, buf, len);
	job->argv[*used + len] = '\0';
	*used = want;
	return (0);
}

/*
 * One process. Its /proc directory is opened first and both files are
 * read through it: the directory is tied to the process, not to the pid
 * number, so a pid reused meanwhile reads as gone rather than as another
 * process. Returns 1 if found, 0 if gone.
 */
static int
scan_one(struct procscan *ps, struct procscan_job *job, pid_t pid,
    int skip_cmdline, size_t *used, size_t *cap, struct procscan_proc *p)
{
	char path[192], buf[1024];
	ssize_t n;
	int dfd, fd, found = 0;

	memset(p, 0, sizeof(*p));
	n = snprintf(path, sizeof(path), "%s/%d", ps->root, (int)pid);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (0);
	if ((fd = openat(dfd, "stat", O_RDONLY | O_CLOEXEC)) == -1)
		goto out;
	n = read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || procfs_stat_parse(buf, (size_t)n, &p->stat) == -1)
		goto out;
	found = 1;
	if (skip_cmdline) {
		p->flags |= PROCSCAN_SKIPPED;
		goto out;
	}
	/* The slow one: it waits for the process's mmap lock. */
	if ((fd = openat(dfd, "cmdline", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (n = read_all(fd, ps->cmdbuf, sizeof(ps->cmdbuf))) == -1) {
		if (gone(errno))
			found = 0;
		else
			p->flags |= PROCSCAN_UNREADABLE;
		if (fd != -1)
			close(fd);
		goto out;
	}
	close(fd);
	if ((size_t)n == sizeof(ps->cmdbuf))
		p->flags |= PROCSCAN_TRUNCATED;
	if (argv_append(job, used, cap, ps->cmdbuf, (size_t)n) == -1)
		p->flags |= PROCSCAN_SKIPPED;
	else
		p->cmdline_len = (size_t)n;
out:
	close(dfd);
	return (found);
}

/*
 * Scan one submission. Once PROCSCAN_BUDGET_MS are spent, the rest get
 * their stat only, so that one slow job delays the next submissions by a
 * bounded time (the budget plus one read), not by one read per process.
 */
static void
scan(struct procscan *ps, struct procscan_job *job)
{
	struct procscan_result *r = &job->result;
	struct procscan_proc *p;
	int64_t t0 = mono_us();
	size_t i, used = 0, cap = 0, off = 0;
	int skip = 0;

	if (r->npids > 0 &&
	    (job->procs = calloc(r->npids, sizeof(*job->procs))) == NULL) {
		r->error = ENOMEM;
		goto out;
	}
	for (i = 0; i < r->npids; i++) {
		if (atomic_load_explicit(&ps->stop, memory_order_relaxed))
			goto out;
		if (!skip && mono_us() - t0 >= PROCSCAN_BUDGET_MS * 1000)
			skip = 1;
		if (scan_one(ps, job, job->pids[i], skip, &used, &cap,
			&job->procs[r->n]))
			r->n++;
	}
	/* The arena is final: point each entry at its part of it. */
	for (i = 0; i < r->n; i++) {
		p = &job->procs[i];
		if (p->flags & (PROCSCAN_SKIPPED | PROCSCAN_UNREADABLE)) {
			p->cmdline = "";
			continue;
		}
		p->cmdline = job->argv + off;
		off += p->cmdline_len + 1;
	}
out:
	r->procs = job->procs;
	r->scan_us = mono_us() - t0;
	free(job->pids);
	job->pids = NULL;
}

static void *
procscan_main(void *arg)
{
	struct procscan *ps = arg;
	struct procscan_job *job;

	pthread_mutex_lock(&ps->mtx);
	for (;;) {
		while (
		    !atomic_load(&ps->stop) &&
		    (TAILQ_EMPTY(&ps->todo) || ps->ndone >= PROCSCAN_DONE_MAX))
			pthread_cond_wait(&ps->cv, &ps->mtx);
		if (atomic_load(&ps->stop))
			break;
		job = TAILQ_FIRST(&ps->todo);
		TAILQ_REMOVE(&ps->todo, job, entry);
		pthread_mutex_unlock(&ps->mtx);

		scan(ps, job);

		pthread_mutex_lock(&ps->mtx);
		if (atomic_load(&ps->stop)) {
			job_free(job);
			break;
		}
		TAILQ_INSERT_TAIL(&ps->done_q, job, entry);
		ps->ndone++;
		poke(ps->efd);
	}
	pthread_mutex_unlock(&ps->mtx);
	return (NULL);
}
