/* SPDX-License-Identifier: ISC */
/*
 * The supervisor's side of the store: the one door through which a job
 * changes state (sup_change: stored first, then told), the events it
 * writes, and what happens when the store cannot write. Then requests are
 * refused before anything is done (sup_writable), facts from the world are
 * held in order, bounded, and dispatched again by a timer (sup_fact,
 * sup_flush), a reserve file gives the database room on a full disk, and
 * the daemon says it is degraded until a write goes through.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/conf.h"
#include "daemon/job.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/jsonout.h"
#include "proto/util.h"

static void sup_retry_cb(evutil_socket_t, short, void *);
static int sup_probe(struct supervisor *, struct serr *);
static int sup_try_store(struct supervisor *, size_t, struct serr *);

/*
 * Write an event (inside the caller's transaction) and, once committed,
 * announce it. data is stolen.
 */
static int
sup_event_write_at(struct supervisor *sup, struct event_rec *ev,
    const struct job *job, int64_t run, const char *type, json_t *data,
    char **text, int64_t when, struct serr *err)
{
	memset(ev, 0, sizeof(*ev));
	ev->time_ms = when;
	ev->job_id = job != NULL ? job->id : 0;
	ev->job = job != NULL ? job->name : NULL;
	ev->run = run;
	ev->type = type;
	if (data == NULL)
		data = json_object();
	if (sup->actor.set && json_object_get(data, "by") == NULL)
		json_object_set_new(data, "by",
		    sup->actor.pid > 0 ? json_pack("{s:I, s:i}", "uid",
					     (json_int_t)sup->actor.uid, "pid",
					     (int)sup->actor.pid)
				       : json_pack("{s:I}", "uid",
					     (json_int_t)sup->actor.uid));
	/* A follower of the stream learns whose run it is (a Slurm job)
	 * without asking for the job, which may be gone by then. */
	if (job != NULL && job->spec.labels != NULL &&
	    json_object_get(data, "labels") == NULL)
		json_object_set(data, "labels", job->spec.labels);
	*text = json_out_text(data, 1);
	json_decref(data);
	ev->data = *text != NULL ? *text : "{}";
	return (store_event_insert(sup->st, ev, err));
}

int
sup_event_write(struct supervisor *sup, struct event_rec *ev,
    const struct job *job, int64_t run, const char *type, json_t *data,
    char **text, struct serr *err)
{
	return (sup_event_write_at(
	    sup, ev, job, run, type, data, text, now_ms(), err));
}

void
sup_event_announce(struct supervisor *sup, const struct event_rec *ev)
{
	struct serr err;
	int64_t oldest, last;

	if (sup->sink != NULL)
		sup->sink(sup->sink_arg, ev);
	if (--sup->events_until_prune > 0)
		return;
	sup->events_until_prune = SUP_PRUNE_EVERY;
	if (store_event_bounds(sup->st, &oldest, &last, &err) == 0 &&
	    last - oldest >= sup->sd->conf->event_retention &&
	    store_event_prune(
		sup->st, last - sup->sd->conf->event_retention, &err) == -1)
		log_warnx("event prune: %s", err.message);
}

/* The kernel's comm of the job's main program: argv[0]'s base name,
 * cut at 15 bytes. */
static void
job_comm(const struct job *job, char *comm, size_t len)
{
	const char *p = strrchr(job->spec.argv[0], '/');

	util_strlcpy(comm, p != NULL ? p + 1 : job->spec.argv[0], len);
	if (len > 16)
		comm[15] = '\0';
}

/* The spec's argv as JSON text for the processes table; caller frees. */
static char *
job_argv_json(const struct job *job)
{
	json_t *a = json_array();
	char *text;
	size_t i;

	for (i = 0; i < job->spec.argc; i++)
		json_array_append_new(a, json_string(job->spec.argv[i]));
	text = json_out_text(a, 0);
	json_decref(a);
	return (text);
}

/* The store's health */

/* A write failed for want of the store: say so once, and try again on a
 * timer until it can write. */
void
sup_degrade(struct supervisor *sup, const struct serr *err)
{
	struct timeval tv = {0, SUP_RETRY_MS * 1000};

	sup->counters.store_errors++;
	if (!sup->degraded || strcmp(sup->degraded_why, err->message) != 0)
		log_warnx("%s; requests that change state get 503 until it "
			  "can",
		    err->message);
	sup->degraded = 1;
	util_strlcpy(
	    sup->degraded_why, err->message, sizeof(sup->degraded_why));
	if (sup->retry_ev == NULL) {
		sup->retry_ev = sup_evtimer_new(sup, sup_retry_cb, sup);
	}
	if (!evtimer_pending(sup->retry_ev, NULL))
		evtimer_add(sup->retry_ev, &tv);
}

/* Keep a reserve beside the database while the disk has room for it. */
void
sup_reserve(struct supervisor *sup)
{
	struct statvfs vfs;

	if (sup->reserve_path[0] == '\0' ||
	    statvfs(sup->reserve_path, &vfs) == -1 ||
	    (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize <
		4 * (int64_t)SUP_RESERVE_BYTES)
		return;
	if (store_reserve(sup->st, sup->reserve_path, SUP_RESERVE_BYTES) == -1)
		log_debug("reserve %s: %s", sup->reserve_path, strerror(errno));
}

static void
sup_recovered(struct supervisor *sup)
{
	sup->degraded_why[0] = '\0';
	sup->orphans_lost = 0;
	log_info("the store can write again");
	sup_reserve(sup);
	if (!TAILQ_EMPTY(&sup->queued))
		sup_queue_kick(sup);
	sup_check_shutdown(sup);
}

void
supervisor_act_as(struct supervisor *sup, int set, uid_t uid, pid_t pid)
{
	sup->actor.set = set;
	sup->actor.uid = set ? uid : 0;
	sup->actor.pid = set ? pid : 0;
}

int
sup_refuse_degraded(struct supervisor *sup, struct serr *err)
{
	if (!sup->degraded)
		return (0);
	serr_set(err, SERR_UNAVAILABLE, NULL, "%s", sup->degraded_why);
	return (-1);
}

const char *
supervisor_degraded(struct supervisor *sup)
{
	return (sup->degraded ? sup->degraded_why : NULL);
}

void
job_rec_get(const struct job *job, struct job_rec *rec)
{
	util_strlcpy(rec->reason, job_text(job->reason), sizeof(rec->reason));
	rec->next_start_ms = job->next_start_ms;
	rec->retries = job->retries;
	rec->restarts = job->restarts;
}

/* The job's runs_keep, or the config's. */
static int64_t
sup_runs_keep(const struct supervisor *sup, const struct job *job)
{
	return (job->spec.runs_keep > 0 ? job->spec.runs_keep
					: sup->sd->conf->runs_keep);
}

void
sup_prune_output(struct supervisor *sup, struct job *job)
{
	if (job->log != NULL && job->run.number > sup_runs_keep(sup, job))
		joblog_prune_runs(
		    job->log, job->run.number - sup_runs_keep(sup, job));
}

static int
sup_change_txn(struct supervisor *sup, struct job *job, enum job_state to,
    const struct job_rec *rec, enum run_op op, const char *type, json_t *data,
    struct event_rec *ev, char **text, struct serr *err)
{
	char comm[32], *argv_text = NULL;
	int64_t now = now_ms();

	if (store_begin(sup->st, err) == -1)
		goto fail;
	/* The main process is the run's row (009_main_in_runs.sql). */
	if (op == RUN_BEGIN && job->run.pid != 0) {
		job_comm(job, comm, sizeof(comm));
		argv_text = job_argv_json(job);
	}
	if (op == RUN_BEGIN &&
	    store_run_insert(sup->st, job->id, &job->run,
		job->run.pid != 0 ? sup->self : 0,
		job->run.pid != 0 ? comm : NULL, argv_text, err) == -1)
		goto fail;
	/* History is bounded: runs_keep runs, their processes with them. */
	if (op == RUN_BEGIN && job->run.number > sup_runs_keep(sup, job) &&
	    store_run_prune(sup->st, job->id,
		job->run.number - sup_runs_keep(sup, job), err) == -1)
		goto fail;
	if (op == RUN_END && store_run_end(sup->st, &job->run, err) == -1)
		goto fail;
	if (store_job_update_state(sup->st, job->id, job_state_name(to),
		rec->restarts, rec->retries, now,
		rec->reason[0] != '\0' ? rec->reason : NULL,
		to == JOB_BACKOFF ? rec->next_start_ms : 0,
		sup->actor.set ? (int64_t)sup->actor.uid : -1, err) == -1)
		goto fail;
	/* A run's end happened when it happened, even if stored later. */
	if (sup_event_write_at(sup, ev, job, job->run.number, type,
		json_incref(data), text,
		op == RUN_END && job->run.exited_ms != 0 ? job->run.exited_ms
							 : now,
		err) == -1)
		goto fail;
	if (store_commit(sup->st, err) == -1)
		goto fail;
	free(argv_text);
	return (0);
fail:
	free(argv_text);
	free(*text);
	*text = NULL;
	store_rollback(sup->st);
	return (-1);
}

int
sup_change(struct supervisor *sup, struct job *job, enum job_state to,
    const struct job_rec *rec, enum run_op op, const char *type, json_t *data,
    struct serr *err)
{
	struct event_rec ev;
	struct job_rec mine;
	struct serr e;
	char *text = NULL;
	enum job_state from = job->state;
	int64_t run_id = job->run.id;

	if (err == NULL)
		err = &e;
	serr_clear(err);
	if (rec == NULL) {
		job_rec_get(job, &mine);
		rec = &mine;
	}
	if (data == NULL)
		data = json_object();
	/* The run's last output is its own, and its drop count final. */
	if (op == RUN_END)
		joblog_drain(job->log);
	if (sup_change_txn(
		sup, job, to, rec, op, type, data, &ev, &text, err) == -1 &&
	    (!store_disk_full(sup->st) || store_reserve_release(sup->st) != 1 ||
		(log_warnx("the disk is full: the store's reserve is given "
			   "up"),
		    job->run.id = run_id,
		    sup_change_txn(sup, job, to, rec, op, type, data, &ev,
			&text, err) == -1))) {
		job->run.id = run_id;
		json_decref(data);
		if (err->code == SERR_UNAVAILABLE)
			sup_degrade(sup, err);
		else
			log_warnx("%s: %s -> %s: %s", job->name,
			    job_state_name(from), job_state_name(to),
			    err->message);
		return (-1);
	}
	json_decref(data);
	if (op == RUN_BEGIN)
		sup_prune_output(sup, job);
	/* Committed: now memory, the stream and the watches. */
	if (rec != &mine) {
		job_text_set(&job->reason, rec->reason);
		job->next_start_ms = rec->next_start_ms;
		job->retries = rec->retries;
		job->restarts = rec->restarts;
	}
	sup_state_set(sup, job, to);
	job->updated_ms = ev.time_ms;
	if (sup->actor.set) {
		job->actor_uid = (int64_t)sup->actor.uid;
		job->acted_ms = job->updated_ms;
	}
	if (from != to)
		log_info("%s: %s -> %s", job->name, job_state_name(from),
		    job_state_name(to));
	else
		log_debug("%s: %s (%s)", job->name, job_state_name(to), type);
	sup_event_announce(sup, &ev);
	free(text);
	/* A new run with stop.unwaited_ms: someone must wait for it. */
	if (from != to && (to == JOB_STARTING || to == JOB_RUNNING) &&
	    (job->unwaited_ev == NULL ||
		!evtimer_pending(job->unwaited_ev, NULL)))
		sup_unwaited_arm(sup, job);
	sup_notify(job, 0);
	/* A job that runs now, or one that no longer does, may be what queued
	 * ones wait for (an "after" dependency, CPUs, DEADLINE bandwidth). */
	if (from != to && (to == JOB_RUNNING || !job_state_active(to)) &&
	    !TAILQ_EMPTY(&sup->queued))
		sup_queue_kick(sup);
	return (0);
}

/* Held facts */

void
sup_hold(struct supervisor *sup, struct sup_held *h)
{
	/* A job's facts are few and never dropped; orphans can be many. */
	if (h->job_id == 0 && sup->nheld_orphans >= SUP_HELD_MAX) {
		if (sup->orphans_lost++ == 0)
			log_warnx(
			    "%zu orphans' ends held for the store already: "
			    "later ones are not recorded until it can "
			    "write",
			    sup->nheld_orphans);
		free(h);
		return;
	}
	if (h->job_id == 0)
		sup->nheld_orphans++;
	TAILQ_INSERT_TAIL(&sup->held, h, entry);
	sup->nheld++;
}

void
sup_hold_event(struct supervisor *sup, struct job *job, enum job_event ev)
{
	struct sup_held *h;

	h = xcalloc(1, sizeof(*h));
	h->job_id = job->id;
	h->ev = ev;
	log_debug("%s: %s held until the store can write", job->name,
	    job_event_name(ev));
	sup_hold(sup, h);
}

/*
 * Dispatch the held facts in order, while the store takes them. Returns 0
 * when none is left.
 */
static int
sup_flush(struct supervisor *sup, size_t budget)
{
	struct sup_held *h;
	struct job *job;
	struct serr err;
	size_t before = sup->nheld;

	if (sup->flushing)
		return (-1);
	sup->flushing = 1;
	while ((h = TAILQ_FIRST(&sup->held)) != NULL && budget-- > 0) {
		serr_clear(&err);
		if (h->job_id == 0) {
			sup_orphan_record(sup, h);
			if (h->pid != 0)
				break;
		} else if ((job = htab_get_int(&sup->by_id, h->job_id)) !=
			   NULL) {
			if (sup_dispatch(sup, job, h->ev, NULL, &err) == -1 &&
			    err.code == SERR_UNAVAILABLE && sup->degraded)
				break;
			if (err.code == SERR_CONFLICT)
				log_debug("held %s: %s", job_event_name(h->ev),
				    err.message);
		}
		if (TAILQ_FIRST(&sup->held) == h) {
			TAILQ_REMOVE(&sup->held, h, entry);
			sup->nheld--;
			if (h->job_id == 0)
				sup->nheld_orphans--;
			free(h);
		}
	}
	sup->flushing = 0;
	if (before > 0 && sup->nheld < before)
		log_info("%zu held facts stored, %zu left", before - sup->nheld,
		    sup->nheld);
	return (sup->nheld == 0 ? 0 : -1);
}

/*
 * Try the store: once a probe writes, the daemon is no longer degraded
 * (the held facts' actions may act again) and the held facts go in, in
 * order. Returns 0 when the store writes and nothing is held; -1 with err
 * while it cannot (a fact that fails again has degraded it again).
 */
static int
sup_try_store(struct supervisor *sup, size_t budget, struct serr *err)
{
	int was = sup->degraded;

	if (sup_probe(sup, err) == -1)
		return (-1);
	sup->degraded = 0;
	if (sup_flush(sup, budget) == -1) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "%s",
		    sup->degraded ? sup->degraded_why
				  : "held facts are being stored");
		return (-1);
	}
	if (was)
		sup_recovered(sup);
	return (0);
}

/* Can the store write? A probe that needs room, as a real change does. */
static int
sup_probe(struct supervisor *sup, struct serr *err)
{
	if (store_probe(sup->st, err) == 0)
		return (0);
	if (err->code == SERR_UNAVAILABLE)
		sup_degrade(sup, err);
	return (-1);
}

static void
sup_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	struct timeval tv = {0, SUP_RETRY_MS * 1000};
	struct serr err;

	(void)fd;
	(void)what;
	serr_clear(&err);
	/* A batch per turn; the next one at once while the store takes
	 * them (thousands of orphans must not hold the loop). */
	if (sup_try_store(sup, SUP_FLUSH_BATCH, &err) == -1 &&
	    !evtimer_pending(sup->retry_ev, NULL)) {
		if (!sup->degraded)
			tv.tv_usec = 0;
		evtimer_add(sup->retry_ev, &tv);
	}
}

void
sup_fact(struct supervisor *sup, struct job *job, enum job_event ev)
{
	struct serr err;

	if (!TAILQ_EMPTY(&sup->held)) {
		sup_hold_event(sup, job, ev);
		return;
	}
	serr_clear(&err);
	if (sup_dispatch(sup, job, ev, NULL, &err) == 0)
		return;
	if (err.code == SERR_UNAVAILABLE && sup->degraded)
		sup_hold_event(sup, job, ev);
	else if (err.code != SERR_CONFLICT)
		log_warnx(
		    "%s: %s: %s", job->name, job_event_name(ev), err.message);
}

/* Nothing may be done for a request the store could not record. */
int
sup_writable(struct supervisor *sup, struct serr *err)
{
	if (!sup->degraded && TAILQ_EMPTY(&sup->held))
		return (0);
	if (sup_try_store(sup, SUP_FLUSH_BATCH, err) == 0)
		return (0);
	serr_set(err, SERR_UNAVAILABLE, NULL, "%s",
	    sup->degraded_why[0] != '\0' ? sup->degraded_why
					 : "the store cannot write now");
	return (-1);
}

int
sup_request(struct supervisor *sup, struct job *job, enum job_event ev,
    const void *arg, struct serr *err)
{
	if (sup_writable(sup, err) == -1)
		return (-1);
	return (sup_dispatch(sup, job, ev, arg, err));
}
