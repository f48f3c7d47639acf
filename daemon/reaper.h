/* SPDX-License-Identifier: ISC */
/*
 * Reaping. Makes the daemon a child subreaper (unless it is PID 1, which
 * reaps everything anyway) and collects exited children: one given child
 * on request (a job's pidfd said it exited), and on SIGCHLD the child the
 * signal names, with a scan of all children for what no pidfd or signal
 * explains. It only maps a pid to an owner through the callbacks and
 * reports; it decides nothing.
 */
#ifndef SCHEDD_REAPER_H
#define SCHEDD_REAPER_H

#include <sys/types.h>
#include <sys/resource.h>

struct event_base;
struct proc_stat;

struct reaper_ops {
	/* 1 if pid is a process the owner waits for (a job's main pid). */
	int (*known)(void *arg, pid_t pid);
	/*
	 * A child was reaped. ps is its /proc stat read just before reaping
	 * (session, comm, start time) for pids known() did not claim, or NULL
	 * when known or unreadable.
	 */
	void (*reaped)(void *arg, pid_t pid, int status,
	    const struct rusage *ru, const struct proc_stat *ps);
	void *arg;
};

/* Install the SIGCHLD handler. Returns 0 or -1 (errno). */
int reaper_init(struct event_base *base, const struct reaper_ops *ops);
/* Reap everything that has exited, now: a scan of all children, so it
 * costs O(children). */
void reaper_reap(void);
/*
 * Reap the child pid, a known one, if it has exited: O(1). Calls reaped()
 * (ps NULL) and returns 1; 0 if it has not exited yet; -1 with errno if it
 * is not (or no longer) our child.
 */
int reaper_reap_pid(pid_t pid);
/* Restore SIGCHLD's old disposition and free what init made. */
void reaper_free(void);

#endif
