/* SPDX-License-Identifier: ISC */
/*
 * Collecting exited children without walking all of them. waitid(P_ALL)
 * makes the kernel look at every child, and with thousands of jobs that
 * dominated the time from a job's exit to its event. So:
 *
 *  - A job's main process is watched through its pidfd by the supervisor,
 *    which collects exactly that child with reaper_reap_pid() (wait4 on one
 *    pid is O(1) since Linux 5.14).
 *  - SIGCHLD names the child it is about (si_pid). libevent's evsignal
 *    drops siginfo, so SIGCHLD is blocked in the loop's thread (every
 *    other thread blocks all signals) and read from a signalfd, whose
 *    records carry it: a delivered signal cost a signal frame, the
 *    handler's eventfd write, sigreturn and the loop's read and two
 *    sigprocmask calls. Without a signalfd, a handler records si_pid in
 *    a small array and wakes the loop through an eventfd. Each named
 *    child is peeked at (WNOWAIT, by pid) and collected.
 *  - A standard signal does not queue: a SIGCHLD that is pending absorbs
 *    the next ones, so a child may exit unnamed. When a named child was
 *    not a job's main process (an orphan reparented to us, or anything in
 *    init mode), or a SIGCHLD's name was lost, we scan all children at
 *    once, as before; orphans tend to come in groups. Otherwise one scan
 *    follows within REAPER_SWEEP_MS, however many exits came meanwhile:
 *    it bounds how long an orphan whose SIGCHLD was absorbed waits, and
 *    keeps the scan (hundreds of microseconds with thousands of children,
 *    the loop standing still) off each job's way from exit to event.
 *
 * Whoever comes first reaps a main process, the pidfd or SIGCHLD; the
 * other finds nothing (ECHILD, or no zombie) and reports nothing. An
 * unknown child's /proc entry is read while it is still a zombie (its
 * session tells which job it came from), then it is collected with wait4()
 * for the rusage. This file never decides what a reaped pid means.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/loop.h"
#include "daemon/log.h"
#include "daemon/procfs.h"
#include "daemon/reaper.h"

#define REAPER_PIDS     64   /* pids named by SIGCHLD, between two wakeups */
#define REAPER_SWEEP_MS 1000 /* the scan after named exits comes this late */
#define REAPER_BUDGET   32   /* children a scan collects in one loop turn */

static struct reaper_ops reaper_ops;
static struct event *reaper_ev;       /* the eventfd: SIGCHLDs arrived */
static struct event *reaper_sfd_ev;   /* the signalfd: SIGCHLDs pending */
static struct event *reaper_sweep_ev; /* the delayed scan */
static int reaper_efd = -1;
static int reaper_sfd = -1;
static int reaper_installed;
static int reaper_blocked; /* SIGCHLD blocked here by reaper_init */
static struct sigaction reaper_oldsa;

/*
 * Written by the handler; read by the loop with SIGCHLD blocked. unnamed:
 * a SIGCHLD came whose child is not in reaper_pids (full, or not an exit).
 */
static volatile pid_t reaper_pids[REAPER_PIDS];
static volatile sig_atomic_t reaper_npids;
static volatile sig_atomic_t reaper_unnamed;

static void
reaper_handler(int sig, siginfo_t *si, void *uc)
{
	uint64_t one = 1;
	ssize_t n;
	int saved = errno;

	(void)sig;
	(void)uc;
	if ((si->si_code == CLD_EXITED || si->si_code == CLD_KILLED ||
		si->si_code == CLD_DUMPED) &&
	    reaper_npids < REAPER_PIDS)
		reaper_pids[reaper_npids++] = si->si_pid;
	else
		reaper_unnamed = 1;
	/* EAGAIN only if the counter is huge: the loop wakes up anyway. */
	n = write(reaper_efd, &one, sizeof(one));
	(void)n;
	errno = saved;
}

/* Free an event and close its fd (fd may be NULL), both forgotten. */
static void
reaper_drop(struct event **ev, int *fd)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
	if (fd != NULL && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* The set of SIGCHLD alone, which the loop blocks and reads. */
static void
reaper_chld_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
}

/*
 * pid is an exited child (peeked with WNOWAIT): read what an unknown one
 * leaves in /proc, collect it, report it. Returns 1 if known() claimed it,
 * 0 if not, -1 if it could not be collected.
 */
static int
reaper_take(pid_t pid)
{
	struct rusage ru;
	struct proc_stat ps;
	const struct proc_stat *psp = NULL;
	pid_t got;
	int status, known;

	known = reaper_ops.known(reaper_ops.arg, pid);
	if (!known && procfs_stat(pid, &ps) == 0)
		psp = &ps;
	memset(&ru, 0, sizeof(ru));
	while ((got = wait4(pid, &status, WNOHANG | __WALL, &ru)) == -1) {
		if (errno != EINTR) {
			log_warn("wait4 %d", (int)pid);
			return (-1);
		}
	}
	if (got != pid)
		return (-1);
	reaper_ops.reaped(reaper_ops.arg, pid, status, &ru, psp);
	return (known);
}

void
reaper_reap(void)
{
	struct timeval now = {0, 0};
	siginfo_t si;
	int n = 0;

	if (reaper_sweep_ev != NULL)
		evtimer_del(reaper_sweep_ev);
	for (;;) {
		/* Hundreds of orphans at once (a mass stop): the rest next
		 * turn, so that clients are answered in between. */
		if (n++ == REAPER_BUDGET && reaper_sweep_ev != NULL) {
			evtimer_add(reaper_sweep_ev, &now);
			return;
		}
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si,
			WEXITED | WNOHANG | WNOWAIT | __WALL) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitid");
			return;
		}
		if (si.si_pid == 0 || reaper_take(si.si_pid) == -1)
			return;
	}
}

int
reaper_reap_pid(pid_t pid)
{
	struct rusage ru;
	pid_t got;
	int status;

	memset(&ru, 0, sizeof(ru));
	while ((got = wait4(pid, &status, WNOHANG | __WALL, &ru)) == -1)
		if (errno != EINTR)
			return (-1);
	if (got != pid)
		return (0);
	reaper_ops.reaped(reaper_ops.arg, pid, status, &ru, NULL);
	return (1);
}

/* 1 if pid was an unknown child and has been reaped, else 0. */
static int
reaper_named(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)pid, &si,
		   WEXITED | WNOHANG | WNOWAIT | __WALL) == -1)
		if (errno != EINTR)
			return (0); /* ECHILD: collected already */
	if (si.si_pid != pid)
		return (0); /* the pid is a live child again */
	return (reaper_take(pid) == 0);
}

static void
reaper_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	reaper_reap();
}

/* After the named children: scan now, or within REAPER_SWEEP_MS. */
static void
reaper_named_all(const pid_t *pids, int n, int scan)
{
	struct timeval tv = {
	    REAPER_SWEEP_MS / 1000, (REAPER_SWEEP_MS % 1000) * 1000};
	int i;

	for (i = 0; i < n; i++)
		scan |= reaper_named(pids[i]);
	if (scan)
		reaper_reap();
	else if (n > 0 && !evtimer_pending(reaper_sweep_ev, NULL))
		evtimer_add(reaper_sweep_ev, &tv);
}

/* The signalfd: every pending SIGCHLD's record, then reaper_named_all. */
static void
reaper_sfd_read(evutil_socket_t fd, short what, void *arg)
{
	struct signalfd_siginfo si[8];
	pid_t pids[REAPER_PIDS];
	ssize_t got;
	size_t i;
	int n = 0, scan = 0;

	(void)what;
	(void)arg;
	for (;;) {
		got = read(fd, si, sizeof(si));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (i = 0; i < (size_t)got / sizeof(si[0]); i++) {
			if ((si[i].ssi_code == CLD_EXITED ||
				si[i].ssi_code == CLD_KILLED ||
				si[i].ssi_code == CLD_DUMPED) &&
			    n < REAPER_PIDS)
				pids[n++] = (pid_t)si[i].ssi_pid;
			else
				scan = 1;
		}
		if ((size_t)got < sizeof(si))
			break;
	}
	reaper_named_all(pids, n, scan);
}

static void
reaper_wakeup(evutil_socket_t fd, short what, void *arg)
{
	pid_t pids[REAPER_PIDS];
	sigset_t chld, old;
	uint64_t count;
	int i, n, scan;

	(void)what;
	(void)arg;
	while (read(fd, &count, sizeof(count)) == -1 && errno == EINTR)
		;
	reaper_chld_set(&chld);
	sigprocmask(SIG_BLOCK, &chld, &old);
	n = reaper_npids;
	for (i = 0; i < n; i++)
		pids[i] = reaper_pids[i];
	scan = reaper_unnamed;
	reaper_npids = 0;
	reaper_unnamed = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	reaper_named_all(pids, n, scan);
}

/*
 * SIGCHLD blocked in this thread and read from a signalfd. The handler
 * stays: it runs only where SIGCHLD is not blocked (no thread of ours).
 * Without a signalfd, the handler's way. Children get SIGCHLD unblocked
 * again (daemon/spawn.c).
 */
static void
reaper_sfd_open(struct event_base *base)
{
	sigset_t chld, old;

	reaper_chld_set(&chld);
	if (sigprocmask(SIG_BLOCK, &chld, &old) == -1)
		return;
	if ((reaper_sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) ==
		-1 ||
	    (reaper_sfd_ev = event_new(base, reaper_sfd, EV_READ | EV_PERSIST,
		 reaper_sfd_read, NULL)) == NULL) {
		reaper_drop(&reaper_sfd_ev, &reaper_sfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	event_priority_set(reaper_sfd_ev, SCHEDD_PRIO_WORK);
	event_add(reaper_sfd_ev, NULL);
	reaper_blocked = !sigismember(&old, SIGCHLD);
}

int
reaper_init(struct event_base *base, const struct reaper_ops *ops)
{
	struct sigaction sa;

	reaper_ops = *ops;
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		return (-1);
	if ((reaper_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return (-1);
	if ((reaper_ev = event_new(base, reaper_efd, EV_READ | EV_PERSIST,
		 reaper_wakeup, NULL)) == NULL ||
	    event_add(reaper_ev, NULL) == -1 ||
	    (reaper_sweep_ev = evtimer_new(base, reaper_sweep, NULL)) == NULL) {
		reaper_free();
		errno = ENOMEM;
		return (-1);
	}
	event_priority_set(reaper_ev, SCHEDD_PRIO_WORK);
	event_priority_set(reaper_sweep_ev, SCHEDD_PRIO_WORK);
	/* SA_NOCLDSTOP: a stopped or resumed child is no business of ours. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = reaper_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, &reaper_oldsa) == -1) {
		reaper_free();
		return (-1);
	}
	reaper_installed = 1;
	reaper_sfd_open(base);
	return (0);
}

void
reaper_free(void)
{
	int saved = errno;

	reaper_drop(&reaper_sfd_ev, &reaper_sfd);
	if (reaper_blocked) {
		sigset_t chld;

		reaper_chld_set(&chld);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		reaper_blocked = 0;
	}
	if (reaper_installed) {
		sigaction(SIGCHLD, &reaper_oldsa, NULL);
		reaper_installed = 0;
	}
	reaper_drop(&reaper_sweep_ev, NULL);
	reaper_drop(&reaper_ev, &reaper_efd);
	reaper_npids = 0;
	reaper_unnamed = 0;
	errno = saved;
}
