/* SPDX-License-Identifier: ISC */
/*
 * Starting a process. The parent prepares everything (paths, argv, envp,
 * credentials, fds); the child, made by a CLONE_VM|CLONE_VFORK clone whose
 * cost does not grow with the daemon's memory, makes only async-signal-safe
 * calls and reports the errno of a failing step through a close-on-exec
 * pipe. Knows nothing of jobs or JSON.
 */
#ifndef SCHEDD_SPAWN_H
#define SCHEDD_SPAWN_H

#include <sys/types.h>

#include <stdint.h>

#include "proto/errors.h"

#define SPAWN_GROUPS_MAX 256

struct spawn_creds {
	int		 set;		/* change credentials */
	uid_t		 uid;
	gid_t		 gid;
	gid_t		 groups[SPAWN_GROUPS_MAX];
	int		 ngroups;
	gid_t		*more;		/* all ngroups when past the array
					 * (malloc'd; spawn_creds_free) */
	char		 home[256];	/* the user's home ("" if unknown) */
	char		 name[64];	/* the user's name */
};

struct policy_attr;

struct spawn_req {
	const char	*path;		/* resolved executable */
	char *const	*argv;
	char *const	*envp;
	const char	*cwd;		/* NULL: "/" */
	const struct spawn_creds *creds; /* NULL: keep the daemon's */
	int		 stdout_fd;
	int		 stderr_fd;
	const int	*cgroup_fds;	/* cgroup.procs files to write "0" to */
	int		 ncgroup_fds;
	const void	*affinity;	/* cpu_set_t or NULL */
	size_t		 affinity_size;
	const struct policy_attr *sched; /* NULL: inherit the daemon's */
	int		 extra_fd;	/* also given to the child, when */
	int		 extra_fd_num;	/* this is 3..1023 (0: none) */
};

/*
 * Resolve user and group names (or numeric ids) into creds, the user's
 * supplementary groups all of them. Either may be NULL. Returns 0, or -1
 * with err ("user nosuch: no such user"). What it gives is released with
 * spawn_creds_free (after -1 too).
 */
int spawn_creds_resolve(const char *user, const char *group,
    struct spawn_creds *creds, struct serr *err);
void spawn_creds_free(struct spawn_creds *creds);

/*
 * Find argv0 in the colon-separated search path (when it has no '/') and
 * write the executable's path into buf. If nothing is found, buf gets
 * argv0 itself so that execve reports ENOENT. Returns 0, or -1 if buf is too
 * small.
 */
int spawn_resolve_path(const char *argv0, const char *search, char *buf,
    size_t len);

/*
 * Reserve the low fds the child's copies of its fds go in (a /dev/null
 * and 16 slots), so that a spawn copies those and not every fd the
 * daemon holds. Call early, while fds are few; spawn_start calls it when
 * nobody did (the supervisor does, before it adopts runs). Without it
 * (or when it fails) a spawn copies every fd.
 */
void spawn_init(void);

/*
 * Note which signals' dispositions are not the default now: children set
 * these (and SIGCHLD, SIGPIPE, SIGTERM, SIGINT and SIGHUP, always) back
 * to SIG_DFL. The first spawn calls it; call it again after installing a
 * handler for any other signal.
 */
void spawn_signals_scan(void);

/*
 * Start the process. On success returns 0 and sets *pid; the child is in a
 * new session (its pid is its process group), stdin is /dev/null, and it has
 * exec'd (or, with the fork fallback, will exec). Before anything else the
 * child joins its cgroups, so no instruction of the workload runs outside
 * them; then it sets its affinity and scheduling policy, and only then
 * drops credentials (an RT policy needs privilege). On a failing step returns
 * -1 with err->message "execve /no/such: No such file or directory" and the
 * failed child already reaped.
 */
int spawn_start(const struct spawn_req *req, pid_t *pid, struct serr *err);

/*
 * spawn_start, and the child's start time as field 22 of /proc/PID/stat
 * gives it (clock ticks after boot) in *starttime, without reading /proc:
 * fork stamps the child with CLOCK_BOOTTIME, which is read before and
 * after the clone. 0 when a tick began in between (about one clone in a
 * hundred): then only /proc can tell.
 */
int spawn_start_at(const struct spawn_req *req, pid_t *pid,
    uint64_t *starttime, struct serr *err);

#endif
