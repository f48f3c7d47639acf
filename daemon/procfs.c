/* SPDX-License-Identifier: ISC */
/*
 * /proc parsing. The comm field may hold spaces and parentheses, so the
 * fields after it are found from the last ')' in the line.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <time.h>

#include "daemon/procfs.h"
#include "proto/util.h"

int
procfs_stat_parse(const char *buf, size_t len, struct proc_stat *ps)
{
	char tmp[1024];
	const char *open, *close;
	char *p, *tok, *save;
	size_t clen;
	int field;

	if (len == 0 || len >= sizeof(tmp))
		return (-1);
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	memset(ps, 0, sizeof(*ps));
	if ((open = strchr(tmp, '(')) == NULL ||
	    (close = strrchr(tmp, ')')) == NULL || close < open)
		return (-1);
	ps->pid = (pid_t)strtol(tmp, NULL, 10);
	clen = (size_t)(close - open - 1);
	if (clen >= sizeof(ps->comm))
		clen = sizeof(ps->comm) - 1;
	memcpy(ps->comm, open + 1, clen);
	ps->comm[clen] = '\0';
	p = (char *)close + 1;
	/* Fields from 3 (state) on, as numbered in proc(5). */
	for (field = 3, tok = strtok_r(p, " \n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \n", &save), field++) {
		switch (field) {
		case 3:
			ps->state = tok[0];
			break;
		case 4:
			ps->ppid = (pid_t)strtol(tok, NULL, 10);
			break;
		case 5:
			ps->pgrp = (pid_t)strtol(tok, NULL, 10);
			break;
		case 6:
			ps->session = (pid_t)strtol(tok, NULL, 10);
			break;
		case 14:
			ps->utime = strtoull(tok, NULL, 10);
			break;
		case 15:
			ps->stime = strtoull(tok, NULL, 10);
			break;
		case 18:
			ps->priority = strtol(tok, NULL, 10);
			break;
		case 19:
			ps->nice = strtol(tok, NULL, 10);
			break;
		case 22:
			ps->starttime = strtoull(tok, NULL, 10);
			break;
		case 24:
			ps->rss_pages = strtoll(tok, NULL, 10);
			break;
		case 40:
			ps->rt_priority = (unsigned int)strtoul(tok, NULL, 10);
			break;
		case 41:
			ps->policy = (unsigned int)strtoul(tok, NULL, 10);
			break;
		default:
			break;
		}
	}
	return (field > 22 ? 0 : -1);
}

int
procfs_stat(pid_t pid, struct proc_stat *ps)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd, saved;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			errno = ESRCH;
		return (-1);
	}
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ESRCH : saved;
		return (-1);
	}
	if (procfs_stat_parse(buf, (size_t)n, ps) == -1) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

int
procfs_alive(pid_t pid, uint64_t start)
{
	struct proc_stat ps;

	if (pid <= 0 || procfs_stat(pid, &ps) == -1)
		return (0);
	return (ps.starttime == start && ps.state != 'Z' && ps.state != 'X');
}

static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (len == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
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

ssize_t
procfs_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	return (read_small(path, buf, len));
}

int
procfs_cpus_allowed(pid_t pid, char *buf, size_t len)
{
	char path[64], status[8192], *p, *e;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, status, sizeof(status)) < 0 ||
	    (p = strstr(status, "\nCpus_allowed_list:")) == NULL)
		return (-1);
	p += strlen("\nCpus_allowed_list:");
	p += strspn(p, " \t");
	n = (e = strchr(p, '\n')) != NULL ? (size_t)(e - p) : strlen(p);
	if (n >= len)
		return (-1);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return (0);
}

int64_t
procfs_runq_wait_ns(pid_t pid)
{
	char path[96], buf[256];
	DIR *d;
	struct dirent *de;
	unsigned long long run, wait;
	int64_t sum = 0;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path),
		    "/proc/%d/task/%.16s/schedstat", (int)pid, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    read_small(path, buf, sizeof(buf)) < 0 ||
		    sscanf(buf, "%llu %llu", &run, &wait) != 2)
			continue;
		sum += (int64_t)wait;
	}
	closedir(d);
	return (sum);
}

int64_t
procfs_sched_field(const char *text, const char *key)
{
	const char *p = text, *v;
	size_t n = strlen(key);
	long long x;

	while ((p = strstr(p, key)) != NULL) {
		/* A whole key at the start of a line, then spaces and ':'. */
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == ' ' || p[n] == ':')) {
			v = p + n + strspn(p + n, " \t");
			if (*v == ':' && sscanf(v + 1, "%lld", &x) == 1)
				return ((int64_t)x);
		}
		p += n;
	}
	return (-1);
}

/* One thread's counters into sum. */
static void
sched_sum_task(pid_t pid, const char *tid, struct proc_sched_sum *sum)
{
	char path[96], buf[4096];
	unsigned long long run, wait;
	int64_t v, w;
	int n;

	n = snprintf(
	    path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, tid);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    read_small(path, buf, sizeof(buf)) < 0)
		return;
	if (sscanf(buf, "%llu %llu", &run, &wait) == 2)
		sum->runq_wait_ns += (int64_t)wait;
	sum->nthreads++;
	snprintf(
	    path, sizeof(path), "/proc/%d/task/%.16s/sched", (int)pid, tid);
	if (read_small(path, buf, sizeof(buf)) >= 0 &&
	    (v = procfs_sched_field(buf, "nr_involuntary_switches")) >= 0) {
		sum->involuntary += v;
		if ((w = procfs_sched_field(buf, "nr_voluntary_switches")) >= 0)
			sum->voluntary += w;
		if ((w = procfs_sched_field(buf, "se.nr_migrations")) >= 0)
			sum->migrations += w;
		return;
	}
	snprintf(
	    path, sizeof(path), "/proc/%d/task/%.16s/status", (int)pid, tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	/* status says "voluntary_ctxt_switches:\tN". */
	if ((v = procfs_sched_field(buf, "nonvoluntary_ctxt_switches")) >= 0)
		sum->involuntary += v;
	if ((v = procfs_sched_field(buf, "voluntary_ctxt_switches")) >= 0)
		sum->voluntary += v;
}

int
procfs_sched_sum(pid_t pid, struct proc_sched_sum *sum)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			sched_sum_task(pid, de->d_name, sum);
	closedir(d);
	return (0);
}

long
procfs_hz(void)
{
	static long hz;

	if (hz == 0 && (hz = sysconf(_SC_CLK_TCK)) <= 0)
		hz = 100;
	return (hz);
}

long
procfs_pagesize(void)
{
	static long ps;

	if (ps == 0 && (ps = sysconf(_SC_PAGESIZE)) <= 0)
		ps = 4096;
	return (ps);
}

int64_t
procfs_start_ms(uint64_t starttime)
{
	static int64_t boot_ms;
	char buf[65536], *p;
	long long btime;

	if (boot_ms == 0) {
		if (read_small("/proc/stat", buf, sizeof(buf)) < 0 ||
		    (p = strstr(buf, "\nbtime ")) == NULL ||
		    sscanf(p + 7, "%lld", &btime) != 1)
			return (0);
		boot_ms = (int64_t)btime * 1000;
	}
	return (boot_ms + (int64_t)(starttime * 1000 / (uint64_t)procfs_hz()));
}

int
procfs_children(pid_t pid, pid_t *out, int max)
{
	char path[64], buf[4096], *p, *end;
	ssize_t len;
	long v;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
	    (int)pid);
	if ((len = read_small(path, buf, sizeof(buf))) < 0)
		return (-1);
	buf[len] = '\0';
	for (p = buf; n < max; p = end) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v <= 0 || v > INT32_MAX)
			break;
		out[n++] = (pid_t)v;
	}
	return (n);
}

int
procfs_in_job_cgroup(pid_t pid, const char *root, int64_t job)
{
	char path[64], buf[8192], want[128], *p;
	ssize_t n;
	size_t wl;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	wl = (size_t)snprintf(
	    want, sizeof(want), "/%s/job-%lld", root, (long long)job);
	for (p = buf; (p = strstr(p, want)) != NULL; p += wl)
		if (p[wl] == '\n' || p[wl] == '/' || p[wl] == '\0')
			return (1);
	return (0);
}
