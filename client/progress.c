/* SPDX-License-Identifier: ISC */
/*
 * Progress of long operations on a terminal: a stop says which signal it
 * sent, counts down to the SIGKILL the job's stop timeout brings, rewriting
 * one line of stderr each second, and says at the end whether SIGKILL was
 * needed. The wait itself is the ordinary POST /stop; a timerfd wakes the
 * HTTP helper's poll once a second (http_request's on_wake) without ending
 * the request.
 */
#include "config.h"

#include <sys/timerfd.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client/format.h"
#include "client/schedctl.h"
#include "client/table.h"

struct stop_progress {
	int tfd;
	int64_t t0;        /* CLOCK_MONOTONIC ms */
	long long timeout; /* the job's stop timeout, ms */
	const char *name;  /* sanitised */
	int shown;         /* a countdown line is on the screen */
};

static int
stop_tick(void *arg)
{
	struct stop_progress *sp = arg;
	uint64_t n;
	int64_t left;

	if (read(sp->tfd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		return (-1);
	left = sp->timeout - (fmt_mono_ms() - sp->t0);
	if (left > 0)
		fprintf(stderr,
		    "\r\033[Kwaiting for %s to stop: SIGKILL in %llds",
		    sp->name, (long long)((left + 999) / 1000));
	else
		fprintf(stderr,
		    "\r\033[Kwaiting for %s to stop: SIGKILL sent, %llds ago",
		    sp->name, (long long)(-left / 1000));
	fflush(stderr);
	sp->shown = 1;
	return (0);
}

int
ctl_stop_progress(struct schedctl *ctl, const char *jobarg, json_t **out)
{
	struct stop_progress sp;
	struct itimerspec its;
	char path[CTL_PATH_MAX], idbuf[32], took[32], sig[32];
	const char *got;
	json_t *job = NULL, *stop;
	long long id, pid;
	char *name;
	int rc;

	*out = NULL;
	if (ctl_job_path(ctl, path, sizeof(path), jobarg, "") == -1)
		return (CTL_EXIT_USAGE);
	if ((rc = ctl_call(ctl, "GET", path, NULL, CTL_TIMEOUT_MS, &job)) !=
	    CTL_EXIT_OK)
		return (rc);
	if (!fmt_int(job, "id", &id)) {
		json_decref(job);
		ctl_warnx("the daemon's answer is not a job");
		return (CTL_EXIT_ERROR);
	}
	/* By id: the name may pass to another job meanwhile. */
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	if (ctl_job_path(ctl, path, sizeof(path), idbuf, "/stop") == -1) {
		json_decref(job);
		return (CTL_EXIT_USAGE);
	}
	memset(&sp, 0, sizeof(sp));
	stop = json_object_get(job, "stop");
	/* Copied: job is released before the stop. */
	snprintf(sig, sizeof(sig), "%s",
	    fmt_str(stop, "signal") != NULL ? fmt_str(stop, "signal")
					    : "SIGTERM");
	if (!fmt_int(stop, "timeout_ms", &sp.timeout))
		sp.timeout = 10000;
	name = table_sanitize(
	    fmt_str(job, "name") != NULL ? fmt_str(job, "name") : jobarg, NULL);
	sp.name = name;
	/* Not running: nothing to count down; the daemon says why. */
	if (!fmt_int(job, "pid", &pid)) {
		json_decref(job);
		free(name);
		return (ctl_call(ctl, "POST", path, NULL, CTL_NO_TIMEOUT, out));
	}
	json_decref(job);
	fprintf(stderr,
	    "schedctl: stopping %s: %s to pid %lld and its tree, "
	    "SIGKILL after %s\n",
	    name, sig, pid, fmt_duration(sp.timeout, took, sizeof(took)));
	sp.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sp.tfd != -1) {
		memset(&its, 0, sizeof(its));
		its.it_value.tv_sec = 1;
		its.it_interval.tv_sec = 1;
		(void)timerfd_settime(sp.tfd, 0, &its, NULL);
		ctl->wake_fd = sp.tfd;
		ctl->on_wake = stop_tick;
		ctl->wake_arg = &sp;
	}
	sp.t0 = fmt_mono_ms();
	rc = ctl_call(ctl, "POST", path, NULL, CTL_NO_TIMEOUT, out);
	ctl->wake_fd = 0;
	ctl->on_wake = NULL;
	ctl->wake_arg = NULL;
	if (sp.tfd != -1)
		close(sp.tfd);
	if (sp.shown)
		fprintf(stderr, "\r\033[K");
	if (rc == CTL_EXIT_OK) {
		got = fmt_str(json_object_get(*out, "last_run"), "signal");
		fmt_duration(fmt_mono_ms() - sp.t0, took, sizeof(took));
		if (got != NULL && strcmp(got, "SIGKILL") == 0 &&
		    strcmp(sig, "SIGKILL") != 0)
			fprintf(stderr,
			    "schedctl: %s did not stop on %s within %s: "
			    "SIGKILL was needed\n",
			    name, sig, took);
		else
			fprintf(stderr, "schedctl: %s stopped after %s\n", name,
			    took);
	}
	free(name);
	return (rc);
}
