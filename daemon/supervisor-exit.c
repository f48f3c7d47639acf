/* SPDX-License-Identifier: ISC */
/*
 * How runs end, and what comes after: a main process's exit (reaped, or
 * seen through the pidfd of an adopted process, whose status the kernel
 * keeps), a stopping tree drained by a timer, the restart policy, orphans
 * attributed to their job, and the start-up reconcile that lets every
 * stored job meet the world through the transition table. The actions here
 * are cells of job.c's table; sup_dispatch() is their only caller.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/schedd.h"
#include "daemon/job.h"
#include "daemon/joblog.h"
#include "daemon/log.h"
#include "daemon/procfs.h"
#include "daemon/reaper.h"
#include "daemon/store.h"
#include "daemon/supervisor.h"
#include "daemon/supervisor-int.h"
#include "daemon/xmalloc.h"
#include "proto/util.h"

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
	return (json_pack("{s:s}", "error", job_text(run->error)));
}

/* A short description of how the last run ended, for reasons. */
static void
run_describe(const struct run *run, char *buf, size_t len)
{
	if (run->error != NULL)
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
int
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
	failed = job->run.error != NULL || job->run.signal != 0 ||
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
	if (job->delete_pending) {
		sup_fact(sup, job, JEV_DELETE);
	} else if (job->restart_pending) {
		job->restart_pending = 0;
		if (!sup->shutting_down) {
			job->retries = 0;
			/* Held, like any fact, if the store cannot take it. */
			sup_fact(sup, job, JEV_START);
		}
	} else if (!stopped)
		sup_fact(sup, job, JEV_POLICY);
	sup_check_shutdown(sup);
}

/* ACT_EXITED: a run that ended by itself is stored, then what comes next. */
int
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
int
act_stopped(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	job->draining = job->killing = 0;
	if (job->timer != NULL)
		evtimer_del(job->timer);
	sup_res_run_ended(sup, job);
	sup_res_stop_forget(job);
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
int
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

	if (job->tree_timer == NULL) {
		job->tree_timer = sup_evtimer_new(sup, sup_tree_timer_cb, job);
	}
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
	/* At shutdown with the store failing the exit may be held: what the
	 * world did decides whether the shutdown can finish. */
	sup_check_shutdown(sup);
}

/* The job's poll: a stopping run whose main process is gone (whether the
 * tree is, and what the stop signal missed), or an adopted process's exit
 * status that the kernel has not given yet. */
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
		/* Only once the main process is gone: a poll per stopping job
		 * from the stop on made a shutdown of 10,000 jobs slower. */
		if (!job->draining || job->state != JOB_STOPPING)
			break;
		if (sup_res_tree_gone(sup, job)) {
			job->poll_mode = SUP_POLL_NONE;
			sup_fact(sup, job, JEV_DRAINED);
			return;
		}
		if (job->killing)
			sup_res_signal(sup, job, SIGKILL);
		else
			sup_res_stop_catchup(sup, job, job->spec.stop.signal);
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
		job_text_set(&job->run.error,
		    "exit status unknown: the process was adopted after a "
		    "schedd restart and nobody reaped it");
		sup_main_gone(sup, job);
		return;
	default:
		break;
	}
	job->poll_mode = SUP_POLL_NONE;
}

void
sup_arm_poll(struct supervisor *sup, struct job *job, int mode, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (job->poll_ev == NULL) {
		job->poll_ev = sup_evtimer_new(sup, sup_poll_cb, job);
	}
	if (job->poll_mode != mode)
		job->poll_tries = 0;
	job->poll_mode = mode;
	job->poll_ms = ms;
	evtimer_add(job->poll_ev, &tv);
}

void
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
void
sup_orphan_record(struct supervisor *sup, struct sup_held *h)
{
	const struct proc_stat *ps = h->has_ps ? &h->ps : NULL;
	struct job *job = NULL, *j;
	struct event_rec ev;
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

void
sup_reaped(void *arg, pid_t pid, int status, const struct rusage *ru,
    const struct proc_stat *ps)
{
	struct supervisor *sup = arg;
	struct sup_held *h;
	struct job *job;

	if (sup_health_reaped(sup, pid, status))
		return;
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
	job_text_set(&job->run.error, "exit status unknown: reaped elsewhere");
	sup_main_gone(sup, job);
}

/* Watch job->pidfd: sup_pidfd_cb runs once the main process has ended. */
void
sup_watch_pidfd(struct supervisor *sup, struct job *job)
{
	if (job->pidfd_ev != NULL)
		event_free(job->pidfd_ev);
	/*
	 * Edge-triggered: a pidfd stays readable until its callback runs,
	 * and level-triggered every epoll_wait in between reported it again
	 * (10,000 exits at once: each turn polled thousands of them).
	 */
	job->pidfd_ev = event_new(
	    sup->sd->base, job->pidfd, EV_READ | EV_ET, sup_pidfd_cb, job);
	if (job->pidfd_ev != NULL)
		event_priority_set(job->pidfd_ev, SCHEDD_PRIO_WORK);
	if (job->pidfd_ev == NULL || event_add(job->pidfd_ev, NULL) == -1)
		log_warnx("%s: cannot watch the pidfd of %d", job->name,
		    (int)job->run.pid);
}

/* Loading and reconciling */

static int
sup_load_run(void *arg, const struct run *run)
{
	struct job *job = arg;
	struct cpulist cl;
	const char *why;

	/* The row lends its strings: the job's run keeps copies. */
	job->run = *run;
	job->run.error = NULL;
	job_text_set(&job->run.error, run->error);
	job->run.cpus = run->cpus != NULL ? xstrdup(run->cpus) : NULL;
	job->cpuset_valid =
	    run->cpus != NULL && cpulist_parse(run->cpus, &cl, 1, &why) == 0;
	if (job->cpuset_valid)
		sup_cpuset_set(job, &cl);
	return (-1);
}

int
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
	/* The job's name is its spec's: the row's, should they differ. */
	if (job->spec.name == NULL || strcmp(job->spec.name, row->name) != 0) {
		free(job->spec.name);
		job->spec.name = xstrdup(row->name);
	}
	job->name = job->spec.name;
	job->source = job_source_dup(row->source);
	state = job_state_parse(row->state);
	sup_state_set(
	    sup, job, state == -1 ? JOB_FAILED : (enum job_state)state);
	job->restarts = row->restarts;
	job->retries = row->retries;
	job->owner_uid = (uid_t)row->owner_uid;
	job->actor_uid = row->actor_uid;
	job->acted_ms = row->acted_ms;
	job->sched_next_ms = row->sched_next_ms;
	job->sched_skipped = row->sched_skipped;
	job->created_ms = row->created_ms;
	job->updated_ms = row->updated_ms;
	job_text_set(&job->reason, row->reason);
	job->next_start_ms = row->next_start_ms;
	serr_clear(&err);
	if (store_run_list(sup->st, job->id, 1, sup_load_run, job, &err) == -1)
		log_warnx("%s: runs: %s", job->name, err.message);
	sup_job_link(sup, job);
	sup_prune_output(sup, job);
	return (0);
}

/*
 * ACT_ADOPT: a run that was alive when the daemon last stopped. Still
 * alive: watched through a pidfd (its real exit status comes from the
 * kernel when it ends). Gone: its end is a fact like any other, with an
 * unknown status, and the restart policy applies as if it had been seen.
 */
int
act_adopt(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	if (job->pidfd != -1)
		return (0); /* adopted already (a reconcile held, then again) */
	if (job->run.exited_ms == 0 && job->run.pid > 0 &&
	    procfs_alive(job->run.pid, job->run.pid_start) &&
	    (job->pidfd = sys_pidfd_open(job->run.pid)) != -1) {
		job->adopted = 1;
		pid_add(sup, job->run.pid, job);
		/* Its output goes on where the last daemon left it. */
		joblog_adopt(job->log, job->run.pid, job->run.number);
		sup_watch_pidfd(sup, job);
		log_info(
		    "%s: adopted running pid %d", job->name, (int)job->run.pid);
		/* Its waiter, if alive, finds the new daemon within its
		 * retry window; if not, the run stops. */
		sup_unwaited_arm(sup, job);
		if (job->state == JOB_STOPPING)
			sup_arm_timer(sup, job, job->spec.stop.timeout_ms);
		/* Starting without a readiness setting: a spawn whose
		 * outcome the old daemon had no time to store. */
		if (job->state == JOB_STARTING && !job->spec.ready.set)
			return (sup_change(sup, job, JOB_RUNNING, NULL,
			    RUN_NONE, "running",
			    json_pack("{s:i}", "pid", (int)job->run.pid), err));
		sup_ready_adopted(sup, job);
		return (0);
	}
	if (job->run.exited_ms == 0)
		job->run.exited_ms = now_ms();
	if (job->run.error == NULL && job->run.exit_code < 0 &&
	    job->run.signal == 0)
		job_text_set(&job->run.error,
		    "exit status unknown: the process ended while schedd was "
		    "not running");
	log_info("%s: pid %d ended while schedd was not running", job->name,
	    (int)job->run.pid);
	if (job->run.id == 0) {
		/* No run was ever stored: nothing ran. */
		return (
		    sup_change(sup, job, JOB_FAILED, NULL, RUN_NONE, "failed",
			json_pack("{s:s}", "error", job_text(job->run.error)),
			err));
	}
	/* A stop under way: what is left of the tree gets its timeout (it
	 * had the stop signal already), then SIGKILL. */
	if (job->state == JOB_STOPPING) {
		sup_res_snapshot(sup, job);
		sup_arm_timer(sup, job, job->spec.stop.timeout_ms);
	}
	/* Its grant, what is left of its tree: as if it had been seen. */
	sup_main_gone(sup, job);
	return (0);
}

/* ACT_REARM: the backoff timer again, for what is left of it. */
int
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
int
act_requeue(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)job;
	(void)arg;
	(void)err;
	sup_queue_kick(sup);
	return (0);
}

/*
 * ACT_BEGIN: a job created to start (the default) that never ran: the
 * daemon died between storing it and starting it. The start it was
 * promised happens now.
 */
int
act_begin(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	if (!job->spec.start || job->spec.schedule != NULL ||
	    job->run.number != 0)
		return (0);
	log_info("%s: created but never started: starting it", job->name);
	return (sup_dispatch(sup, job, JEV_START, arg, err));
}

/* Every stored job meets the world, through the table. */
void
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
