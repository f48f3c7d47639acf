/* SPDX-License-Identifier: ISC */
/*
 * SIGCHLD arrives through libevent (run in the loop, not in signal
 * context). Each round peeks at one exited child with waitid(WNOWAIT) so
 * that an unknown child's /proc entry can be read while it is still a
 * zombie (its session tells which job it came from), then collects it with
 * wait4() for the rusage. Loops until nothing is left: signals coalesce.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/log.h"
#include "daemon/procfs.h"
#include "daemon/reaper.h"

static struct reaper_ops reaper_ops;
static struct event *reaper_ev;

void
reaper_reap(void)
{
	siginfo_t		 si;
	struct rusage		 ru;
	struct proc_stat	 ps;
	const struct proc_stat	*psp;
	pid_t			 pid;
	int			 status;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT |
		    __WALL) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitid");
			return;
		}
		if (si.si_pid == 0)
			return;
		pid = si.si_pid;
		psp = NULL;
		if (!reaper_ops.known(reaper_ops.arg, pid) &&
		    procfs_stat(pid, &ps) == 0)
			psp = &ps;
		memset(&ru, 0, sizeof(ru));
		while (wait4(pid, &status, WNOHANG | __WALL, &ru) == -1) {
			if (errno != EINTR) {
				log_warn("wait4 %d", (int)pid);
				return;
			}
		}
		reaper_ops.reaped(reaper_ops.arg, pid, status, &ru, psp);
	}
}

static void
reaper_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	reaper_reap();
}

int
reaper_init(struct event_base *base, const struct reaper_ops *ops)
{
	reaper_ops = *ops;
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		return (-1);
	if ((reaper_ev = evsignal_new(base, SIGCHLD, reaper_signal, NULL)) ==
	    NULL || evsignal_add(reaper_ev, NULL) == -1) {
		errno = ENOMEM;
		return (-1);
	}
	return (0);
}

void
reaper_free(void)
{
	if (reaper_ev != NULL) {
		event_free(reaper_ev);
		reaper_ev = NULL;
	}
}
