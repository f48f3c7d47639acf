/* SPDX-License-Identifier: ISC */
/*
 * The job commands of schedctl that map onto one route each: show,
 * start, stop, restart, pause, resume, rm, kill and wait. Each sends one
 * request and renders the answer; none keeps state or retries, and none
 * decides anything the daemon decides (what a state allows, what a signal
 * name means beyond the command line's syntax).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client/format.h"
#include "client/schedctl.h"
#include "client/table.h"
#include "proto/util.h"

static int cmd_show_exec(struct schedctl *, struct args *);
static int cmd_action_exec(struct schedctl *, struct args *);
static int cmd_rm_exec(struct schedctl *, struct args *);
static int cmd_kill_exec(struct schedctl *, struct args *);
static int cmd_wait_exec(struct schedctl *, struct args *);

static const struct option rm_longopts[] = {
    {"force", no_argument, NULL, 'f'},
    {NULL, 0, NULL, 0},
};

static const struct option kill_longopts[] = {
    {"signal", required_argument, NULL, 's'},
    {NULL, 0, NULL, 0},
};

const struct cmd_entry cmd_show_entry = {
    .name = "show",
    .usage = "JOB",
    .summary = "show a job and its last run (GET /v1/jobs/JOB)",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_show_exec,
};

const struct cmd_entry cmd_start_entry = {
    .name = "start",
    .usage = "JOB",
    .summary = "start a job that is not running (a new run)",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_action_exec,
};

const struct cmd_entry cmd_stop_entry = {
    .name = "stop",
    .usage = "JOB",
    .summary = "stop a job: its stop signal, then SIGKILL; waits until stopped",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_action_exec,
};

const struct cmd_entry cmd_restart_entry = {
    .name = "restart",
    .usage = "JOB",
    .summary = "stop a job if it runs, then start it again",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_action_exec,
};

const struct cmd_entry cmd_pause_entry = {
    .name = "pause",
    .usage = "JOB",
    .summary = "freeze every process of a job",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_action_exec,
};

const struct cmd_entry cmd_resume_entry = {
    .name = "resume",
    .usage = "JOB",
    .summary = "thaw a paused job",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_action_exec,
};

const struct cmd_entry cmd_rm_entry = {
    .name = "rm",
    .usage = "[-f] JOB",
    .summary = "remove a job that is not active, with its runs and logs",
    .help = "  -f, --force          stop the job first if it is active\n",
    .optstring = "f",
    .longopts = rm_longopts,
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_rm_exec,
};

const struct cmd_entry cmd_kill_entry = {
    .name = "kill",
    .usage = "[-s SIGNAL] JOB",
    .summary = "send a signal to every process of a job",
    .help =
	"  -s, --signal SIGNAL  name (TERM, SIGUSR1) or number; default SIGTERM\n",
    .optstring = "s:",
    .longopts = kill_longopts,
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kill_exec,
};

const struct cmd_entry cmd_wait_entry = {
    .name = "wait",
    .usage = "JOB",
    .summary = "wait for a job's run to end and exit with its status",
    .notes =
	"Instead of 0, exits with the job's exit code, 128+N if signal N ended\n"
	"it, or 1 (message on stderr) if it could not start or has not run.\n",
    .optstring = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_wait_exec,
};

/* Key/value lines of show, aligned on the widest key. */
struct kv {
	char **keys;
	char **values;
	size_t n;
	size_t cap;
};

static void
kv_add(struct kv *kv, const char *key, const char *value)
{
	if (kv->n == kv->cap) {
		kv->cap = kv->cap == 0 ? 32 : kv->cap * 2;
		kv->keys = xreallocarray(kv->keys, kv->cap, sizeof(char *));
		kv->values = xreallocarray(kv->values, kv->cap, sizeof(char *));
	}
	kv->keys[kv->n] = xstrdup(key);
	kv->values[kv->n] = table_sanitize(value, NULL);
	kv->n++;
}

/* Add key: value for a member, with "(5m ago)" after times. */
static void
kv_member(struct kv *kv, const char *prefix, const char *key, const json_t *v)
{
	char label[128], *text, *line, age[32];
	size_t n, klen = strlen(key);
	int64_t t;

	snprintf(label, sizeof(label), "%s%s", prefix, key);
	if (strcmp(key, "argv") == 0)
		text = fmt_argv(v);
	else
		text = fmt_value(v);
	if (klen > 3 && strcmp(key + klen - 3, "_at") == 0 &&
	    json_is_string(v) &&
	    util_time_parse(json_string_value(v), &t) == 0) {
		fmt_age(json_string_value(v), age, sizeof(age));
		n = strlen(text) + strlen(age) + 8;
		line = xmalloc(n);
		snprintf(line, n, "%s (%s ago)", text, age);
		free(text);
		text = line;
	}
	kv_add(kv, label, text);
	free(text);
}

static void
kv_print_free(struct kv *kv)
{
	size_t i, w = 0;

	for (i = 0; i < kv->n; i++)
		if (strlen(kv->keys[i]) > w)
			w = strlen(kv->keys[i]);
	for (i = 0; i < kv->n; i++) {
		printf("%s:%*s%s\n", kv->keys[i],
		    (int)(w - strlen(kv->keys[i]) + 2), "", kv->values[i]);
		free(kv->keys[i]);
		free(kv->values[i]);
	}
	free(kv->keys);
	free(kv->values);
}

static int
cmd_show_exec(struct schedctl *ctl, struct args *args)
{
	static const char *const first[] = {
	    "id", "name", "state", "pid", "argv", NULL};
	struct kv kv;
	json_t *job = NULL, *v, *run;
	const char *key, *state;
	char path[CTL_PATH_MAX], status[512];
	size_t i;
	int rc, ended, skip;

	if (ctl_job_path(ctl, path, sizeof(path), args->argv[0], "") == -1)
		return (CTL_EXIT_USAGE);
	if ((rc = ctl_call(ctl, "GET", path, NULL, CTL_TIMEOUT_MS, &job)) !=
	    CTL_EXIT_OK)
		return (rc);
	if (!json_is_object(job)) {
		ctl_warnx("the daemon's answer is not a job");
		json_decref(job);
		return (CTL_EXIT_ERROR);
	}
	if (ctl->json) {
		rc = ctl_print_json(job);
		json_decref(job);
		return (rc);
	}

	memset(&kv, 0, sizeof(kv));
	/* Who and what first, then the rest in the daemon's order. */
	for (i = 0; first[i] != NULL; i++)
		if ((v = json_object_get(job, first[i])) != NULL)
			kv_member(&kv, "", first[i], v);
	json_object_foreach (job, key, v) {
		skip = json_is_null(v) || strcmp(key, "last_run") == 0;
		for (i = 0; first[i] != NULL && !skip; i++)
			skip = strcmp(key, first[i]) == 0;
		if (!skip)
			kv_member(&kv, "", key, v);
	}
	run = json_object_get(job, "last_run");
	if (json_is_object(run)) {
		fmt_run_status(job, status, sizeof(status), &ended);
		/* Still going: its state says more than "has not ended". */
		state = fmt_str(job, "state");
		kv_add(&kv, "last_run",
		    !ended && fmt_state_active(state) ? state : status);
		json_object_foreach (run, key, v) {
			if (!json_is_null(v))
				kv_member(&kv, "  ", key, v);
		}
	} else
		kv_add(&kv, "last_run", "-");
	kv_print_free(&kv);
	json_decref(job);
	return (CTL_EXIT_OK);
}

/* "name: state" after an action, or why a (re)start failed. */
static int
report_state(struct schedctl *ctl, const json_t *job, const char *fallback)
{
	const char *name = fmt_str(job, "name"), *state = fmt_str(job, "state");
	char status[512], *clean;
	int ended, rc;

	if (ctl->json)
		return (ctl_print_json(job));
	clean = table_sanitize(name != NULL ? name : fallback, NULL);
	if (state != NULL && strcmp(state, "failed") == 0 &&
	    strcmp(ctl->cmd->name, "rm") != 0) {
		rc = fmt_run_status(job, status, sizeof(status), &ended);
		ctl_warnx("%s: %s", clean, status);
		free(clean);
		return (rc == CTL_EXIT_OK ? CTL_EXIT_ERROR : rc);
	}
	printf("%s: %s\n", clean, state != NULL ? state : "?");
	free(clean);
	return (CTL_EXIT_OK);
}

static int
cmd_action_exec(struct schedctl *ctl, struct args *args)
{
	const char *action = ctl->cmd->name;
	char path[CTL_PATH_MAX], suffix[32];
	json_t *job = NULL;
	int rc, timeout = CTL_TIMEOUT_MS;

	/* stop answers once the job is down: up to its stop timeout, or more.
	 */
	if (strcmp(action, "stop") == 0 || strcmp(action, "restart") == 0)
		timeout = CTL_NO_TIMEOUT;
	snprintf(suffix, sizeof(suffix), "/%s", action);
	if (ctl_job_path(ctl, path, sizeof(path), args->argv[0], suffix) == -1)
		return (CTL_EXIT_USAGE);
	/* On a terminal a stop shows what it sent and counts down. */
	if (strcmp(action, "stop") == 0 && !ctl->json && isatty(STDERR_FILENO))
		rc = ctl_stop_progress(ctl, args->argv[0], &job);
	else
		rc = ctl_call(ctl, "POST", path, NULL, timeout, &job);
	if (rc != CTL_EXIT_OK)
		return (rc);
	rc = report_state(ctl, job, args->argv[0]);
	json_decref(job);
	return (rc);
}

static int
cmd_rm_exec(struct schedctl *ctl, struct args *args)
{
	char path[CTL_PATH_MAX], *clean;
	const char *name;
	json_t *job = NULL;
	int rc, force = args_has(args, 'f') > 0;

	if (ctl_job_path(ctl, path, sizeof(path), args->argv[0],
		force ? "?force=true" : "") == -1)
		return (CTL_EXIT_USAGE);
	if ((rc = ctl_call(ctl, "DELETE", path, NULL,
		 force ? CTL_NO_TIMEOUT : CTL_TIMEOUT_MS, &job)) != CTL_EXIT_OK)
		return (rc);
	if (ctl->json && job != NULL)
		rc = ctl_print_json(job);
	else {
		name = fmt_str(job, "name");
		clean =
		    table_sanitize(name != NULL ? name : args->argv[0], NULL);
		printf("%s: removed\n", clean);
		free(clean);
	}
	json_decref(job);
	return (rc);
}

static int
cmd_kill_exec(struct schedctl *ctl, struct args *args)
{
	const char *sigarg = args_get(args, 's'), *signame = "SIGTERM", *name;
	char path[CTL_PATH_MAX], *clean;
	json_t *body, *job = NULL;
	int rc, sig;

	if (sigarg != NULL) {
		if ((sig = util_signal_parse(sigarg)) == -1 ||
		    (signame = util_signal_name(sig)) == NULL)
			return (ctl_usage_error(
			    ctl, "unknown signal '%s'", sigarg));
	}
	if (ctl_job_path(ctl, path, sizeof(path), args->argv[0], "/kill") == -1)
		return (CTL_EXIT_USAGE);
	if ((body = json_pack("{s:s}", "signal", signame)) == NULL) {
		ctl_warnx("out of memory");
		return (CTL_EXIT_ERROR);
	}
	rc = ctl_call(ctl, "POST", path, body, CTL_TIMEOUT_MS, &job);
	json_decref(body);
	if (rc != CTL_EXIT_OK)
		return (rc);
	if (ctl->json && job != NULL)
		rc = ctl_print_json(job);
	else {
		name = fmt_str(job, "name");
		clean =
		    table_sanitize(name != NULL ? name : args->argv[0], NULL);
		printf("%s: sent %s\n", clean, signame);
		free(clean);
	}
	json_decref(job);
	return (rc);
}

int
cmd_wait_job(struct schedctl *ctl, const char *jobarg, int *lost)
{
	char path[CTL_PATH_MAX], status[512], *clean;
	const char *name;
	json_t *job = NULL;
	int rc, ended;

	if (ctl_job_path(ctl, path, sizeof(path), jobarg, "/wait") == -1)
		return (CTL_EXIT_USAGE);
	if ((rc = ctl_call(ctl, "GET", path, NULL, CTL_NO_TIMEOUT, &job)) !=
	    CTL_EXIT_OK) {
		/* Not the job's own 3: the daemon went away. */
		if (lost != NULL)
			*lost = rc == CTL_EXIT_UNREACHABLE;
		return (rc);
	}
	if (lost != NULL)
		*lost = 0;
	if (!json_is_object(job)) {
		ctl_warnx("the daemon's answer is not a job");
		json_decref(job);
		return (CTL_EXIT_ERROR);
	}
	rc = fmt_run_status(job, status, sizeof(status), &ended);
	name = fmt_str(job, "name");
	clean = table_sanitize(name != NULL ? name : jobarg, NULL);
	if (ctl->json)
		ctl_print_json(job);
	/* How the job ended is output; that it never ran is an error. */
	if (ended) {
		if (!ctl->json)
			printf("%s: %s\n", clean, status);
	} else
		ctl_warnx("%s: %s", clean, status);
	free(clean);
	json_decref(job);
	return (rc);
}

static int
cmd_wait_exec(struct schedctl *ctl, struct args *args)
{
	return (cmd_wait_job(ctl, args->argv[0], NULL));
}
