/* SPDX-License-Identifier: ISC */
/*
 * Jobs that start on a schedule: a cron line, a systemd calendar or a
 * fixed interval (proto/schedule.c computes the ticks). Each scheduled job
 * has one timer for its next tick; the tick is an event of the table
 * (JEV_TICK): a job at rest starts (ACT_TICK), one whose run is still
 * active is not started twice (ACT_SKIP: counted, and an event says so).
 * The next tick and the count are stored, so a restarted daemon goes on
 * where the old one was; ticks missed while no daemon ran are caught up
 * with one run (schedule.catch_up) or skipped and counted.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/clock.h"
#include "daemon/conf.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/store.h"
#include "daemon/supervisor-int.h"
#include "proto/util.h"

static void
sched_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;

	(void)fd;
	(void)what;
	sup_fact(job->sup, job, JEV_TICK);
}

/* The tick after after_ms, in the configured time zone; 0: none. */
static int64_t
sched_next(struct supervisor *sup, const struct job *job, int64_t after_ms)
{
	int64_t t = schedule_next(
	    &job->spec.schedule->when, after_ms, sup->sd->conf->schedule_utc);

	return (t > 0 ? t : 0);
}

/* Store next and the count (its own small transaction); memory either
 * way: a store that cannot write now must not stop the schedule. */
static void
sched_store(struct supervisor *sup, struct job *job)
{
	struct serr err;

	serr_clear(&err);
	if (store_begin(sup->st, &err) == -1 ||
	    store_job_update_schedule(sup->st, job->id, job->sched_next_ms,
		job->sched_skipped, &err) == -1 ||
	    store_commit(sup->st, &err) == -1) {
		store_rollback(sup->st);
		log_warnx(
		    "%s: next tick not stored: %s", job->name, err.message);
	}
}

static void
sched_arm(struct supervisor *sup, struct job *job)
{
	struct timeval tv;
	int64_t ms;

	if (job->sched_timer == NULL) {
		job->sched_timer = sup_evtimer_new(sup, sched_cb, job);
	}
	evtimer_del(job->sched_timer);
	if (job->sched_next_ms == 0)
		return;
	ms = job->sched_next_ms - now_ms();
	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_update_cache_time(sup->sd->base);
	evtimer_add(job->sched_timer, &tv);
}

/*
 * The tick that came (or was missed): the next one in the future, stored,
 * armed. An interval counts from its due time, and a late daemon goes on
 * with the next one ahead (computed, never stepped through, however long
 * it was down); a cron line or calendar simply from now.
 */
static void
sched_advance(struct supervisor *sup, struct job *job)
{
	int64_t now = now_ms(), due = job->sched_next_ms,
		every = job->spec.schedule->every_ms;

	if (every > 0 && due > 0 && due <= now)
		job->sched_next_ms = due + ((now - due) / every + 1) * every;
	else
		job->sched_next_ms = sched_next(sup, job, now);
	sched_store(sup, job);
	sched_arm(sup, job);
}

void
sup_sched_release(struct job *job)
{
	if (job->sched_timer != NULL) {
		event_free(job->sched_timer);
		job->sched_timer = NULL;
	}
}

void
sup_sched_job(struct supervisor *sup, struct job *job, int boot)
{
	struct serr err;
	int64_t now = now_ms();

	if (job->spec.schedule == NULL) {
		if (job->sched_next_ms != 0) {
			job->sched_next_ms = 0;
			sched_store(sup, job);
		}
		sup_sched_release(job);
		return;
	}
	if (job->sched_next_ms == 0) {
		job->sched_next_ms = sched_next(sup, job, now);
		sched_store(sup, job);
	} else if (boot && job->sched_next_ms <= now) {
		/* Missed while no daemon ran. */
		if (job->spec.schedule->catch_up) {
			log_info("%s: a tick was missed while schedd was "
				 "down: caught up now",
			    job->name);
			sched_arm(sup, job);
			return; /* the timer fires at once: JEV_TICK */
		}
		job->sched_skipped++;
		serr_clear(&err);
		(void)sup_change(sup, job, job->state, NULL, RUN_NONE,
		    "schedule_missed",
		    json_pack(
			"{s:I}", "skipped", (json_int_t)job->sched_skipped),
		    &err);
		log_info("%s: a tick was missed while schedd was down: skipped",
		    job->name);
		sched_advance(sup, job);
		return;
	}
	sched_arm(sup, job);
}

/* ACT_TICK: the next tick, then the start (as a start request would). */
int
act_tick(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	sched_advance(sup, job);
	job->retries = 0;
	log_info("%s: scheduled start", job->name);
	return (sup_dispatch(sup, job, JEV_START, NULL, err));
}

/* ACT_SKIP: a tick while a run is still active: not a second run. */
int
act_skip(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	job->sched_skipped++;
	log_info("%s: scheduled start skipped: still %s", job->name,
	    job_state_name(job->state));
	sched_advance(sup, job);
	return (
	    sup_change(sup, job, job->state, NULL, RUN_NONE, "schedule_skipped",
		json_pack("{s:s, s:I}", "state", job_state_name(job->state),
		    "skipped", (json_int_t)job->sched_skipped),
		err));
}
