/* SPDX-License-Identifier: ISC */
/*
 * Jobs and their lives. Every event that can change a job, whether asked
 * (the API, job files, shutdown) or seen (an exit, a timer, the queue, the
 * start-up reconcile), goes through sup_dispatch(): the transition table in
 * job.c names the action, and an empty cell is 409 for a request. Actions
 * are the act_* functions below; only sup_change() writes job->state, and
 * it does so after the state, the run row and the event are committed in
 * one transaction. When the store cannot write, requests are refused (503)
 * before anything is done, and facts from the world are held in order and
 * dispatched again when it can (sup_fact, sup_flush). Processes are
 * identified by (pid, start time). Jobs are found through hash tables;
 * nothing on the way from a request to a spawn, or from an exit to its
 * event, walks the job list. Nothing here sleeps: waiting for a tree to
 * die or for an adopted process's exit status is a timer (poll_ev).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/conf.h"
#include "daemon/job.h"
#include "daemon/jobfiles.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/procfs.h"
#include "daemon/reaper.h"
#include "daemon/spawn.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

#define SUP_RESERVE_BYTES  (8 << 20) /* the store's reserve (see store.h) */
#define SUP_POLL_MIN_MS    2
#define SUP_POLL_MAX_MS    50
#define SUP_EXITINFO_TRIES 50 /* x 20 ms: an adopted exit's status */

enum sup_poll {
	SUP_POLL_NONE = 0,
	SUP_POLL_DRAIN,    /* a stopping run's tree: wait until it is gone */
	SUP_POLL_EXITINFO, /* an adopted process ended: wait for its status */
};

static void sup_check_shutdown(struct supervisor *);
static void sup_arm_timer(struct supervisor *, struct job *, uint32_t);
static void sup_arm_poll(struct supervisor *, struct job *, int, int);
static void sup_watch_pidfd(struct supervisor *, struct job *);
static void sup_orphan_record(struct supervisor *, struct sup_held *);
static void run_set_exit(struct run *, int, const struct rusage *);

static int
sys_pidfd_open(pid_t pid)
{
	return ((int)syscall(SYS_pidfd_open, pid, 0));
}

static int
sys_pidfd_send_signal(int pidfd, int sig)
{
	return ((int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

/*
 * The exit status of the process behind pidfd, once its parent reaped it
 * (Linux 6.15: PIDFD_GET_INFO with PIDFD_INFO_EXIT; the layout is the
 * first version of struct pidfd_info, which later kernels extend).
 * Returns 1 with *status, 0 if not known (yet), -1 if the kernel cannot
 * tell at all.
 */
struct sup_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t fsuid, fsgid;
	int32_t exit_code;
};
#define SUP_PIDFD_GET_INFO  _IOWR(0xFF, 11, struct sup_pidfd_info)
#define SUP_PIDFD_INFO_EXIT (1ULL << 3)

static int
pidfd_exit_status(int pidfd, int *status)
{
	struct sup_pidfd_info info;

	memset(&info, 0, sizeof(info));
	info.mask = SUP_PIDFD_INFO_EXIT;
	if (ioctl(pidfd, SUP_PIDFD_GET_INFO, &info) == -1)
		return (errno == ESRCH ? 0 : -1);
	if ((info.mask & SUP_PIDFD_INFO_EXIT) == 0)
		return (0);
	*status = info.exit_code;
	return (1);
}

/* Indexes (see struct supervisor) */

static void
pid_add(struct supervisor *sup, pid_t pid, struct job *job)
{
	htab_put_int(&sup->by_pid, pid, job);
}

static struct job *
pid_find(struct supervisor *sup, pid_t pid)
{
	return (htab_get_int(&sup->by_pid, pid));
}

static void
pid_del(struct supervisor *sup, pid_t pid)
{
	htab_del_int(&sup->by_pid, pid);
}

/*
 * The job's newest run now owns the session id run.pid. An older entry
 * under the same pid is stale: the kernel reuses a pid only once no process
 * has it as a session id, so nothing of that older session is left. On
 * loading, two stored runs may share a pid: the later start keeps it.
 */
static void
session_add(struct supervisor *sup, struct job *job)
{
	struct job *old;

	if (job->run.pid <= 0)
		return;
	old = htab_put_int(&sup->by_session, job->run.pid, job);
	if (old != NULL && old != job &&
	    old->run.started_ms > job->run.started_ms)
		htab_put_int(&sup->by_session, job->run.pid, old);
}

static void
session_del(struct supervisor *sup, struct job *job)
{
	if (job->run.pid > 0 &&
	    htab_get_int(&sup->by_session, job->run.pid) == job)
		htab_del_int(&sup->by_session, job->run.pid);
}

/* A new job goes at the end of the list (ids only grow) and into the
 * tables; job_release takes it out of them. */
static void
sup_job_link(struct supervisor *sup, struct job *job)
{
	TAILQ_INSERT_TAIL(&sup->jobs, job, entry);
	sup->njobs++;
	htab_put_int(&sup->by_id, job->id, job);
	htab_put_str(&sup->by_name, job->name, job);
	session_add(sup, job);
}

/*
 * The in-memory state, set by sup_change() after a commit and by loading:
 * the queued list holds exactly the queued jobs. It stays in id order, the
 * order of the job list, which is the order queued jobs start in: a newly
 * queued job is usually the newest, so the walk back from the tail is
 * short.
 */
static void
sup_state_set(struct supervisor *sup, struct job *job, enum job_state to)
{
	struct job *j;

	if (to == JOB_QUEUED && !job->on_queue) {
		j = TAILQ_LAST(&sup->queued, job_list);
		while (j != NULL && j->id > job->id)
			j = TAILQ_PREV(j, job_list, qentry);
		if (j == NULL)
			TAILQ_INSERT_HEAD(&sup->queued, job, qentry);
		else
			TAILQ_INSERT_AFTER(&sup->queued, j, job, qentry);
		job->on_queue = 1;
	} else if (to != JOB_QUEUED && job->on_queue) {
		TAILQ_REMOVE(&sup->queued, job, qentry);
		job->on_queue = 0;
	}
	job->state = to;
}

int
supervisor_pid_known(void *arg, pid_t pid)
{
	return (pid_find(arg, pid) != NULL);
}

/* Watches */

struct job_watch *
supervisor_watch(
    struct job *job, void (*cb)(struct job *, int, void *), void *arg)
{
	struct job_watch *w;

	w = xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&job->watches, w, entry);
	return (w);
}

void
supervisor_unwatch(struct job *job, struct job_watch *w)
{
	if (w == NULL)
		return;
	/* Freed by sup_notify's sweep: callbacks may be iterating. */
	w->dead = 1;
	w->cb = NULL;
	if (job != NULL && !job->notifying) {
		TAILQ_REMOVE(&job->watches, w, entry);
		free(w);
	}
}

static void
sup_notify(struct job *job, int gone)
{
	struct job_watch *w, *tw;

	job->notifying++;
	TAILQ_FOREACH (w, &job->watches, entry) {
		if (!w->dead && w->cb != NULL)
			w->cb(job, gone, w->arg);
	}
	job->notifying--;
	if (job->notifying > 0)
		return;
	TAILQ_FOREACH_SAFE (w, &job->watches, entry, tw) {
		if (w->dead || gone) {
			TAILQ_REMOVE(&job->watches, w, entry);
			free(w);
		}
	}
}

/* Jobs */

static struct job *
job_alloc(void)
{
	struct job *job;

	job = xcalloc(1, sizeof(*job));
	jobspec_init(&job->spec);
	job->pidfd = -1;
	job->oom_fd = -1;
	job->run.exit_code = -1;
	job->run.user_cpu_ms = job->run.system_cpu_ms = -1;
	job->run.max_rss_kb = -1;
	TAILQ_INIT(&job->watches);
	return (job);
}

static void
job_close_pidfd(struct job *job)
{
	if (job->pidfd_ev != NULL) {
		event_free(job->pidfd_ev);
		job->pidfd_ev = NULL;
	}
	if (job->pidfd != -1) {
		close(job->pidfd);
		job->pidfd = -1;
	}
}

/* Out of every index (those it is in), then freed. The caller has taken
 * it off the job list. */
static void
job_release(struct supervisor *sup, struct job *job)
{
	if (job->run.pid != 0 && pid_find(sup, job->run.pid) == job)
		pid_del(sup, job->run.pid);
	session_del(sup, job);
	if (job->id != 0 && htab_get_int(&sup->by_id, job->id) == job)
		htab_del_int(&sup->by_id, job->id);
	if (htab_get_str(&sup->by_name, job->name) == job)
		htab_del_str(&sup->by_name, job->name);
	if (job->on_queue) {
		TAILQ_REMOVE(&sup->queued, job, qentry);
		job->on_queue = 0;
	}
	if (job->timer != NULL)
		event_free(job->timer);
	if (job->tree_timer != NULL)
		event_free(job->tree_timer);
	if (job->poll_ev != NULL)
		event_free(job->poll_ev);
	free(job->stop_procs);
	free(job->usage_end);
	if (job->oom_ev != NULL)
		event_free(job->oom_ev);
	if (job->oom_fd != -1)
		close(job->oom_fd);
	job_close_pidfd(job);
	sup_notify(job, 1);
	jobspec_free(&job->spec);
	free(job->source);
	free(job);
}

struct job *
supervisor_job_find(struct supervisor *sup, const char *ref)
{
	const char *errstr;
	long long id;

	if (ref[0] != '\0' && strspn(ref, "0123456789") == strlen(ref)) {
		id = util_strtonum(ref, 1, INT64_MAX, &errstr);
		if (errstr != NULL)
			return (NULL);
		return (htab_get_int(&sup->by_id, id));
	}
	return (htab_get_str(&sup->by_name, ref));
}

const struct job_list *
supervisor_jobs(struct supervisor *sup)
{
	return (&sup->jobs);
}

size_t
supervisor_job_count(struct supervisor *sup)
{
	return (sup->njobs);
}

int
supervisor_job_settled(const struct job *job)
{
	return (!job->restart_pending && job->state != JOB_STOPPING &&
		job->state != JOB_STARTING);
}

void
supervisor_set_sink(struct supervisor *sup,
    void (*sink)(void *, const struct store_event *), void *arg)
{
	sup->sink = sink;
	sup->sink_arg = arg;
}

/*
 * Write an event (inside the caller's transaction) and, once committed,
 * announce it. data is stolen.
 */
static int
sup_event_write_at(struct supervisor *sup, struct store_event *ev,
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
	*text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(data);
	ev->data = *text != NULL ? *text : "{}";
	return (store_event_insert(sup->st, ev, err));
}

int
sup_event_write(struct supervisor *sup, struct store_event *ev,
    const struct job *job, int64_t run, const char *type, json_t *data,
    char **text, struct serr *err)
{
	return (sup_event_write_at(
	    sup, ev, job, run, type, data, text, now_ms(), err));
}

void
sup_event_announce(struct supervisor *sup, const struct store_event *ev)
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
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return (text);
}

/* The store's health */

static void sup_retry_cb(evutil_socket_t, short, void *);

/* A write failed for want of the store: say so once, and try again on a
 * timer until it can write. */
static void
sup_degrade(struct supervisor *sup, const struct serr *err)
{
	struct timeval tv = {0, SUP_RETRY_MS * 1000};

	if (!sup->degraded || strcmp(sup->degraded_why, err->message) != 0)
		log_warnx("%s; requests that change state get 503 until it "
			  "can",
		    err->message);
	sup->degraded = 1;
	util_strlcpy(
	    sup->degraded_why, err->message, sizeof(sup->degraded_why));
	if (sup->retry_ev == NULL)
		sup->retry_ev = evtimer_new(sup->sd->base, sup_retry_cb, sup);
	if (!evtimer_pending(sup->retry_ev, NULL))
		evtimer_add(sup->retry_ev, &tv);
}

/* Keep a reserve beside the database while the disk has room for it. */
static void
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
	if (!sup->degraded)
		return;
	sup->degraded = 0;
	sup->degraded_why[0] = '\0';
	log_info(
	    "the store can write again; %zu held facts stored", sup->nheld);
	sup_reserve(sup);
	if (!TAILQ_EMPTY(&sup->queued))
		sup_queue_kick(sup);
	sup_check_shutdown(sup);
}

const char *
supervisor_degraded(struct supervisor *sup)
{
	return (sup->degraded ? sup->degraded_why : NULL);
}

void
job_rec_get(const struct job *job, struct job_rec *rec)
{
	util_strlcpy(rec->reason, job->reason, sizeof(rec->reason));
	rec->next_start_ms = job->next_start_ms;
	rec->retries = job->retries;
	rec->restarts = job->restarts;
}

static int
sup_change_txn(struct supervisor *sup, struct job *job, enum job_state to,
    const struct job_rec *rec, enum run_op op, const char *type, json_t *data,
    struct store_event *ev, char **text, struct serr *err)
{
	char comm[32], *argv_text = NULL;
	int64_t now = now_ms();

	if (store_begin(sup->st, err) == -1)
		goto fail;
	if (op == RUN_BEGIN &&
	    store_run_insert(sup->st, job->id, &job->run, err) == -1)
		goto fail;
	if (op == RUN_BEGIN && job->run.pid != 0) {
		job_comm(job, comm, sizeof(comm));
		argv_text = job_argv_json(job);
		if (store_process_insert(sup->st, job->run.id, job->run.pid,
			job->run.pid_start, getpid(), comm, argv_text,
			job->run.started_ms, err) == -1)
			goto fail;
	}
	if (op == RUN_END &&
	    (store_run_end(sup->st, &job->run, err) == -1 ||
		(job->run.pid != 0 &&
		    store_process_exit(sup->st, job->run.id, job->run.pid,
			job->run.pid_start, job->run.exited_ms,
			job->run.exit_code, job->run.signal, err) == -1)))
		goto fail;
	if (store_job_update_state(sup->st, job->id, job_state_name(to),
		rec->restarts, rec->retries, now,
		rec->reason[0] != '\0' ? rec->reason : NULL,
		to == JOB_BACKOFF ? rec->next_start_ms : 0, err) == -1)
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
	struct store_event ev;
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
	if (sup_change_txn(
		sup, job, to, rec, op, type, data, &ev, &text, err) == -1 &&
	    (store_reserve_release(sup->st) != 1 ||
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
	/* Committed: now memory, the stream and the watches. */
	if (rec != &mine) {
		util_strlcpy(job->reason, rec->reason, sizeof(job->reason));
		job->next_start_ms = rec->next_start_ms;
		job->retries = rec->retries;
		job->restarts = rec->restarts;
	}
	sup_state_set(sup, job, to);
	job->updated_ms = ev.time_ms;
	if (from != to)
		log_info("%s: %s -> %s", job->name, job_state_name(from),
		    job_state_name(to));
	else
		log_debug("%s: %s (%s)", job->name, job_state_name(to), type);
	sup_event_announce(sup, &ev);
	free(text);
	sup_notify(job, 0);
	/* A job that runs now, or one that no longer does, may be what queued
	 * ones wait for (an "after" dependency, CPUs, DEADLINE bandwidth). */
	if (from != to && (to == JOB_RUNNING || !job_state_active(to)) &&
	    !TAILQ_EMPTY(&sup->queued))
		sup_queue_kick(sup);
	return (0);
}

/* Held facts */

static void
sup_hold(struct supervisor *sup, struct sup_held *h)
{
	if (sup->nheld >= SUP_HELD_MAX) {
		log_warnx("%zu facts held for the store already: one is lost "
			  "(job %" PRId64 ", %s)",
		    sup->nheld, h->job_id,
		    h->job_id != 0 ? job_event_name(h->ev) : "orphan");
		free(h);
		return;
	}
	TAILQ_INSERT_TAIL(&sup->held, h, entry);
	sup->nheld++;
}

static void
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
sup_flush(struct supervisor *sup)
{
	struct sup_held *h;
	struct job *job;
	struct serr err;
	size_t before = sup->nheld;

	if (sup->flushing)
		return (-1);
	sup->flushing = 1;
	while ((h = TAILQ_FIRST(&sup->held)) != NULL) {
		serr_clear(&err);
		if (h->job_id == 0) {
			sup_orphan_record(sup, h);
			if (h->pid != 0)
				break;
		} else if ((job = htab_get_int(&sup->by_id, h->job_id)) !=
			   NULL) {
			if (sup_dispatch(sup, job, h->ev, NULL, &err) == -1 &&
			    err.code == SERR_UNAVAILABLE)
				break;
			if (err.code == SERR_CONFLICT)
				log_debug("held %s: %s", job_event_name(h->ev),
				    err.message);
		}
		if (TAILQ_FIRST(&sup->held) == h) {
			TAILQ_REMOVE(&sup->held, h, entry);
			sup->nheld--;
			free(h);
		}
	}
	sup->flushing = 0;
	if (before > 0 && sup->nheld < before)
		log_info("%zu held facts stored, %zu left", before - sup->nheld,
		    sup->nheld);
	return (sup->nheld == 0 ? 0 : -1);
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
	if (sup_flush(sup) == 0 && sup_probe(sup, &err) == 0)
		sup_recovered(sup);
	else if (!evtimer_pending(sup->retry_ev, NULL))
		evtimer_add(sup->retry_ev, &tv);
}

/* Dispatch */

typedef int (*sup_action)(
    struct supervisor *, struct job *, const void *, struct serr *);

static int
sup_conflict(const struct job *job, enum job_event ev, struct serr *err)
{
	serr_set(err, SERR_CONFLICT, NULL, "cannot %s job %s: it is %s",
	    job_event_name(ev), job->name, job_state_name(job->state));
	return (-1);
}

static const sup_action sup_actions[ACT_NACTIONS];

int
sup_dispatch(struct supervisor *sup, struct job *job, enum job_event ev,
    const void *arg, struct serr *err)
{
	enum job_action act = job_transition(job->state, ev);

	if (act == ACT_FORBIDDEN || sup_actions[act] == NULL)
		return (sup_conflict(job, ev, err));
	return (sup_actions[act](sup, job, arg, err));
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
	if (err.code == SERR_UNAVAILABLE && !sup->shutting_down)
		sup_hold_event(sup, job, ev);
	else if (err.code != SERR_CONFLICT)
		log_warnx(
		    "%s: %s: %s", job->name, job_event_name(ev), err.message);
}

/* Nothing may be done for a request the store could not record. */
static int
sup_writable(struct supervisor *sup, struct serr *err)
{
	if (!sup->degraded && TAILQ_EMPTY(&sup->held))
		return (0);
	if (sup_flush(sup) == 0 && sup_probe(sup, err) == 0) {
		sup_recovered(sup);
		return (0);
	}
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

/* Naming */

static int
sup_name_taken(struct supervisor *sup, const char *name)
{
	return (htab_get_str(&sup->by_name, name) != NULL);
}

/* "<basename of argv[0]>-<id>", keeping only characters a name allows. */
static void
sup_name_generate(struct supervisor *sup, const char *argv0, int64_t id,
    char *buf, size_t len)
{
	char base[40];
	const char *p;
	size_t n = 0;
	int extra = 1;

	if ((p = strrchr(argv0, '/')) != NULL)
		p++;
	else
		p = argv0;
	for (; *p != '\0' && n < sizeof(base) - 1; p++) {
		if (isalnum((unsigned char)*p) ||
		    (n > 0 && (*p == '.' || *p == '_' || *p == '-')))
			base[n++] = *p;
	}
	base[n] = '\0';
	if (n == 0)
		util_strlcpy(base, "job", sizeof(base));
	snprintf(buf, len, "%s-%" PRId64, base, id);
	while (sup_name_taken(sup, buf))
		snprintf(buf, len, "%s-%" PRId64 "-%d", base, id, ++extra);
}

int
supervisor_job_create(struct supervisor *sup, const struct job_spec *spec,
    const char *source, struct job **out, struct serr *err)
{
	struct store_event ev;
	struct job *job;
	struct serr serr;
	json_t *spec_json;
	char *text = NULL, *etext = NULL;
	int64_t id;

	if (sup->shutting_down) {
		serr_set(
		    err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		return (-1);
	}
	if (spec->name != NULL && sup_name_taken(sup, spec->name)) {
		serr_set(err, SERR_CONFLICT, "name", "a job named %s exists",
		    spec->name);
		return (-1);
	}
	if (sup_res_check(sup, spec, err) == -1 ||
	    sup_check_after(sup, spec->name, spec, err) == -1 ||
	    sup_writable(sup, err) == -1)
		return (-1);
	if ((id = store_job_next_id(sup->st, err)) == -1)
		return (-1);

	job = job_alloc();
	job->sup = sup;
	if (jobspec_copy(&job->spec, spec) == -1) {
		job_release(sup, job);
		serr_set(err, SERR_INTERNAL, NULL, "out of memory");
		return (-1);
	}
	job->id = id;
	if (spec->name != NULL)
		util_strlcpy(job->name, spec->name, sizeof(job->name));
	else {
		sup_name_generate(
		    sup, spec->argv[0], id, job->name, sizeof(job->name));
		job->spec.name = xstrdup(job->name);
	}
	job->source = xstrdup(source);
	job->state = JOB_CREATED;
	job->created_ms = job->updated_ms = now_ms();

	if ((spec_json = jobspec_to_json(&job->spec)) != NULL)
		text = json_dumps(spec_json, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(spec_json);
	if (text == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	if (store_begin(sup->st, err) == -1 ||
	    store_job_insert(sup->st, job->id, job->name, job->source, text,
		job_state_name(job->state), job->created_ms, err) == -1 ||
	    sup_event_write(sup, &ev, job, 0, "created",
		json_pack("{s:s}", "source", source), &etext, err) == -1 ||
	    store_commit(sup->st, err) == -1) {
		store_rollback(sup->st);
		if (err->code == SERR_UNAVAILABLE)
			sup_degrade(sup, err);
		goto fail;
	}
	free(text);
	sup_job_link(sup, job);
	notify_status("%zu jobs", sup->njobs);
	log_info(
	    "%s: created (id %" PRId64 ", %s)", job->name, job->id, source);
	sup_event_announce(sup, &ev);
	free(etext);
	*out = job;
	if (job->spec.start) {
		serr_clear(&serr);
		sup_dispatch(sup, job, JEV_START, NULL, &serr);
	}
	return (0);
fail:
	free(text);
	free(etext);
	job_release(sup, job);
	if (err->code == SERR_OK)
		serr_set(err, SERR_INTERNAL, NULL, "out of memory");
	return (-1);
}

/* Spawning */

static char **
sup_build_env(const struct job *job, const struct spawn_creds *creds,
    const char *default_path, const char **search)
{
	const struct job_spec *s = &job->spec;
	char **envp;
	size_t i, n = 0;
	int has_path = 0, has_home = 0, has_user = 0, has_logname = 0;

	envp = xcalloc(s->nenv + 5, sizeof(*envp));
	*search = default_path;
	for (i = 0; i < s->nenv; i++) {
		if (strcmp(s->env_keys[i], "PATH") == 0) {
			has_path = 1;
			*search = s->env_values[i];
		}
		has_home |= strcmp(s->env_keys[i], "HOME") == 0;
		has_user |= strcmp(s->env_keys[i], "USER") == 0;
		has_logname |= strcmp(s->env_keys[i], "LOGNAME") == 0;
		envp[n++] =
		    xasprintf("%s=%s", s->env_keys[i], s->env_values[i]);
	}
	if (!has_path)
		envp[n++] = xasprintf("PATH=%s", default_path);
	if (creds != NULL && creds->set && creds->name[0] != '\0') {
		if (!has_home && creds->home[0] != '\0')
			envp[n++] = xasprintf("HOME=%s", creds->home);
		if (!has_user)
			envp[n++] = xasprintf("USER=%s", creds->name);
		if (!has_logname)
			envp[n++] = xasprintf("LOGNAME=%s", creds->name);
	}
	envp[n] = NULL;
	return (envp);
}

static void
sup_free_env(char **envp)
{
	size_t i;

	if (envp == NULL)
		return;
	for (i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

static void
run_reset(struct run *run, int64_t number)
{
	memset(run, 0, sizeof(*run));
	run->number = number;
	run->started_ms = now_ms();
	run->exit_code = -1;
	run->user_cpu_ms = run->system_cpu_ms = run->max_rss_kb = -1;
}

static void sup_oom_cb(evutil_socket_t, short, void *);

/*
 * ACT_RECORD: the spawn's outcome is stored: running, or failed with the
 * restart policy applied. The job is STARTING (in memory only) until this
 * commits; when the store cannot write, the outcome waits, held.
 */
static int
act_record(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	if (job->run.pid != 0)
		return (sup_change(sup, job, JOB_RUNNING, NULL, RUN_BEGIN,
		    "running", json_pack("{s:i}", "pid", (int)job->run.pid),
		    err));
	if (sup_change(sup, job, JOB_FAILED, NULL, RUN_BEGIN, "failed",
		json_pack("{s:s}", "error", job->run.error), err) == -1)
		return (-1);
	sup_fact(sup, job, JEV_POLICY);
	return (0);
}

/* The spawn happened (or failed) in the world: record it, or hold it. */
static int
sup_spawned(struct supervisor *sup, struct job *job, struct serr *err)
{
	if (act_record(sup, job, NULL, err) == 0)
		return (0);
	if (err->code != SERR_UNAVAILABLE)
		return (-1);
	sup_hold_event(sup, job, JEV_STARTED);
	if (job->run.pid != 0)
		serr_set(err, SERR_UNAVAILABLE, NULL,
		    "%s; the job started (pid %d) and is recorded when it can",
		    sup->degraded_why, (int)job->run.pid);
	return (-1);
}

/*
 * ACT_SPAWN: a new run, or the queue. Nothing is done while the store
 * cannot write. Ends running, queued, or failed with the reason.
 */
static int
act_spawn(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	struct spawn_creds creds;
	struct spawn_req req;
	struct sup_spawn_res sr;
	struct proc_stat ps;
	struct job_rec rec;
	struct serr serr;
	char path[PATH_MAX], **envp = NULL, why[RUN_ERROR_MAX];
	const char *search;
	int out_fd = -1, err_fd = -1, rc;
	pid_t pid;

	(void)arg;
	if (sup->shutting_down) {
		serr_set(
		    err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		return (-1);
	}
	if (sup->degraded) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "%s", sup->degraded_why);
		return (-1);
	}
	/* Leftovers of the last run must not share the new run's cgroup. */
	if (sup_res_nprocs(sup, job) > 0)
		sup_res_signal(sup, job, SIGKILL);
	serr_clear(&serr);
	rc = sup_deps_running(sup, job, why, sizeof(why))
		 ? sup_res_prepare(sup, job, &sr, why, sizeof(why), &serr)
		 : 1;
	if (rc == 1) {
		if (job->state == JOB_QUEUED && strcmp(why, job->reason) == 0)
			return (0);
		job_rec_get(job, &rec);
		util_strlcpy(rec.reason, why, sizeof(rec.reason));
		log_info("%s: %s", job->name, why);
		return (sup_change(sup, job, JOB_QUEUED, &rec, RUN_NONE,
		    "queued", json_pack("{s:s}", "reason", why), err));
	}
	if (job->timer != NULL)
		evtimer_del(job->timer);
	if (job->tree_timer != NULL)
		evtimer_del(job->tree_timer);
	/* The last run's session id no longer names this job's orphans. */
	session_del(sup, job);
	run_reset(&job->run, job->run.number + 1);
	job->run.cpus = job->cpuset;
	job->run.cpus_valid = rc == 0 && job->cpuset_valid;
	job->reason[0] = '\0';
	job->next_start_ms = 0;
	job->draining = job->killing = 0;
	/* In memory only: the outcome is what gets stored. */
	sup_state_set(sup, job, JOB_STARTING);
	if (rc == -1) {
		memset(&sr, 0, sizeof(sr));
		goto failed;
	}

	if (spawn_creds_resolve(
		job->spec.user, job->spec.group, &creds, &serr) == -1)
		goto failed;
	envp = sup_build_env(job, &creds, sup->sd->conf->job_path, &search);
	if (spawn_resolve_path(job->spec.argv[0], search, path, sizeof(path)) ==
	    -1) {
		serr_set(&serr, SERR_UNSATISFIABLE, "argv", "%s: path too long",
		    job->spec.argv[0]);
		goto failed;
	}
	if (joblog_open(job->id, job->run.number, &out_fd, &err_fd, &serr) ==
	    -1)
		goto failed;
	memset(&req, 0, sizeof(req));
	req.path = path;
	req.argv = job->spec.argv;
	req.envp = envp;
	req.cwd = job->spec.cwd;
	req.creds = &creds;
	req.stdout_fd = out_fd;
	req.stderr_fd = err_fd;
	req.cgroup_fds = sr.fds;
	req.ncgroup_fds = sr.nfds;
	req.affinity = sr.has_affinity ? &sr.affinity : NULL;
	req.affinity_size = sizeof(sr.affinity);
	req.sched = sr.has_attr ? &sr.attr : NULL;
	if (spawn_start(&req, &pid, &serr) == -1)
		goto failed;
	sup_res_spawn_done(sup, job, &sr);
	close(out_fd);
	close(err_fd);
	sup_free_env(envp);
	sup_res_started(sup, job, sup_oom_cb);

	job->run.pid = pid;
	if (procfs_stat(pid, &ps) == 0)
		job->run.pid_start = ps.starttime;
	job->adopted = 0;
	pid_add(sup, pid, job);
	session_add(sup, job);
	/* Without a pidfd, the reaper's SIGCHLD path collects it. */
	if ((job->pidfd = sys_pidfd_open(pid)) == -1)
		log_warn("%s: pidfd_open %d", job->name, (int)pid);
	else
		sup_watch_pidfd(sup, job);
	return (sup_spawned(sup, job, err));

failed:
	if (out_fd != -1)
		close(out_fd);
	if (err_fd != -1)
		close(err_fd);
	sup_free_env(envp);
	sup_res_spawn_done(sup, job, &sr);
	sup_res_run_ended(sup, job);
	util_strlcpy(job->run.error, serr.message, sizeof(job->run.error));
	job->run.exited_ms = now_ms();
	log_warnx("%s: cannot start: %s", job->name, serr.message);
	return (sup_spawned(sup, job, err));
}

/* ACT_RETRY: the backoff is over; the restart counts. */
static int
act_retry(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	int retries = job->retries;
	int64_t restarts = job->restarts;

	job->retries++;
	job->restarts++;
	if (act_spawn(sup, job, arg, err) == 0)
		return (0);
	if (job->state == JOB_BACKOFF) {
		/* Nothing was done: the counts stay as stored. */
		job->retries = retries;
		job->restarts = restarts;
	}
	return (-1);
}

/* Signalling */

/*
 * Signal every process of the job's cgroup; without one, the process
 * group (its main process made a session of its own) and, should the main
 * process have left the group, the main process through its pidfd. Only
 * while the main process is unreaped, so the group id cannot have been
 * reused.
 */
static int
sup_signal(struct job *job, int sig)
{
	if (job->has_cgroup && sup_res_signal(job->sup, job, sig) > 0)
		return (0);
	if (job->run.pid <= 1 || job->run.exited_ms != 0) {
		errno = ESRCH;
		return (-1);
	}
	if (kill(-job->run.pid, sig) == 0)
		return (0);
	if (job->pidfd != -1)
		return (sys_pidfd_send_signal(job->pidfd, sig));
	errno = ESRCH;
	return (-1);
}

/* The stop timeout and the backoff share one timer: the state says which
 * it was. */
static void
sup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;

	(void)fd;
	(void)what;
	sup_fact(job->sup, job,
	    job->state == JOB_STOPPING ? JEV_TIMEOUT : JEV_RETRY);
}

static void
sup_arm_timer(struct supervisor *sup, struct job *job, uint32_t ms)
{
	struct timeval tv;

	if (job->timer == NULL)
		job->timer = evtimer_new(sup->sd->base, sup_timer_cb, job);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	/* The loop's cached time predates this callback's work (store commits
	 * included): measure the delay from now, not from then. */
	event_base_update_cache_time(sup->sd->base);
	evtimer_add(job->timer, &tv);
}

static const char *const stop_reasons[] = {
    [SUP_STOP_REQUEST] = "request",
    [SUP_STOP_RESTART] = "restart",
    [SUP_STOP_DELETE] = "delete",
    [SUP_STOP_SHUTDOWN] = "shutdown",
};

static enum sup_stop_reason
stop_reason(const void *arg)
{
	return (arg != NULL ? *(const enum sup_stop_reason *)arg
			    : SUP_STOP_REQUEST);
}

/*
 * ACT_STOP: the stop signal to every process of the tree, SIGKILL to what
 * is left after the timeout. The stop is over once nothing of the tree is
 * left (ACT_STOP_EXIT, ACT_STOPPED). Refused while the store cannot write,
 * except at shutdown, when the world comes first.
 */
static int
act_stop(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	enum sup_stop_reason why = stop_reason(arg);
	int sig = job->spec.stop.signal;
	struct serr e;

	if (sup->degraded && why != SUP_STOP_SHUTDOWN) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "%s", sup->degraded_why);
		return (-1);
	}
	/* Before signalling: the stop is done only once these are gone. */
	sup_res_snapshot(sup, job);
	if (sup_signal(job, sig) == -1 && errno != ESRCH)
		log_warn("%s: %s", job->name, util_signal_name(sig));
	/* A paused (frozen) tree must run to see the signal. */
	if (job->state == JOB_PAUSED && sup_res_freeze(sup, job, 0, &e) == -1)
		log_warnx("%s: thaw: %s", job->name, e.message);
	sup_arm_timer(sup, job, job->spec.stop.timeout_ms);
	return (sup_change(sup, job, JOB_STOPPING, NULL, RUN_NONE, "stopping",
	    json_pack("{s:s, s:s, s:i}", "signal", util_signal_name(sig),
		"reason", stop_reasons[why], "timeout_ms",
		(int)job->spec.stop.timeout_ms),
	    err));
}

/* ACT_RESTART: stop, and start again once stopped. */
static int
act_restart(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	enum sup_stop_reason why = SUP_STOP_RESTART;

	(void)arg;
	job->restart_pending = 1;
	if (act_stop(sup, job, &why, err) == 0)
		return (0);
	job->restart_pending = 0;
	return (-1);
}

static int
act_join(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)sup;
	(void)job;
	(void)arg;
	(void)err;
	return (0);
}

static int
act_join_restart(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)sup;
	(void)arg;
	(void)err;
	job->restart_pending = 1;
	return (0);
}

/* ACT_STOP_IDLE: nothing runs; the backoff or the queue is given up. */
static int
act_stop_idle(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	struct job_rec rec;

	job_rec_get(job, &rec);
	rec.next_start_ms = 0;
	rec.reason[0] = '\0';
	if (sup_change(sup, job, JOB_STOPPED, &rec, RUN_NONE, "stopped",
		json_pack("{s:s}", "reason", stop_reasons[stop_reason(arg)]),
		err) == -1)
		return (-1);
	if (job->timer != NULL)
		evtimer_del(job->timer);
	return (0);
}

/* ACT_SIGNAL: the signal to every process of the job. */
static int
act_signal(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	int sig = arg != NULL ? *(const int *)arg : SIGTERM;

	if (sup->degraded) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "%s", sup->degraded_why);
		return (-1);
	}
	if (sup_signal(job, sig) == -1) {
		serr_set(err, SERR_CONFLICT, NULL, "signal %s: %s",
		    util_signal_name(sig), strerror(errno));
		return (-1);
	}
	return (sup_change(sup, job, job->state, NULL, RUN_NONE, "signal",
	    json_pack("{s:s}", "signal", util_signal_name(sig)), err));
}

/* ACT_KILL_TREE: the stop timed out; SIGKILL now and at every poll until
 * nothing is left. */
static int
act_kill_tree(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	(void)err;
	log_info("%s: stop timeout (%u ms): SIGKILL", job->name,
	    job->spec.stop.timeout_ms);
	job->killing = 1;
	if (sup_signal(job, SIGKILL) == -1 && errno != ESRCH)
		log_warn("%s: SIGKILL", job->name);
	if (job->draining)
		sup_arm_poll(sup, job, SUP_POLL_DRAIN, SUP_POLL_MIN_MS);
	return (0);
}

static int
act_freeze(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	struct serr e;

	(void)arg;
	if (sup->degraded) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "%s", sup->degraded_why);
		return (-1);
	}
	if (sup_res_freeze(sup, job, 1, err) == -1)
		return (-1);
	if (sup_change(
		sup, job, JOB_PAUSED, NULL, RUN_NONE, "paused", NULL, err) == 0)
		return (0);
	if (sup_res_freeze(sup, job, 0, &e) == -1)
		log_warnx("%s: thaw: %s", job->name, e.message);
	return (-1);
}

static int
act_thaw(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	struct serr e;

	(void)arg;
	if (sup->degraded) {
		serr_set(err, SERR_UNAVAILABLE, NULL, "%s", sup->degraded_why);
		return (-1);
	}
	if (sup_res_freeze(sup, job, 0, err) == -1)
		return (-1);
	if (sup_change(sup, job, JOB_RUNNING, NULL, RUN_NONE, "resumed", NULL,
		err) == 0)
		return (0);
	if (sup_res_freeze(sup, job, 1, &e) == -1)
		log_warnx("%s: freeze: %s", job->name, e.message);
	return (-1);
}

/* ACT_REMOVE: the job, its runs and its logs go; its events stay. The job
 * is freed. */
static int
act_remove(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	struct store_event ev;
	char *text = NULL;

	(void)arg;
	if (store_begin(sup->st, err) == -1 ||
	    store_job_delete(sup->st, job->id, err) == -1 ||
	    sup_event_write(sup, &ev, job, 0, "deleted", NULL, &text, err) ==
		-1 ||
	    store_commit(sup->st, err) == -1) {
		free(text);
		store_rollback(sup->st);
		if (err->code == SERR_UNAVAILABLE)
			sup_degrade(sup, err);
		return (-1);
	}
	log_info("%s: deleted", job->name);
	sup_event_announce(sup, &ev);
	free(text);
	joblog_remove_runs(job->id, job->run.number);
	sup_res_remove(sup, job);
	TAILQ_REMOVE(&sup->jobs, job, entry);
	sup->njobs--;
	notify_status("%zu jobs", sup->njobs);
	job_release(sup, job);
	return (0);
}

/* Exits */

static void
run_set_exit(struct run *run, int status, const struct rusage *ru)
{
	run->exited_ms = now_ms();
	if (WIFEXITED(status))
		run->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status)) {
		run->signal = WTERMSIG(status);
		run->core_dumped = WCOREDUMP(status) ? 1 : 0;
	}
	if (ru != NULL) {
		run->user_cpu_ms = (int64_t)ru->ru_utime.tv_sec * 1000 +
				   ru->ru_utime.tv_usec / 1000;
		run->system_cpu_ms = (int64_t)ru->ru_stime.tv_sec * 1000 +
				     ru->ru_stime.tv_usec / 1000;
		run->max_rss_kb = ru->ru_maxrss;
	}
}

static json_t *
run_exit_data(const struct run *run)
{
	json_t *d;

	if (run->oom_killed && run->signal != 0 &&
	    (d = json_pack("{s:s, s:b, s:b}", "signal",
		 util_signal_name(run->signal), "core_dumped", run->core_dumped,
		 "oom_killed", 1)) != NULL)
		return (d);
	if (run->signal != 0)
		return (json_pack("{s:s, s:b}", "signal",
		    util_signal_name(run->signal), "core_dumped",
		    run->core_dumped));
	if (run->exit_code >= 0)
		return (json_pack("{s:i}", "exit_code", run->exit_code));
	return (json_pack("{s:s}", "error", run->error));
}

/* A short description of how the last run ended, for reasons. */
static void
run_describe(const struct run *run, char *buf, size_t len)
{
	if (run->error[0] != '\0')
		snprintf(buf, len, "%.150s", run->error);
	else if (run->signal != 0)
		snprintf(
		    buf, len, "killed by %s", util_signal_name(run->signal));
	else if (run->exit_code >= 0)
		snprintf(buf, len, "exit code %d", run->exit_code);
	else
		snprintf(buf, len, "ended");
}

/*
 * The restart policy, after a run ended by itself or failed to start:
 * back off and start again, give up (failed, with the reason), or rest.
 * Backoff doubles from backoff_ms per consecutive restart up to
 * backoff_max_ms, plus up to 10% jitter; a run that stayed up for
 * reset_after_ms resets the count. max_retries absent means forever. A run
 * whose exit status is unknown (it ended while schedd was not running)
 * counts as failed. The count and the deadline are stored with the state.
 */
static int
act_policy(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	const struct job_restart *r = &job->spec.restart;
	struct job_rec rec;
	char how[160];
	uint64_t delay;
	int failed, shift;

	(void)arg;
	if (sup->shutting_down || job->delete_pending || job->restart_pending)
		return (0);
	failed = job->run.error[0] != '\0' || job->run.signal != 0 ||
		 job->run.exit_code != 0 || job->run.oom_killed;
	if (!(r->policy == RESTART_ALWAYS ||
		(r->policy == RESTART_ON_FAILURE && failed)))
		return (0);
	job_rec_get(job, &rec);
	if (job->run.pid != 0 && job->run.exited_ms - job->run.started_ms >=
				     (int64_t)r->reset_after_ms)
		rec.retries = 0;
	run_describe(&job->run, how, sizeof(how));
	if (r->max_retries >= 0 && rec.retries >= r->max_retries) {
		snprintf(rec.reason, sizeof(rec.reason),
		    "gave up after %d restart%s; last run: %s", rec.retries,
		    rec.retries == 1 ? "" : "s", how);
		log_warnx("%s: %s", job->name, rec.reason);
		return (
		    sup_change(sup, job, JOB_FAILED, &rec, RUN_NONE, "failed",
			json_pack("{s:s, s:i}", "reason", rec.reason, "retries",
			    rec.retries),
			err));
	}
	shift = rec.retries > 30 ? 30 : rec.retries;
	delay = (uint64_t)r->backoff_ms << shift;
	if (delay > r->backoff_max_ms)
		delay = r->backoff_max_ms;
	delay += delay / 10 > 0 ? (uint64_t)random() % (delay / 10 + 1) : 0;
	rec.next_start_ms = now_ms() + (int64_t)delay;
	snprintf(rec.reason, sizeof(rec.reason),
	    "restart %d in %llu ms; last run: %s", rec.retries + 1,
	    (unsigned long long)delay, how);
	if (sup_change(sup, job, JOB_BACKOFF, &rec, RUN_NONE, "backoff",
		json_pack("{s:I, s:i, s:s}", "delay_ms", (json_int_t)delay,
		    "attempt", rec.retries + 1, "last_run", how),
		err) == -1)
		return (-1);
	sup_arm_timer(sup, job, (uint32_t)delay);
	return (0);
}

/* What comes after a run's end is stored: removal, a restart asked for,
 * or the restart policy. */
static void
sup_after_end(struct supervisor *sup, struct job *job, int stopped)
{
	struct serr err;

	if (job->delete_pending) {
		sup_fact(sup, job, JEV_DELETE);
	} else if (job->restart_pending) {
		job->restart_pending = 0;
		if (!sup->shutting_down) {
			job->retries = 0;
			serr_clear(&err);
			if (sup_dispatch(sup, job, JEV_START, NULL, &err) == -1)
				log_warnx(
				    "%s: restart: %s", job->name, err.message);
		}
	} else if (!stopped)
		sup_fact(sup, job, JEV_POLICY);
	sup_check_shutdown(sup);
}

/* ACT_EXITED: a run that ended by itself is stored, then what comes next. */
static int
act_exited(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	if (sup_change(sup, job, JOB_EXITED, NULL, RUN_END, "exited",
		run_exit_data(&job->run), err) == -1)
		return (-1);
	sup_after_end(sup, job, 0);
	return (0);
}

/* ACT_STOPPED: nothing of the stopped run is left; stored, then what
 * comes next. */
static int
act_stopped(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	job->draining = job->killing = 0;
	if (job->timer != NULL)
		evtimer_del(job->timer);
	sup_res_run_ended(sup, job);
	free(job->stop_procs);
	job->stop_procs = NULL;
	job->nstop_procs = 0;
	if (sup_change(sup, job, JOB_STOPPED, NULL, RUN_END, "stopped",
		run_exit_data(&job->run), err) == -1)
		return (-1);
	sup_after_end(sup, job, 1);
	return (0);
}

/*
 * ACT_STOP_EXIT: the main process of a stopping run ended. The rest of the
 * tree had the stop signal too and keeps its full stop.timeout_ms; the
 * stop is over once it is gone, which a timer watches.
 */
static int
act_stop_exit(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	if (sup_res_tree_gone(sup, job))
		return (act_stopped(sup, job, arg, err));
	job->draining = 1;
	sup_arm_poll(sup, job, SUP_POLL_DRAIN, SUP_POLL_MIN_MS);
	return (0);
}

/* The tree outlived a run that ended by itself: SIGKILL it, round after
 * round, until nothing is left; then its CPUs are free. */
static void
sup_tree_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct timeval tv = {0, SUP_POLL_MAX_MS * 1000};

	(void)fd;
	(void)what;
	if (sup_res_nprocs(job->sup, job) > 0) {
		if (!job->killing)
			log_info(
			    "%s: SIGKILL to what outlived the run", job->name);
		job->killing = 1;
		sup_res_signal(job->sup, job, SIGKILL);
		evtimer_add(job->tree_timer, &tv);
		return;
	}
	job->killing = 0;
	if (sup_res_run_ended(job->sup, job) && !TAILQ_EMPTY(&job->sup->queued))
		sup_queue_kick(job->sup);
}

static void
sup_arm_tree_timer(struct supervisor *sup, struct job *job)
{
	struct timeval tv;
	uint32_t ms = job->spec.stop.timeout_ms;

	if (job->tree_timer == NULL)
		job->tree_timer =
		    evtimer_new(sup->sd->base, sup_tree_timer_cb, job);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_update_cache_time(sup->sd->base);
	evtimer_add(job->tree_timer, &tv);
}

/* An OOM kill in the job's cgroup: an "oom" event if the store takes it
 * (the run's end says oom_killed anyway). */
static void
sup_oom_record(struct supervisor *sup, struct job *job)
{
	struct serr err;

	sup_change(sup, job, job->state, NULL, RUN_NONE, "oom",
	    json_pack("{s:I, s:I}", "oom_kills", (json_int_t)job->oom_base,
		"memory_max", (json_int_t)job->spec.limits.memory_max),
	    &err);
}

/*
 * The main process is gone and its facts are on job->run: gather what the
 * kernel says once (OOM kills, what is left of the tree), then the fact
 * goes through the table.
 */
static void
sup_main_gone(struct supervisor *sup, struct job *job)
{
	pid_del(sup, job->run.pid);
	job_close_pidfd(job);
	if (job->poll_ev != NULL)
		evtimer_del(job->poll_ev);
	job->poll_mode = SUP_POLL_NONE;
	if (sup_res_oom_poll(sup, job))
		sup_oom_record(sup, job);
	if (job->state != JOB_STOPPING) {
		if (job->timer != NULL)
			evtimer_del(job->timer);
		/*
		 * The run ends with its main process: what remains of its
		 * tree gets the stop signal and, after stop.timeout_ms,
		 * SIGKILL; its CPUs are released once nothing of it is left.
		 */
		if (sup_res_nprocs(sup, job) > 0) {
			sup_res_signal(sup, job, job->spec.stop.signal);
			sup_arm_tree_timer(sup, job);
		} else
			sup_res_run_ended(sup, job);
	}
	sup_fact(sup, job, JEV_EXIT);
}

/* The job's poll: a stopping tree that is not gone yet, or an adopted
 * process's exit status that the kernel has not given yet. */
static void
sup_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct supervisor *sup = job->sup;
	int status, ms;

	(void)fd;
	(void)what;
	switch (job->poll_mode) {
	case SUP_POLL_DRAIN:
		if (!job->draining || job->state != JOB_STOPPING)
			break;
		if (sup_res_tree_gone(sup, job)) {
			job->poll_mode = SUP_POLL_NONE;
			sup_fact(sup, job, JEV_DRAINED);
			return;
		}
		if (job->killing)
			sup_res_signal(sup, job, SIGKILL);
		ms = job->poll_ms * 2;
		sup_arm_poll(sup, job, SUP_POLL_DRAIN,
		    ms > SUP_POLL_MAX_MS ? SUP_POLL_MAX_MS : ms);
		return;
	case SUP_POLL_EXITINFO:
		if (job->pidfd != -1 &&
		    pidfd_exit_status(job->pidfd, &status) == 1) {
			run_set_exit(&job->run, status, NULL);
			sup_main_gone(sup, job);
			return;
		}
		if (++job->poll_tries < SUP_EXITINFO_TRIES &&
		    job->pidfd != -1) {
			sup_arm_poll(sup, job, SUP_POLL_EXITINFO, 20);
			return;
		}
		job->run.exited_ms = now_ms();
		util_strlcpy(job->run.error,
		    "exit status unknown: the process was adopted after a "
		    "schedd restart and nobody reaped it",
		    sizeof(job->run.error));
		sup_main_gone(sup, job);
		return;
	default:
		break;
	}
	job->poll_mode = SUP_POLL_NONE;
}

static void
sup_arm_poll(struct supervisor *sup, struct job *job, int mode, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (job->poll_ev == NULL)
		job->poll_ev = evtimer_new(sup->sd->base, sup_poll_cb, job);
	if (job->poll_mode != mode)
		job->poll_tries = 0;
	job->poll_mode = mode;
	job->poll_ms = ms;
	evtimer_add(job->poll_ev, &tv);
}

static void
sup_oom_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	uint64_t buf;
	ssize_t n;

	(void)what;
	do
		n = read(fd, &buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	if (sup_res_oom_poll(job->sup, job))
		sup_oom_record(job->sup, job);
}

/* Orphans */

/*
 * Whose orphan? The job whose newest run's session it carries, or else
 * the run that recorded it (the tracker records every member of a job's
 * cgroup, whatever its session). Then stored and announced; held while the
 * store cannot write. Returns -1 only when the store could not take it.
 */
static void
sup_orphan_record(struct supervisor *sup, struct sup_held *h)
{
	const struct proc_stat *ps = h->has_ps ? &h->ps : NULL;
	struct job *job = NULL, *j;
	struct store_event ev;
	struct serr err;
	struct run r;
	json_t *data;
	char *text = NULL;
	int64_t job_id, run = 0, run_id = 0;

	serr_clear(&err);
	if (ps != NULL && ps->session > 1 &&
	    (j = htab_get_int(&sup->by_session, ps->session)) != NULL &&
	    j->run.pid == ps->session && j->run.id != 0) {
		job = j;
		run = j->run.number;
		run_id = j->run.id;
	} else if (ps != NULL &&
		   store_process_owner(sup->st, h->pid, ps->starttime, &job_id,
		       &run, &run_id, &err) == 1)
		job = htab_get_int(&sup->by_id, job_id);
	memset(&r, 0, sizeof(r));
	r.exit_code = -1;
	run_set_exit(&r, h->status, NULL);
	data = r.signal != 0 ? json_pack("{s:i, s:s, s:s}", "pid", (int)h->pid,
				   "signal", util_signal_name(r.signal), "comm",
				   ps != NULL ? ps->comm : "")
			     : json_pack("{s:i, s:i, s:s}", "pid", (int)h->pid,
				   "exit_code", r.exit_code, "comm",
				   ps != NULL ? ps->comm : "");
	log_debug("reaped orphan %d (%s) of %s", (int)h->pid,
	    ps != NULL ? ps->comm : "?", job != NULL ? job->name : "no job");
	if (job == NULL)
		run = 0;
	if (store_begin(sup->st, &err) == -1)
		goto fail;
	if (job != NULL && ps != NULL &&
	    (store_process_insert(sup->st, run_id, h->pid, ps->starttime,
		 ps->ppid, ps->comm, NULL, now_ms(), &err) == -1 ||
		store_process_exit(sup->st, run_id, h->pid, ps->starttime,
		    r.exited_ms, r.exit_code, r.signal, &err) == -1))
		goto fail;
	if (sup_event_write(sup, &ev, job, run, "orphan", data, &text, &err) ==
	    -1) {
		data = NULL;
		goto fail;
	}
	data = NULL;
	if (store_commit(sup->st, &err) == -1)
		goto fail;
	sup_event_announce(sup, &ev);
	free(text);
	h->pid = 0; /* done */
	return;
fail:
	json_decref(data);
	free(text);
	store_rollback(sup->st);
	if (err.code == SERR_UNAVAILABLE) {
		sup_degrade(sup, &err);
		return;
	}
	log_warnx("orphan %d not stored: %s", (int)h->pid, err.message);
	h->pid = 0;
}

static void
sup_reaped(void *arg, pid_t pid, int status, const struct rusage *ru,
    const struct proc_stat *ps)
{
	struct supervisor *sup = arg;
	struct sup_held *h;
	struct job *job;

	if ((job = pid_find(sup, pid)) != NULL) {
		run_set_exit(&job->run, status, ru);
		sup_main_gone(sup, job);
		return;
	}
	h = xcalloc(1, sizeof(*h));
	h->pid = pid;
	h->status = status;
	if (ps != NULL) {
		h->ps = *ps;
		h->has_ps = 1;
	}
	if (TAILQ_EMPTY(&sup->held)) {
		sup_orphan_record(sup, h);
		if (h->pid == 0) {
			free(h);
			return;
		}
	}
	sup_hold(sup, h);
}

/*
 * The main process ended (its pidfd is readable). Our own child is
 * collected right here, that child and no other, and goes the way every
 * reaped main process goes (sup_reaped). Should SIGCHLD's path have reaped
 * it first, sup_main_gone freed this event and we are not called. An
 * adopted process is not our child: its status comes from the kernel once
 * its parent has reaped it (sup_poll_cb).
 */
static void
sup_pidfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct supervisor *sup = job->sup;

	(void)fd;
	(void)what;
	if (job->adopted) {
		event_del(job->pidfd_ev);
		sup_arm_poll(sup, job, SUP_POLL_EXITINFO, 0);
		return;
	}
	switch (reaper_reap_pid(job->run.pid)) {
	case 1:
		return; /* job may be freed by now */
	case 0:
		/*
		 * Ended, but not ours to collect yet: a tracer holds the
		 * zombie. Watching on would spin (the pidfd stays readable);
		 * SIGCHLD comes when the tracer lets go, and the reaper
		 * collects it.
		 */
		event_free(job->pidfd_ev);
		job->pidfd_ev = NULL;
		return;
	default:
		log_warn("%s: wait4 %d", job->name, (int)job->run.pid);
		break;
	}
	job->run.exited_ms = now_ms();
	util_strlcpy(job->run.error, "exit status unknown: reaped elsewhere",
	    sizeof(job->run.error));
	sup_main_gone(sup, job);
}

/* Watch job->pidfd: sup_pidfd_cb runs once the main process has ended. */
static void
sup_watch_pidfd(struct supervisor *sup, struct job *job)
{
	if (job->pidfd_ev != NULL)
		event_free(job->pidfd_ev);
	job->pidfd_ev =
	    event_new(sup->sd->base, job->pidfd, EV_READ, sup_pidfd_cb, job);
	if (job->pidfd_ev == NULL || event_add(job->pidfd_ev, NULL) == -1)
		log_warnx("%s: cannot watch the pidfd of %d", job->name,
		    (int)job->run.pid);
}

/* Loading and reconciling */

static int
sup_load_run(void *arg, const struct run *run)
{
	struct job *job = arg;

	job->run = *run;
	job->cpuset = run->cpus;
	job->cpuset_valid = run->cpus_valid;
	return (-1);
}

static int
sup_load_job(void *arg, const struct store_job *row)
{
	struct supervisor *sup = arg;
	struct job *job;
	struct serr err;
	int state;

	job = job_alloc();
	job->sup = sup;
	if (jobspec_from_text(row->spec, strlen(row->spec), &job->spec, &err) ==
	    -1) {
		log_warnx("job %" PRId64
			  " (%s): stored spec unreadable: %s%s%s",
		    row->id, row->name, err.field, err.field[0] ? ": " : "",
		    err.message);
		/* Keep the job visible and deletable with a minimal spec. */
		jobspec_free(&job->spec);
		job->spec.argv = xcalloc(2, sizeof(char *));
		job->spec.argv[0] = xstrdup("/bin/false");
		job->spec.argc = 1;
		job->spec.name = xstrdup(row->name);
	}
	job->id = row->id;
	util_strlcpy(job->name, row->name, sizeof(job->name));
	job->source = xstrdup(row->source);
	state = job_state_parse(row->state);
	sup_state_set(
	    sup, job, state == -1 ? JOB_FAILED : (enum job_state)state);
	job->restarts = row->restarts;
	job->retries = row->retries;
	job->created_ms = row->created_ms;
	job->updated_ms = row->updated_ms;
	if (row->reason != NULL)
		util_strlcpy(job->reason, row->reason, sizeof(job->reason));
	job->next_start_ms = row->next_start_ms;
	serr_clear(&err);
	if (store_run_list(sup->st, job->id, 1, sup_load_run, job, &err) == -1)
		log_warnx("%s: runs: %s", job->name, err.message);
	sup_job_link(sup, job);
	return (0);
}

/*
 * ACT_ADOPT: a run that was alive when the daemon last stopped. Still
 * alive: watched through a pidfd (its real exit status comes from the
 * kernel when it ends). Gone: its end is a fact like any other, with an
 * unknown status, and the restart policy applies as if it had been seen.
 */
static int
act_adopt(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	if (job->run.exited_ms == 0 && job->run.pid > 0 &&
	    procfs_alive(job->run.pid, job->run.pid_start) &&
	    (job->pidfd = sys_pidfd_open(job->run.pid)) != -1) {
		job->adopted = 1;
		pid_add(sup, job->run.pid, job);
		sup_watch_pidfd(sup, job);
		log_info(
		    "%s: adopted running pid %d", job->name, (int)job->run.pid);
		if (job->state == JOB_STOPPING)
			sup_arm_timer(sup, job, job->spec.stop.timeout_ms);
		if (job->state == JOB_STARTING)
			return (sup_change(sup, job, JOB_RUNNING, NULL,
			    RUN_NONE, "running",
			    json_pack("{s:i}", "pid", (int)job->run.pid), err));
		return (0);
	}
	if (job->run.exited_ms == 0)
		job->run.exited_ms = now_ms();
	if (job->run.error[0] == '\0' && job->run.exit_code < 0 &&
	    job->run.signal == 0)
		util_strlcpy(job->run.error,
		    "exit status unknown: the process ended while schedd was "
		    "not running",
		    sizeof(job->run.error));
	log_info("%s: pid %d ended while schedd was not running", job->name,
	    (int)job->run.pid);
	if (job->run.id == 0) {
		/* No run was ever stored: nothing ran. */
		return (
		    sup_change(sup, job, JOB_FAILED, NULL, RUN_NONE, "failed",
			json_pack("{s:s}", "error", job->run.error), err));
	}
	/* Its grant, what is left of its tree: as if it had been seen. */
	sup_main_gone(sup, job);
	return (0);
}

/* ACT_REARM: the backoff timer again, for what is left of it. */
static int
act_rearm(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	int64_t left = job->next_start_ms - now_ms();

	(void)arg;
	(void)err;
	sup_arm_timer(sup, job, left > 0 ? (uint32_t)left : 0);
	return (0);
}

/* ACT_REQUEUE: still queued, in its place (the queue is in id order). */
static int
act_requeue(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)job;
	(void)arg;
	(void)err;
	sup_queue_kick(sup);
	return (0);
}

/* Every stored job meets the world, through the table. */
static void
sup_reconcile(struct supervisor *sup)
{
	struct job *job, *tj;
	struct serr err;

	TAILQ_FOREACH_SAFE (job, &sup->jobs, entry, tj) {
		serr_clear(&err);
		if (job_transition(job->state, JEV_RECONCILE) == ACT_FORBIDDEN)
			continue;
		if (sup_dispatch(sup, job, JEV_RECONCILE, NULL, &err) == -1 &&
		    err.code == SERR_UNAVAILABLE)
			sup_hold_event(sup, job, JEV_RECONCILE);
	}
}

struct supervisor *
supervisor_new(struct schedd *sd, struct serr *err)
{
	struct supervisor *sup;

	sup = xcalloc(1, sizeof(*sup));
	sup->sd = sd;
	sup->st = sd->store;
	sup->events_until_prune = 1;
	TAILQ_INIT(&sup->jobs);
	TAILQ_INIT(&sup->queued);
	TAILQ_INIT(&sup->held);
	htab_init(&sup->by_id);
	htab_init(&sup->by_name);
	htab_init(&sup->by_pid);
	htab_init(&sup->by_session);
	if (store_job_load(sup->st, sup_load_job, sup, err) == -1) {
		supervisor_free(sup);
		return (NULL);
	}
	return (sup);
}

int
supervisor_start(struct supervisor *sup, struct serr *err)
{
	struct reaper_ops ops;

	if (snprintf(sup->reserve_path, sizeof(sup->reserve_path),
		"%s/schedd.reserve",
		sup->sd->conf->state_dir) >= (int)sizeof(sup->reserve_path))
		sup->reserve_path[0] = '\0';
	sup_reserve(sup);
	if (sup_res_init(sup, err) == -1)
		return (-1);
	ops.known = supervisor_pid_known;
	ops.reaped = sup_reaped;
	ops.arg = sup;
	if (reaper_init(sup->sd->base, &ops) == -1) {
		serr_set(
		    err, SERR_INTERNAL, NULL, "reaper: %s", strerror(errno));
		return (-1);
	}
	sup_res_reconcile(sup);
	sup_reconcile(sup);
	sup_res_track_start(sup);
	/* Children that ended before the handler was in place. */
	reaper_reap();
	return (0);
}

void
supervisor_free(struct supervisor *sup)
{
	struct sup_held *h;
	struct job *job;

	if (sup == NULL)
		return;
	if (sup->nheld > 0)
		log_warnx(
		    "%zu facts could not be stored before the end", sup->nheld);
	while ((h = TAILQ_FIRST(&sup->held)) != NULL) {
		TAILQ_REMOVE(&sup->held, h, entry);
		free(h);
	}
	if (sup->retry_ev != NULL)
		event_free(sup->retry_ev);
	if (sup->res != NULL)
		reaper_free();
	while ((job = TAILQ_FIRST(&sup->jobs)) != NULL) {
		TAILQ_REMOVE(&sup->jobs, job, entry);
		job_release(sup, job);
	}
	htab_clear(&sup->by_id);
	htab_clear(&sup->by_name);
	htab_clear(&sup->by_pid);
	htab_clear(&sup->by_session);
	/* Every job is stopped by now: no job cgroup may stay behind. */
	sup_res_free(sup);
	free(sup);
}

int
supervisor_runs(struct supervisor *sup, const struct job *job, int limit,
    int (*cb)(void *, const struct run *), void *arg, struct serr *err)
{
	return (store_run_list(sup->st, job->id, limit, cb, arg, err));
}

int
supervisor_events_since(struct supervisor *sup, int64_t since, int limit,
    int (*cb)(void *, const struct store_event *), void *arg, struct serr *err)
{
	return (store_event_since(sup->st, since, limit, cb, arg, err));
}

int
supervisor_event_bounds(
    struct supervisor *sup, int64_t *oldest, int64_t *last, struct serr *err)
{
	return (store_event_bounds(sup->st, oldest, last, err));
}

/* Shutdown */

static void
sup_shutdown_fire(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;

	(void)fd;
	(void)what;
	if (sup->shutdown_done != NULL) {
		void (*done)(void *) = sup->shutdown_done;

		sup->shutdown_done = NULL;
		done(sup->shutdown_arg);
	}
}

/* Something of the job's run is alive in the world. */
static int
job_live(const struct job *job)
{
	return (
	    (job->run.pid != 0 && job->run.exited_ms == 0) || job->draining);
}

/*
 * One step of the shutdown: stop what nothing running depends on (so jobs
 * stop in reverse start order), and finish when nothing runs. While the
 * store cannot write, what the world does decides: a job whose processes
 * are gone is done, stored or not.
 */
static void
sup_check_shutdown(struct supervisor *sup)
{
	enum sup_stop_reason why = SUP_STOP_SHUTDOWN;
	struct job *job, *tj;
	struct serr err;
	int busy = 0;

	if (!sup->shutting_down || sup->shutdown_done == NULL)
		return;
	TAILQ_FOREACH_SAFE (job, &sup->jobs, entry, tj) {
		serr_clear(&err);
		switch (job->state) {
		case JOB_QUEUED:
		case JOB_BACKOFF:
			if (job->timer != NULL)
				evtimer_del(job->timer);
			sup_dispatch(sup, job, JEV_STOP, &why, &err);
			break;
		case JOB_RUNNING:
		case JOB_PAUSED:
			if (!job_live(job))
				break;
			busy = 1;
			if (!sup_has_running_dependents(sup, job))
				sup_dispatch(sup, job, JEV_STOP, &why, &err);
			break;
		case JOB_STOPPING:
		case JOB_STARTING:
			if (job_live(job))
				busy = 1;
			break;
		default:
			break;
		}
	}
	if (busy)
		return;
	/* Not from inside the callback chain that got us here. */
	event_base_once(
	    sup->sd->base, -1, EV_TIMEOUT, sup_shutdown_fire, sup, NULL);
}

void
supervisor_shutdown(struct supervisor *sup, void (*done)(void *), void *arg)
{
	if (sup->shutting_down)
		return;
	sup->shutting_down = 1;
	sup->shutdown_done = done;
	sup->shutdown_arg = arg;
	sup_check_shutdown(sup);
}

/* Requests */

int
supervisor_job_start(struct supervisor *sup, struct job *job, struct serr *err)
{
	if (sup->shutting_down) {
		serr_set(
		    err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		return (-1);
	}
	if (job_transition(job->state, JEV_START) == ACT_FORBIDDEN)
		return (sup_conflict(job, JEV_START, err));
	if (sup_res_check(sup, &job->spec, err) == -1 ||
	    sup_writable(sup, err) == -1)
		return (-1);
	job->retries = 0;
	return (sup_dispatch(sup, job, JEV_START, NULL, err));
}

int
supervisor_job_stop(struct supervisor *sup, struct job *job, struct serr *err)
{
	enum sup_stop_reason why = SUP_STOP_REQUEST;

	return (sup_request(sup, job, JEV_STOP, &why, err));
}

int
supervisor_job_restart(
    struct supervisor *sup, struct job *job, struct serr *err)
{
	if (sup->shutting_down) {
		serr_set(
		    err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		return (-1);
	}
	if (sup_res_check(sup, &job->spec, err) == -1)
		return (-1);
	if (job_transition(job->state, JEV_RESTART) == ACT_SPAWN)
		job->retries = 0;
	return (sup_request(sup, job, JEV_RESTART, NULL, err));
}

int
supervisor_job_kill(
    struct supervisor *sup, struct job *job, int sig, struct serr *err)
{
	return (sup_request(sup, job, JEV_KILL, &sig, err));
}

int
supervisor_job_delete(
    struct supervisor *sup, struct job *job, int force, struct serr *err)
{
	enum sup_stop_reason why = SUP_STOP_DELETE;

	if (job_transition(job->state, JEV_DELETE) != ACT_FORBIDDEN)
		return (sup_request(sup, job, JEV_DELETE, NULL, err));
	if (!force)
		return (sup_conflict(job, JEV_DELETE, err));
	job->delete_pending = 1;
	if (sup_request(sup, job, JEV_STOP, &why, err) == -1) {
		job->delete_pending = 0;
		return (-1);
	}
	/* A queued or backed-off job is stopped already: remove it now. */
	if (job_transition(job->state, JEV_DELETE) != ACT_FORBIDDEN)
		return (sup_dispatch(sup, job, JEV_DELETE, NULL, err) == 0
			    ? 0
			    : -1);
	return (1);
}

int
supervisor_job_pause(struct supervisor *sup, struct job *job, struct serr *err)
{
	return (sup_request(sup, job, JEV_PAUSE, NULL, err));
}

int
supervisor_job_resume(struct supervisor *sup, struct job *job, struct serr *err)
{
	return (sup_request(sup, job, JEV_RESUME, NULL, err));
}

/* The actions of job.c's table, by name. */
static const sup_action sup_actions[ACT_NACTIONS] = {
    [ACT_SPAWN] = act_spawn,
    [ACT_RETRY] = act_retry,
    [ACT_RESTART] = act_restart,
    [ACT_STOP] = act_stop,
    [ACT_STOP_IDLE] = act_stop_idle,
    [ACT_JOIN] = act_join,
    [ACT_JOIN_RESTART] = act_join_restart,
    [ACT_SIGNAL] = act_signal,
    [ACT_KILL_TREE] = act_kill_tree,
    [ACT_EXITED] = act_exited,
    [ACT_STOP_EXIT] = act_stop_exit,
    [ACT_STOPPED] = act_stopped,
    [ACT_RECORD] = act_record,
    [ACT_POLICY] = act_policy,
    [ACT_REMOVE] = act_remove,
    [ACT_FREEZE] = act_freeze,
    [ACT_THAW] = act_thaw,
    [ACT_ADOPT] = act_adopt,
    [ACT_REARM] = act_rearm,
    [ACT_REQUEUE] = act_requeue,
};
