/* SPDX-License-Identifier: ISC */
/*
 * Readers of /proc/PID. A process is identified by (pid, starttime), never
 * by pid alone: pids are reused.
 */
#ifndef SCHEDD_PROCFS_H
#define SCHEDD_PROCFS_H

#include <sys/types.h>

#include <stdint.h>

struct proc_stat {
	pid_t		 pid;
	char		 state;		/* R, S, D, T, t, Z, ... */
	char		 comm[32];
	pid_t		 ppid;
	pid_t		 pgrp;
	pid_t		 session;
	uint64_t	 utime;		/* clock ticks */
	uint64_t	 stime;
	long		 priority;
	long		 nice;
	uint64_t	 starttime;	/* clock ticks after boot */
	int64_t		 rss_pages;
	unsigned int	 rt_priority;
	unsigned int	 policy;
};

/* Parse the text of a /proc/PID/stat file (len bytes). Returns 0 or -1. */
int procfs_stat_parse(const char *buf, size_t len, struct proc_stat *ps);
/* Read /proc/PID/stat. Returns 0, or -1 with errno set (ESRCH if gone). */
int procfs_stat(pid_t pid, struct proc_stat *ps);
/* 1 if pid is alive (not a zombie) and started at start, else 0. */
int procfs_alive(pid_t pid, uint64_t start);

/* argv of pid, NUL-separated, into buf; returns the length (0 for kernel
 * threads and zombies) or -1. Truncated at len. */
ssize_t procfs_cmdline(pid_t pid, char *buf, size_t len);
/* The children of pid's main thread (/proc/PID/task/PID/children, which
 * reads no memory of the process), up to max; returns the count or -1. */
int procfs_children(pid_t pid, pid_t *out, int max);
/* The Cpus_allowed_list line of /proc/PID/status into buf. 0 or -1. */
int procfs_cpus_allowed(pid_t pid, char *buf, size_t len);
/* Sum over the process's threads of /proc/PID/task/TID/schedstat's second
 * field (time spent waiting on a run queue), in ns; -1 if unreadable. */
int64_t procfs_runq_wait_ns(pid_t pid);

/* A process's scheduling counters, summed over its live threads. */
struct proc_sched_sum {
	int64_t		 runq_wait_ns;	/* schedstat: waiting on a run queue */
	int64_t		 voluntary;	/* nr_voluntary_switches */
	int64_t		 involuntary;	/* nr_involuntary_switches: preempted */
	int64_t		 migrations;	/* se.nr_migrations: CPU changes */
	int		 nthreads;	/* threads read */
};
/*
 * Add the process's counters to *sum (the caller zeroes it once): for each
 * thread, /proc/PID/task/TID/schedstat and /proc/PID/task/TID/sched (the
 * latter needs CONFIG_SCHED_DEBUG; without it the switch counts come from
 * .../status and migrations stay as they are). Neither file takes the
 * process's memory lock. Returns 0, or -1 if the process is gone.
 */
int procfs_sched_sum(pid_t pid, struct proc_sched_sum *sum);
/* One "key : value" line of a /proc/.../sched text; -1 if absent. */
int64_t procfs_sched_field(const char *text, const char *key);
/* Wall-clock ms of a process start time (clock ticks after boot). */
int64_t procfs_start_ms(uint64_t starttime);
/* Ticks per second and page size, for CPU times and RSS. */
long procfs_hz(void);
long procfs_pagesize(void);

/*
 * 1 if pid is in the cgroup ".../ROOT/job-JOB" (or below it) in any
 * hierarchy, by /proc/PID/cgroup (a small file that never waits on the
 * process); 0 if not or if pid is gone.
 */
int procfs_in_job_cgroup(pid_t pid, const char *root, int64_t job);

#endif
