/* SPDX-License-Identifier: ISC */
/*
 * Process creation. The parent blocks every signal, clones with
 * CLONE_VM|CLONE_VFORK (no page tables copied: the cost stays flat however
 * large the daemon grows) and is suspended until the child has exec'd or
 * died. The child shares our memory, so it must only make async-signal-safe
 * calls and never allocate, lock or log; it writes {step, errno} to a
 * close-on-exec pipe when a step fails. Under AddressSanitizer, whose
 * runtime dislikes CLONE_VM, it falls back to fork(). Jobs get the open
 * file limit the daemon was started with, not the one it raised for
 * itself.
 *
 * Nor does the cost grow with the daemon's fds (a pidfd per running job):
 * the child shares the fd table (CLONE_FILES) and first takes a private
 * copy of only the fds below spawn_low (close_range's CLOSE_RANGE_UNSHARE),
 * where the fds it needs were dup'd into slots reserved at start-up.
 * Otherwise clone copied all of them and execve closed them again: with
 * 10,000 jobs running that was a third of the daemon's CPU per spawn
 * (bench/RESULTS.md, 8d).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LINUX_CLOSE_RANGE_H
#include <linux/close_range.h>
#endif
#include <sys/syscall.h>

#include "daemon/log.h"
#include "daemon/spawn.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_USE_FORK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_USE_FORK 1
#endif
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* Low fds the child's copies come from: /dev/null in each while unused. */
#define SPAWN_SLOTS 16
static int spawn_null = -1; /* /dev/null, read-only: stdin, and the filler */
static int spawn_slot[SPAWN_SLOTS];
static int spawn_low; /* fds below are all the child copies; 0: none */

enum spawn_step {
	STEP_SIGNALS = 1,	/* reset dispositions */
	STEP_SETSID,
	STEP_CGROUP,		/* join the job's cgroups */
	STEP_AFFINITY,		/* sched_setaffinity */
	STEP_SCHED,		/* sched_setattr */
	STEP_STDIN,
	STEP_STDOUT,
	STEP_STDERR,
	STEP_FDS,		/* mark inherited fds close-on-exec */
	STEP_NOFILE,		/* the soft open file limit back down */
	STEP_CHDIR,
	STEP_SETGROUPS,
	STEP_SETGID,
	STEP_SETUID,
	STEP_SIGMASK,
	STEP_EXECVE,
};

struct spawn_report {
	int	step;
	int	err;
};

struct spawn_child {
	const struct spawn_req	*req;
	int unshare_below; /* CLONE_FILES: copy fds below */
	int			 pipe_w;
	int			 devnull;
	sigset_t		 mask;	/* the parent's, restored after */
	sigset_t		 child_mask; /* the child's before execve */
	int			 nofile_set; /* lower the soft limit to: */
	struct rlimit		 nofile;
};

/*
 * RLIMIT_NOFILE as the daemon found it, before anything ran: the API
 * raises the daemon's soft limit to the hard one (a descriptor per
 * client), but a job keeps what the service manager gave, as it keeps
 * every other limit (systemd/schedd.service.in), so that select()-based
 * programs and loops over every possible fd behave as they would anywhere.
 */
static struct rlimit	spawn_nofile;
static int		spawn_nofile_known;

__attribute__((constructor)) static void
spawn_nofile_save(void)
{
	spawn_nofile_known = getrlimit(RLIMIT_NOFILE, &spawn_nofile) == 0;
}

/*
 * The signals a child must set back to SIG_DFL: every one whose
 * disposition was not the default when the first spawn looked (a handler,
 * or SIG_IGN inherited from whoever started the daemon, which would
 * survive execve), and always the ones schedd catches or ignores. Asking
 * the kernel about all 64 in each child cost two thirds of its system
 * calls, while the parent waits (CLONE_VFORK).
 */
static sigset_t	spawn_sigreset;
static int	spawn_sigreset_known;

void
spawn_signals_scan(void)
{
	static const int always[] = {SIGCHLD, SIGPIPE, SIGTERM, SIGINT, SIGHUP};
	struct sigaction sa;
	size_t i;
	int sig;

	sigemptyset(&spawn_sigreset);
	for (i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		sigaddset(&spawn_sigreset, always[i]);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* EINVAL: one of the signals glibc reserves. */
		if (sigaction(sig, NULL, &sa) == -1)
			continue;
		if ((sa.sa_flags & SA_SIGINFO) != 0 || sa.sa_handler != SIG_DFL)
			sigaddset(&spawn_sigreset, sig);
	}
	spawn_sigreset_known = 1;
}

/* A child stack for clone: the parent is suspended while it runs, and
 * only the loop's thread spawns, so one suffices. */
#ifndef SPAWN_USE_FORK
static char spawn_stack[64 * 1024] __attribute__((aligned(16)));
#endif

static void
child_fail(const struct spawn_child *c, int step)
{
	struct spawn_report r = { step, errno };
	ssize_t n;

	do
		n = write(c->pipe_w, &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	_exit(127);
}

static void
child_fds_cloexec(void)
{
	/* close_range(2) with CLOSE_RANGE_CLOEXEC: inherited fds other than
	 * 0-2 disappear at execve; the report pipe stays usable until then. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	{
		int fd;

		for (fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

static int
child_main(void *arg)
{
	const struct spawn_child	*c = arg;
	const struct spawn_req		*req = c->req;
	struct sigaction		 sa;
	int				 sig, i;

	/* Our own fd table before any fd changes: the few fds we need. */
	if (c->unshare_below > 0 &&
	    syscall(SYS_close_range, (unsigned int)c->unshare_below, ~0U,
		CLOSE_RANGE_UNSHARE) == -1 &&
	    syscall(SYS_unshare, CLONE_FILES) == -1)
		child_fail(c, STEP_FDS);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP ||
		    !sigismember(&spawn_sigreset, sig))
			continue;
		/* EINVAL for the signals glibc reserves is expected. */
		if (sigaction(sig, &sa, NULL) == -1 && errno != EINVAL)
			child_fail(c, STEP_SIGNALS);
	}
	if (setsid() == -1)
		child_fail(c, STEP_SETSID);
	for (i = 0; i < req->ncgroup_fds; i++) {
		if (write(req->cgroup_fds[i], "0\n", 2) != 2)
			child_fail(c, STEP_CGROUP);
	}
	if (req->affinity != NULL && sched_setaffinity(0, req->affinity_size,
	    req->affinity) == -1)
		child_fail(c, STEP_AFFINITY);
	/* sched_setattr(2) has no glibc wrapper; syscall(2) is safe here. */
	if (req->sched != NULL &&
	    syscall(SYS_sched_setattr, 0, req->sched, 0) == -1)
		child_fail(c, STEP_SCHED);
	if (dup2(c->devnull, STDIN_FILENO) == -1)
		child_fail(c, STEP_STDIN);
	if (dup2(req->stdout_fd, STDOUT_FILENO) == -1)
		child_fail(c, STEP_STDOUT);
	if (dup2(req->stderr_fd, STDERR_FILENO) == -1)
		child_fail(c, STEP_STDERR);
	child_fds_cloexec();
	/* A readiness pipe (s6's notification-fd), without close-on-exec. */
	if (req->extra_fd >= 0 && req->extra_fd_num > 2 &&
	    (req->extra_fd == req->extra_fd_num
		    ? fcntl(req->extra_fd, F_SETFD, 0)
		    : dup2(req->extra_fd, req->extra_fd_num)) == -1)
		child_fail(c, STEP_STDOUT);
	if (c->nofile_set && setrlimit(RLIMIT_NOFILE, &c->nofile) == -1)
		child_fail(c, STEP_NOFILE);
	/*
	 * Raw system calls: glibc's set*id() make every thread of the process
	 * change too (the daemon has a worker thread), which a child sharing
	 * the daemon's memory must not attempt (posix_spawn does the same).
	 */
	if (req->creds != NULL && req->creds->set) {
		if (syscall(SYS_setgroups, (size_t)req->creds->ngroups,
			req->creds->more != NULL ? req->creds->more
						 : req->creds->groups) == -1)
			child_fail(c, STEP_SETGROUPS);
		if (syscall(SYS_setresgid, req->creds->gid, req->creds->gid,
		    req->creds->gid) == -1)
			child_fail(c, STEP_SETGID);
		if (syscall(SYS_setresuid, req->creds->uid, req->creds->uid,
		    req->creds->uid) == -1)
			child_fail(c, STEP_SETUID);
	}
	/*
	 * As the job's user: a directory it may not search must not become
	 * its working directory, from which relative paths would reach
	 * below it (systemd's WorkingDirectory= does the same).
	 */
	if (chdir(req->cwd != NULL ? req->cwd : "/") == -1)
		child_fail(c, STEP_CHDIR);
	if (sigprocmask(SIG_SETMASK, &c->child_mask, NULL) == -1)
		child_fail(c, STEP_SIGMASK);
	execve(req->path, req->argv, req->envp);
	child_fail(c, STEP_EXECVE);
	return (127);
}

static void
spawn_describe(const struct spawn_req *req, const struct spawn_report *r,
    struct serr *err)
{
	const char *e = strerror(r->err);

	switch (r->step) {
	case STEP_EXECVE:
		serr_set(err, SERR_UNSATISFIABLE, "argv", "execve %s: %s",
		    req->path, e);
		break;
	case STEP_CHDIR:
		serr_set(err, SERR_UNSATISFIABLE, "cwd", "chdir %s: %s",
		    req->cwd != NULL ? req->cwd : "/", e);
		break;
	case STEP_SETGROUPS:
		serr_set(err, SERR_UNSATISFIABLE, "user", "setgroups: %s", e);
		break;
	case STEP_SETGID:
		serr_set(err, SERR_UNSATISFIABLE, "group", "setgid %u: %s",
		    (unsigned int)req->creds->gid, e);
		break;
	case STEP_SETUID:
		serr_set(err, SERR_UNSATISFIABLE, "user", "setuid %u: %s",
		    (unsigned int)req->creds->uid, e);
		break;
	case STEP_SETSID:
		serr_set(err, SERR_INTERNAL, NULL, "setsid: %s", e);
		break;
	case STEP_CGROUP:
		serr_set(err, SERR_UNSATISFIABLE, "limits",
		    "joining the job's cgroup: %s", e);
		break;
	case STEP_AFFINITY:
		serr_set(err, SERR_UNSATISFIABLE, "cpus", "sched_setaffinity: %s",
		    e);
		break;
	case STEP_SCHED:
		serr_set(err, SERR_UNSATISFIABLE, "sched", "sched_setattr: %s",
		    e);
		break;
	case STEP_STDIN:
	case STEP_STDOUT:
	case STEP_STDERR:
		serr_set(err, SERR_INTERNAL, NULL, "dup2: %s", e);
		break;
	default:
		serr_set(err, SERR_INTERNAL, NULL, "child set-up step %d: %s",
		    r->step, e);
		break;
	}
}

void
spawn_init(void)
{
	const char *p;
	int i, fd;

	if (spawn_low != 0)
		return;
	/* Valgrind (which preloads its vgpreload_*.so) runs a
	 * CLONE_VM|CLONE_VFORK clone as a fork, but aborts on CLONE_FILES. */
	if ((p = getenv("LD_PRELOAD")) != NULL &&
	    strstr(p, "vgpreload") != NULL)
		return;
	if ((spawn_null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return;
	for (i = 0; i < SPAWN_SLOTS; i++) {
		if ((fd = fcntl(spawn_null, F_DUPFD_CLOEXEC, 0)) == -1) {
			while (i-- > 0)
				close(spawn_slot[i]);
			close(spawn_null);
			spawn_null = -1;
			return;
		}
		spawn_slot[i] = fd;
	}
	for (spawn_low = spawn_null + 1, i = 0; i < SPAWN_SLOTS; i++)
		if (spawn_slot[i] >= spawn_low)
			spawn_low = spawn_slot[i] + 1;
}

#ifndef SPAWN_USE_FORK
/*
 * The child's copy of fd: fd itself when it is low, else the next free
 * slot, never the one numbered avoid. -1 when the slots are used up.
 */
static int
spawn_low_fd(int fd, int avoid, int *nslot)
{
	while (*nslot < SPAWN_SLOTS && spawn_slot[*nslot] == avoid)
		(*nslot)++;
	if (fd < spawn_low && fd != avoid)
		return (fd);
	if (*nslot == SPAWN_SLOTS ||
	    dup3(fd, spawn_slot[*nslot], O_CLOEXEC) == -1)
		return (-1);
	return (spawn_slot[(*nslot)++]);
}

/* The slots used get /dev/null back (the child has exec'd). */
static void
spawn_slots_free(int nslot)
{
	while (nslot-- > 0)
		if (dup3(spawn_null, spawn_slot[nslot], O_CLOEXEC) == -1)
			log_warn("spawn: slot %d", spawn_slot[nslot]);
}

/*
 * Make req's fds low, in *low (cg: room for its cgroup fds). Returns the
 * slots used, or -1 (then none): the child copies the whole table.
 */
static int
spawn_lower(const struct spawn_req *req, struct spawn_child *c,
    struct spawn_req *low, int *cg)
{
	int i, nslot = 0,
	       avoid = req->extra_fd_num > 2 ? req->extra_fd_num : -1;

	*low = *req;
	if (spawn_low == 0 || req->ncgroup_fds > SPAWN_SLOTS)
		return (-1);
	/* The report pipe lives until execve: never where the readiness fd
	 * goes. The others are done with by then. */
	if ((c->pipe_w = spawn_low_fd(c->pipe_w, avoid, &nslot)) == -1 ||
	    (low->stdout_fd = spawn_low_fd(req->stdout_fd, -1, &nslot)) == -1 ||
	    (low->stderr_fd = spawn_low_fd(req->stderr_fd, -1, &nslot)) == -1)
		goto fail;
	if (req->extra_fd >= 0 &&
	    (low->extra_fd = spawn_low_fd(req->extra_fd, -1, &nslot)) == -1)
		goto fail;
	for (i = 0; i < req->ncgroup_fds; i++)
		if ((cg[i] = spawn_low_fd(req->cgroup_fds[i], -1, &nslot)) ==
		    -1)
			goto fail;
	low->cgroup_fds = cg;
	c->unshare_below = spawn_low;
	return (nslot);
fail:
	spawn_slots_free(nslot);
	*low = *req;
	return (-1);
}

/* Clone the child; the daemon is suspended until it has exec'd or died. */
static pid_t
spawn_clone(const struct spawn_req *req, struct spawn_child *c)
{
	struct spawn_req low;
	int cg[SPAWN_SLOTS], nslot, pipe_w = c->pipe_w, saved;
	pid_t child;

	if ((nslot = spawn_lower(req, c, &low, cg)) == -1)
		return (clone(child_main, spawn_stack + sizeof(spawn_stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, c));
	c->req = &low;
	child = clone(child_main, spawn_stack + sizeof(spawn_stack),
	    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, c);
	saved = errno;
	spawn_slots_free(nslot);
	c->req = req;
	c->pipe_w = pipe_w;
	c->unshare_below = 0;
	errno = saved;
	return (child);
}
#else
static pid_t
spawn_clone(const struct spawn_req *req, struct spawn_child *c)
{
	pid_t child;

	(void)req;
	if ((child = fork()) == 0)
		child_main(c);
	return (child);
}
#endif

/* CLOCK_BOOTTIME now in clock ticks, as the kernel's nsec_to_clock_t
 * makes them for /proc (where a tick divides a second evenly); 0: none. */
static uint64_t
spawn_ticks_now(void)
{
	static long hz;
	struct timespec ts;

	if (hz == 0 && ((hz = sysconf(_SC_CLK_TCK)) <= 0 ||
			   1000000000L % hz != 0))
		hz = -1;
	if (hz < 0 || clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		return (0);
	return (((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) /
		(uint64_t)(1000000000L / hz));
}

int
spawn_start(const struct spawn_req *req, pid_t *pid, struct serr *err)
{
	return (spawn_start_at(req, pid, NULL, err));
}

int
spawn_start_at(const struct spawn_req *req, pid_t *pid, uint64_t *starttime,
    struct serr *err)
{
	uint64_t		t0, t1;
	struct spawn_child	c;
	struct spawn_report	r;
	sigset_t		all;
	int			pfd[2] = { -1, -1 }, rc = -1, saved, st;
	ssize_t			n;
	pid_t			child;

	memset(&c, 0, sizeof(c));
	c.req = req;
	c.devnull = -1;
	spawn_init();
	if (!spawn_sigreset_known)
		spawn_signals_scan();
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "pipe: %s", strerror(errno));
		return (-1);
	}
	if ((c.devnull = spawn_null) == -1 &&
	    (c.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "/dev/null: %s",
		    strerror(errno));
		goto out;
	}
	/* The report pipe must outlive the readiness fd's dup2. */
	if (req->extra_fd_num > 2 && pfd[1] == req->extra_fd_num) {
		if ((c.pipe_w = fcntl(pfd[1], F_DUPFD_CLOEXEC,
			 req->extra_fd_num + 1)) == -1) {
			serr_set(err, SERR_INTERNAL, NULL, "fcntl: %s",
			    strerror(errno));
			goto out;
		}
		close(pfd[1]);
		pfd[1] = c.pipe_w;
	}
	c.pipe_w = pfd[1];
	/* Only ever lowered: the hard limit stays as it is. */
	if (spawn_nofile_known && getrlimit(RLIMIT_NOFILE, &c.nofile) == 0 &&
	    c.nofile.rlim_cur > spawn_nofile.rlim_cur) {
		c.nofile.rlim_cur = spawn_nofile.rlim_cur;
		c.nofile_set = 1;
	}

	/* No handler may run in the child before it resets dispositions. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &c.mask);
	/* The loop reads SIGCHLD from a signalfd (daemon/reaper.c): the job
	 * gets it unblocked, as every other signal it was given. */
	c.child_mask = c.mask;
	sigdelset(&c.child_mask, SIGCHLD);
	t0 = spawn_ticks_now();
	child = spawn_clone(req, &c);
	saved = errno;
	t1 = spawn_ticks_now();
	sigprocmask(SIG_SETMASK, &c.mask, NULL);
	if (child == -1) {
		serr_set(err, SERR_INTERNAL, NULL, "clone: %s",
		    strerror(saved));
		goto out;
	}
	close(pfd[1]);
	pfd[1] = -1;

	/* EOF: execve succeeded. A report: the child failed and exited. */
	do
		n = read(pfd[0], &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof(r)) {
		spawn_describe(req, &r, err);
		while (waitpid(child, &st, __WALL) == -1 && errno == EINTR)
			;
		goto out;
	}
	*pid = child;
	/* Both in one tick: the tick fork stamped the child with. */
	if (starttime != NULL)
		*starttime = t0 == t1 ? t0 : 0;
	rc = 0;
out:
	saved = errno;
	if (pfd[0] != -1)
		close(pfd[0]);
	if (pfd[1] != -1)
		close(pfd[1]);
	if (c.devnull != -1 && c.devnull != spawn_null)
		close(c.devnull);
	errno = saved;
	return (rc);
}

int
spawn_resolve_path(const char *argv0, const char *search, char *buf,
    size_t len)
{
	const char	*p, *end;
	char		 cand[4096];
	size_t		 dlen;
	int		 n;

	if (strchr(argv0, '/') == NULL && search != NULL) {
		for (p = search; *p != '\0'; p = *end == ':' ? end + 1 : end) {
			if ((end = strchr(p, ':')) == NULL)
				end = p + strlen(p);
			dlen = (size_t)(end - p);
			if (dlen == 0)
				continue;
			n = snprintf(cand, sizeof(cand), "%.*s/%s", (int)dlen,
			    p, argv0);
			if (n < 0 || (size_t)n >= sizeof(cand))
				continue;
			if (access(cand, X_OK) == 0) {
				if (util_strlcpy(buf, cand, len) >= len)
					return (-1);
				return (0);
			}
		}
	}
	if (util_strlcpy(buf, argv0, len) >= len)
		return (-1);
	return (0);
}

static int
parse_id(const char *s, unsigned int *id)
{
	const char	*errstr;
	long long	 v;

	v = util_strtonum(s, 0, 0x7fffffff, &errstr);
	if (errstr != NULL)
		return (-1);
	*id = (unsigned int)v;
	return (0);
}

/*
 * The user's groups: in creds->groups, or all in creds->more when there
 * are more (getgrouplist says how many; they may change between calls).
 */
static int
creds_groups(
    struct spawn_creds *creds, const struct passwd *pw, struct serr *err)
{
	long max = sysconf(_SC_NGROUPS_MAX);
	int n = SPAWN_GROUPS_MAX, want;

	if (getgrouplist(pw->pw_name, pw->pw_gid, creds->groups, &n) != -1) {
		creds->ngroups = n;
		return (0);
	}
	for (;;) {
		if (max > 0 && n > max) {
			serr_set(err, SERR_UNSATISFIABLE, "user",
			    "user %s is in %d groups, more than the kernel "
			    "allows a process (%ld)",
			    pw->pw_name, n, max);
			return (-1);
		}
		creds->more =
		    xreallocarray(creds->more, (size_t)n, sizeof(gid_t));
		want = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, creds->more, &want) !=
		    -1) {
			creds->ngroups = want;
			return (0);
		}
		n = want > n ? want : n * 2;
	}
}

void
spawn_creds_free(struct spawn_creds *creds)
{
	free(creds->more);
	creds->more = NULL;
}

int
spawn_creds_resolve(const char *user, const char *group,
    struct spawn_creds *creds, struct serr *err)
{
	struct passwd	 pw, *pwp = NULL;
	struct group	 gr, *grp = NULL;
	char		 buf[16384];
	unsigned int	 id;
	int		 rc;

	memset(creds, 0, sizeof(*creds));
	if (user == NULL && group == NULL)
		return (0);
	creds->set = 1;
	creds->uid = geteuid();
	creds->gid = getegid();
	if (user != NULL) {
		rc = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
		if (pwp == NULL && parse_id(user, &id) == 0) {
			creds->uid = id;
			rc = getpwuid_r(id, &pw, buf, sizeof(buf), &pwp);
			if (pwp == NULL) {
				/* A bare uid without a passwd entry. */
				creds->gid = id;
				creds->ngroups = 0;
				goto group;
			}
		}
		if (pwp == NULL) {
			serr_set(err, SERR_UNSATISFIABLE, "user",
			    "user %s: %s", user,
			    rc != 0 ? strerror(rc) : "no such user");
			return (-1);
		}
		creds->uid = pwp->pw_uid;
		creds->gid = pwp->pw_gid;
		util_strlcpy(creds->home, pwp->pw_dir, sizeof(creds->home));
		util_strlcpy(creds->name, pwp->pw_name, sizeof(creds->name));
		if (creds_groups(creds, pwp, err) == -1)
			return (-1);
	}
group:
	if (group != NULL) {
		rc = getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
		if (grp != NULL)
			creds->gid = grp->gr_gid;
		else if (parse_id(group, &id) == 0)
			creds->gid = id;
		else {
			serr_set(err, SERR_UNSATISFIABLE, "group",
			    "group %s: %s", group,
			    rc != 0 ? strerror(rc) : "no such group");
			return (-1);
		}
		if (user == NULL)
			creds->ngroups = 0;
	}
	if (creds->ngroups == 0) {
		creds->groups[0] = creds->gid;
		creds->ngroups = 1;
	}
	return (0);
}
