/* SPDX-License-Identifier: ISC */
/*
 * The sd_notify(3) protocol for jobs: one datagram socket per job, DIR/ID
 * in a directory only the daemon may write (mode 0711; the socket 0666, so
 * that a job running as any user can reach it, and a restarted daemon
 * binds the same name again), whose path the job gets as NOTIFY_SOCKET.
 * A message is taken only from a process whose cgroup is the job's
 * (SCM_CREDENTIALS, then /proc/PID/cgroup); its lines go to the caller's
 * callback. Knows nothing of jobs' states: it reports upward.
 */
#ifndef SCHEDD_JOBNOTIFY_H
#define SCHEDD_JOBNOTIFY_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto/errors.h"

struct event_base;
struct jobnotify;

#define JOBNOTIFY_NAME_MAX 108  /* sun_path */
#define JOBNOTIFY_MSG_MAX  4096 /* a datagram, as systemd takes */

/*
 * One message from a process of job job_id: its text (NUL-ended, lines of
 * KEY=VALUE) and the sender's pid.
 */
typedef void (*jobnotify_cb)(
    void *arg, int64_t job_id, pid_t pid, const char *msg);

/*
 * The notifier with its sockets in dir (made 0711 at the first socket;
 * refused unless it is ours and only we may write it), taking messages
 * from the cgroups of the daemon whose subtree is named root (config
 * cgroup_root).
 */
struct jobnotify *jobnotify_new(struct event_base *base, const char *dir,
    const char *root, jobnotify_cb cb, void *arg);
void jobnotify_free(struct jobnotify *jn);

/*
 * Bind job_id's socket (again: idempotent) and write NOTIFY_SOCKET's value
 * into name. Returns 0, or -1 with err.
 */
int jobnotify_open(struct jobnotify *jn, int64_t job_id, char *name, size_t len,
    struct serr *err);
/* Close job_id's socket, if open. */
void jobnotify_close(struct jobnotify *jn, int64_t job_id);

#endif
