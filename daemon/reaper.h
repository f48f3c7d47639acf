/* SPDX-License-Identifier: ISC */
/*
 * Reaping. Makes the daemon a child subreaper (unless it is PID 1, which
 * reaps everything anyway), turns SIGCHLD into wait4() calls in the event
 * loop and reaps until nothing is left. It only maps a pid to an owner
 * through the callbacks and reports; it decides nothing.
 */
#ifndef SCHEDD_REAPER_H
#define SCHEDD_REAPER_H

#include <sys/types.h>
#include <sys/resource.h>

struct event_base;
struct proc_stat;

struct reaper_ops {
	/* 1 if pid is a process the owner waits for (a job's main pid). */
	int	(*known)(void *arg, pid_t pid);
	/*
	 * A child was reaped. ps is its /proc stat read just before reaping
	 * (session, comm, start time) for pids known() did not claim, or NULL
	 * when known or unreadable.
	 */
	void	(*reaped)(void *arg, pid_t pid, int status,
		    const struct rusage *ru, const struct proc_stat *ps);
	void	*arg;
};

/* Register the SIGCHLD handler. Returns 0 or -1 (errno). */
int reaper_init(struct event_base *base, const struct reaper_ops *ops);
/* Reap everything that has exited, now. */
void reaper_reap(void);
/* Unregister. */
void reaper_free(void);

#endif
