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

#include "daemon/procfs.h"
#include "proto/util.h"

int
procfs_stat_parse(const char *buf, size_t len, struct proc_stat *ps)
{
	char		 tmp[1024];
	const char	*open, *close;
	char		*p, *tok, *save;
	size_t		 clen;
	int		 field;

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
	char	path[64], buf[1024];
	ssize_t	n;
	int	fd, saved;

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
