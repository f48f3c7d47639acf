/* SPDX-License-Identifier: ISC */
/*
 * Health checks of running jobs. Every health.interval_ms a check runs,
 * never two at once: a command (spawned like a job, as the job's user,
 * with its environment, outside its cgroup; its output through a pipe),
 * or an HTTP GET to a loopback address or a Unix socket (a bufferevent).
 * Neither ever waits in the loop. A check that passes makes the job
 * healthy; health.retries failures in a row make it unhealthy; every
 * change is an event. Unhealthy with restart.on_unhealthy, the run has
 * failed (JEV_UNHEALTHY: the same door as a starved watchdog).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/clock.h"
#include "daemon/conf.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/spawn.h"
#include "daemon/supervisor-int.h"
#include "daemon/supervisor.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define HC_OUT_MAX 240 /* bytes of a check's output kept */

enum hc_state {
	HC_UNKNOWN = 0, /* no verdict yet this run */
	HC_HEALTHY,
	HC_UNHEALTHY,
};

struct sup_health {
	struct supervisor *sup;
	struct job *job;
	struct event *tick;     /* the next check */
	struct event *deadline; /* the check in flight times out */
	pid_t pid;              /* an exec check's process; 0 */
	int out_fd;             /* its output; -1 */
	struct event *out_ev;
	struct bufferevent *bev; /* an HTTP check's connection */
	int busy;                /* a check is in flight */
	char out[HC_OUT_MAX + 1];
	size_t outlen;
	int fails; /* in a row */
	enum hc_state state;
	int64_t checked_ms;        /* the last verdict */
	char last[HC_OUT_MAX + 1]; /* and what it said */
};

static const char *const hc_names[] = {
    [HC_UNKNOWN] = "unknown",
    [HC_HEALTHY] = "healthy",
    [HC_UNHEALTHY] = "unhealthy",
};

static void hc_start(evutil_socket_t, short, void *);

/* by_check's value for a check whose result no longer counts. */
static struct sup_health hc_cancelled;

static void
hc_out_close(struct sup_health *hc)
{
	if (hc->out_ev != NULL) {
		event_free(hc->out_ev);
		hc->out_ev = NULL;
	}
	if (hc->out_fd != -1) {
		close(hc->out_fd);
		hc->out_fd = -1;
	}
}

/* Stop what is in flight (its result no longer counts). */
static void
hc_cancel(struct sup_health *hc)
{
	if (hc->deadline != NULL)
		evtimer_del(hc->deadline);
	if (hc->pid != 0) {
		/* Reaped later, and forgotten then. */
		kill(hc->pid, SIGKILL);
		htab_del_int(&hc->sup->by_check, hc->pid);
		htab_put_int(&hc->sup->by_check, hc->pid, &hc_cancelled);
		hc->pid = 0;
	}
	hc_out_close(hc);
	if (hc->bev != NULL) {
		bufferevent_free(hc->bev);
		hc->bev = NULL;
	}
	hc->busy = 0;
}

static void
hc_arm(struct sup_health *hc, struct event *ev, uint32_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_update_cache_time(hc->sup->sd->base);
	evtimer_add(ev, &tv);
}

/* Printable, one line: what a check said, for the job object and events. */
static void
hc_text(char *dst, size_t len, const char *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < len; i++)
		dst[o++] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f
			       ? ' '
			       : src[i];
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* A check's verdict: ok or not, with what it said. */
static void
hc_result(struct sup_health *hc, int ok, const char *what)
{
	struct supervisor *sup = hc->sup;
	struct job *job = hc->job;
	enum hc_state was = hc->state;
	struct serr err;

	hc_cancel(hc);
	hc->checked_ms = now_ms();
	util_strlcpy(hc->last, what, sizeof(hc->last));
	hc->fails = ok ? 0 : hc->fails + 1;
	if (ok)
		hc->state = HC_HEALTHY;
	else if (hc->fails >= job->spec.health->retries)
		hc->state = HC_UNHEALTHY;
	log_debug("%s: health check %s (%d in a row): %s", job->name,
	    ok ? "passed" : "failed", ok ? 1 : hc->fails, what);
	if (hc->state != was) {
		serr_clear(&err);
		if (hc->state == HC_UNHEALTHY)
			log_warnx("%s: unhealthy after %d failed checks: %s",
			    job->name, hc->fails, what);
		else
			log_info("%s: healthy", job->name);
		(void)sup_change(sup, job, job->state, NULL, RUN_NONE,
		    hc_names[hc->state],
		    json_pack("{s:s, s:i}", "output", hc->last, "failures",
			hc->fails),
		    &err);
	}
	if (hc->state == HC_UNHEALTHY && job->spec.restart.on_unhealthy &&
	    job->state == JOB_RUNNING && !job->health_killing) {
		job_text_setf(&job->health_why,
		    "health check failed %d times: %.180s", hc->fails, what);
		job->fail_type = "health_failed";
		sup_fact(sup, job, JEV_UNHEALTHY);
		return;
	}
	if (job->state == JOB_RUNNING)
		hc_arm(hc, hc->tick, job->spec.health->interval_ms);
}

static void
hc_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sup_health *hc = arg;
	char why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "timed out after %u ms",
	    hc->job->spec.health->timeout_ms);
	hc_result(hc, 0, why);
}

/* Exec checks */

static void
hc_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sup_health *hc = arg;
	char buf[4096];
	ssize_t n;
	size_t k;

	(void)what;
	if ((n = read(fd, buf, sizeof(buf))) > 0) {
		k = (size_t)n;
		if (k > HC_OUT_MAX - hc->outlen)
			k = HC_OUT_MAX - hc->outlen;
		memcpy(hc->out + hc->outlen, buf, k);
		hc->outlen += k;
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	hc_out_close(hc);
}

static int
hc_exec(struct sup_health *hc, char *why, size_t len)
{
	struct job *job = hc->job;
	struct spawn_creds creds;
	struct spawn_req req;
	struct serr err;
	char path[PATH_MAX], **envp;
	const char *search;
	int pfd[2], rc;
	pid_t pid;

	serr_clear(&err);
	if (spawn_creds_resolve(
		job->spec.user, job->spec.group, &creds, &err) == -1) {
		spawn_creds_free(&creds);
		snprintf(why, len, "%s", err.message);
		return (-1);
	}
	envp = sup_build_env(job, &creds, hc->sup->sd->conf->job_path, &search);
	spawn_resolve_path(
	    job->spec.health->exec[0], search, path, sizeof(path));
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		sup_free_env(envp);
		spawn_creds_free(&creds);
		snprintf(why, len, "pipe: %s", strerror(errno));
		return (-1);
	}
	memset(&req, 0, sizeof(req));
	req.path = path;
	req.argv = job->spec.health->exec;
	req.envp = envp;
	req.cwd = job->spec.cwd;
	req.creds = &creds;
	req.stdout_fd = pfd[1];
	req.stderr_fd = pfd[1];
	rc = spawn_start(&req, &pid, &err);
	close(pfd[1]);
	sup_free_env(envp);
	spawn_creds_free(&creds);
	if (rc == -1) {
		close(pfd[0]);
		snprintf(why, len, "%s", err.message);
		return (-1);
	}
	hc->pid = pid;
	htab_put_int(&hc->sup->by_check, pid, hc);
	hc->out_fd = pfd[0];
	(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	hc->out_ev = event_new(
	    hc->sup->sd->base, pfd[0], EV_READ | EV_PERSIST, hc_out_cb, hc);
	event_priority_set(hc->out_ev, SCHEDD_PRIO_WORK);
	event_add(hc->out_ev, NULL);
	return (0);
}

int
sup_health_reaped(struct supervisor *sup, pid_t pid, int status)
{
	struct sup_health *hc;
	char what[HC_OUT_MAX + 64], out[HC_OUT_MAX + 1];
	ssize_t n;

	if ((hc = htab_get_int(&sup->by_check, pid)) == NULL)
		return (0);
	htab_del_int(&sup->by_check, pid);
	if (hc == &hc_cancelled)
		return (1);
	hc->pid = 0;
	/* What it wrote and is still in the pipe. */
	while (hc->out_fd != -1 && hc->outlen < HC_OUT_MAX &&
	       (n = read(hc->out_fd, hc->out + hc->outlen,
		    HC_OUT_MAX - hc->outlen)) > 0)
		hc->outlen += (size_t)n;
	hc_text(out, sizeof(out), hc->out, hc->outlen);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		hc_result(hc, 1, out);
	else {
		if (WIFEXITED(status))
			snprintf(what, sizeof(what), "exit code %d%s%s",
			    WEXITSTATUS(status), out[0] ? ": " : "", out);
		else
			snprintf(what, sizeof(what), "killed by %s%s%s",
			    util_signal_name(WTERMSIG(status)),
			    out[0] ? ": " : "", out);
		hc_result(hc, 0, what);
	}
	return (1);
}

/* HTTP checks */

static void
hc_http_read(struct bufferevent *bev, void *arg)
{
	struct sup_health *hc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[HC_OUT_MAX + 1], what[HC_OUT_MAX + 32];
	size_t n = evbuffer_get_length(in);
	char *eol;
	int code;

	if (n > HC_OUT_MAX)
		n = HC_OUT_MAX;
	evbuffer_copyout(in, line, n);
	line[n] = '\0';
	if ((eol = strpbrk(line, "\r\n")) == NULL && n < HC_OUT_MAX)
		return; /* the status line is not whole yet */
	if (eol != NULL)
		*eol = '\0';
	if (sscanf(line, "HTTP/%*d.%*d %d", &code) != 1) {
		hc_text(what, sizeof(what), line, strlen(line));
		hc_result(hc, 0, what);
		return;
	}
	hc_text(what, sizeof(what), line, strlen(line));
	hc_result(hc, code >= 200 && code < 400, what);
}

static void
hc_http_event(struct bufferevent *bev, short what, void *arg)
{
	struct sup_health *hc = arg;
	char why[128];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(why, sizeof(why), "closed before a status line");
	hc_result(hc, 0, why);
}

static int
hc_http(struct sup_health *hc, char *why, size_t len)
{
	const struct job_health *h = hc->job->spec.health;
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	struct jobspec_url u;
	const char *bad;
	socklen_t sl;

	if (jobspec_url_parse(h->http, &u, &bad) == -1) {
		snprintf(why, len, "health.http: %s", bad);
		return (-1);
	}
	memset(&ss, 0, sizeof(ss));
	if (h->unix_socket != NULL) {
		un->sun_family = AF_UNIX;
		util_strlcpy(
		    un->sun_path, h->unix_socket, sizeof(un->sun_path));
		sl = sizeof(*un);
	} else if (strcmp(u.host, "::1") == 0) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)u.port);
		in6->sin6_addr = in6addr_loopback;
		sl = sizeof(*in6);
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)u.port);
		if (strcmp(u.host, "localhost") == 0 ||
		    inet_pton(AF_INET, u.host, &in4->sin_addr) != 1)
			in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*in4);
	}
	hc->bev = bufferevent_socket_new(
	    hc->sup->sd->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (hc->bev == NULL) {
		snprintf(why, len, "bufferevent_socket_new");
		return (-1);
	}
	bufferevent_setcb(hc->bev, hc_http_read, NULL, hc_http_event, hc);
	bufferevent_setwatermark(hc->bev, EV_READ, 0, HC_OUT_MAX);
	bufferevent_enable(hc->bev, EV_READ | EV_WRITE);
	bufferevent_priority_set(hc->bev, SCHEDD_PRIO_WORK);
	evbuffer_add_printf(bufferevent_get_output(hc->bev),
	    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: schedd-health/" PACKAGE_VERSION
	    "\r\nConnection: close\r\n\r\n",
	    u.path, u.host);
	if (bufferevent_socket_connect(
		hc->bev, (struct sockaddr *)&ss, (int)sl) == -1) {
		snprintf(why, len, "connect: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

static void
hc_start(evutil_socket_t fd, short what, void *arg)
{
	struct sup_health *hc = arg;
	char why[256];
	int rc;

	(void)fd;
	(void)what;
	if (hc->busy || hc->job->state != JOB_RUNNING)
		return;
	hc->busy = 1;
	hc->outlen = 0;
	why[0] = '\0';
	rc = hc->job->spec.health->exec != NULL ? hc_exec(hc, why, sizeof(why))
						: hc_http(hc, why, sizeof(why));
	if (rc == -1) {
		hc_result(hc, 0, why);
		return;
	}
	hc_arm(hc, hc->deadline, hc->job->spec.health->timeout_ms);
}

void
sup_health_state(struct supervisor *sup, struct job *job, enum job_state to)
{
	struct sup_health *hc = job->health;

	if (job->spec.health == NULL)
		return;
	if (hc == NULL) {
		if (to != JOB_RUNNING)
			return;
		hc = job->health = xcalloc(1, sizeof(*hc));
		hc->sup = sup;
		hc->job = job;
		hc->out_fd = -1;
		hc->tick = sup_evtimer_new(sup, hc_start, hc);
		hc->deadline = sup_evtimer_new(sup, hc_timeout, hc);
	}
	if (to == JOB_RUNNING) {
		if (!evtimer_pending(hc->tick, NULL) && !hc->busy)
			hc_arm(hc, hc->tick, job->spec.health->interval_ms);
		return;
	}
	/* Paused, stopping, ended: no checks; a new run starts afresh. */
	evtimer_del(hc->tick);
	hc_cancel(hc);
	if (!job_state_active(to) || to == JOB_STARTING) {
		hc->state = HC_UNKNOWN;
		hc->fails = 0;
	}
}

void
sup_health_release(struct supervisor *sup, struct job *job)
{
	struct sup_health *hc = job->health;

	(void)sup;
	if (hc == NULL)
		return;
	hc_cancel(hc);
	event_free(hc->tick);
	event_free(hc->deadline);
	free(hc);
	job->health = NULL;
}

const char *
sup_health_view(
    const struct job *job, int64_t *checked_ms, int *fails, const char **last)
{
	const struct sup_health *hc = job->health;

	if (job->spec.health == NULL)
		return (NULL);
	*checked_ms = hc != NULL ? hc->checked_ms : 0;
	*fails = hc != NULL ? hc->fails : 0;
	*last = hc != NULL && hc->checked_ms != 0 ? hc->last : NULL;
	return (hc_names[hc != NULL ? hc->state : HC_UNKNOWN]);
}
