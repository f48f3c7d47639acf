/* SPDX-License-Identifier: ISC */
/*
 * Jobs' NOTIFY_SOCKETs. Each is a SOCK_DGRAM socket DIR/ID, in a directory
 * only the daemon may write (so nobody can take a job's name first), with
 * SO_PASSCRED; at most JN_BATCH datagrams are read per wake-up, so that a
 * chatty job cannot hold the loop. A datagram is believed only when the
 * kernel's credentials name a process in the job's cgroup; descriptors
 * that come with one (sd_notify_barrier's) are closed once it is handled,
 * which is what the barrier waits for. Reads /proc/PID/cgroup, a small
 * file that never waits on the process.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/jobnotify.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/procfs.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define JN_BATCH   16 /* datagrams per wake-up */
#define JN_FDS_MAX 16 /* descriptors taken with one */

struct jn_sock {
	struct jobnotify *jn;
	int64_t job_id;
	int fd;
	struct event *ev;
	TAILQ_ENTRY(jn_sock) entry;
};

struct jobnotify {
	struct event_base *base;
	char root[64];
	char dir[JOBNOTIFY_NAME_MAX];
	jobnotify_cb cb;
	void *arg;
	TAILQ_HEAD(, jn_sock) socks;
};

struct jobnotify *
jobnotify_new(struct event_base *base, const char *dir, const char *root,
    jobnotify_cb cb, void *arg)
{
	struct jobnotify *jn;

	jn = xcalloc(1, sizeof(*jn));
	jn->base = base;
	util_strlcpy(jn->root, root, sizeof(jn->root));
	util_strlcpy(jn->dir, dir, sizeof(jn->dir));
	jn->cb = cb;
	jn->arg = arg;
	TAILQ_INIT(&jn->socks);
	return (jn);
}

/*
 * The directory, made 0711 when missing, and ours alone: nobody else may
 * make or replace a name in it (an abstract name, or a shared directory,
 * could be taken first by anyone). Returns 0, or -1 with err.
 */
static int
jn_dir(const struct jobnotify *jn, struct serr *err)
{
	struct stat sb;

	if ((mkdir(jn->dir, 0711) == -1 && errno != EEXIST) ||
	    lstat(jn->dir, &sb) == -1) {
		serr_set(err, SERR_UNSATISFIABLE, "ready.notify", "%s: %s",
		    jn->dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022) != 0) {
		serr_set(err, SERR_UNSATISFIABLE, "ready.notify",
		    "%s: not a directory of schedd's that only it may write",
		    jn->dir);
		return (-1);
	}
	return (0);
}

static void
jn_sock_free(struct jobnotify *jn, struct jn_sock *s)
{
	TAILQ_REMOVE(&jn->socks, s, entry);
	if (s->ev != NULL)
		event_free(s->ev);
	close(s->fd);
	free(s);
}

void
jobnotify_free(struct jobnotify *jn)
{
	if (jn == NULL)
		return;
	while (!TAILQ_EMPTY(&jn->socks))
		jn_sock_free(jn, TAILQ_FIRST(&jn->socks));
	free(jn);
}

static void
jn_read(evutil_socket_t fd, short what, void *arg)
{
	struct jn_sock *s = arg;
	struct jobnotify *jn = s->jn;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int) * JN_FDS_MAX)];
	} ctl;
	char msg[JOBNOTIFY_MSG_MAX + 1];
	struct ucred *cred;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	pid_t pid;
	int i, k, nfds, fds[JN_FDS_MAX];

	(void)what;
	for (i = 0; i < JN_BATCH; i++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = msg;
		iov.iov_len = sizeof(msg) - 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if ((n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) ==
		    -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("notify socket of job %lld",
				    (long long)s->job_id);
			return;
		}
		pid = 0;
		nfds = 0;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL;
		     c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
				cred = (struct ucred *)(void *)CMSG_DATA(c);
				pid = cred->pid;
			} else if (c->cmsg_type == SCM_RIGHTS) {
				k = (int)((c->cmsg_len - CMSG_LEN(0)) /
					  sizeof(int));
				if (k > JN_FDS_MAX - nfds)
					k = JN_FDS_MAX - nfds;
				memcpy(fds + nfds, CMSG_DATA(c),
				    (size_t)k * sizeof(int));
				nfds += k;
			}
		}
		msg[n] = '\0';
		if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
			log_warnx("job %lld: a notify message over %d bytes "
				  "was dropped",
			    (long long)s->job_id, JOBNOTIFY_MSG_MAX);
		else if (pid <= 0 ||
			 !procfs_in_job_cgroup(pid, jn->root, s->job_id))
			log_warnx("job %lld: notify message from pid %d, not "
				  "of the job: dropped",
			    (long long)s->job_id, (int)pid);
		else if (strlen(msg) == (size_t)n)
			jn->cb(jn->arg, s->job_id, pid, msg);
		/* sd_notify_barrier waits for these to close. */
		for (k = 0; k < nfds; k++)
			close(fds[k]);
	}
}

static void
jn_name(const struct jobnotify *jn, int64_t job_id, char *name, size_t len)
{
	/* dir leaves room for the id (sup_ready_init checks its length). */
	if (snprintf(name, len, "%s/%lld", jn->dir, (long long)job_id) < 0)
		name[0] = '\0';
}

int
jobnotify_open(struct jobnotify *jn, int64_t job_id, char *name, size_t len,
    struct serr *err)
{
	struct sockaddr_un sun;
	struct jn_sock *s;
	socklen_t sl;
	size_t n;
	int fd, one = 1;

	jn_name(jn, job_id, name, len);
	TAILQ_FOREACH (s, &jn->socks, entry)
		if (s->job_id == job_id)
			return (0);
	if (jn_dir(jn, err) == -1)
		return (-1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = strlen(name);
	if (n >= sizeof(sun.sun_path)) {
		serr_set(err, SERR_INTERNAL, "ready",
		    "notify socket name too "
		    "long");
		return (-1);
	}
	memcpy(sun.sun_path, name, n + 1);
	sl = (socklen_t)sizeof(sun);
	/* The last daemon's socket of this job, if any, goes first. */
	(void)unlink(name);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sl) == -1 ||
	    /* A job running as any user may send (its pid is checked). */
	    chmod(name, 0666) == -1) {
		serr_set(err, SERR_INTERNAL, "ready", "notify socket %s: %s",
		    name, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	s = xcalloc(1, sizeof(*s));
	s->jn = jn;
	s->job_id = job_id;
	s->fd = fd;
	if ((s->ev = event_new(
		 jn->base, fd, EV_READ | EV_PERSIST, jn_read, s)) == NULL) {
		close(fd);
		free(s);
		serr_set(err, SERR_INTERNAL, "ready", "event_new");
		return (-1);
	}
	event_priority_set(s->ev, SCHEDD_PRIO_WORK);
	event_add(s->ev, NULL);
	TAILQ_INSERT_TAIL(&jn->socks, s, entry);
	return (0);
}

void
jobnotify_close(struct jobnotify *jn, int64_t job_id)
{
	struct jn_sock *s;

	char name[JOBNOTIFY_NAME_MAX];

	TAILQ_FOREACH (s, &jn->socks, entry)
		if (s->job_id == job_id) {
			jn_sock_free(jn, s);
			jn_name(jn, job_id, name, sizeof(name));
			(void)unlink(name);
			return;
		}
}
