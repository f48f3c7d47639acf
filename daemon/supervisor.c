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
#include "proto/jsonout.h"
#include "proto/util.h"

int
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

int
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

void
pid_add(struct supervisor *sup, pid_t pid, struct job *job)
{
	htab_put_int(&sup->by_pid, pid, job);
}

struct job *
pid_find(struct supervisor *sup, pid_t pid)
{
	return (htab_get_int(&sup->by_pid, pid));
}

void
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
void
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

void
session_del(struct supervisor *sup, struct job *job)
{
	if (job->run.pid > 0 &&
	    htab_get_int(&sup->by_session, job->run.pid) == job)
		htab_del_int(&sup->by_session, job->run.pid);
}

/* A new job goes at the end of the list (ids only grow) and into the
 * tables; job_release takes it out of them. */
void
sup_job_link(struct supervisor *sup, struct job *job)
{
	TAILQ_INSERT_TAIL(&sup->jobs, job, entry);
	sup->njobs++;
	htab_put_int(&sup->by_id, job->id, job);
	htab_put_str(&sup->by_name, job->name, job);
	session_add(sup, job);
	if (job->log == NULL)
		job->log = joblog_new(job->id, &job->run.output_dropped);
	joblog_set_limits(
	    job->log, (int64_t)job->spec.logs.max_bytes, job->spec.logs.keep);
	joblog_set_direct(job->log, job->spec.logs.direct);
}

/*
 * The in-memory state, set by sup_change() after a commit and by loading:
 * the queued list holds exactly the queued jobs. It stays in id order, the
 * order of the job list, which is the order queued jobs start in: a newly
 * queued job is usually the newest, so the walk back from the tail is
 * short.
 */
void
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
	sup_ready_state(sup, job, to);
	sup_health_state(sup, job, to);
}

int
supervisor_pid_known(void *arg, pid_t pid)
{
	return (
	    pid_find(arg, pid) != NULL ||
	    htab_get_int(&((struct supervisor *)arg)->by_check, pid) != NULL);
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

void
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

struct job *
job_alloc(void)
{
	struct job *job;

	job = xcalloc(1, sizeof(*job));
	jobspec_init(&job->spec);
	job->name = "";
	job->pidfd = -1;
	job->oom_fd = -1;
	job->ready_fd = -1;
	job->actor_uid = -1;
	job->run.exit_code = -1;
	job->run.user_cpu_ms = job->run.system_cpu_ms = -1;
	job->run.max_rss_kb = -1;
	htab_init(&job->seen);
	TAILQ_INIT(&job->watches);
	sup_cpuset_drop(job); /* the empty set, shared */
	return (job);
}

void
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
	if (job->unwaited_ev != NULL)
		event_free(job->unwaited_ev);
	if (job->tree_timer != NULL)
		event_free(job->tree_timer);
	if (job->poll_ev != NULL)
		event_free(job->poll_ev);
	sup_res_stop_forget(job);
	free(job->usage_end);
	job_text_clear(&job->reason);
	job_text_clear(&job->status_text);
	job_text_clear(&job->health_why);
	job_text_clear(&job->run.error);
	free(job->run.cpus);
	sup_cpuset_drop(job);
	htab_clear(&job->seen);
	if (job->oom_ev != NULL)
		event_free(job->oom_ev);
	if (job->oom_fd != -1)
		close(job->oom_fd);
	job_close_pidfd(job);
	sup_ready_release(sup, job);
	sup_health_release(sup, job);
	sup_sched_release(job);
	joblog_free(job->log);
	sup_notify(job, 1);
	jobspec_free(&job->spec);
	sup_spec_text_drop(job);
	job_source_free(job->source);
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

/* The spec's text in braces (*len bytes): supervisor_spec_text's. */
static char *
sup_spec_text_make(const struct job *job, size_t *len)
{
	json_t *spec;
	char *text;

	if ((spec = jobspec_to_json(&job->spec)) == NULL)
		return (NULL);
	json_object_set_new(spec, "name", json_string(job->name));
	text = json_out_text(spec, 0);
	json_decref(spec);
	if (text != NULL)
		*len = strlen(text);
	return (text);
}

/* Keep text (made by sup_spec_text_make) as the job's, the least recently
 * used one dropped when SUP_SPEC_TEXTS are kept. */
static void
sup_spec_text_keep(struct job *job, char *text, size_t len)
{
	struct supervisor *sup = job->sup;

	sup_spec_text_drop(job);
	if (sup->nspec_texts >= SUP_SPEC_TEXTS)
		sup_spec_text_drop(TAILQ_FIRST(&sup->spec_lru));
	job->spec_text = text;
	job->spec_text_len = len;
	TAILQ_INSERT_TAIL(&sup->spec_lru, job, spec_lru);
	sup->nspec_texts++;
}

const char *
supervisor_spec_text(struct job *job, size_t *len)
{
	struct supervisor *sup = job->sup;
	char *text;
	size_t n;

	if (job->spec_text != NULL) {
		TAILQ_REMOVE(&sup->spec_lru, job, spec_lru);
		TAILQ_INSERT_TAIL(&sup->spec_lru, job, spec_lru);
	} else if ((text = sup_spec_text_make(job, &n)) != NULL && n >= 2)
		sup_spec_text_keep(job, text, n);
	else {
		free(text);
		return (NULL);
	}
	*len = job->spec_text_len - 2;
	return (job->spec_text + 1);
}

void
sup_spec_text_drop(struct job *job)
{
	struct supervisor *sup = job->sup;

	if (job->spec_text == NULL)
		return;
	TAILQ_REMOVE(&sup->spec_lru, job, spec_lru);
	sup->nspec_texts--;
	free(job->spec_text);
	job->spec_text = NULL;
	job->spec_text_len = 0;
}

int
supervisor_job_settled(const struct job *job)
{
	return (!job->restart_pending && job->state != JOB_STOPPING &&
		job->state != JOB_STARTING);
}

int
supervisor_job_leaving(const struct job *job)
{
	return (job->delete_pending);
}

void
supervisor_set_sink(struct supervisor *sup,
    void (*sink)(void *, const struct event_rec *), void *arg)
{
	sup->sink = sink;
	sup->sink_arg = arg;
}

/* Dispatch */

typedef int (*sup_action)(
    struct supervisor *, struct job *, const void *, struct serr *);

int
sup_conflict(const struct job *job, enum job_event ev, struct serr *err)
{
	serr_set(err, SERR_CONFLICT, NULL, "cannot %s job %s: it is %s",
	    job_event_name(ev), job->name, job_state_name(job->state));
	return (-1);
}

static const sup_action sup_actions[ACT_NACTIONS];
static void sup_stop_world(struct supervisor *, struct job *, int);

int
sup_dispatch(struct supervisor *sup, struct job *job, enum job_event ev,
    const void *arg, struct serr *err)
{
	enum job_action act = job_transition(job->state, ev);

	if (act == ACT_FORBIDDEN || sup_actions[act] == NULL)
		return (sup_conflict(job, ev, err));
	return (sup_actions[act](sup, job, arg, err));
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
	struct event_rec ev;
	struct job *job;
	struct serr serr;
	char *text = NULL, *etext = NULL;
	char name[JOBSPEC_NAME_MAX + 1];
	size_t text_len = 0;
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
	if (job->spec.name == NULL) {
		sup_name_generate(sup, spec->argv[0], id, name, sizeof(name));
		job->spec.name = xstrdup(name);
	}
	job->name = job->spec.name;
	job->source = job_source_dup(source);
	job->state = JOB_CREATED;
	job->created_ms = job->updated_ms = now_ms();
	/* Job files are root's, whoever asked for the reload. */
	job->owner_uid =
	    sup->actor.set && strcmp(source, "api") == 0 ? sup->actor.uid : 0;
	job->actor_uid = sup->actor.set ? (int64_t)sup->actor.uid : -1;
	job->acted_ms = sup->actor.set ? job->created_ms : 0;

	/* The row's text is the answers' (supervisor_spec_text). */
	if ((text = sup_spec_text_make(job, &text_len)) == NULL) {
		serr_set(err, SERR_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	if (store_begin(sup->st, err) == -1 ||
	    store_job_insert(sup->st, job->id, job->name, job->source, text,
		job_state_name(job->state), job->created_ms, job->owner_uid,
		job->actor_uid, err) == -1 ||
	    sup_event_write(sup, &ev, job, 0, "created",
		json_pack("{s:s}", "source", source), &etext, err) == -1 ||
	    store_commit(sup->st, err) == -1) {
		store_rollback(sup->st);
		if (err->code == SERR_UNAVAILABLE)
			sup_degrade(sup, err);
		goto fail;
	}
	sup_spec_text_keep(job, text, text_len);
	sup_job_link(sup, job);
	notify_status("%zu jobs", sup->njobs);
	log_info(
	    "%s: created (id %" PRId64 ", %s)", job->name, job->id, source);
	sup_event_announce(sup, &ev);
	free(etext);
	*out = job;
	/* A scheduled job starts at its ticks. */
	if (job->spec.schedule != NULL)
		sup_sched_job(sup, job, 0);
	else if (job->spec.start) {
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

char **
sup_build_env(const struct job *job, const struct spawn_creds *creds,
    const char *default_path, const char **search)
{
	const struct job_spec *s = &job->spec;
	char **envp;
	size_t i, n = 0;
	int has_path = 0, has_home = 0, has_user = 0, has_logname = 0;

	/* PATH, HOME, USER, LOGNAME; NOTIFY_SOCKET, WATCHDOG_USEC; NULL. */
	envp = xcalloc(s->nenv + 7, sizeof(*envp));
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

void
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
	job_text_clear(&run->error);
	free(run->cpus);
	memset(run, 0, sizeof(*run));
	run->number = number;
	run->started_ms = now_ms();
	run->exit_code = -1;
	run->user_cpu_ms = run->system_cpu_ms = run->max_rss_kb = -1;
}

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
	/* A run that will say when it is ready is stored as starting. */
	if (job->run.pid != 0 && job->spec.ready.set) {
		if (sup_change(sup, job, JOB_STARTING, NULL, RUN_BEGIN,
			"starting",
			json_pack("{s:i}", "pid", (int)job->run.pid),
			err) == -1)
			return (-1);
		sup_ready_recorded(sup, job);
		return (0);
	}
	if (job->run.pid != 0)
		return (sup_change(sup, job, JOB_RUNNING, NULL, RUN_BEGIN,
		    "running", json_pack("{s:i}", "pid", (int)job->run.pid),
		    err));
	if (sup_change(sup, job, JOB_FAILED, NULL, RUN_BEGIN, "failed",
		json_pack("{s:s}", "error", job_text(job->run.error)),
		err) == -1)
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
 * Output to the journal, when the job (or else the config) asks for it and
 * there is one: 1 with the two fds; 0 for files.
 */
static int
sup_journal_open(
    struct supervisor *sup, const struct job *job, int *out_fd, int *err_fd)
{
	int want = job->spec.logs.journal == JOBSPEC_JOURNAL_DEFAULT
		       ? sup->sd->conf->logs_journal
		       : job->spec.logs.journal == JOBSPEC_JOURNAL_YES;

	if (!want)
		return (0);
	if (joblog_journal_open(job->name, out_fd, err_fd) == 0)
		return (1);
	log_warnx("%s: no journal (%s): output goes to files", job->name,
	    strerror(errno));
	return (0);
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
	char path[PATH_MAX], **envp = NULL, why[RUN_ERROR_MAX], cpus[4096];
	const char *search;
	int out_fd = -1, err_fd = -1, ready_fd = -1, nenv, rc;
	pid_t pid;
	uint64_t start = 0;

	(void)arg;
	if (sup->shutting_down) {
		serr_set(
		    err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		return (-1);
	}
	if (sup_refuse_degraded(sup, err) == -1)
		return (-1);
	/* Leftovers of the last run must not share the new run's cgroup. */
	if (sup_res_nprocs(sup, job) > 0)
		sup_res_signal(sup, job, SIGKILL);
	serr_clear(&serr);
	creds.more = NULL;
	sr.retry_ms = 0;
	rc = sup_deps_running(sup, job, why, sizeof(why))
		 ? sup_res_prepare(sup, job, &sr, why, sizeof(why), &serr)
		 : 1;
	if (rc == 1) {
		if (sr.retry_ms > 0)
			sup_queue_kick_in(sup, sr.retry_ms);
		if (job->state == JOB_QUEUED &&
		    strcmp(why, job_text(job->reason)) == 0)
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
	if (rc == 0 && job->cpuset_valid &&
	    cpulist_format(job->cpuset, cpus, sizeof(cpus)) == 0)
		job->run.cpus = xstrdup(cpus);
	if (rc == 0)
		sup_drift_placed(sup, job);
	job_text_clear(&job->reason);
	job->next_start_ms = 0;
	job->draining = job->killing = job->stop_unrecorded = 0;
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
	for (nenv = 0; envp[nenv] != NULL; nenv++)
		;
	rc = sup_ready_prepare(sup, job, envp, &nenv, &ready_fd, &serr);
	envp[nenv] = NULL;
	if (rc == -1)
		goto failed;
	if (spawn_resolve_path(job->spec.argv[0], search, path, sizeof(path)) ==
	    -1) {
		serr_set(&serr, SERR_UNSATISFIABLE, "argv", "%s: path too long",
		    job->spec.argv[0]);
		goto failed;
	}
	joblog_set_limits(
	    job->log, (int64_t)job->spec.logs.max_bytes, job->spec.logs.keep);
	joblog_set_direct(job->log, job->spec.logs.direct);
	if (!sup_journal_open(sup, job, &out_fd, &err_fd) &&
	    joblog_run_begin(
		job->log, job->run.number, &out_fd, &err_fd, &serr) == -1)
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
	req.extra_fd = ready_fd;
	req.extra_fd_num = ready_fd != -1 ? job->spec.ready.fd : 0;
	if (spawn_start_at(&req, &pid, &start, &serr) == -1)
		goto failed;
	sup->counters.spawns++;
	sup_res_spawn_done(sup, job, &sr);
	close(out_fd);
	close(err_fd);
	sup_free_env(envp);
	spawn_creds_free(&creds);
	sup_res_started(sup, job, sup_oom_cb);

	job->run.pid = pid;
	/* Its identity: (pid, starttime), from the clock when it can be. */
	job->run.pid_start = start;
	if (start == 0 && procfs_stat(pid, &ps) == 0)
		job->run.pid_start = ps.starttime;
	job->adopted = 0;
	sup_ready_spawned(sup, job, ready_fd);
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
	sup_ready_spawned(sup, job, ready_fd);
	sup_free_env(envp);
	spawn_creds_free(&creds);
	sup_res_spawn_done(sup, job, &sr);
	sup_res_run_ended(sup, job);
	job_text_set(&job->run.error, serr.message);
	job->run.exited_ms = now_ms();
	sup->counters.spawn_failures++;
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
	if (act_spawn(sup, job, arg, err) == 0) {
		sup->counters.restarts++;
		return (0);
	}
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
int
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

	struct serr err;

	(void)fd;
	(void)what;
	if (job->state == JOB_STOPPING) {
		/* Nothing to store: not held behind facts that are. */
		serr_clear(&err);
		sup_dispatch(job->sup, job, JEV_TIMEOUT, NULL, &err);
	} else if (job->stop_unrecorded) {
		/* A stop at shutdown the store could not take: the world
		 * comes first. */
		job->killing = 1;
		if (sup_signal(job, SIGKILL) == -1 && errno != ESRCH)
			log_warn("%s: SIGKILL", job->name);
	} else
		sup_fact(job->sup, job, JEV_RETRY);
}

void
sup_arm_timer(struct supervisor *sup, struct job *job, uint32_t ms)
{
	struct timeval tv;

	if (job->timer == NULL) {
		job->timer = sup_evtimer_new(sup, sup_timer_cb, job);
	}
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
    [SUP_STOP_UNWAITED] = "unwaited",
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
	int sig = job->spec.stop.signal, paused = job->state == JOB_PAUSED;

	if (why != SUP_STOP_SHUTDOWN && sup_refuse_degraded(sup, err) == -1)
		return (-1);
	/* Stored first: a stop the store refuses is not made (503). */
	if (sup_change(sup, job, JOB_STOPPING, NULL, RUN_NONE, "stopping",
		json_pack("{s:s, s:s, s:i}", "signal", util_signal_name(sig),
		    "reason", stop_reasons[why], "timeout_ms",
		    (int)job->spec.stop.timeout_ms),
		err) == -1) {
		if (why != SUP_STOP_SHUTDOWN)
			return (-1);
		/* At shutdown the world comes first: stopped unrecorded. */
		job->stop_unrecorded = 1;
	}
	sup_stop_world(sup, job, paused);
	return (0);
}

/*
 * A stop's signalling of a large tree, SUP_STOP_BATCH members a turn
 * (sup_res_stop_more), one job a turn, each in its turn; at most
 * SUP_STOP_CALLS_MAX turns: a tree that forks faster is left to the
 * timeout's SIGKILL.
 */
#define SUP_STOP_CALLS_MAX 255

static void
sup_stop_more_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	static const struct timeval now = {0, 0};
	struct job *job;
	int64_t id;
	int more = 0;

	(void)fd;
	(void)what;
	if (sup->nstop_more == 0)
		return;
	id = sup->stop_more[0];
	memmove(sup->stop_more, sup->stop_more + 1,
	    (sup->nstop_more - 1) * sizeof(*sup->stop_more));
	sup->nstop_more--;
	if ((job = htab_get_int(&sup->by_id, id)) != NULL && job->stop_more) {
		if (job->state == JOB_STOPPING && !job->killing &&
		    ++job->stop_calls < SUP_STOP_CALLS_MAX)
			sup_res_stop_more(
			    sup, job, job->spec.stop.signal, &more);
		if (more)
			sup->stop_more[sup->nstop_more++] = id;
		else
			job->stop_more = 0;
	}
	if (sup->nstop_more > 0)
		evtimer_add(sup->stop_more_ev, &now);
}

/* The stop signalled SUP_STOP_BATCH members and more are left. */
static void
sup_stop_more_add(struct supervisor *sup, struct job *job)
{
	static const struct timeval now = {0, 0};

	job->stop_calls = 0;
	if (job->stop_more)
		return; /* still listed from a stop before */
	job->stop_more = 1;
	sup->stop_more = xreallocarray(
	    sup->stop_more, sup->nstop_more + 1, sizeof(*sup->stop_more));
	sup->stop_more[sup->nstop_more++] = job->id;
	if (sup->stop_more_ev == NULL)
		sup->stop_more_ev = sup_evtimer_new(sup, sup_stop_more_cb, sup);
	if (!evtimer_pending(sup->stop_more_ev, NULL))
		evtimer_add(sup->stop_more_ev, &now);
}

/*
 * The stop in the world: the stop signal to the tree, its members
 * remembered (the stop is done only once they are gone), a frozen tree
 * thawed to see it, and the timeout armed. What the signal missed, the
 * polls that wait for the tree once the main process is gone catch.
 */
static void
sup_stop_world(struct supervisor *sup, struct job *job, int paused)
{
	int sig = job->spec.stop.signal, more = 0;
	struct serr e;

	if (sup_res_stop_signal(sup, job, sig, &more) <= 0 &&
	    sup_signal(job, sig) == -1 && errno != ESRCH)
		log_warn("%s: %s", job->name, util_signal_name(sig));
	if (more)
		sup_stop_more_add(sup, job);
	if (paused && sup_res_freeze(sup, job, 0, &e) == -1)
		log_warnx("%s: thaw: %s", job->name, e.message);
	sup_arm_timer(sup, job, job->spec.stop.timeout_ms);
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

	/* Stored first (the event says it was sent), then sent. */
	if (sup_refuse_degraded(sup, err) == -1 ||
	    sup_change(sup, job, job->state, NULL, RUN_NONE, "signal",
		json_pack("{s:s}", "signal", util_signal_name(sig)), err) == -1)
		return (-1);
	if (sup_signal(job, sig) == -1) {
		serr_set(err, SERR_CONFLICT, NULL, "signal %s: %s",
		    util_signal_name(sig), strerror(errno));
		return (-1);
	}
	return (0);
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

/*
 * Freeze or thaw the tree and record it; undone if the store refuses, so
 * that the tree is as the stored state says.
 */
static int
sup_freeze(
    struct supervisor *sup, struct job *job, int frozen, struct serr *err)
{
	struct serr e;

	if (sup_refuse_degraded(sup, err) == -1 ||
	    sup_res_freeze(sup, job, frozen, err) == -1)
		return (-1);
	if (sup_change(sup, job, frozen ? JOB_PAUSED : JOB_RUNNING, NULL,
		RUN_NONE, frozen ? "paused" : "resumed", NULL, err) == 0)
		return (0);
	if (sup_res_freeze(sup, job, !frozen, &e) == -1)
		log_warnx("%s: %s: %s", job->name, frozen ? "thaw" : "freeze",
		    e.message);
	return (-1);
}

static int
act_freeze(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	return (sup_freeze(sup, job, 1, err));
}

static int
act_thaw(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	(void)arg;
	return (sup_freeze(sup, job, 0, err));
}

/* ACT_REMOVE: the job, its runs and its logs go; its events stay. The job
 * is freed. */
static int
act_remove(
    struct supervisor *sup, struct job *job, const void *arg, struct serr *err)
{
	struct event_rec ev;
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
	joblog_remove(job->log);
	sup_res_remove(sup, job);
	TAILQ_REMOVE(&sup->jobs, job, entry);
	sup->njobs--;
	notify_status("%zu jobs", sup->njobs);
	job_release(sup, job);
	return (0);
}

struct supervisor *
supervisor_new(struct schedd *sd, struct serr *err)
{
	struct supervisor *sup;

	/* Spawn's low fds, before adopted runs' pidfds take fds. */
	spawn_init();
	sup = xcalloc(1, sizeof(*sup));
	sup->sd = sd;
	sup->self = getpid();
	sup->st = sd->store;
	sup->events_until_prune = 1;
	TAILQ_INIT(&sup->jobs);
	TAILQ_INIT(&sup->queued);
	TAILQ_INIT(&sup->spec_lru);
	TAILQ_INIT(&sup->held);
	sup_view_init(sup);
	htab_init(&sup->by_id);
	htab_init(&sup->by_name);
	htab_init(&sup->by_pid);
	htab_init(&sup->by_session);
	htab_init(&sup->by_check);
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
	struct job *job;

	if (snprintf(sup->reserve_path, sizeof(sup->reserve_path),
		"%s/schedd.reserve",
		sup->sd->conf->state_dir) >= (int)sizeof(sup->reserve_path))
		sup->reserve_path[0] = '\0';
	sup_reserve(sup);
	if (sup_res_init(sup, err) == -1 || sup_ready_init(sup, err) == -1)
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
	TAILQ_FOREACH (job, &sup->jobs, entry)
		sup_sched_job(sup, job, 1);
	sup_view_start(sup);
	sup_drift_start(sup);
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
	if (sup->shutdown_ev != NULL)
		event_free(sup->shutdown_ev);
	if (sup->kick_ev != NULL)
		event_free(sup->kick_ev);
	if (sup->stop_more_ev != NULL)
		event_free(sup->stop_more_ev);
	free(sup->stop_more);
	if (sup->res != NULL)
		reaper_free();
	while ((job = TAILQ_FIRST(&sup->jobs)) != NULL) {
		TAILQ_REMOVE(&sup->jobs, job, entry);
		job_release(sup, job);
	}
	sup_ready_free(sup);
	htab_clear(&sup->by_id);
	htab_clear(&sup->by_name);
	htab_clear(&sup->by_pid);
	htab_clear(&sup->by_session);
	htab_clear(&sup->by_check);
	sup_drift_free(sup);
	sup_view_free(sup);
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
    int (*cb)(void *, const struct event_rec *), void *arg, struct serr *err)
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

static void sup_shutdown_walk(struct supervisor *sup);
static void sup_shutdown_recheck(evutil_socket_t fd, short what, void *arg);

struct event *
sup_evtimer_new(struct supervisor *sup,
    void (*cb)(evutil_socket_t, short, void *), void *arg)
{
	struct event *ev;

	if ((ev = evtimer_new(sup->sd->base, cb, arg)) == NULL)
		fatalx("evtimer_new");
	event_priority_set(ev, SCHEDD_PRIO_WORK);
	return (ev);
}

/* The shutdown's event: its next walk, now or after a recheck delay. */
static struct event *
sup_shutdown_ev(struct supervisor *sup)
{
	if (sup->shutdown_ev == NULL)
		sup->shutdown_ev =
		    sup_evtimer_new(sup, sup_shutdown_recheck, sup);
	return (sup->shutdown_ev);
}

static void
sup_shutdown_recheck(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sup_shutdown_walk(arg);
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
sup_shutdown_walk(struct supervisor *sup)
{
	enum sup_stop_reason why = SUP_STOP_SHUTDOWN;
	struct timeval recheck = {0, 50 * 1000};
	struct job *job, *tj;
	struct serr err;
	int busy = 0;

	if (!sup->shutting_down || sup->shutdown_done == NULL)
		return;
	/* As the walk begins: a job stopped during it holds its
	 * dependencies back until the next walk, which its end asks for. */
	sup_mark_running_dependents(sup);
	TAILQ_FOREACH_SAFE (job, &sup->jobs, entry, tj) {
		serr_clear(&err);
		switch (job->state) {
		case JOB_QUEUED:
		case JOB_BACKOFF:
			if (job->timer != NULL)
				evtimer_del(job->timer);
			sup_dispatch(sup, job, JEV_STOP, &why, &err);
			break;
		case JOB_STARTING:
			/* A stored start, waiting to be ready: as running. */
			if (!job->ready_recorded)
				goto held;
			/* FALLTHROUGH */
		case JOB_RUNNING:
		case JOB_PAUSED:
			if (!job_live(job))
				break;
			busy = 1;
			if (!job->stop_unrecorded && !job->dependent_runs)
				sup_dispatch(sup, job, JEV_STOP, &why, &err);
			break;
		held:
			/* Its start is held for the store: stop it anyway. */
			if (!job_live(job))
				break;
			busy = 1;
			if (!job->stop_unrecorded && !job->dependent_runs) {
				job->stop_unrecorded = 1;
				sup_stop_world(sup, job, 0);
			}
			break;
		case JOB_STOPPING:
			if (job_live(job))
				busy = 1;
			break;
		default:
			break;
		}
	}
	if (busy)
		return;
	/* The job cgroups go before the loop ends, by timers, not sleeps. */
	if (sup_res_release_all(sup) > 0) {
		sup_shutdown_ev(sup);
		evtimer_add(sup->shutdown_ev, &recheck);
		return;
	}
	/* Not from inside the callback chain that got us here. */
	event_base_once(
	    sup->sd->base, -1, EV_TIMEOUT, sup_shutdown_fire, sup, NULL);
}

/*
 * Something ended or changed during the shutdown: walk the jobs again,
 * once the loop has run what else is ready at this priority. A walk per
 * exit made a shutdown of 10,000 jobs quadratic (24 s, a third of it in
 * the walks); the exits of one batch now share a walk.
 */
void
sup_check_shutdown(struct supervisor *sup)
{
	if (!sup->shutting_down || sup->shutdown_done == NULL)
		return;
	event_active(sup_shutdown_ev(sup), EV_TIMEOUT, 1);
}

void
supervisor_shutdown(struct supervisor *sup, void (*done)(void *), void *arg)
{
	if (sup->shutting_down)
		return;
	sup->shutting_down = 1;
	sup->shutdown_done = done;
	sup->shutdown_arg = arg;
	sup_shutdown_walk(sup);
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
supervisor_job_boot(struct supervisor *sup, struct job *job, struct serr *err)
{
	if (!job->spec.start || job->spec.schedule != NULL ||
	    job_state_active(job->state) || sup->shutting_down)
		return (0);
	job->retries = 0;
	return (sup_dispatch(sup, job, JEV_START, NULL, err));
}

static void
sup_unwaited_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct supervisor *sup = job->sup;
	enum sup_stop_reason why = SUP_STOP_UNWAITED;
	struct serr err;

	(void)fd;
	(void)what;
	if (job->nwaits > 0 ||
	    (job->state != JOB_STARTING && job->state != JOB_RUNNING &&
		job->state != JOB_PAUSED))
		return;
	log_info("%s: no wait for %u ms (its waiter is gone): stopping",
	    job->name, job->spec.stop.unwaited_ms);
	if (sup_request(sup, job, JEV_STOP, &why, &err) == -1)
		log_warnx("%s: stop: %s", job->name, err.message);
}

void
sup_unwaited_arm(struct supervisor *sup, struct job *job)
{
	struct timeval tv;

	if (job->spec.stop.unwaited_ms == 0 || job->nwaits > 0 ||
	    (job->state != JOB_STARTING && job->state != JOB_RUNNING &&
		job->state != JOB_PAUSED))
		return;
	if (job->unwaited_ev == NULL)
		job->unwaited_ev = sup_evtimer_new(sup, sup_unwaited_cb, job);
	tv.tv_sec = job->spec.stop.unwaited_ms / 1000;
	tv.tv_usec = (job->spec.stop.unwaited_ms % 1000) * 1000;
	evtimer_add(job->unwaited_ev, &tv);
}

void
supervisor_job_wait_begin(struct supervisor *sup, struct job *job)
{
	(void)sup;
	job->nwaits++;
	if (job->unwaited_ev != NULL)
		evtimer_del(job->unwaited_ev);
}

void
supervisor_job_wait_end(struct supervisor *sup, struct job *job)
{
	if (job->nwaits > 0)
		job->nwaits--;
	sup_unwaited_arm(sup, job);
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
	if (sup_res_check(sup, &job->spec, err) == -1 ||
	    sup_writable(sup, err) == -1)
		return (-1);
	if (job_transition(job->state, JEV_RESTART) == ACT_SPAWN)
		job->retries = 0;
	return (sup_dispatch(sup, job, JEV_RESTART, NULL, err));
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
    [ACT_BEGIN] = act_begin,
    [ACT_READY] = act_ready,
    [ACT_FAIL] = act_fail,
    [ACT_TICK] = act_tick,
    [ACT_SKIP] = act_skip,
};

const struct sup_counters *
supervisor_counters(struct supervisor *sup)
{
	return (&sup->counters);
}
