/* SPDX-License-Identifier: ISC */
/*
 * Faults (issue 11): the daemon killed with SIGKILL at random instants and
 * restarted on the same state directory, restart policies that span a
 * restart, queues that must survive one, a full disk and a locked database
 * under the store, a start-up that fails half-way, a state directory
 * spelled two ways, a stop whose tree needs its grace time, and orphans and
 * zombies attributed to their job. Each test injects a real fault and
 * checks the daemon's answers against independent witnesses: its database
 * read with the sqlite3 C API (read-only), the kernel's process table in
 * /proc and the cgroup filesystem. Like systemd, the test program reaps
 * what a killed daemon leaves behind (h_reap_orphans), so that a restarted
 * daemon can learn the real exit status of the processes it adopted.
 * Deadlines are generous; no test measures how fast a loaded machine is,
 * except where the contract names a bound, and then with slack.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests/integration/harness.h"

/* ------------------------------------------------------------ helpers */

/* A number no other test's process carries in its argv: sleep's seconds. */
static const char *
uniq(struct h *h, int i)
{
	return (h_fmt(h, "%d%03d", (int)getpid(), i));
}

/* The job's pid (it must be running). */
static pid_t
running_pid(json_t *job)
{
	h_assert_str(job, "state", "running");
	return ((pid_t)h_int(job, "pid"));
}

/* /proc/PID exists and is not a zombie. */
static int
alive(pid_t pid)
{
	struct h_proc p;

	return (h_proc(pid, &p) == 0 && p.state != 'Z');
}

/* Poll until pid is dead (gone or a zombie); 1 if so within ms. */
static int
wait_dead(pid_t pid, int ms)
{
	int64_t end = h_now_ms() + ms;

	while (alive(pid)) {
		if (h_now_ms() > end)
			return (0);
		h_sleep_ms(10);
	}
	return (1);
}

/* Does pid's argv hold an element equal to arg? */
static int
argv_has(pid_t pid, const char *arg)
{
	char path[64], buf[4096];
	ssize_t n, i, start;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	for (start = 0, i = 0; i <= n; i++) {
		if (i == n || buf[i] == '\0') {
			if (strcmp(buf + start, arg) == 0)
				return (1);
			start = i + 1;
		}
	}
	return (0);
}

/* Live processes with arg in their argv; the first one's pid in *first. */
static int
procs_with_arg(const char *arg, pid_t *first)
{
	struct dirent *de;
	DIR *d;
	char *end;
	long pid;
	int n = 0;

	if (first != NULL)
		*first = 0;
	if ((d = opendir("/proc")) == NULL)
		fail_msg("opendir /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == getpid())
			continue;
		if (!argv_has((pid_t)pid, arg) || !alive((pid_t)pid))
			continue;
		if (n++ == 0 && first != NULL)
			*first = (pid_t)pid;
	}
	closedir(d);
	return (n);
}

/* The one live process with arg in its argv, within ms; fails if none. */
static pid_t
wait_proc_with_arg(const char *arg, int ms)
{
	int64_t end = h_now_ms() + ms;
	pid_t pid;

	while (procs_with_arg(arg, &pid) == 0) {
		if (h_now_ms() > end)
			fail_msg(
			    "no process with argument %s after %d ms", arg, ms);
		h_sleep_ms(10);
	}
	return (pid);
}

/* Poll until no live process has arg; returns how many are left. */
static int
wait_no_proc_with_arg(const char *arg, int ms)
{
	int64_t end = h_now_ms() + ms;
	int n;

	while ((n = procs_with_arg(arg, NULL)) > 0 && h_now_ms() < end)
		h_sleep_ms(20);
	return (n);
}

/* Poll until path exists (ms); 1 if so. */
static int
wait_file(const char *path, int ms)
{
	int64_t end = h_now_ms() + ms;

	while (access(path, F_OK) == -1) {
		if (h_now_ms() > end)
			return (0);
		h_sleep_ms(10);
	}
	return (1);
}

static void
touch(struct h *h, const char *path)
{
	h_put_file(h, path, "");
}

/* Read the pid a job wrote into path (5 s). */
static pid_t
read_pid(struct h *h, const char *path)
{
	const char *t = NULL;

	if (!wait_file(path, 5000) || (t = h_try_text(h, path)) == NULL ||
	    atoi(t) <= 0)
		fail_msg("no pid in %s", path);
	return ((pid_t)atoi(t));
}

/* POST /v1/jobs with spec (stolen), whatever the answer: its status. */
static long
try_create(struct h *h, json_t *spec, json_t **out)
{
	char *body = json_dumps(spec, JSON_COMPACT);
	long st;

	json_decref(spec);
	st = h_request(h, "POST", "/v1/jobs", body, NULL, out);
	free(body);
	return (st);
}

/* The first column of the first row as an integer; -1 if no row or NULL. */
static json_int_t
db_int(struct h *h, const char *sql, const char *bind1)
{
	json_t *rows = h_db_query(h, sql, bind1), *row, *v;
	const char *k;

	if ((row = json_array_get(rows, 0)) == NULL)
		return (-1);
	json_object_foreach (row, k, v)
		return (json_is_integer(v) ? json_integer_value(v) : -1);
	return (-1);
}

/* jobs.state of the job named name in the database; NULL if no row. */
static const char *
db_state(struct h *h, const char *name)
{
	json_t *rows =
	    h_db_query(h, "SELECT state FROM jobs WHERE name = ?1", name);

	if (json_array_size(rows) == 0)
		return (NULL);
	return (h_str(json_array_get(rows, 0), "state"));
}

static void
assert_db_state(struct h *h, const char *name, const char *want)
{
	const char *got = db_state(h, name);

	if (got == NULL || strcmp(got, want) != 0)
		h_fail(
		    h_db_query(h, "SELECT * FROM jobs WHERE name = ?1", name),
		    "database: job %s is %s, expected %s", name,
		    got ? got : "missing", want);
}

/* Number of rows in runs for the job named name. */
static json_int_t
db_runs(struct h *h, const char *name)
{
	return (db_int(h,
	    "SELECT count(*) FROM runs WHERE job_id = "
	    "(SELECT id FROM jobs WHERE name = ?1)",
	    name));
}

/* The runs of the job named name, oldest first. */
static json_t *
db_run_rows(struct h *h, const char *name)
{
	return (h_db_query(h,
	    "SELECT run, pid, exited_at, exit_code, signal, error FROM runs "
	    "WHERE job_id = (SELECT id FROM jobs WHERE name = ?1) ORDER BY run",
	    name));
}

static void
assert_integrity(struct h *h)
{
	json_t *rows = h_db_query(h, "PRAGMA integrity_check", NULL);

	if (json_array_size(rows) != 1 ||
	    strcmp(h_str(json_array_get(rows, 0), "integrity_check"), "ok") !=
		0)
		h_fail(rows, "PRAGMA integrity_check");
}

/* The daemon must die of our SIGKILL (not before, of its own); restart it. */
static void
kill9_restart(struct h *h)
{
	int st = h_daemon_stop(h, SIGKILL);

	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		h_fail(
		    NULL, "schedd ended before our SIGKILL (status %#x)", st);
	h_daemon_start(h);
}

/* The runs of a job through the API, newest first. */
static json_t *
api_runs(struct h *h, const char *job)
{
	return (
	    h_at(h_call(h, 200, "GET", NULL, "/v1/jobs/%s/runs", job), "runs"));
}

/* Case-insensitive: does the error's message mention one of the words? */
static void
assert_message_says(json_t *j, const char *w1, const char *w2)
{
	const char *m = h_str(j, "error.message");

	if (strcasestr(m, w1) == NULL &&
	    (w2 == NULL || strcasestr(m, w2) == NULL))
		h_fail(j, "error.message does not mention \"%s\"%s%s%s", w1,
		    w2 ? " or \"" : "", w2 ? w2 : "", w2 ? "\"" : "");
}

/* GET /v1/health within 2 s (generous): the answer. */
static json_t *
quick_health(struct h *h)
{
	int64_t t0 = h_now_ms(), dt;
	json_t *j = h_call(h, 200, "GET", NULL, "/v1/health");

	if ((dt = h_now_ms() - t0) > 2000)
		h_fail(j, "GET /v1/health took %lld ms", (long long)dt);
	return (j);
}

static void
assert_degraded(json_t *health)
{
	h_assert_str(health, "status", "degraded");
	if (strlen(h_str(health, "degraded")) == 0)
		h_fail(health, "\"degraded\" gives no reason");
}

/* Poll GET /v1/health until status is ok (ms), else fail. */
static void
wait_health_ok(struct h *h, int ms)
{
	int64_t end = h_now_ms() + ms;
	json_t *j;

	for (;;) {
		j = h_call(h, 200, "GET", NULL, "/v1/health");
		if (strcmp(h_str(j, "status"), "ok") == 0)
			return;
		if (h_now_ms() > end)
			h_fail(
			    j, "health not ok %d ms after the fault ended", ms);
		h_sleep_ms(50);
	}
}

/* The job names the API lists and the database holds are the same set. */
static void
assert_api_matches_db(struct h *h)
{
	json_t *api = h_at(h_call(h, 200, "GET", NULL, "/v1/jobs"), "jobs");
	json_t *db = h_db_query(h, "SELECT name FROM jobs ORDER BY id", NULL);
	json_t *j, *r;
	size_t i, k;
	int found;

	json_array_foreach (api, i, j) {
		found = 0;
		json_array_foreach (db, k, r)
			if (strcmp(h_str(r, "name"), h_str(j, "name")) == 0)
				found = 1;
		if (!found)
			h_fail(j, "the API shows job %s, the database has not",
			    h_str(j, "name"));
	}
	if (json_array_size(api) != json_array_size(db))
		h_fail(db, "the database holds %zu jobs, the API shows %zu",
		    json_array_size(db), json_array_size(api));
}

/* An "exited" event's id and exit code for job in the database; 0 if none
 * (fails if there are several for run 1). */
static json_int_t
exited_event(struct h *h, const char *job, json_int_t *exit_code)
{
	json_t *rows = h_db_query(h,
	    "SELECT id, data FROM events WHERE type = 'exited' AND job = ?1 "
	    "ORDER BY id",
	    job);
	json_t *row, *data;

	if (json_array_size(rows) == 0)
		return (0);
	if (json_array_size(rows) > 1)
		h_fail(rows, "job %s has %zu exited events, expected 1", job,
		    json_array_size(rows));
	row = json_array_get(rows, 0);
	data = h_parse(h, h_str(row, "data"));
	*exit_code = json_is_integer(h_at(data, "exit_code"))
			 ? json_integer_value(h_at(data, "exit_code"))
			 : -1;
	return (h_int(row, "id"));
}

/* ------------------------------------------------- 1. kill -9 storm */

#define STORM_KILLS    32
#define STORM_MAX_JOBS 160
#define STORM_NAME     64

enum storm_kind {
	STORM_ONFAIL, /* sh -c 'exit 1', on-failure, max_retries 1 */
	STORM_SLEEP,  /* a long sleep, no restart */
	STORM_ALWAYS, /* exits at once, restart always with a short backoff */
};

struct storm_job {
	char name[STORM_NAME];
	enum storm_kind kind;
	long status;     /* of the create: 201 or -1 (no answer) */
	int seen;        /* times GET /v1/jobs listed it at the end */
	const char *arg; /* the sleep's unique argument */
};

struct killer {
	pid_t pid;
	int delay_ms;
};

static void *
killer_main(void *arg)
{
	struct killer *k = arg;

	h_sleep_ms(k->delay_ms);
	kill(k->pid, SIGKILL);
	return (NULL);
}

static json_t *
storm_spec(struct h *h, struct storm_job *sj)
{
	switch (sj->kind) {
	case STORM_ONFAIL:
		return (json_pack("{s:s, s:[s,s,s], s:{s:s, s:i, s:i}}", "name",
		    sj->name, "argv", "/bin/sh", "-c", "exit 1", "restart",
		    "policy", "on-failure", "max_retries", 1, "backoff_ms",
		    20));
	case STORM_SLEEP:
		return (json_pack("{s:s, s:[s,s]}", "name", sj->name, "argv",
		    "/bin/sleep", sj->arg));
	case STORM_ALWAYS:
	default:
		(void)h;
		return (json_pack("{s:s, s:[s,s,s], s:{s:s, s:i, s:i}}", "name",
		    sj->name, "argv", "/bin/sh", "-c", "exit 0", "restart",
		    "policy", "always", "backoff_ms", 100, "backoff_max_ms",
		    1000));
	}
}

static struct storm_job *
storm_find(struct storm_job *jobs, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(jobs[i].name, name) == 0)
			return (&jobs[i]);
	return (NULL);
}

H_TEST(crash__kill9_storm_while_creating__answered_jobs_once_and_exact_retries)
{
	static struct storm_job jobs[STORM_MAX_JOBS];
	struct killer k;
	struct storm_job *sj, *bad = NULL;
	pthread_t tid;
	json_t *list, *j, *rows, *row, *answer, *badj = NULL;
	const char *state, *name;
	unsigned int seed;
	int64_t end;
	int n = 0, kills, i, pending, nlive, unanswered = 0;
	size_t x;
	long st;

	seed = getenv("SCHEDD_TEST_SEED")
		   ? (unsigned int)atoi(getenv("SCHEDD_TEST_SEED"))
		   : (unsigned int)time(NULL);
	srandom(seed);
	print_message("storm: seed %u (SCHEDD_TEST_SEED replays it)\n", seed);
	h_reap_orphans(h);
	memset(jobs, 0, sizeof(jobs));

	for (kills = 0; kills < STORM_KILLS; kills++) {
		if (kills > 0)
			h_daemon_start(h);
		k.pid = h->daemon;
		k.delay_ms = (int)(random() % 300);
		if ((errno = pthread_create(&tid, NULL, killer_main, &k)) != 0)
			fail_msg("pthread_create: %s", strerror(errno));
		/* Create until the daemon is gone (a request finds no one). */
		for (;;) {
			if (n < STORM_MAX_JOBS) {
				sj = &jobs[n];
				snprintf(
				    sj->name, sizeof(sj->name), "s%03d", n);
				sj->kind = n % 5 == 4       ? STORM_ALWAYS
					   : n % 5 % 2 == 0 ? STORM_ONFAIL
							    : STORM_SLEEP;
				sj->arg = uniq(h, n);
				n++;
				sj->status =
				    try_create(h, storm_spec(h, sj), &j);
				st = sj->status;
				/* No failing here: the killer must be joined
				 * first, or it could kill a reused pid. */
				if (st != 201 && st != -1 && bad == NULL) {
					bad = sj;
					badj = j;
				}
			} else {
				st = h_request(
				    h, "GET", "/v1/jobs", NULL, NULL, NULL);
			}
			if (st == -1)
				break;
			h_sleep_ms(5 + (int)(random() % 40));
		}
		pthread_join(tid, NULL);
		if (bad != NULL)
			h_fail(badj, "create %s answered %ld", bad->name,
			    bad->status);
		st = h_daemon_stop(h, SIGKILL);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			h_fail(NULL,
			    "schedd ended before our SIGKILL (status %#x)",
			    (int)st);
	}
	h_daemon_start(h);

	/* Every on-failure job must end failed, after exactly two runs. */
	end = h_now_ms() + 30000;
	for (;;) {
		list = h_at(h_call(h, 200, "GET", NULL, "/v1/jobs"), "jobs");
		pending = 0;
		json_array_foreach (list, x, j) {
			sj = storm_find(jobs, n, h_str(j, "name"));
			if (sj != NULL && sj->kind == STORM_ONFAIL &&
			    strcmp(h_str(j, "state"), "failed") != 0)
				pending++;
		}
		if (pending == 0)
			break;
		if (h_now_ms() > end) {
			json_array_foreach (list, x, j) {
				sj = storm_find(jobs, n, h_str(j, "name"));
				if (sj != NULL && sj->kind == STORM_ONFAIL &&
				    strcmp(h_str(j, "state"), "failed") != 0)
					h_fail(j,
					    "on-failure job %s (exit 1, "
					    "max_retries 1; its create was %s) "
					    "is not failed 30 s after the storm "
					    "(%d such jobs)",
					    sj->name,
					    sj->status == 201 ? "answered 201"
							      : "not answered",
					    pending);
			}
		}
		h_sleep_ms(200);
	}

	/* The API: no name twice, none we never sent, every 201 present. */
	json_array_foreach (list, x, j) {
		name = h_str(j, "name");
		if ((sj = storm_find(jobs, n, name)) == NULL)
			h_fail(j, "a job nobody created: %s", name);
		if (sj->seen++ > 0)
			h_fail(j, "job %s listed twice", name);
	}
	for (i = 0; i < n; i++) {
		if (jobs[i].status == 201 && jobs[i].seen == 0)
			h_fail(NULL,
			    "job %s was answered 201 and is gone after the "
			    "storm",
			    jobs[i].name);
		if (jobs[i].status == -1)
			unanswered++;
	}
	print_message("storm: %d kills, %d creates, %d unanswered\n",
	    STORM_KILLS, n, unanswered);

	/* The database: the same jobs, once each, each created once. */
	assert_api_matches_db(h);
	rows = h_db_query(h,
	    "SELECT name, count(*) AS n FROM jobs GROUP BY name HAVING n > 1",
	    NULL);
	if (json_array_size(rows) != 0)
		h_fail(rows, "jobs stored twice");
	rows = h_db_query(h,
	    "SELECT j.name, (SELECT count(*) FROM events e WHERE "
	    "e.type = 'created' AND e.job_id = j.id) AS n FROM jobs j",
	    NULL);
	json_array_foreach (rows, x, row)
		if (h_int(row, "n") != 1)
			h_fail(row, "job %s has %lld \"created\" events",
			    h_str(row, "name"), (long long)h_int(row, "n"));

	for (i = 0; i < n; i++) {
		sj = &jobs[i];
		if (sj->seen == 0) {
			/* Never stored: nothing of it may run. */
			if (sj->kind == STORM_SLEEP &&
			    (nlive = procs_with_arg(sj->arg, NULL)) != 0)
				h_fail(NULL,
				    "job %s was never stored, yet %d of its "
				    "processes run",
				    sj->name, nlive);
			continue;
		}
		switch (sj->kind) {
		case STORM_ONFAIL:
			if (db_runs(h, sj->name) != 2)
				h_fail(db_run_rows(h, sj->name),
				    "on-failure job %s (max_retries 1) has "
				    "%lld runs in the database, expected 2",
				    sj->name, (long long)db_runs(h, sj->name));
			break;
		case STORM_SLEEP:
			j = h_job_get(h, sj->name);
			state = h_str(j, "state");
			if (strcmp(state, "running") != 0)
				h_fail(j, "sleep job %s is %s after the storm",
				    sj->name, state);
			if (!argv_has((pid_t)h_int(j, "pid"), sj->arg))
				h_fail(j, "job %s's pid is not its sleep",
				    sj->name);
			if ((nlive = procs_with_arg(sj->arg, NULL)) != 1)
				h_fail(j, "job %s has %d sleeps, expected 1",
				    sj->name, nlive);
			break;
		case STORM_ALWAYS:
			break;
		}
	}
	answer = h_call(h, 200, "GET", NULL, "/v1/health");
	h_assert_str(answer, "status", "ok");
	assert_integrity(h);
}

/* --------------------------------- 2. restart policy across a restart */

H_TEST(restart__kill9_during_first_failing_run__two_runs_then_failed)
{
	json_t *j;

	h_reap_orphans(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:s, s:i, s:i}}", "name", "flaky",
		   "argv", "/bin/sh", "-c", "sleep 0.5; exit 1", "restart",
		   "policy", "on-failure", "max_retries", 1, "backoff_ms", 10));
	running_pid(j);
	kill9_restart(h);
	j = h_job_poll(h, "flaky", "failed", 10000);
	/* And no third run comes later. */
	h_sleep_ms(500);
	j = h_job_get(h, "flaky");
	h_assert_str(j, "state", "failed");
	assert_int_equal(json_array_size(api_runs(h, "flaky")), 2);
	if (db_runs(h, "flaky") != 2)
		h_fail(db_run_rows(h, "flaky"),
		    "the database has %lld runs of flaky, expected 2",
		    (long long)db_runs(h, "flaky"));
	assert_db_state(h, "flaky", "failed");
}

H_TEST(restart__always_job_died_while_daemon_down__started_again)
{
	const char *arg = uniq(h, 1);
	int64_t end;
	json_t *j, *rows;
	pid_t pid1, pid2;
	int st;

	h_reap_orphans(h);
	j = h_job_create(h, json_pack("{s:s, s:[s,s], s:{s:s, s:i}}", "name",
				"forever", "argv", "/bin/sleep", arg, "restart",
				"policy", "always", "backoff_ms", 100));
	pid1 = running_pid(j);
	st = h_daemon_stop(h, SIGKILL);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* The job dies while no daemon runs; we reap it, as init would. */
	assert_int_equal(kill(pid1, SIGKILL), 0);
	if (!h_wait_gone(pid1, 5000))
		h_fail(NULL, "pid %d not reaped", (int)pid1);
	h_daemon_start(h);

	end = h_now_ms() + 10000;
	for (;;) {
		j = h_job_get(h, "forever");
		if (strcmp(h_str(j, "state"), "running") == 0 &&
		    h_int(j, "pid") != pid1)
			break;
		if (h_now_ms() > end)
			h_fail(j, "not started again 10 s after the restart");
		h_sleep_ms(50);
	}
	pid2 = (pid_t)h_int(j, "pid");
	if (!alive(pid2) || !argv_has(pid2, arg))
		h_fail(j, "the new run's pid %d is not its sleep", (int)pid2);
	rows = db_run_rows(h, "forever");
	if (json_array_size(rows) != 2)
		h_fail(rows, "expected runs 1 and 2 in the database");
	h_assert_int(json_array_get(rows, 0), "pid", pid1);
	if (!json_is_integer(h_at(json_array_get(rows, 0), "exited_at")))
		h_fail(rows, "run 1 has no exited_at");
	h_assert_int(json_array_get(rows, 1), "pid", pid2);
	assert_int_equal(procs_with_arg(arg, NULL), 1);
}

/*
 * An on-failure job, adopted by the restarted daemon, then made to exit
 * with code: the exit code the daemon stores is the real one (read through
 * its pidfd once the test program reaped the process).
 */
static void
adopted_exit(struct h *h, const char *name, int code)
{
	const char *go = h_fmt(h, "%s/go-%s", h->dir, name);
	json_t *j;
	pid_t pid;

	h_reap_orphans(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:s, s:i, s:i}}", "name", name,
		   "argv", "/bin/sh", "-c",
		   h_fmt(h, "while [ ! -e %s ]; do sleep 0.05; done; exit %d",
		       go, code),
		   "restart", "policy", "on-failure", "max_retries", 1,
		   "backoff_ms", 10));
	pid = running_pid(j);
	kill9_restart(h);
	j = h_job_get(h, name);
	h_assert_str(j, "state", "running");
	h_assert_int(j, "pid", pid);
	touch(h, go);
	if (!h_wait_gone(pid, 5000))
		h_fail(
		    NULL, "pid %d did not end (or was not reaped)", (int)pid);
}

H_TEST(restart__adopted_run_exits_0__exit_code_0_not_restarted)
{
	json_t *rows, *j;

	adopted_exit(h, "clean", 0);
	j = h_job_poll(h, "clean", "exited", 5000);
	h_assert_int(j, "last_run.exit_code", 0);
	h_sleep_ms(500);
	h_assert_str(h_job_get(h, "clean"), "state", "exited");
	rows = db_run_rows(h, "clean");
	if (json_array_size(rows) != 1)
		h_fail(rows, "a clean exit was restarted");
	h_assert_int(json_array_get(rows, 0), "exit_code", 0);
	assert_db_state(h, "clean", "exited");
}

H_TEST(restart__adopted_run_exits_3__exit_code_3_and_restarted)
{
	json_t *rows;

	adopted_exit(h, "three", 3);
	/* Run 2 finds the file at once and exits 3 too: retries are used up. */
	h_job_poll(h, "three", "failed", 10000);
	rows = db_run_rows(h, "three");
	if (json_array_size(rows) != 2)
		h_fail(rows, "expected two runs (exit 3, restarted once)");
	h_assert_int(json_array_get(rows, 0), "exit_code", 3);
	h_assert_int(json_array_get(rows, 1), "exit_code", 3);
	assert_db_state(h, "three", "failed");
}

/* ------------------------------------ 3. queued jobs survive a crash */

H_TEST(queue__after_dependency_across_kill9__still_queued_then_started)
{
	json_t *j;

	h_reap_orphans(h);
	h_job_create(h, json_pack("{s:s, s:[s,s], s:b}", "name", "dep", "argv",
			    "/bin/sleep", uniq(h, 1), "start", 0));
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:[s]}", "name", "waiter", "argv",
		   "/bin/sleep", uniq(h, 2), "after", "dep"));
	h_assert_str(j, "state", "queued");
	assert_db_state(h, "waiter", "queued");

	kill9_restart(h);
	h_assert_str(h_job_get(h, "waiter"), "state", "queued");
	assert_db_state(h, "waiter", "queued");
	h_sleep_ms(300);
	h_assert_str(h_job_get(h, "waiter"), "state", "queued");
	assert_int_equal(procs_with_arg(uniq(h, 2), NULL), 0);

	h_call(h, 200, "POST", NULL, "/v1/jobs/dep/start");
	j = h_job_poll(h, "waiter", "running", 5000);
	if (!argv_has(running_pid(j), uniq(h, 2)))
		h_fail(j, "the waiter's pid is not its sleep");
	assert_db_state(h, "waiter", "running");
}

/* The names in /v1/cpus's queue, comma-separated. */
static const char *
cpu_queue(struct h *h)
{
	json_t *q = h_at(h_call(h, 200, "GET", NULL, "/v1/cpus"), "queue"), *e;
	const char *s = "";
	size_t i;

	json_array_foreach (q, i, e)
		s = h_fmt(h, "%s%s%s", s, i ? "," : "", h_str(e, "job"));
	return (s);
}

/* Shared CPUs the daemon can grant from: the count in /v1/cpus "shared". */
static int
shared_cpus(struct h *h)
{
	json_t *c = h_call(h, 200, "GET", NULL, "/v1/cpus"), *e;
	size_t i;
	int n = 0;

	json_array_foreach (h_at(c, "cpus"), i, e)
		if (strcmp(h_str(e, "state"), "shared") == 0)
			n++;
	return (n);
}

static void
need_cpus(struct h *h)
{
	h_need_root(h);
	if (h_cg_mount(h, "cpuset") == NULL)
		h_skip(h, "needs the cgroup v1 cpuset hierarchy");
	if (shared_cpus(h) < 2)
		h_skip(h, "needs two shared CPUs to grant one");
}

H_TEST(queue__exclusive_cpus_across_kill9__same_order_then_started)
{
	json_t *j, *spec;
	pid_t holder = 0;
	int i, nhold;

	need_cpus(h);
	h_reap_orphans(h);
	/* Take every CPU that can be granted (one stays shared). */
	nhold = shared_cpus(h) - 1;
	for (i = 0; i < nhold; i++) {
		j = h_job_create(
		    h, json_pack("{s:s, s:[s,s], s:i}", "name",
			   h_fmt(h, "hold%d", i), "argv", "/bin/sleep",
			   uniq(h, 10 + i), "exclusive_cpus", 1));
		holder = running_pid(j);
	}
	for (i = 1; i <= 2; i++) {
		spec =
		    json_pack("{s:s, s:[s,s], s:i}", "name", h_fmt(h, "q%d", i),
			"argv", "/bin/sleep", uniq(h, i), "exclusive_cpus", 1);
		h_assert_str(h_job_create(h, spec), "state", "queued");
	}
	assert_string_equal(cpu_queue(h), "q1,q2");
	assert_db_state(h, "q1", "queued");
	assert_db_state(h, "q2", "queued");

	kill9_restart(h);
	h_assert_str(h_job_get(h, "q1"), "state", "queued");
	h_assert_str(h_job_get(h, "q2"), "state", "queued");
	assert_db_state(h, "q1", "queued");
	assert_db_state(h, "q2", "queued");
	assert_string_equal(cpu_queue(h), "q1,q2");
	j = h_job_get(h, h_fmt(h, "hold%d", nhold - 1));
	h_assert_int(j, "pid", holder);
	assert_int_equal(procs_with_arg(uniq(h, 1), NULL), 0);

	h_call(h, 200, "POST", NULL, "/v1/jobs/%s/stop",
	    h_fmt(h, "hold%d", nhold - 1));
	j = h_job_poll(h, "q1", "running", 5000);
	if (!argv_has(running_pid(j), uniq(h, 1)))
		h_fail(j, "q1's pid is not its sleep");
	h_assert_str(h_job_get(h, "q2"), "state", "queued");
	assert_string_equal(cpu_queue(h), "q2");
	assert_db_state(h, "q1", "running");
	assert_db_state(h, "q2", "queued");
}

/* ---------------------------------------------------- 4. a full disk */

static int
disk_full(const char *dir)
{
	struct statvfs sv;

	return (statvfs(dir, &sv) == 0 && sv.f_bavail == 0);
}

H_TEST(store__disk_full__503_degraded_and_held_exits_stored_in_order)
{
	const char *a = h_fmt(h, "%s/go-a", h->dir), *b, *w;
	const char *refused[] = {"nospace", NULL};
	json_int_t id4, id5, code4 = -1, code5 = -1;
	json_t *j;
	pid_t p4, p5;
	int64_t end;
	int st;

	b = h_fmt(h, "%s/go-b", h->dir);
	w = h_fmt(h, "%s/go-w", h->dir);
	h_need_root(h);
	st = h_daemon_stop(h, SIGTERM);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	h_mount_tmpfs(h, h->state, "16m");
	h_daemon_start(h);

	/* Two exits that will come while the disk is full, in this order. */
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "four",
				"argv", "/bin/sh", "-c",
				h_fmt(h,
				    "while [ ! -e %s ]; do sleep 0.05; done; "
				    "exit 4",
				    a)));
	p4 = running_pid(j);
	j = h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "five",
				"argv", "/bin/sh", "-c",
				h_fmt(h,
				    "while [ ! -e %s ]; do sleep 0.05; done; "
				    "exit 5",
				    b)));
	p5 = running_pid(j);
	h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "idle", "argv",
			    "/bin/true", "start", 0));
	/* It fills the disk with a file of its own, once its start is
	 * stored (its output could not: schedd drops output below
	 * logs_min_free, test_logs.c). */
	h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "writer", "argv",
			    "/bin/sh", "-c",
			    h_fmt(h,
				"while [ ! -e %s ]; do sleep 0.05; done; "
				"dd if=/dev/zero of=%s/filler bs=64k "
				"2>/dev/null; exec sleep %s",
				w, h->state, uniq(h, 1))));
	touch(h, w);
	end = h_now_ms() + 15000;
	while (!disk_full(h->state)) {
		if (h_now_ms() > end)
			fail_msg("%s is not full after 15 s", h->state);
		h_sleep_ms(20);
	}

	/* Changes are refused, saying why; reads go on. */
	j = h_call(h, 503, "POST",
	    json_pack("{s:s, s:[s], s:b}", "name", refused[0], "argv",
		"/bin/true", "start", 0),
	    "/v1/jobs");
	h_assert_error(j, "unavailable", NULL);
	assert_message_says(j, "full", NULL);
	j = h_call(h, 503, "POST", NULL, "/v1/jobs/writer/stop");
	h_assert_error(j, "unavailable", NULL);
	assert_message_says(j, "full", NULL);
	j = h_call(h, 503, "POST", NULL, "/v1/jobs/idle/start");
	h_assert_error(j, "unavailable", NULL);
	assert_message_says(j, "full", NULL);
	assert_degraded(quick_health(h));
	h_call(h, 404, "GET", NULL, "/v1/jobs/%s", refused[0]);
	h_assert_str(h_job_get(h, "idle"), "state", "created");
	h_assert_str(h_job_get(h, "writer"), "state", "running");

	/* Exits while full are held: the database still says running. */
	touch(h, a);
	assert_true(wait_dead(p4, 5000));
	h_sleep_ms(200);
	touch(h, b);
	assert_true(wait_dead(p5, 5000));
	h_sleep_ms(300);
	assert_db_state(h, "four", "running");
	assert_db_state(h, "five", "running");
	assert_int_equal(exited_event(h, "four", &code4), 0);
	assert_api_matches_db(h);
	assert_degraded(quick_health(h));

	/* Space comes back: health recovers, held exits are stored in order. */
	if (mount(NULL, h->state, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV,
		"size=64m") == -1)
		fail_msg("remount %s: %s", h->state, strerror(errno));
	wait_health_ok(h, 10000);
	end = h_now_ms() + 5000;
	while ((id4 = exited_event(h, "four", &code4)) == 0 ||
	       (id5 = exited_event(h, "five", &code5)) == 0) {
		if (h_now_ms() > end)
			h_fail(h_db_query(
				   h, "SELECT * FROM events ORDER BY id", NULL),
			    "held exits not stored 5 s after space returned");
		h_sleep_ms(50);
	}
	assert_int_equal(code4, 4);
	assert_int_equal(code5, 5);
	if (id4 >= id5)
		h_fail(NULL,
		    "held exits stored out of order: four (first) has event "
		    "%lld, five %lld",
		    (long long)id4, (long long)id5);
	assert_db_state(h, "four", "exited");
	assert_db_state(h, "five", "exited");
	h_assert_int(h_job_get(h, "four"), "last_run.exit_code", 4);
	h_assert_int(h_job_get(h, "five"), "last_run.exit_code", 5);
	h_assert_str(h_job_get(h, "idle"), "state", "created");
	assert_db_state(h, "idle", "created");
	assert_db_state(h, "writer", "running");
	h_call(h, 404, "GET", NULL, "/v1/jobs/%s", refused[0]);
	assert_api_matches_db(h);
	assert_integrity(h);
	/* And changes work again. */
	h_call(h, 200, "POST", NULL, "/v1/jobs/idle/start");
}

/* ---------------------------------------------- 5. a locked database */

struct db_lock {
	sqlite3 *db;
};

static void
db_unlock(void *arg)
{
	struct db_lock *l = arg;

	if (l->db == NULL)
		return;
	sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(l->db);
	l->db = NULL;
}

H_TEST(store__database_locked__health_answers_503_and_exit_stored_later)
{
	static struct db_lock lock;
	const char *path = h_fmt(h, "%s/schedd.db", h->state);
	const char *go = h_fmt(h, "%s/go", h->dir);
	json_t *j, *rows;
	int64_t t0, end;
	pid_t pid;
	char *msg = NULL;

	j = h_job_create(h, json_pack("{s:s, s:[s,s,s]}", "name", "six", "argv",
				"/bin/sh", "-c",
				h_fmt(h,
				    "while [ ! -e %s ]; do sleep 0.05; done; "
				    "exit 6",
				    go)));
	pid = running_pid(j);

	lock.db = NULL;
	h_defer(h, db_unlock, &lock);
	if (sqlite3_open_v2(path, &lock.db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		fail_msg("open %s", path);
	sqlite3_busy_timeout(lock.db, 5000);
	if (sqlite3_exec(lock.db, "BEGIN EXCLUSIVE", NULL, NULL, &msg) !=
	    SQLITE_OK)
		fail_msg("BEGIN EXCLUSIVE: %s", msg ? msg : "?");
	t0 = h_now_ms();

	quick_health(h);
	j = h_call(h, 503, "POST",
	    json_pack("{s:s, s:[s], s:b}", "name", "during", "argv",
		"/bin/true", "start", 0),
	    "/v1/jobs");
	h_assert_error(j, "unavailable", NULL);
	assert_message_says(j, "lock", "busy");
	assert_degraded(quick_health(h));

	/* An exit during the lock: health keeps answering meanwhile. */
	touch(h, go);
	assert_true(wait_dead(pid, 5000));
	end = h_now_ms() + 2000;
	while (h_now_ms() < end) {
		assert_degraded(quick_health(h));
		h_sleep_ms(100);
	}
	rows = db_run_rows(h, "six");
	if (!json_is_null(h_at(json_array_get(rows, 0), "exit_code")))
		h_fail(
		    rows, "an exit was stored while the database was locked?");
	h_call(h, 404, "GET", NULL, "/v1/jobs/during");

	/* Hold the lock 10 s, keeping an eye on health. */
	while (h_now_ms() < t0 + 10000) {
		quick_health(h);
		h_sleep_ms(250);
	}
	db_unlock(&lock);

	wait_health_ok(h, 10000);
	end = h_now_ms() + 5000;
	for (;;) {
		rows = db_run_rows(h, "six");
		if (json_is_integer(h_at(json_array_get(rows, 0), "exit_code")))
			break;
		if (h_now_ms() > end)
			h_fail(rows,
			    "the exit is not stored 5 s after the lock "
			    "was released");
		h_sleep_ms(50);
	}
	h_assert_int(json_array_get(rows, 0), "exit_code", 6);
	assert_db_state(h, "six", "exited");
	h_assert_int(h_job_get(h, "six"), "last_run.exit_code", 6);
	assert_int_equal(
	    db_int(h, "SELECT count(*) FROM jobs WHERE name = ?1", "during"),
	    0);
	h_job_create(h, json_pack("{s:s, s:[s], s:b}", "name", "after", "argv",
			    "/bin/true", "start", 0));
	assert_db_state(h, "after", "created");
	assert_api_matches_db(h);
	assert_integrity(h);
}

/* ------------------------------- 6. a failed start-up leaves nothing */

/* The cgroup directories beneath the harness's daemon cgroups, one string. */
static const char *
cg_children(struct h *h)
{
	const char *s = "", *dir;
	struct dirent *de;
	DIR *d;
	int i;

	for (i = 0; (dir = h_daemon_cg(h, i)) != NULL; i++) {
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			s = h_fmt(h, "%s%s/%s\n", s, dir, de->d_name);
		}
		closedir(d);
	}
	return (s);
}

H_TEST(startup__socket_taken__no_job_process_or_cgroup_left)
{
	const char *dir = h_fmt(h, "%s/second", h->dir);
	const char *jobs = h_fmt(h, "%s/jobs", dir);
	const char *conf = h_fmt(h, "%s/schedd.conf", dir);
	const char *state = h_fmt(h, "%s/state", dir);
	const char *arg = uniq(h, 1), *before, *after;
	const char *args[] = {"--socket", h->sock, "--state-dir", state,
	    "--config", conf, "--foreground", "--log-level", "debug", NULL};
	int64_t end;
	int st;

	if (mkdir(dir, 0755) == -1 || mkdir(jobs, 0755) == -1)
		fail_msg("mkdir %s: %s", jobs, strerror(errno));
	h_put_file(h, conf, h_fmt(h, "jobs_dir = %s\n", jobs));
	h_put_file(h, h_fmt(h, "%s/stray.json", jobs),
	    h_fmt(h, "{\"argv\": [\"/bin/sleep\", \"%s\"], \"start\": true}\n",
		arg));
	before = cg_children(h);

	/* The first daemon listens on that socket: the second must give up. */
	st = h_schedd_run(h, args, 20000);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		h_fail(NULL, "the second schedd exited 0");
	if (!WIFEXITED(st))
		h_fail(
		    NULL, "the second schedd died of signal %d", WTERMSIG(st));
	h_assert_healthy(h);

	if (wait_no_proc_with_arg(arg, 2000) != 0)
		h_fail(NULL,
		    "the failed daemon's job (sleep %s) still runs after it "
		    "exited",
		    arg);
	end = h_now_ms() + 2000;
	while (
	    strcmp((after = cg_children(h)), before) != 0 && h_now_ms() < end)
		h_sleep_ms(50);
	if (strcmp(after, before) != 0)
		h_fail(NULL,
		    "cgroups left by the failed daemon:\nbefore:\n%safter:\n%s",
		    before, after);
}

/* ------------------------------------- 7. the state dir spelled twice */

/* Job "esc": sh with a setsid sleep arg that only its cgroup reaches. */
static json_t *
esc_create(struct h *h, const char *arg, pid_t *main_pid, pid_t *escapee)
{
	json_t *j;

	h_need_root(h);
	if (h_daemon_cg(h, 0) == NULL)
		h_skip(h, "needs cgroups");
	h_reap_orphans(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s]}", "name", "esc", "argv", "/bin/sh",
		   "-c", h_fmt(h, "setsid sleep %s & wait", arg)));
	*main_pid = running_pid(j);
	*escapee = wait_proc_with_arg(arg, 5000);
	return (j);
}

/* After a restart, esc adopted: its stop ends the whole tree, and a
 * shutdown leaves no cgroup behind. */
static void
esc_stop_then_shutdown(struct h *h, pid_t main_pid, pid_t escapee)
{
	const char *left;
	int st;

	h_assert_int(h_job_get(h, "esc"), "pid", main_pid);
	h_assert_str(h_call(h, 200, "POST", NULL, "/v1/jobs/esc/stop"), "state",
	    "stopped");
	if (!wait_dead(main_pid, 5000) || !wait_dead(escapee, 5000))
		h_fail(NULL,
		    "after the stop: main %d %s, its setsid sleep %d %s",
		    (int)main_pid, alive(main_pid) ? "alive" : "dead",
		    (int)escapee, alive(escapee) ? "alive" : "dead");

	st = h_daemon_stop(h, SIGTERM);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		h_fail(NULL, "schedd did not exit 0 on SIGTERM (%#x)", st);
	if (strcmp((left = cg_children(h)), "") != 0)
		h_fail(NULL, "cgroups left after the shutdown:\n%.2000s", left);
}

H_TEST(statedir__trailing_slash_after_kill9__stop_and_shutdown_leave_nothing)
{
	const char *extra[] = {"--state-dir", h_fmt(h, "%s/", h->state), NULL};
	pid_t main_pid, escapee;
	int st;

	esc_create(h, uniq(h, 1), &main_pid, &escapee);
	st = h_daemon_stop(h, SIGKILL);
	assert_true(WIFSIGNALED(st));
	h_daemon_start_args(h, extra);
	esc_stop_then_shutdown(h, main_pid, escapee);
}

/* ----------------------------- 7b. more job cgroups than ever listed */

/* Job cgroups named job-N beneath dir with N >= from, counted. */
static int
cg_count_from(const char *dir, long from)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "job-", 4) == 0 &&
		    atol(de->d_name + 4) >= from)
			n++;
	closedir(d);
	return (n);
}

/*
 * Start-up reconciles every job cgroup: the stale ones go, a live job's is
 * its own again. Its list once stopped at 4,096: after a kill -9 with
 * 4,500 jobs, 404 jobs were run as if they had no cgroup (their setsid
 * children outlived the stop) and 1,616 cgroups outlived the daemon.
 * 4,200 stale cgroups beside one live job reproduce it in a second.
 */
H_TEST(restart__4200_stale_cgroups_beside_a_live_job__all_reconciled)
{
	char sub[PATH_MAX];
	json_t *j;
	pid_t main_pid, escapee;
	int i, n, st;

	j = esc_create(h, uniq(h, 1), &main_pid, &escapee);
	snprintf(sub, sizeof(sub), "%s", h_job_cg(h, j, "pids"));
	*strrchr(sub, '/') = '\0';

	st = h_daemon_stop(h, SIGKILL);
	assert_true(WIFSIGNALED(st));
	for (i = 0; i < 4200; i++)
		if (mkdir(h_fmt(h, "%s/job-%d", sub, 100000 + i), 0755) == -1)
			fail_msg("mkdir %s/job-%d: %s", sub, 100000 + i,
			    strerror(errno));
	h_daemon_start(h);
	if ((n = cg_count_from(sub, 100000)) != 0)
		h_fail(NULL,
		    "%d of 4,200 stale cgroups are left in %s after the "
		    "restart",
		    n, sub);
	/* Only its cgroup reaches the setsid child. */
	esc_stop_then_shutdown(h, main_pid, escapee);
}

/* ------------------------------------ 8. stop grace for the whole tree */

H_TEST(stop__descendant_traps_term__cleanup_finishes_before_answer)
{
	const char *done = h_fmt(h, "%s/done", h->dir);
	const char *pidf = h_fmt(h, "%s/child.pid", h->dir);
	const char *script = h_fmt(h, "%s/grace.sh", h->dir);
	json_t *j, *rows;
	const char *t;
	int64_t t0, dt;
	pid_t main_pid, child;

	/* The main process dies at once on SIGTERM; its child needs ~1 s. */
	h_put_file(h, script,
	    h_fmt(h,
		"trap 'sleep 1; echo done > %s; exit 0' TERM\n"
		"echo $$ > %s.tmp; mv %s.tmp %s\n"
		"while :; do sleep 0.1; done\n",
		done, pidf, pidf, pidf));
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s], s:{s:i}}", "name", "grace", "argv",
		   "/bin/sh", "-c",
		   h_fmt(h, "sh %s & exec sleep %s", script, uniq(h, 1)),
		   "stop", "timeout_ms", 5000));
	main_pid = running_pid(j);
	child = read_pid(h, pidf);
	h_learn_pid(h, child);

	t0 = h_now_ms();
	j = h_call(h, 200, "POST", NULL, "/v1/jobs/grace/stop");
	dt = h_now_ms() - t0;
	h_assert_str(j, "state", "stopped");
	/* The answer came after everything ended. */
	if (alive(child) || alive(main_pid))
		h_fail(j,
		    "stop answered after %lld ms while the tree still "
		    "ran (main %s, child %s)",
		    (long long)dt, alive(main_pid) ? "alive" : "dead",
		    alive(child) ? "alive" : "dead");
	if ((t = h_try_text(h, done)) == NULL || strcmp(t, "done") != 0)
		h_fail(j,
		    "the child's TERM handler did not finish (stop took %lld "
		    "ms)",
		    (long long)dt);
	/* Not SIGKILLed: if its end is recorded, it is exit 0. */
	rows = h_db_query(h,
	    h_fmt(h,
		"SELECT exit_code, signal FROM processes WHERE pid = %d "
		"AND exited_at IS NOT NULL",
		(int)child),
	    NULL);
	if (json_array_size(rows) > 0 &&
	    (!json_is_integer(h_at(json_array_get(rows, 0), "exit_code")) ||
		h_int(json_array_get(rows, 0), "exit_code") != 0))
		h_fail(rows, "the child's end is recorded, and not as exit 0");
}

/* -------------------------------------------- 9. the DEADLINE queue */

H_TEST(queue__deadline_job_stopped__exclusive_job_starts_promptly)
{
	json_t *j;
	int64_t t0, dt;

	need_cpus(h);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:{s:s, s:i, s:i, s:i}}", "name", "dl",
		   "argv", "/bin/sleep", uniq(h, 1), "sched", "policy",
		   "deadline", "runtime_us", 10000, "deadline_us", 100000,
		   "period_us", 100000));
	running_pid(j);
	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s], s:i}", "name", "excl", "argv",
		   "/bin/sleep", uniq(h, 2), "exclusive_cpus", 1));
	h_assert_str(j, "state", "queued");

	h_assert_str(h_call(h, 200, "POST", NULL, "/v1/jobs/dl/stop"), "state",
	    "stopped");
	t0 = h_now_ms();
	for (;;) {
		j = h_job_get(h, "excl");
		if (strcmp(h_str(j, "state"), "running") == 0)
			break;
		if (h_now_ms() - t0 > 5000)
			h_fail(j, "still not running 5 s after the DEADLINE "
				  "job stopped");
		h_sleep_ms(20);
	}
	dt = h_now_ms() - t0;
	print_message("excl started %lld ms after dl stopped\n", (long long)dt);
	if (dt > 2000)
		h_fail(j, "started %lld ms after the DEADLINE job stopped",
		    (long long)dt);
	if (!argv_has(running_pid(j), uniq(h, 2)))
		h_fail(j, "its pid is not its sleep");
}

/* ------------------------------------ 10. attribution by cgroup */

H_TEST(reaper__setsid_descendant_exits_5__orphan_attributed_by_cgroup)
{
	const char *pidf = h_fmt(h, "%s/orphan.pid", h->dir);
	struct h_stream *s;
	json_t *j, *ev, *rows;
	pid_t orphan;
	int64_t end;
	int found = 0;

	/* A subshell starts a new session's sh and exits: an orphan, out of
	 * the job's session, that exits 5 after 2 s. */
	j = h_job_create(h,
	    json_pack("{s:s, s:[s,s,s]}", "name", "leaver", "argv", "/bin/sh",
		"-c",
		h_fmt(h,
		    "(setsid sh -c 'echo $$ > %s.tmp; mv %s.tmp %s; sleep 2; "
		    "exit 5' &); exec sleep %s",
		    pidf, pidf, pidf, uniq(h, 1))));
	running_pid(j);
	orphan = read_pid(h, pidf);
	h_learn_pid(h, orphan);

	s = h_stream_open(h, "/v1/events?since=0");
	assert_int_equal(h_stream_status(s), 200);
	end = h_now_ms() + 10000;
	while (!found && h_now_ms() < end) {
		if ((ev = h_stream_event(s, 500)) == NULL) {
			if (h_stream_ended(s))
				break;
			continue;
		}
		if (strcmp(h_str(ev, "type"), "orphan") != 0 ||
		    h_int(ev, "data.pid") != orphan)
			continue;
		if (!json_is_string(h_at(ev, "job")))
			h_fail(ev, "the orphan is attributed to no job");
		h_assert_str(ev, "job", "leaver");
		h_assert_int(ev, "job_id", h_int(j, "id"));
		h_assert_int(ev, "data.exit_code", 5);
		found = 1;
	}
	h_stream_close(s);
	if (!found)
		h_fail(NULL, "no orphan event for pid %d", (int)orphan);
	rows = h_db_query(h,
	    h_fmt(h,
		"SELECT p.exit_code, p.signal FROM processes p "
		"JOIN runs r ON p.run_id = r.id JOIN jobs j ON r.job_id = j.id "
		"WHERE j.name = 'leaver' AND p.pid = %d",
		(int)orphan),
	    NULL);
	if (json_array_size(rows) != 1)
		h_fail(rows, "the orphan %d is not in the job's processes",
		    (int)orphan);
	h_assert_int(json_array_get(rows, 0), "exit_code", 5);
}

H_TEST(processes__unwaited_child__listed_as_zombie)
{
	struct h_proc p;
	json_t *j, *list, *e;
	pid_t pid, zpid = 0;
	int64_t end;
	size_t i;

	j = h_job_create(
	    h, json_pack("{s:s, s:[s,s,s]}", "name", "zparent", "argv",
		   "/usr/bin/perl", "-e", "fork or exit 0; sleep 100"));
	pid = running_pid(j);
	end = h_now_ms() + 5000;
	while (zpid == 0) {
		list = h_at(
		    h_call(h, 200, "GET", NULL, "/v1/jobs/zparent/processes"),
		    "processes");
		json_array_foreach (list, i, e) {
			if (h_int(e, "ppid") == pid &&
			    strcmp(h_str(e, "state"), "Z") == 0)
				zpid = (pid_t)h_int(e, "pid");
		}
		if (zpid == 0 && h_now_ms() > end)
			h_fail(list, "no zombie child of %d listed", (int)pid);
		h_sleep_ms(50);
	}
	/* The kernel agrees. */
	assert_int_equal(h_proc(zpid, &p), 0);
	assert_int_equal(p.state, 'Z');
	assert_int_equal(p.ppid, pid);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    H_UNIT(
		crash__kill9_storm_while_creating__answered_jobs_once_and_exact_retries),
	    H_UNIT(
		restart__kill9_during_first_failing_run__two_runs_then_failed),
	    H_UNIT(restart__always_job_died_while_daemon_down__started_again),
	    H_UNIT(restart__adopted_run_exits_0__exit_code_0_not_restarted),
	    H_UNIT(restart__adopted_run_exits_3__exit_code_3_and_restarted),
	    H_UNIT(
		queue__after_dependency_across_kill9__still_queued_then_started),
	    H_UNIT(queue__exclusive_cpus_across_kill9__same_order_then_started),
	    H_UNIT(
		store__disk_full__503_degraded_and_held_exits_stored_in_order),
	    H_UNIT(
		store__database_locked__health_answers_503_and_exit_stored_later),
	    H_UNIT(startup__socket_taken__no_job_process_or_cgroup_left),
	    H_UNIT(
		statedir__trailing_slash_after_kill9__stop_and_shutdown_leave_nothing),
	    H_UNIT(
		restart__4200_stale_cgroups_beside_a_live_job__all_reconciled),
	    H_UNIT(stop__descendant_traps_term__cleanup_finishes_before_answer),
	    H_UNIT(queue__deadline_job_stopped__exclusive_job_starts_promptly),
	    H_UNIT(
		reaper__setsid_descendant_exits_5__orphan_attributed_by_cgroup),
	    H_UNIT(processes__unwaited_child__listed_as_zombie),
	};

	return (H_MAIN(tests));
}
