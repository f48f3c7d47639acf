/* SPDX-License-Identifier: ISC */
/*
 * The store on a real SQLite database in a temporary directory: schema and
 * WAL mode, jobs, runs newest first, events strictly increasing and never
 * reused after pruning, transactions that roll back, cascade on delete,
 * persistence across reopen, and refusal of a newer schema; the state
 * directory's lock between real processes; the WAL checkpointed by the
 * store's thread, not in a commit, and bounded under continuous commits.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "daemon/schedd.h"
#include "daemon/store.h"
#include "sql/sql-gen.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct serr err;

	snprintf(f->dir, sizeof(f->dir), "/tmp/schedd-test-store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	snprintf(f->path, sizeof(f->path), "%s/schedd.db", f->dir);
	if ((f->st = store_open(f->path, 0, &err)) == NULL) {
		fprintf(stderr, "store_open: %s\n", err.message);
		return (-1);
	}
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	store_close(f->st);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return (0);
}

static int64_t
query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return (v);
}

/* Tables with AUTOINCREMENT (008 leaves none). */
static int64_t
autoincrement_tables(const char *path)
{
	return (query_int(path, "SELECT count(*) FROM sqlite_master WHERE sql "
				"LIKE '%AUTOINCREMENT%'"));
}

static void
add_job(struct store *st, int64_t id, const char *name)
{
	struct serr err;

	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(
	    store_job_insert(st, id, name, "api", "{\"argv\":[\"true\"]}",
		"created", 1000, 1000, -1, &err),
	    0);
	assert_int_equal(store_commit(st, &err), 0);
}

static void
store_open__fresh__schema_and_wal(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(query_int(f->path, "PRAGMA user_version"), 9);
	/* 008: no AUTOINCREMENT (its sqlite_sequence page was written by
	 * every transaction that inserted). */
	assert_int_equal(autoincrement_tables(f->path), 0);
	/* 007: no index that only repeats a UNIQUE constraint's. */
	assert_int_equal(
	    query_int(f->path,
		"SELECT count(*) FROM sqlite_master WHERE type='index' AND name "
		"IN ('runs_job_run','processes_run')"),
	    0);
	assert_int_equal(
	    query_int(f->path,
		"SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
		"('jobs','runs','processes','events')"),
	    4);
	assert_int_equal(
	    query_int(f->path,
		"SELECT journal_mode = 'wal' FROM pragma_journal_mode"),
	    1);
}

static int
count_cb(void *arg, const struct store_job *j)
{
	(*(int *)arg)++;
	assert_non_null(j->name);
	/* add_job's owner; a was changed by uid 66 at 2500 (and then by
	 * nobody), b acted on by uid 77 at 3000, c created by uid 55 at 1500.
	 */
	assert_int_equal(j->owner_uid, 1000);
	if (strcmp(j->name, "a") == 0) {
		assert_int_equal(j->actor_uid, 66);
		assert_int_equal(j->acted_ms, 2500);
	} else if (strcmp(j->name, "b") == 0) {
		assert_int_equal(j->actor_uid, 77);
		assert_int_equal(j->acted_ms, 3000);
	} else if (strcmp(j->name, "c") == 0) {
		assert_int_equal(j->actor_uid, 55);
		assert_int_equal(j->acted_ms, 1500);
	} else {
		assert_int_equal(j->actor_uid, -1);
		assert_int_equal(j->acted_ms, 0);
	}
	return (0);
}

static void
store_job__insert_update_load__round_trip(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	int n = 0;

	assert_int_equal(store_job_next_id(f->st, &err), 1);
	add_job(f->st, 1, "a");
	add_job(f->st, 2, "b");
	assert_int_equal(store_job_next_id(f->st, &err), 3);
	assert_int_equal(store_job_update_state(f->st, 2, "running", 4, 1, 2000,
			     "why", 0, -1, &err),
	    0);
	assert_int_equal(store_job_update_state(f->st, 2, "running", 4, 1,
			     3000, "why", 0, 77, &err),
	    0);
	/* A change by uid 66 at 2500 stores its actor; one by nobody
	 * leaves it. */
	assert_int_equal(store_job_update_state(f->st, 1, "running", 0, 0, 2500,
			     NULL, 0, 66, &err),
	    0);
	assert_int_equal(store_job_update_state(
			     f->st, 1, "exited", 0, 0, 2600, NULL, 0, -1, &err),
	    0);
	assert_int_equal(
	    store_job_insert(f->st, 3, "c", "api", "{\"argv\":[\"true\"]}",
		"created", 1500, 1000, 55, &err),
	    0);
	assert_int_equal(store_job_load(f->st, count_cb, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(
	    query_int(f->path, "SELECT restarts FROM jobs WHERE name='b'"), 4);
}

static void
store_job__duplicate_name__fails(void **state)
{
	struct fixture *f = *state;
	struct serr err;

	add_job(f->st, 1, "a");
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(store_job_insert(f->st, 2, "a", "api", "{}", "created",
			     1, 0, -1, &err),
	    -1);
	assert_int_equal(err.code, SERR_INTERNAL);
	store_rollback(f->st);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM jobs"), 1);
}

static void
store_rollback__discards_everything(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	struct event_rec ev = {0};

	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(store_job_insert(f->st, 1, "gone", "api", "{}",
			     "created", 1, 0, -1, &err),
	    0);
	ev.time_ms = 1;
	ev.type = "created";
	assert_int_equal(store_event_insert(f->st, &ev, &err), 0);
	store_rollback(f->st);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM jobs"), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events"), 0);
}

struct runs {
	int64_t numbers[8];
	int n;
};

static int
run_cb(void *arg, const struct run *r)
{
	struct runs *rs = arg;

	rs->numbers[rs->n++] = r->number;
	return (0);
}

static void
store_run__list__newest_first_with_fields(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	struct run r;
	struct runs rs = {{0}, 0};
	int i;

	add_job(f->st, 1, "a");
	for (i = 1; i <= 3; i++) {
		memset(&r, 0, sizeof(r));
		r.number = i;
		r.pid = 100 + i;
		r.pid_start = 5000;
		r.started_ms = 1000 * i;
		r.exit_code = -1;
		r.user_cpu_ms = r.system_cpu_ms = r.max_rss_kb = -1;
		assert_int_equal(
		    store_run_insert(f->st, 1, &r, 0, NULL, NULL, &err), 0);
		assert_true(r.id > 0);
		r.exited_ms = 1000 * i + 10;
		r.exit_code = i == 2 ? -1 : 3;
		r.signal = i == 2 ? 9 : 0;
		r.max_rss_kb = 2100;
		assert_int_equal(store_run_end(f->st, &r, &err), 0);
	}
	assert_int_equal(store_run_list(f->st, 1, 10, run_cb, &rs, &err), 3);
	assert_int_equal(rs.numbers[0], 3);
	assert_int_equal(rs.numbers[2], 1);
	assert_int_equal(
	    query_int(f->path, "SELECT signal FROM runs WHERE run = 2"), 9);
	assert_int_equal(
	    query_int(
		f->path, "SELECT exit_code IS NULL FROM runs WHERE run = 2"),
	    1);
	assert_int_equal(
	    query_int(f->path, "SELECT max_rss_kb FROM runs WHERE run = 3"),
	    2100);
	rs.n = 0;
	assert_int_equal(store_run_list(f->st, 1, 1, run_cb, &rs, &err), 1);
	assert_int_equal(rs.numbers[0], 3);
}

static void
store_job_delete__cascades_runs_keeps_events(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	struct run r;
	struct event_rec ev = {0};

	add_job(f->st, 1, "a");
	memset(&r, 0, sizeof(r));
	r.number = 1;
	r.pid = 42;
	r.pid_start = 7;
	r.started_ms = 1;
	assert_int_equal(
	    store_run_insert(f->st, 1, &r, 0, NULL, NULL, &err), 0);
	assert_int_equal(store_process_insert(
			     f->st, r.id, 42, 7, 1, "sh", "[\"sh\"]", 1, &err),
	    0);
	ev.time_ms = 1;
	ev.job_id = 1;
	ev.job = "a";
	ev.type = "created";
	assert_int_equal(store_event_insert(f->st, &ev, &err), 0);
	assert_int_equal(store_job_delete(f->st, 1, &err), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM runs"), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM processes"), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events"), 1);
	/* A job id is never reused, nor a run's, after a restart too. */
	assert_int_equal(store_job_next_id(f->st, &err), 2);
	store_close(f->st);
	assert_non_null(f->st = store_open(f->path, 0, &err));
	assert_int_equal(store_job_next_id(f->st, &err), 2);
	add_job(f->st, 2, "b");
	memset(&r, 0, sizeof(r));
	r.number = 1;
	r.started_ms = 1;
	assert_int_equal(
	    store_run_insert(f->st, 2, &r, 0, NULL, NULL, &err), 0);
	assert_int_equal(r.id, 2);
}

struct evs {
	int64_t ids[16];
	int n;
};

static int
ev_cb(void *arg, const struct event_rec *ev)
{
	struct evs *e = arg;

	e->ids[e->n++] = ev->id;
	assert_string_equal(ev->type, "t");
	return (0);
}

static void
store_event__since_prune__increasing_never_reused(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	struct event_rec ev;
	struct evs e = {{0}, 0};
	int64_t oldest, last, prev = 0;
	int i;

	for (i = 0; i < 10; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.time_ms = i;
		ev.type = "t";
		ev.data = "{\"i\":1}";
		assert_int_equal(store_event_insert(f->st, &ev, &err), 0);
		assert_true(ev.id > prev);
		prev = ev.id;
	}
	assert_int_equal(store_event_since(f->st, 7, 100, ev_cb, &e, &err), 3);
	assert_int_equal(e.ids[0], 8);
	assert_int_equal(e.ids[2], 10);
	e.n = 0;
	assert_int_equal(store_event_since(f->st, 0, 4, ev_cb, &e, &err), 4);
	assert_int_equal(store_event_prune(f->st, 10, &err), 0);
	assert_int_equal(store_event_bounds(f->st, &oldest, &last, &err), 0);
	assert_int_equal(oldest, 0);
	assert_int_equal(last, 10);
	memset(&ev, 0, sizeof(ev));
	ev.time_ms = 1;
	ev.type = "t";
	assert_int_equal(store_event_insert(f->st, &ev, &err), 0);
	assert_int_equal(ev.id, 11);
	assert_int_equal(store_event_bounds(f->st, &oldest, &last, &err), 0);
	assert_int_equal(oldest, 11);
}

/* The next id is kept in memory: an insert rolled back gives it back. */
static void
store_job_next_id__insert_rolled_back__given_again(void **state)
{
	struct fixture *f = *state;
	struct serr err;

	assert_int_equal(store_job_next_id(f->st, &err), 1);
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(
	    store_job_insert(f->st, 1, "gone", "api", "{\"argv\":[\"true\"]}",
		"created", 1000, 0, -1, &err),
	    0);
	assert_int_equal(store_job_next_id(f->st, &err), 2);
	store_rollback(f->st);
	assert_int_equal(store_job_next_id(f->st, &err), 1);
	add_job(f->st, 1, "kept");
	assert_int_equal(store_job_next_id(f->st, &err), 2);
	/* A name taken: the insert fails and the id stays free. */
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(
	    store_job_insert(f->st, 2, "kept", "api", "{\"argv\":[\"true\"]}",
		"created", 1000, 0, -1, &err),
	    -1);
	store_rollback(f->st);
	assert_int_equal(store_job_next_id(f->st, &err), 2);
	assert_int_equal(query_int(f->path, "SELECT MAX(id) FROM jobs"), 1);
}

static void
store_open__reopen__data_persists(void **state)
{
	struct fixture *f = *state;
	struct serr err;

	add_job(f->st, 1, "kept");
	store_close(f->st);
	f->st = store_open(f->path, 1, &err);
	assert_non_null(f->st);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM jobs"), 1);
	assert_int_equal(store_job_next_id(f->st, &err), 2);
}

/*
 * Replace the fixture's database by one of schema version (its migrations
 * applied by hand) holding what sql inserts, closed; the store is closed
 * too, for the test to open it again.
 */
static void
db_at_version(struct fixture *f, int version, const char *sql)
{
	sqlite3 *db;
	int i;

	store_close(f->st);
	f->st = NULL;
	unlink(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	for (i = 0; i < sql_nmigrations; i++)
		if (sql_migrations[i].version <= version)
			assert_int_equal(
			    sqlite3_exec(
				db, sql_migrations[i].text, NULL, NULL, NULL),
			    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * A database of schema 7 (AUTOINCREMENT, the newest job deleted) opened by
 * this store: 008 rebuilds jobs, runs and events with every row, the ids
 * given before stay given, and the foreign keys cascade as before.
 */
static void
store_open__schema_7__migrated_ids_kept(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	struct run r;

	db_at_version(f, 7,
	    "PRAGMA foreign_keys=ON;"
	    "INSERT INTO jobs (name, source, spec, state, created_at,"
	    " updated_at, owner_uid, sched_skipped) VALUES"
	    " ('a', 'api', '{}', 'exited', 1, 2, 1000, 3),"
	    " ('b', 'api', '{}', 'exited', 1, 2, 0, 0),"
	    " ('c', 'api', '{}', 'created', 1, 2, 0, 0);"
	    "INSERT INTO runs (job_id, run, pid, started_at, cpus,"
	    " output_dropped) VALUES (1, 1, 42, 1, '0-1', 5), (2, 1, 43, 1,"
	    " NULL, 0), (3, 1, 44, 1, NULL, 0);"
	    "INSERT INTO processes (run_id, pid, pid_start, first_seen)"
	    " VALUES (1, 42, 7, 1), (2, 43, 8, 1);"
	    "INSERT INTO events (time, job_id, job, type) VALUES"
	    " (1, 1, 'a', 'created'), (2, 3, 'c', 'created');"
	    "DELETE FROM jobs WHERE id = 3;"
	    "DELETE FROM events WHERE id = 2;");

	assert_non_null(f->st = store_open(f->path, 0, &err));
	assert_int_equal(query_int(f->path, "PRAGMA user_version"), 9);
	assert_int_equal(autoincrement_tables(f->path), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM jobs"), 2);
	assert_int_equal(query_int(f->path,
			     "SELECT owner_uid + sched_skipped FROM jobs WHERE "
			     "name = 'a'"),
	    1003);
	assert_int_equal(
	    query_int(f->path, "SELECT output_dropped FROM runs WHERE cpus = "
			       "'0-1'"),
	    5);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM processes"), 2);
	/* The deleted newest job, run and event keep their ids. */
	assert_int_equal(store_job_next_id(f->st, &err), 4);
	memset(&r, 0, sizeof(r));
	r.number = 2;
	r.started_ms = 1;
	assert_int_equal(
	    store_run_insert(f->st, 1, &r, 0, NULL, NULL, &err), 0);
	assert_int_equal(r.id, 4);
	{
		struct event_rec ev = {0};
		int64_t oldest, last;

		assert_int_equal(
		    store_event_bounds(f->st, &oldest, &last, &err), 0);
		assert_int_equal(oldest, 1);
		assert_int_equal(last, 2);
		ev.time_ms = 3;
		ev.type = "t";
		assert_int_equal(store_event_insert(f->st, &ev, &err), 0);
		assert_int_equal(ev.id, 3);
	}
	/* Foreign keys as before: a job takes its runs and processes. */
	assert_int_equal(store_job_delete(f->st, 1, &err), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM runs WHERE job_id = 1"),
	    0);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM processes"), 1);
	assert_int_equal(query_int(f->path, "PRAGMA foreign_key_check"), -1);
}

/* store_process_list's rows, a line each: "run pid start ppid comm argv
 * first exited code signal". */
static int
list_line(void *arg, const struct store_process *p)
{
	char *buf = arg;
	size_t n = strlen(buf);

	snprintf(buf + n, 1024 - n, "%lld %d %llu %d %s %s %lld %lld %d %d\n",
	    (long long)p->run, (int)p->pid, (unsigned long long)p->pid_start,
	    (int)p->ppid, p->comm != NULL ? p->comm : "-",
	    p->argv != NULL ? p->argv : "-", (long long)p->first_seen_ms,
	    (long long)p->exited_ms, p->exit_code, p->signal);
	return (0);
}

/*
 * Schema 8 kept a run's main process as a processes row too; 9 keeps it
 * in the run's row. The rows are moved, the other processes stay, and the
 * list of a job's processes reads as before, main processes included.
 */
static void
store_open__schema_8__main_process_rows_moved_to_runs(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	struct run r;
	char got[1024] = "";

	db_at_version(f, 8,
	    "INSERT INTO jobs (id, name, source, spec, state, created_at,"
	    " updated_at) VALUES (1, 'a', 'api', '{}', 'exited', 1, 2);"
	    "INSERT INTO runs (id, job_id, run, pid, pid_start, started_at,"
	    " exited_at, exit_code) VALUES (1, 1, 1, 42, 7, 10, 50, 3);"
	    "INSERT INTO processes (run_id, pid, pid_start, ppid, comm, argv,"
	    " first_seen, exited_at, exit_code) VALUES"
	    " (1, 42, 7, 9, 'sh', '[\"sh\"]', 10, 50, 3),"
	    " (1, 43, 8, 42, 'sleep', NULL, 20, 40, NULL);");

	assert_non_null(f->st = store_open(f->path, 0, &err));
	assert_int_equal(query_int(f->path, "PRAGMA user_version"), 9);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM processes"), 1);
	assert_int_equal(query_int(f->path, "SELECT ppid FROM runs"), 9);
	/* A new run's main process is its row alone. */
	memset(&r, 0, sizeof(r));
	r.number = 2;
	r.pid = 44;
	r.pid_start = 11;
	r.started_ms = 60;
	assert_int_equal(
	    store_run_insert(f->st, 1, &r, 9, "true", "[\"true\"]", &err), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM processes"), 1);
	assert_int_equal(
	    store_process_list(f->st, 1, 10, list_line, got, &err), 3);
	assert_string_equal(got, "2 44 11 9 true [\"true\"] 60 0 -1 0\n"
				 "1 42 7 9 sh [\"sh\"] 10 50 3 0\n"
				 "1 43 8 42 sleep - 20 40 -1 0\n");
}

static void
store_open__newer_schema__refused(void **state)
{
	struct fixture *f = *state;
	struct serr err;
	sqlite3 *db;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path, 0, &err));
	assert_non_null(strstr(err.message, "newer"));
}

/* Read one pid_t from fd; the test fails on EOF. */
static pid_t
read_pid(int fd)
{
	pid_t pid;

	assert_int_equal(read(fd, &pid, sizeof(pid)), (ssize_t)sizeof(pid));
	return (pid);
}

static void
store_lock__held_by_another_process__eagain_then_free(void **state)
{
	struct fixture *f = *state;
	char path[160];
	int ready[2], go[2], fd, st;
	pid_t a, pid;
	char c;

	snprintf(path, sizeof(path), "%s/schedd.lock", f->dir);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	if ((a = fork()) == 0) {
		close(go[1]);
		pid = getpid();
		if (store_lock(path) == -1)
			_exit(1);
		(void)!write(ready[1], &pid, sizeof(pid));
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	assert_true(a > 0);
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read_pid(ready[0]), a);
	errno = 0;
	assert_int_equal(store_lock(path), -1);
	assert_int_equal(errno, EAGAIN);
	close(go[1]);
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true((fd = store_lock(path)) >= 0);
	close(fd);
	close(ready[0]);
	unlink(path);
}

/*
 * The daemon killed while a job's child has not exec'd yet (a cold cgroup
 * attach takes milliseconds): the child's copies of the daemon's fds must
 * not keep the lock, or the schedd started at once cannot start.
 */
static void
store_lock__holder_killed_child_lives__free(void **state)
{
	struct fixture *f = *state;
	char path[160];
	int ready[2], go[2], fd, st;
	pid_t a, b, pid;
	char c;

	snprintf(path, sizeof(path), "%s/schedd.lock", f->dir);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	if ((a = fork()) == 0) {
		close(go[1]);
		if (store_lock(path) == -1)
			_exit(1);
		if ((pid = fork()) == 0) {
			/* The child: every fd of the holder, no exec. */
			(void)!read(go[0], &c, 1);
			_exit(0);
		}
		(void)!write(ready[1], &pid, sizeof(pid));
		for (;;)
			pause();
	}
	assert_true(a > 0);
	close(ready[1]);
	close(go[0]);
	b = read_pid(ready[0]);
	assert_true(b > 0);
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(kill(b, 0), 0);
	fd = store_lock(path);
	/* b is ours now (subreaper): end it before any assertion fails. */
	close(go[1]);
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(fd >= 0);
	close(fd);
	close(ready[0]);
	unlink(path);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	return (stat(path, &sb) == 0 ? sb.st_size : 0);
}

/* Insert and delete jobs until the WAL has been past frames pages; the
 * largest WAL file seen after a commit. */
static off_t
churn(struct fixture *f, int64_t *id, long frames)
{
	struct store_wal w;
	struct serr err;
	char name[32], wal[160];
	long seen = 0;
	off_t max = 0, sz;
	int last = 0;

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	while (seen < frames) {
		snprintf(name, sizeof(name), "j%lld", (long long)*id);
		add_job(f->st, *id, name);
		if (*id % 2 == 0) {
			assert_int_equal(store_begin(f->st, &err), 0);
			assert_int_equal(store_job_delete(f->st, *id, &err), 0);
			assert_int_equal(store_commit(f->st, &err), 0);
		}
		(*id)++;
		store_wal_stats(f->st, &w);
		seen += w.frames > last ? w.frames - last : w.frames;
		last = w.frames;
		if ((sz = file_size(wal)) > max)
			max = sz;
	}
	return (max);
}

static void
store_wal__past_threshold__checkpointed_by_thread(void **state)
{
	struct fixture *f = *state;
	struct store_wal w;
	struct timespec ts = {0, 10 * 1000 * 1000};
	off_t db0;
	int64_t id = 1;
	int i;

	unsigned int runs = 0;

	store_wal_stats(f->st, &w);
	assert_int_equal(w.thread, 1);
	db0 = file_size(f->path);
	/* Every commit at 4,000 pages or more wakes the thread: its last
	 * checkpoint comes after the last commit and takes every page. */
	while (w.frames < STORE_CKPT_FRAMES + 100) {
		churn(f, &id, 1);
		store_wal_stats(f->st, &w);
	}
	/* Wait until it has been quiet for 300 ms. */
	for (i = 0; i < 500; i++) {
		nanosleep(&ts, NULL);
		store_wal_stats(f->st, &w);
		if (w.thread_checkpoints > 0 && w.thread_checkpoints == runs &&
		    i >= 30)
			break;
		if (w.thread_checkpoints != runs)
			i = 0;
		runs = w.thread_checkpoints;
	}
	assert_true(w.thread_checkpoints > 0);
	/* No commit checkpointed: the WAL never reached the hard bound. */
	assert_int_equal(w.inline_checkpoints, 0);
	/* The pages reached the database file itself... */
	assert_true(file_size(f->path) > db0);
	/* ... and the next commit starts the WAL over. */
	add_job(f->st, id, "after");
	store_wal_stats(f->st, &w);
	assert_true(w.frames < 100);
	assert_int_equal(query_int(f->path,
			     "SELECT count(*) FROM jobs WHERE name = 'after'"),
	    1);
}

static void
store_wal__continuous_commits__bounded(void **state)
{
	struct fixture *f = *state;
	int64_t id = 1, page;
	off_t max;

	page = query_int(f->path, "PRAGMA page_size");
	assert_true(page > 0);
	max = churn(f, &id, 4L * STORE_WAL_MAX_FRAMES);
	/* A WAL file is a 32-byte header and frames of a 24-byte header and
	 * a page; a transaction here writes a few pages. */
	assert_true(max <= 32 + (STORE_WAL_MAX_FRAMES + 64) * (page + 24));
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM jobs"),
	    (id - 1) - (id - 1) / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		store_open__fresh__schema_and_wal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_job__insert_update_load__round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_job__duplicate_name__fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_rollback__discards_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_run__list__newest_first_with_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_job_delete__cascades_runs_keeps_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_open__schema_7__migrated_ids_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_open__schema_8__main_process_rows_moved_to_runs, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		store_event__since_prune__increasing_never_reused, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		store_job_next_id__insert_rolled_back__given_again, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		store_open__reopen__data_persists, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_open__newer_schema__refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_lock__held_by_another_process__eagain_then_free, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		store_lock__holder_killed_child_lives__free, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		store_wal__past_threshold__checkpointed_by_thread, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		store_wal__continuous_commits__bounded, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
