/* SPDX-License-Identifier: ISC */
/*
 * Readiness and the watchdog. A run of a job with "ready" is stored as
 * starting and stays so until it says it is ready: READY=1 on its
 * NOTIFY_SOCKET (jobnotify.c), or a newline on its readiness fd (s6). Then
 * it is running, which is what "after" waits for. Not ready within
 * ready.timeout_ms, or no WATCHDOG=1 within watchdog_ms once running, and
 * the run has failed: the reason is its error, it gets its stop signal and
 * SIGKILL after stop.timeout_ms, and its end goes to the restart policy as
 * any failure does. Every step goes through the transition table
 * (JEV_READY, JEV_UNHEALTHY); the timers only report.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/clock.h"
#include "daemon/conf.h"
#include "daemon/job.h"
#include "daemon/jobnotify.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

static void sup_notify_msg(void *, int64_t, pid_t, const char *);

int
sup_ready_init(struct supervisor *sup, struct serr *err)
{
	char dir[JOBNOTIFY_NAME_MAX];

	/* Beside the API socket, whose directory is the daemon's. */
	if (snprintf(dir, sizeof(dir), "%s.notify",
		sup->sd->conf->socket_path) >= (int)sizeof(dir) - 24) {
		serr_set(err, SERR_INVALID, "socket",
		    "%s: too long a path for the jobs' notify sockets",
		    sup->sd->conf->socket_path);
		return (-1);
	}
	sup->jn = jobnotify_new(sup->sd->base, dir, sup->sd->conf->cgroup_root,
	    sup_notify_msg, sup);
	return (0);
}

void
sup_ready_free(struct supervisor *sup)
{
	jobnotify_free(sup->jn);
	sup->jn = NULL;
}

static void
ready_pipe_close(struct job *job)
{
	if (job->ready_ev != NULL) {
		event_free(job->ready_ev);
		job->ready_ev = NULL;
	}
	if (job->ready_fd != -1) {
		close(job->ready_fd);
		job->ready_fd = -1;
	}
}

void
sup_ready_release(struct supervisor *sup, struct job *job)
{
	ready_pipe_close(job);
	if (job->health_timer != NULL) {
		event_free(job->health_timer);
		job->health_timer = NULL;
	}
	if (sup->jn != NULL)
		jobnotify_close(sup->jn, job->id);
}

/* The job's notify socket, bound (again) if its spec wants one. */
static int
ready_socket(struct supervisor *sup, struct job *job, char *name, size_t len,
    struct serr *err)
{
	if (!job->spec.ready.notify)
		return (0);
	return (jobnotify_open(sup->jn, job->id, name, len, err));
}

int
sup_ready_prepare(struct supervisor *sup, struct job *job, char **env,
    int *nenv, int *child_fd, struct serr *err)
{
	char name[JOBNOTIFY_NAME_MAX];
	int pfd[2];

	*child_fd = -1;
	ready_pipe_close(job);
	job->ready_ms = 0;
	job->ready_recorded = job->ready_pending = 0;
	job->health_killing = 0;
	job_text_clear(&job->health_why);
	job_text_clear(&job->status_text);
	job->notify_state = NULL;
	job->notify_mainpid = 0;
	if (job->spec.ready.notify) {
		if (ready_socket(sup, job, name, sizeof(name), err) == -1)
			return (-1);
		env[(*nenv)++] = xasprintf("NOTIFY_SOCKET=%s", name);
	}
	if (job->spec.watchdog_ms != 0)
		env[(*nenv)++] = xasprintf("WATCHDOG_USEC=%llu",
		    (unsigned long long)job->spec.watchdog_ms * 1000);
	if (job->spec.ready.fd != 0) {
		if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == -1) {
			serr_set(err, SERR_INTERNAL, "ready.fd", "pipe: %s",
			    strerror(errno));
			return (-1);
		}
		/* The child's end blocks as a plain pipe would. */
		(void)fcntl(pfd[1], F_SETFL, 0);
		job->ready_fd = pfd[0];
		*child_fd = pfd[1];
	}
	return (0);
}

/* The s6 way: a newline on the pipe is ready; its end is not. */
static void
ready_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	char buf[512];
	ssize_t n;

	(void)what;
	if ((n = read(fd, buf, sizeof(buf))) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && memchr(buf, '\n', (size_t)n) == NULL)
		return;
	ready_pipe_close(job);
	if (n <= 0) {
		log_info("%s: its readiness fd %d closed without a line",
		    job->name, job->spec.ready.fd);
		return;
	}
	/* act_ready keeps it for later if the start is not stored yet. */
	sup_fact(job->sup, job, JEV_READY);
}

void
sup_ready_spawned(struct supervisor *sup, struct job *job, int child_fd)
{
	if (child_fd != -1)
		close(child_fd);
	if (job->ready_fd == -1)
		return;
	if (job->run.pid == 0) {
		ready_pipe_close(job);
		return;
	}
	job->ready_ev = event_new(sup->sd->base, job->ready_fd,
	    EV_READ | EV_PERSIST, ready_pipe_cb, job);
	if (job->ready_ev != NULL) {
		event_priority_set(job->ready_ev, SCHEDD_PRIO_WORK);
		event_add(job->ready_ev, NULL);
	}
}

/* Health timer: not ready, watchdog starved, or the kill's grace over. */
static void
health_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;

	(void)fd;
	(void)what;
	if (job->health_killing) {
		log_warnx(
		    "%s: still alive %u ms after its stop signal: SIGKILL",
		    job->name, job->spec.stop.timeout_ms);
		if (sup_signal(job, SIGKILL) == -1 && errno != ESRCH)
			log_warn("%s: SIGKILL", job->name);
		return;
	}
	if (job->state == JOB_STARTING) {
		job_text_setf(&job->health_why, "not ready within %u ms",
		    job->spec.ready.timeout_ms);
		job->fail_type = "not_ready";
	} else {
		job_text_setf(&job->health_why,
		    "watchdog: no WATCHDOG=1 within %u ms",
		    job->spec.watchdog_ms);
		job->fail_type = "watchdog";
	}
	sup_fact(job->sup, job, JEV_UNHEALTHY);
}

static void
health_arm(struct supervisor *sup, struct job *job, int64_t ms)
{
	struct timeval tv;

	if (job->health_timer == NULL) {
		job->health_timer = sup_evtimer_new(sup, health_cb, job);
	}
	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_update_cache_time(sup->sd->base);
	evtimer_add(job->health_timer, &tv);
}

static void
health_cancel(struct job *job)
{
	if (job->health_timer != NULL)
		evtimer_del(job->health_timer);
}

void
sup_ready_recorded(struct supervisor *sup, struct job *job)
{
	job->ready_recorded = 1;
	/* The timeout counts from the start, also across a daemon restart. */
	health_arm(sup, job,
	    job->run.started_ms + job->spec.ready.timeout_ms - now_ms());
	if (job->ready_pending) {
		job->ready_pending = 0;
		sup_fact(sup, job, JEV_READY);
	}
}

void
sup_ready_state(struct supervisor *sup, struct job *job, enum job_state to)
{
	if (job->health_killing && (to == JOB_STARTING || to == JOB_RUNNING))
		return;
	if (to == JOB_RUNNING && job->spec.watchdog_ms != 0) {
		health_arm(sup, job, job->spec.watchdog_ms);
		return;
	}
	if (to == JOB_STARTING)
		return;
	health_cancel(job);
	job->health_killing = 0;
	if (!job_state_active(to) || to == JOB_STOPPING)
		ready_pipe_close(job);
}

void
sup_ready_adopted(struct supervisor *sup, struct job *job)
{
	char name[JOBNOTIFY_NAME_MAX];
	struct serr err;

	serr_clear(&err);
	if (job_state_active(job->state) &&
	    ready_socket(sup, job, name, sizeof(name), &err) == -1)
		log_warnx("%s: %s", job->name, err.message);
	if (job->state == JOB_STARTING) {
		/* An s6 pipe did not survive the old daemon: take it as
		 * ready, which is what it most likely said meanwhile. */
		if (job->spec.ready.fd != 0) {
			log_info("%s: adopted while starting; its readiness fd "
				 "went with the old daemon: taken as ready",
			    job->name);
			job->ready_pending = 1;
		}
		sup_ready_recorded(sup, job);
	} else if (job->state == JOB_RUNNING && job->spec.watchdog_ms != 0)
		health_arm(sup, job, job->spec.watchdog_ms);
}

/* ACT_READY: the run is ready: running, which dependents wait for. */
int
act_ready(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	int64_t after;

	(void)arg;
	if (!job->ready_recorded) {
		job->ready_pending = 1;
		return (0);
	}
	job->ready_ms = now_ms();
	after = job->ready_ms - job->run.started_ms;
	log_info("%s: ready after %lld ms", job->name, (long long)after);
	return (sup_change(sup, job, JOB_RUNNING, NULL, RUN_NONE, "running",
	    json_pack("{s:i, s:b, s:I}", "pid", (int)job->run.pid, "ready", 1,
		"ready_after_ms", (json_int_t)after),
	    err));
}

/*
 * ACT_FAIL: the run failed its readiness or its watchdog. The reason is
 * stored (the run's error, an event); then the run is stopped as a
 * failure, so that its end meets the restart policy.
 */
int
act_fail(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	const char *type;

	(void)arg;
	if (job->health_killing)
		return (0);
	type = job->fail_type != NULL ? job->fail_type : "unhealthy";
	job_text_set(&job->run.error,
	    job->health_why != NULL ? job->health_why : "unhealthy");
	if (sup_change(sup, job, job->state, NULL, RUN_NONE, type,
		json_pack("{s:s, s:i}", "reason", job_text(job->run.error),
		    "pid", (int)job->run.pid),
		err) == -1) {
		job_text_clear(&job->run.error);
		return (-1);
	}
	log_warnx("%s: %s: sending %s", job->name, job_text(job->run.error),
	    util_signal_name(job->spec.stop.signal));
	job->health_killing = 1;
	if (sup_signal(job, job->spec.stop.signal) == -1 && errno != ESRCH)
		log_warn("%s: signal", job->name);
	health_arm(sup, job, job->spec.stop.timeout_ms);
	return (0);
}

/* Printable text of at most len-1 bytes from s (STATUS= is the job's). */
static void
copy_printable(char *dst, size_t len, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < len; i++)
		if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
			dst[o++] = s[i];
	dst[o] = '\0';
}

static void
sup_notify_msg(void *arg, int64_t job_id, pid_t pid, const char *msg)
{
	struct supervisor *sup = arg;
	struct job *job;
	const char *line, *nl, *errstr;
	char status[JOB_TEXT_MAX];
	size_t n;
	long long v;
	int ready = 0, trigger = 0;

	if ((job = htab_get_int(&sup->by_id, job_id)) == NULL)
		return;
	for (line = msg; *line != '\0'; line = nl != NULL ? nl + 1 : "") {
		nl = strchr(line, '\n');
		n = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (n == 7 && strncmp(line, "READY=1", 7) == 0) {
			ready = 1;
			job->notify_state = NULL;
		} else if (n > 7 && strncmp(line, "STATUS=", 7) == 0) {
			copy_printable(status, sizeof(status), line + 7, n - 7);
			job_text_set(&job->status_text, status);
		} else if (n == 10 && strncmp(line, "WATCHDOG=1", 10) == 0) {
			if (job->state == JOB_RUNNING &&
			    job->spec.watchdog_ms != 0 && !job->health_killing)
				health_arm(sup, job, job->spec.watchdog_ms);
		} else if (n == 16 &&
			   strncmp(line, "WATCHDOG=trigger", 16) == 0)
			trigger = 1;
		else if (n == 11 && strncmp(line, "RELOADING=1", 11) == 0)
			job->notify_state = "reloading";
		else if (n == 10 && strncmp(line, "STOPPING=1", 10) == 0)
			job->notify_state = "stopping";
		else if (n > 8 && n < 20 && strncmp(line, "MAINPID=", 8) == 0) {
			char num[16];

			memcpy(num, line + 8, n - 8);
			num[n - 8] = '\0';
			v = util_strtonum(num, 2, 4194304, &errstr);
			if (errstr == NULL)
				job->notify_mainpid = (pid_t)v;
		}
	}
	log_debug("%s: notify from pid %d: %s%s", job->name, (int)pid,
	    ready ? "READY " : "", job_text(job->status_text));
	if (trigger &&
	    (job->state == JOB_RUNNING || job->state == JOB_STARTING)) {
		job_text_set(&job->health_why,
		    "watchdog: the job sent WATCHDOG=trigger");
		job->fail_type = "watchdog";
		sup_fact(sup, job, JEV_UNHEALTHY);
	} else if (ready && job->state == JOB_STARTING &&
		   job->spec.ready.notify)
		sup_fact(sup, job, JEV_READY);
	/* STATUS= and the rest are shown at once. */
	sup_notify(job, 0);
}
