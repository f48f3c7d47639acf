/* SPDX-License-Identifier: ISC */
/*
 * Jobs and their lives. Every state change goes through sup_change(), which
 * writes the job's state, the run row it touches and the event reporting it
 * in one transaction before anything is announced. The actions of the
 * transition table (job.c) are the functions named act_*. Processes are
 * identified by (pid, start time). Jobs are found by id, name, main pid
 * and session through hash tables, never by walking the job list: nothing
 * on the way from a request to a spawn, or from an exit to its event, costs
 * more with more jobs. Stop timeouts are evtimers; nothing here blocks but
 * short SQLite statements and the spawn itself.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
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

static void sup_check_shutdown(struct supervisor *);
static void sup_after_end(struct supervisor *, struct job *);
static void act_remove(struct supervisor *, struct job *);

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

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
 * Every assignment of job->state goes through here, so that the queued
 * list holds exactly the queued jobs. It stays in id order, the order of
 * the job list, which is the order queued jobs start in: a newly queued
 * job is usually the newest, so the walk back from the tail is short.
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
	free(job->stop_procs);
	free(job->usage_end);
	if (job->oom_ev != NULL)
		event_free(job->oom_ev);
	if (job->oom_fd != -1)
		close(job->oom_fd);
	if (job->pidfd_ev != NULL)
		event_free(job->pidfd_ev);
	if (job->pidfd != -1)
		close(job->pidfd);
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
int
sup_event_write(struct supervisor *sup, struct store_event *ev,
    const struct job *job, int64_t run, const char *type, json_t *data,
    char **text, struct serr *err)
{
	memset(ev, 0, sizeof(*ev));
	ev->time_ms = now_ms();
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
static const char *
job_comm(const struct job *job)
{
	static char comm[16];
	const char *p = strrchr(job->spec.argv[0], '/');

	util_strlcpy(comm, p != NULL ? p + 1 : job->spec.argv[0], sizeof(comm));
	return (comm);
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

/*
 * The one way a job changes state: store the run row (op), the job's new
 * state and the event together, then update memory, announce the event and
 * tell the watches. If the store fails the change still happens in memory
 * (it happened in the world) but no event is announced; the failure is
 * logged. data is stolen.
 */
void
sup_change(struct supervisor *sup, struct job *job, enum job_state to,
    enum run_op op, const char *type, json_t *data)
{
	struct store_event ev;
	struct serr err;
	char *text = NULL, *argv_text = NULL;
	enum job_state from = job->state;
	int64_t now = now_ms();
	int stored = 0;

	serr_clear(&err);
	if (store_begin(sup->st, &err) == -1)
		goto fail;
	if (op == RUN_BEGIN &&
	    store_run_insert(sup->st, job->id, &job->run, &err) == -1)
		goto fail;
	if (op == RUN_BEGIN && job->run.pid != 0 &&
	    store_process_insert(sup->st, job->run.id, job->run.pid,
		job->run.pid_start, getpid(), job_comm(job),
		(argv_text = job_argv_json(job)), job->run.started_ms,
		&err) == -1)
		goto fail;
	if (op == RUN_END &&
	    (store_run_end(sup->st, &job->run, &err) == -1 ||
		(job->run.pid != 0 &&
		    store_process_exit(sup->st, job->run.id, job->run.pid,
			job->run.pid_start, job->run.exited_ms,
			job->run.exit_code, job->run.signal, &err) == -1)))
		goto fail;
	if (store_job_update_state(sup->st, job->id, job_state_name(to),
		job->restarts, now, job->reason[0] != '\0' ? job->reason : NULL,
		to == JOB_BACKOFF ? job->next_start_ms : 0, &err) == -1)
		goto fail;
	if (sup_event_write(sup, &ev, job, job->run.number, type, data, &text,
		&err) == -1) {
		data = NULL;
		goto fail;
	}
	data = NULL;
	if (store_commit(sup->st, &err) == -1)
		goto fail;
	stored = 1;
	goto apply;
fail:
	json_decref(data);
	store_rollback(sup->st);
	log_warnx("%s: %s -> %s not stored: %s", job->name,
	    job_state_name(from), job_state_name(to), err.message);
apply:
	sup_state_set(sup, job, to);
	job->updated_ms = now;
	if (from != to)
		log_info("%s: %s -> %s", job->name, job_state_name(from),
		    job_state_name(to));
	else
		log_debug("%s: %s (%s)", job->name, job_state_name(to), type);
	if (stored)
		sup_event_announce(sup, &ev);
	free(text);
	free(argv_text);
	sup_notify(job, 0);
	/* A job that runs now may be what queued ones wait for. */
	if (to == JOB_RUNNING && from != JOB_RUNNING &&
	    !TAILQ_EMPTY(&sup->queued))
		sup_queue_kick(sup);
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
	struct job *job;
	struct serr serr;
	json_t *spec_json;
	char *text;
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
	    sup_check_after(sup, spec->name, spec, err) == -1)
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

	text = NULL;
	if ((spec_json = jobspec_to_json(&job->spec)) != NULL)
		text = json_dumps(spec_json, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(spec_json);
	serr_clear(&serr);
	if (text == NULL || store_begin(sup->st, err) == -1)
		goto fail;
	if (store_job_insert(sup->st, job->id, job->name, job->source, text,
		job_state_name(job->state), job->created_ms, err) == -1) {
		store_rollback(sup->st);
		goto fail;
	}
	{
		struct store_event ev;
		char *etext = NULL;

		if (sup_event_write(sup, &ev, job, 0, "created",
			json_pack("{s:s}", "source", source), &etext,
			err) == -1 ||
		    store_commit(sup->st, err) == -1) {
			free(etext);
			store_rollback(sup->st);
			goto fail;
		}
		free(text);
		text = NULL;
		sup_job_link(sup, job);
		notify_status("%zu jobs", sup->njobs);
		log_info("%s: created (id %" PRId64 ", %s)", job->name, job->id,
		    source);
		sup_event_announce(sup, &ev);
		free(etext);
	}
	*out = job;
	if (job->spec.start)
		act_spawn(sup, job, &serr);
	return (0);
fail:
	free(text);
	job_release(sup, job);
	if (err != NULL && err->code == SERR_OK)
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

static void sup_pidfd_cb(evutil_socket_t fd, short what, void *arg);
static void sup_watch_pidfd(struct supervisor *sup, struct job *job);

static void
run_reset(struct run *run, int64_t number)
{
	memset(run, 0, sizeof(*run));
	run->number = number;
	run->started_ms = now_ms();
	run->exit_code = -1;
	run->user_cpu_ms = run->system_cpu_ms = run->max_rss_kb = -1;
}

/* ACT_SPAWN: a new run. Ends running, or failed with the reason. */
int
act_spawn(struct supervisor *sup, struct job *job, struct serr *err)
{
	struct spawn_creds creds;
	struct spawn_req req;
	struct sup_spawn_res sr;
	struct proc_stat ps;
	struct serr serr;
	char path[PATH_MAX], **envp = NULL, why[RUN_ERROR_MAX];
	const char *search;
	int out_fd = -1, err_fd = -1, rc;
	pid_t pid;

	if (job->timer != NULL)
		evtimer_del(job->timer);
	if (job->tree_timer != NULL)
		evtimer_del(job->tree_timer);
	/* Leftovers of the last run must not share the new run's cgroup. */
	if (sup_res_nprocs(sup, job) > 0)
		sup_res_signal(sup, job, SIGKILL);
	serr_clear(&serr);
	rc = sup_deps_running(sup, job, why, sizeof(why))
		 ? sup_res_prepare(sup, job, &sr, why, sizeof(why), &serr)
		 : 1;
	if (rc == 1) {
		if (job->state != JOB_QUEUED || strcmp(why, job->reason) != 0) {
			util_strlcpy(job->reason, why, sizeof(job->reason));
			log_info("%s: %s", job->name, job->reason);
			sup_change(sup, job, JOB_QUEUED, RUN_NONE, "queued",
			    json_pack("{s:s}", "reason", job->reason));
		}
		return (0);
	}
	/* The last run's session id no longer names this job's orphans. */
	session_del(sup, job);
	run_reset(&job->run, job->run.number + 1);
	job->run.cpus = job->cpuset;
	job->run.cpus_valid = rc == 0 && job->cpuset_valid;
	if (rc == -1) {
		memset(&sr, 0, sizeof(sr));
		job->reason[0] = '\0';
		sup_state_set(sup, job, JOB_STARTING);
		goto failed;
	}
	job->reason[0] = '\0';
	job->next_start_ms = 0;
	sup_state_set(sup, job, JOB_STARTING);

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
	sup_res_started(sup, job);

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
	sup_change(sup, job, JOB_RUNNING, RUN_BEGIN, "running",
	    json_pack("{s:i}", "pid", (int)pid));
	return (0);

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
	sup_change(sup, job, JOB_FAILED, RUN_BEGIN, "failed",
	    json_pack("{s:s}", "error", serr.message));
	(void)err;
	sup_after_end(sup, job);
	return (0);
}

/* Signalling */

/*
 * Signal the job's process group (its main process made a session of its
 * own) and, should the main process have left the group, the main process
 * through its pidfd. Only while the main process is unreaped, so the group
 * id cannot have been reused.
 */
static int
sup_signal(struct job *job, int sig)
{
	/* Every process of the job's cgroup, wherever it wandered. */
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

static void
sup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct serr err;

	(void)fd;
	(void)what;
	if (job_transition(job->state, JEV_TIMEOUT) == ACT_KILL_TREE) {
		log_info("%s: stop timeout (%u ms): SIGKILL", job->name,
		    job->spec.stop.timeout_ms);
		if (sup_signal(job, SIGKILL) == -1 && errno != ESRCH)
			log_warn("%s: SIGKILL", job->name);
		return;
	}
	if (job_transition(job->state, JEV_RETRY) == ACT_SPAWN &&
	    job->state == JOB_BACKOFF) {
		job->retries++;
		job->restarts++;
		serr_clear(&err);
		act_spawn(job->sup, job, &err);
	}
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

/* ACT_STOP: stop signal now, SIGKILL after the timeout. */
static void
act_stop(struct supervisor *sup, struct job *job, enum sup_stop_reason why)
{
	int sig = job->spec.stop.signal;

	/* Before signalling: the stop is done only once these are gone. */
	sup_res_snapshot(sup, job);
	if (sup_signal(job, sig) == -1 && errno != ESRCH)
		log_warn("%s: %s", job->name, util_signal_name(sig));
	/* A paused (frozen) tree must run to see the signal. */
	if (job->state == JOB_PAUSED) {
		struct serr e;

		if (sup_res_freeze(sup, job, 0, &e) == -1)
			log_warnx("%s: thaw: %s", job->name, e.message);
	}
	sup_arm_timer(sup, job, job->spec.stop.timeout_ms);
	sup_change(sup, job, JOB_STOPPING, RUN_NONE, "stopping",
	    json_pack("{s:s, s:s, s:i}", "signal", util_signal_name(sig),
		"reason", stop_reasons[why], "timeout_ms",
		(int)job->spec.stop.timeout_ms));
}

static int
sup_forbidden(const struct job *job, const char *what, struct serr *err)
{
	serr_set(err, SERR_CONFLICT, NULL, "cannot %s job %s: it is %s", what,
	    job->name, job_state_name(job->state));
	return (-1);
}

int
supervisor_job_start(struct supervisor *sup, struct job *job, struct serr *err)
{
	if (sup->shutting_down) {
		serr_set(
		    err, SERR_UNAVAILABLE, NULL, "schedd is shutting down");
		return (-1);
	}
	if (job_transition(job->state, JEV_START) != ACT_SPAWN)
		return (sup_forbidden(job, "start", err));
	if (sup_res_check(sup, &job->spec, err) == -1)
		return (-1);
	job->retries = 0;
	return (act_spawn(sup, job, err));
}

int
sup_stop(struct supervisor *sup, struct job *job, enum sup_stop_reason why,
    struct serr *err)
{
	switch (job_transition(job->state, JEV_STOP)) {
	case ACT_STOP:
		act_stop(sup, job, why);
		return (0);
	case ACT_JOIN:
		return (0);
	case ACT_STOP_IDLE:
		if (job->timer != NULL)
			evtimer_del(job->timer);
		job->next_start_ms = 0;
		job->reason[0] = '\0';
		sup_change(sup, job, JOB_STOPPED, RUN_NONE, "stopped",
		    json_pack("{s:s}", "reason", stop_reasons[why]));
		return (0);
	default:
		return (sup_forbidden(job, "stop", err));
	}
}

int
supervisor_job_stop(struct supervisor *sup, struct job *job, struct serr *err)
{
	return (sup_stop(sup, job, SUP_STOP_REQUEST, err));
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
	if (job_transition(job->state, JEV_START) == ACT_SPAWN &&
	    job->state != JOB_BACKOFF)
		return (act_spawn(sup, job, err));
	if (sup_stop(sup, job, SUP_STOP_RESTART, err) == -1)
		return (-1);
	if (job_transition(job->state, JEV_START) == ACT_SPAWN)
		return (act_spawn(sup, job, err));
	job->restart_pending = 1;
	return (0);
}

int
supervisor_job_kill(
    struct supervisor *sup, struct job *job, int sig, struct serr *err)
{
	struct serr serr;

	if (job_transition(job->state, JEV_KILL) != ACT_SIGNAL)
		return (sup_forbidden(job, "signal", err));
	if (sup_signal(job, sig) == -1) {
		serr_set(err, SERR_CONFLICT, NULL, "signal %s: %s",
		    util_signal_name(sig), strerror(errno));
		return (-1);
	}
	serr_clear(&serr);
	sup_change(sup, job, job->state, RUN_NONE, "signal",
	    json_pack("{s:s}", "signal", util_signal_name(sig)));
	return (0);
}

int
supervisor_job_delete(
    struct supervisor *sup, struct job *job, int force, struct serr *err)
{
	if (job_transition(job->state, JEV_DELETE) == ACT_REMOVE) {
		act_remove(sup, job);
		return (0);
	}
	if (!force)
		return (sup_forbidden(job, "delete", err));
	job->delete_pending = 1;
	if (sup_stop(sup, job, SUP_STOP_DELETE, err) == -1) {
		job->delete_pending = 0;
		return (-1);
	}
	if (job_transition(job->state, JEV_DELETE) == ACT_REMOVE) {
		act_remove(sup, job);
		return (0);
	}
	return (1);
}

int
supervisor_job_pause(struct supervisor *sup, struct job *job, struct serr *err)
{
	if (job_transition(job->state, JEV_PAUSE) != ACT_FREEZE)
		return (sup_forbidden(job, "pause", err));
	if (sup_res_freeze(sup, job, 1, err) == -1)
		return (-1);
	sup_change(sup, job, JOB_PAUSED, RUN_NONE, "paused", NULL);
	return (0);
}

int
supervisor_job_resume(struct supervisor *sup, struct job *job, struct serr *err)
{
	if (job_transition(job->state, JEV_RESUME) != ACT_THAW)
		return (sup_forbidden(job, "resume", err));
	if (sup_res_freeze(sup, job, 0, err) == -1)
		return (-1);
	sup_change(sup, job, JOB_RUNNING, RUN_NONE, "resumed", NULL);
	return (0);
}

/* ACT_REMOVE: the job, its runs and its logs go; its events stay. */
static void
act_remove(struct supervisor *sup, struct job *job)
{
	struct store_event ev;
	struct serr err;
	char *text = NULL;
	int stored = 0;

	serr_clear(&err);
	if (store_begin(sup->st, &err) == 0 &&
	    store_job_delete(sup->st, job->id, &err) == 0 &&
	    sup_event_write(sup, &ev, job, 0, "deleted", NULL, &text, &err) ==
		0 &&
	    store_commit(sup->st, &err) == 0)
		stored = 1;
	else {
		store_rollback(sup->st);
		log_warnx("%s: delete not stored: %s", job->name, err.message);
	}
	log_info("%s: deleted", job->name);
	if (stored)
		sup_event_announce(sup, &ev);
	free(text);
	joblog_remove_runs(job->id, job->run.number);
	sup_res_remove(sup, job);
	TAILQ_REMOVE(&sup->jobs, job, entry);
	sup->njobs--;
	notify_status("%zu jobs", sup->njobs);
	job_release(sup, job);
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
 * reset_after_ms resets the count. max_retries absent means forever.
 */
static void
sup_after_end(struct supervisor *sup, struct job *job)
{
	const struct job_restart *r = &job->spec.restart;
	char how[160];
	uint64_t delay;
	int failed, shift;

	if (sup->shutting_down || job->delete_pending || job->restart_pending)
		return;
	failed = job->run.error[0] != '\0' || job->run.signal != 0 ||
		 job->run.exit_code != 0 || job->run.oom_killed;
	if (!(r->policy == RESTART_ALWAYS ||
		(r->policy == RESTART_ON_FAILURE && failed)))
		return;
	if (job->run.pid != 0 && job->run.exited_ms - job->run.started_ms >=
				     (int64_t)r->reset_after_ms)
		job->retries = 0;
	run_describe(&job->run, how, sizeof(how));
	if (r->max_retries >= 0 && job->retries >= r->max_retries) {
		snprintf(job->reason, sizeof(job->reason),
		    "gave up after %d restart%s; last run: %s", job->retries,
		    job->retries == 1 ? "" : "s", how);
		log_warnx("%s: %s", job->name, job->reason);
		sup_change(sup, job, JOB_FAILED, RUN_NONE, "failed",
		    json_pack("{s:s, s:i}", "reason", job->reason, "retries",
			job->retries));
		return;
	}
	shift = job->retries > 30 ? 30 : job->retries;
	delay = (uint64_t)r->backoff_ms << shift;
	if (delay > r->backoff_max_ms)
		delay = r->backoff_max_ms;
	delay += delay / 10 > 0 ? (uint64_t)random() % (delay / 10 + 1) : 0;
	job->next_start_ms = now_ms() + (int64_t)delay;
	snprintf(job->reason, sizeof(job->reason),
	    "restart %d in %llu ms; last run: %s", job->retries + 1,
	    (unsigned long long)delay, how);
	sup_arm_timer(sup, job, (uint32_t)delay);
	sup_change(sup, job, JOB_BACKOFF, RUN_NONE, "backoff",
	    json_pack("{s:I, s:i, s:s}", "delay_ms", (json_int_t)delay,
		"attempt", job->retries + 1, "last_run", how));
}

static void
sup_tree_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;

	(void)fd;
	(void)what;
	if (sup_res_nprocs(job->sup, job) > 0) {
		log_info("%s: SIGKILL to what outlived the run", job->name);
		sup_res_signal(job->sup, job, SIGKILL);
	}
	sup_res_run_ended(job->sup, job);
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

/* The main process is gone: record the end and take the next step. */
static void
sup_main_exited(struct supervisor *sup, struct job *job)
{
	struct serr err;
	int stopped;

	pid_del(sup, job->run.pid);
	if (job->pidfd_ev != NULL) {
		event_free(job->pidfd_ev);
		job->pidfd_ev = NULL;
	}
	if (job->pidfd != -1) {
		close(job->pidfd);
		job->pidfd = -1;
	}
	if (job->timer != NULL)
		evtimer_del(job->timer);
	stopped = job_transition(job->state, JEV_EXIT) == ACT_STOPPED;
	sup_res_oom_poll(sup, job);
	/*
	 * The run ends with its main process. What remains of its tree is
	 * stopped like a stop: a stopping job's already had the stop signal
	 * and is killed now; after a natural exit the rest gets the stop
	 * signal and, after stop.timeout_ms, SIGKILL. The CPUs are released
	 * once nothing of the run is left.
	 */
	if (sup_res_nprocs(sup, job) > 0) {
		if (stopped)
			sup_res_drain(sup, job, 500);
		else {
			sup_res_signal(sup, job, job->spec.stop.signal);
			sup_arm_tree_timer(sup, job);
		}
	}
	/* A process leaves its cgroup a moment before it is a zombie. */
	if (stopped)
		sup_res_wait_exited(sup, job, 500);
	if (job->tree_timer == NULL || !evtimer_pending(job->tree_timer, NULL))
		sup_res_run_ended(sup, job);
	sup_change(sup, job, stopped ? JOB_STOPPED : JOB_EXITED, RUN_END,
	    stopped ? "stopped" : "exited", run_exit_data(&job->run));

	if (job->delete_pending) {
		act_remove(sup, job);
	} else if (job->restart_pending) {
		job->restart_pending = 0;
		serr_clear(&err);
		if (!sup->shutting_down) {
			job->retries = 0;
			act_spawn(sup, job, &err);
		}
	} else if (!stopped)
		sup_after_end(sup, job);
	sup_check_shutdown(sup);
}

/* The run's session id names an orphan's job: record and announce it. */
static void
sup_orphan(
    struct supervisor *sup, pid_t pid, int status, const struct proc_stat *ps)
{
	struct job *job = NULL, *j;
	struct store_event ev;
	struct serr err;
	struct run r;
	json_t *data;
	char *text = NULL;

	if (ps != NULL && ps->session > 1 &&
	    (j = htab_get_int(&sup->by_session, ps->session)) != NULL &&
	    j->run.pid == ps->session && j->run.id != 0)
		job = j;
	memset(&r, 0, sizeof(r));
	r.exit_code = -1;
	run_set_exit(&r, status, NULL);
	data = r.signal != 0
		   ? json_pack("{s:i, s:s, s:s}", "pid", (int)pid, "signal",
			 util_signal_name(r.signal), "comm",
			 ps != NULL ? ps->comm : "")
		   : json_pack("{s:i, s:i, s:s}", "pid", (int)pid, "exit_code",
			 r.exit_code, "comm", ps != NULL ? ps->comm : "");
	log_debug("reaped orphan %d (%s) of %s", (int)pid,
	    ps != NULL ? ps->comm : "?", job != NULL ? job->name : "no job");
	serr_clear(&err);
	if (store_begin(sup->st, &err) == -1)
		goto fail;
	if (job != NULL && ps != NULL &&
	    (store_process_insert(sup->st, job->run.id, pid, ps->starttime,
		 ps->ppid, ps->comm, NULL, now_ms(), &err) == -1 ||
		store_process_exit(sup->st, job->run.id, pid, ps->starttime,
		    r.exited_ms, r.exit_code, r.signal, &err) == -1))
		goto fail;
	if (sup_event_write(sup, &ev, job, job != NULL ? job->run.number : 0,
		"orphan", data, &text, &err) == -1) {
		data = NULL;
		goto fail;
	}
	data = NULL;
	if (store_commit(sup->st, &err) == -1)
		goto fail;
	sup_event_announce(sup, &ev);
	free(text);
	return;
fail:
	json_decref(data);
	free(text);
	store_rollback(sup->st);
	log_warnx("orphan %d not stored: %s", (int)pid, err.message);
}

static void
sup_reaped(void *arg, pid_t pid, int status, const struct rusage *ru,
    const struct proc_stat *ps)
{
	struct supervisor *sup = arg;
	struct job *job;

	if ((job = pid_find(sup, pid)) == NULL) {
		sup_orphan(sup, pid, status, ps);
		return;
	}
	run_set_exit(&job->run, status, ru);
	sup_main_exited(sup, job);
}

/*
 * The main process ended (its pidfd is readable). Our own child is
 * collected right here, that child and no other, and goes the way every
 * reaped main process goes (sup_reaped). Should SIGCHLD's path have reaped
 * it first, sup_main_exited freed this event and we are not called. An
 * adopted process is not our child: its status is unknowable.
 */
static void
sup_pidfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct supervisor *sup = job->sup;

	(void)fd;
	(void)what;
	if (!job->adopted) {
		switch (reaper_reap_pid(job->run.pid)) {
		case 1:
			return; /* job may be freed by now */
		case 0:
			/*
			 * Ended, but not ours to collect yet: a tracer
			 * holds the zombie. Watching on would spin (the
			 * pidfd stays readable); SIGCHLD comes when the
			 * tracer lets go, and the reaper collects it.
			 */
			event_free(job->pidfd_ev);
			job->pidfd_ev = NULL;
			return;
		default:
			log_warn("%s: wait4 %d", job->name, (int)job->run.pid);
			break;
		}
	}
	job->run.exited_ms = now_ms();
	util_strlcpy(job->run.error,
	    job->adopted ? "exit status unknown: the process was adopted "
			   "after a schedd restart"
			 : "exit status unknown: reaped elsewhere",
	    sizeof(job->run.error));
	sup_main_exited(sup, job);
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

static void
sup_adopt(struct supervisor *sup, struct job *job)
{
	if ((job->pidfd = sys_pidfd_open(job->run.pid)) == -1) {
		log_warn("%s: pidfd_open %d", job->name, (int)job->run.pid);
		return;
	}
	job->adopted = 1;
	pid_add(sup, job->run.pid, job);
	sup_watch_pidfd(sup, job);
	log_info("%s: adopted running pid %d", job->name, (int)job->run.pid);
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

/* Jobs that were mid-life when the daemon last stopped. */
static void
sup_reconcile(struct supervisor *sup)
{
	struct job *job, *tj;
	int alive;

	TAILQ_FOREACH_SAFE (job, &sup->jobs, entry, tj) {
		switch (job->state) {
		case JOB_STARTING:
		case JOB_RUNNING:
		case JOB_PAUSED:
		case JOB_STOPPING:
			alive = job->run.exited_ms == 0 &&
				procfs_alive(job->run.pid, job->run.pid_start);
			if (alive) {
				sup_adopt(sup, job);
				if (job->state == JOB_STARTING)
					sup_state_set(sup, job, JOB_RUNNING);
				if (job->state == JOB_STOPPING)
					sup_arm_timer(sup, job,
					    job->spec.stop.timeout_ms);
				if (job->pidfd != -1)
					break;
			}
			if (job->run.exited_ms == 0)
				job->run.exited_ms = now_ms();
			util_strlcpy(job->run.error,
			    "lost: the process ended while schedd was not running",
			    sizeof(job->run.error));
			sup_change(sup, job,
			    job->state == JOB_STOPPING ? JOB_STOPPED
						       : JOB_EXITED,
			    job->run.id != 0 ? RUN_END : RUN_NONE,
			    job->state == JOB_STOPPING ? "stopped" : "exited",
			    json_pack("{s:s}", "error", job->run.error));
			break;
		case JOB_BACKOFF: {
			int64_t left = job->next_start_ms - now_ms();

			sup_arm_timer(sup, job, left > 0 ? (uint32_t)left : 0);
			break;
		}
		case JOB_QUEUED:
			/* Nothing in this build queues. */
			sup_change(sup, job, JOB_STOPPED, RUN_NONE, "stopped",
			    json_pack("{s:s}", "reason", "restart"));
			break;
		default:
			break;
		}
	}
}

struct supervisor *
supervisor_new(struct schedd *sd, struct serr *err)
{
	struct supervisor *sup;
	struct reaper_ops ops;

	sup = xcalloc(1, sizeof(*sup));
	sup->sd = sd;
	sup->st = sd->store;
	sup->events_until_prune = 1;
	TAILQ_INIT(&sup->jobs);
	TAILQ_INIT(&sup->queued);
	htab_init(&sup->by_id);
	htab_init(&sup->by_name);
	htab_init(&sup->by_pid);
	htab_init(&sup->by_session);
	if (store_job_load(sup->st, sup_load_job, sup, err) == -1) {
		supervisor_free(sup);
		return (NULL);
	}
	sup_res_init(sup, err);
	sup_reconcile(sup);
	sup_res_reconcile(sup);
	sup_res_track_start(sup);
	ops.known = supervisor_pid_known;
	ops.reaped = sup_reaped;
	ops.arg = sup;
	if (reaper_init(sd->base, &ops) == -1) {
		serr_set(
		    err, SERR_INTERNAL, NULL, "reaper: %s", strerror(errno));
		supervisor_free(sup);
		return (NULL);
	}
	/* Children that ended before the handler was in place. */
	reaper_reap();
	return (sup);
}

void
supervisor_free(struct supervisor *sup)
{
	struct job *job;

	if (sup == NULL)
		return;
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

/*
 * One step of the shutdown: stop what nothing running depends on (so jobs
 * stop in reverse start order), and finish when nothing runs.
 */
static void
sup_check_shutdown(struct supervisor *sup)
{
	struct job *job, *tj;
	struct serr err;
	int busy = 0;

	if (!sup->shutting_down || sup->shutdown_done == NULL)
		return;
	TAILQ_FOREACH_SAFE (job, &sup->jobs, entry, tj) {
		switch (job->state) {
		case JOB_QUEUED:
		case JOB_BACKOFF:
			sup_stop(sup, job, SUP_STOP_SHUTDOWN, &err);
			break;
		case JOB_RUNNING:
		case JOB_PAUSED:
			busy = 1;
			if (!sup_has_running_dependents(sup, job))
				sup_stop(sup, job, SUP_STOP_SHUTDOWN, &err);
			break;
		case JOB_STOPPING:
		case JOB_STARTING:
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
