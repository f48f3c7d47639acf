/* SPDX-License-Identifier: ISC */
/*
 * SQLite persistence. Owns the connection and the prepared statements of
 * sql/queries.sql; every use binds, steps, resets and clears. Knows rows and
 * columns, never job semantics: the supervisor decides what to write and
 * groups it into transactions.
 *
 * The WAL is checkpointed by a thread of its own, on a connection of its
 * own, not in a commit: SQLite's automatic checkpoint runs inside the
 * commit that takes the WAL past 1,000 pages, and its writes and its two
 * fsyncs (4-17 ms here) stalled the loop about five times a second while
 * jobs were created one after another (bench/p99-notes.md). A commit now
 * only wakes the thread; should the thread fall behind, the commit that
 * takes the WAL past STORE_WAL_MAX_FRAMES checkpoints as before, so the
 * WAL stays bounded.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/schedd.h"
#include "daemon/log.h"
#include "daemon/store.h"
#include "daemon/thread.h"
#include "daemon/xmalloc.h"
#include "proto/cpulist.h"
#include "proto/util.h"
#include "sql/sql-gen.h"

/* The tables whose ids are counted in memory (store->next_id). */
enum { STORE_ID_JOB, STORE_ID_RUN, STORE_ID_EVENT, STORE_NIDS };

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQL_NSTMTS];
	char reserve[PATH_MAX]; /* the reserve file; "" if none */
	int reserve_held;       /* it exists and holds its space */
	int full;               /* the last failure was a full disk */

	/* The checkpoint thread; ck_mu guards ck_want and ck_stop; the thread
	 * holds ck_run while it checkpoints. */
	char path[PATH_MAX];
	int sync_full;
	int ck_started;
	pthread_t ck_thread;
	pthread_mutex_t ck_mu;
	pthread_mutex_t ck_run;
	pthread_cond_t ck_cv;
	int ck_want;
	int ck_stop;
	unsigned int ck_runs;   /* atomic: checkpoints the thread made */
	unsigned int ck_inline; /* checkpoints made in a commit */
	int wal_frames;         /* the WAL's frames after the last commit */
	/* The next job id, once read: a job's insert takes it, a rollback
	 * forgets it (the insert may have been undone). 0: read it. */
	/* The next ids of jobs, runs and events (STORE_ID_*): one past the
	 * highest ever given (sql/008_ids.sql), read once and then counted
	 * here; 0: read it again (after a rollback). */
	int64_t next_id[STORE_NIDS];
};

/*
 * A failed statement. What a full disk, a read-only file system or another
 * process's lock cause is SERR_UNAVAILABLE with the cause in words (the
 * caller holds what it could not write and tries again); anything else is
 * SERR_INTERNAL. Nothing is logged here: the caller knows what it lost.
 */
static int
store_fail(struct store *st, struct serr *err, const char *what)
{
	const char *cause = NULL;

	st->full = sqlite3_errcode(st->db) == SQLITE_FULL;
	switch (sqlite3_errcode(st->db)) {
	case SQLITE_FULL:
		cause = "the disk is full";
		break;
	case SQLITE_READONLY:
		cause = "the database is read-only";
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		cause = "the database is locked by another process";
		break;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		cause = "the disk cannot be written (I/O error)";
		break;
	default:
		break;
	}
	if (cause != NULL)
		serr_set(err, SERR_UNAVAILABLE, NULL,
		    "the store cannot write: %s (%s: %s)", cause, what,
		    sqlite3_errmsg(st->db));
	else
		serr_set(err, SERR_INTERNAL, NULL, "store: %s: %s", what,
		    sqlite3_errmsg(st->db));
	return (-1);
}

static sqlite3_stmt *
stmt_get(struct store *st, enum sql_stmt which)
{
	return (st->stmt[which]);
}

static void
stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return (sqlite3_bind_null(s, i));
	return (sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT));
}

/* A run's text as bound: NULL for none, whether NULL or "". */
static const char *
run_text(const char *v)
{
	return (v != NULL && *v != '\0' ? v : NULL);
}

/* Bind an integer, or NULL when v equals the "none" value. */
static int
bind_opt(sqlite3_stmt *s, int i, int64_t v, int64_t none)
{
	if (v == none)
		return (sqlite3_bind_null(s, i));
	return (sqlite3_bind_int64(s, i, v));
}

static int64_t
col_opt(sqlite3_stmt *s, int i, int64_t none)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return (none);
	return (sqlite3_column_int64(s, i));
}

static int
store_exec_simple(struct store *st, enum sql_stmt which, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, which);
	int rc;

	rc = sqlite3_step(s);
	stmt_done(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return (store_fail(st, err, sql_statement_names[which]));
	return (0);
}

/* PRAGMA foreign_key_check's rows: any is a reference left dangling. */
static int
store_fk_bad(void *arg, int n, char **val, char **col)
{
	(void)arg;
	(void)col;
	log_warnx("migration: a row of %s refers to a missing row of %s",
	    n > 0 && val[0] != NULL ? val[0] : "?",
	    n > 2 && val[2] != NULL ? val[2] : "?");
	return (1); /* sqlite3_exec fails: SQLITE_ABORT */
}

static int
store_migrate(struct store *st, struct serr *err)
{
	sqlite3_stmt *s = NULL;
	char *msg = NULL;
	int version, i, latest = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return (store_fail(st, err, "user_version"));
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	for (i = 0; i < sql_nmigrations; i++)
		if (sql_migrations[i].version > latest)
			latest = sql_migrations[i].version;
	if (version > latest) {
		serr_set(err, SERR_INTERNAL, NULL,
		    "database schema version %d is newer than this schedd (%d)",
		    version, latest);
		return (-1);
	}
	if (version == latest)
		return (0);
	/*
	 * A migration may rebuild a table (create the new one, copy, drop
	 * the old, rename): with foreign keys on, dropping jobs would delete
	 * every run through ON DELETE CASCADE. They are off meanwhile (the
	 * pragma does nothing inside a transaction) and checked before the
	 * commit.
	 */
	if (sqlite3_exec(st->db, "PRAGMA foreign_keys=OFF", NULL, NULL, &msg) !=
		SQLITE_OK ||
	    sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) !=
		SQLITE_OK)
		goto fail;
	for (i = 0; i < sql_nmigrations; i++) {
		if (sql_migrations[i].version <= version)
			continue;
		log_info("applying schema migration %03d",
		    sql_migrations[i].version);
		if (sqlite3_exec(st->db, sql_migrations[i].text, NULL, NULL,
			&msg) != SQLITE_OK)
			goto fail;
	}
	if (sqlite3_exec(st->db, "PRAGMA foreign_key_check", store_fk_bad, NULL,
		&msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA foreign_keys=ON", NULL, NULL, &msg) !=
		SQLITE_OK)
		goto fail;
	return (0);
fail:
	serr_set(err, SERR_INTERNAL, NULL, "migration: %s",
	    msg != NULL ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(st->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	return (-1);
}

int
store_lock(const char *path)
{
	struct flock fl;
	int fd, saved;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return (-1);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		saved = errno == EACCES ? EAGAIN : errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

/* The checkpoint thread: a PASSIVE checkpoint each time it is woken. */
static void *
store_ck_main(void *arg)
{
	struct store *st = arg;
	sqlite3 *db = NULL;
	int log, done;

	if (sqlite3_open_v2(st->path, &db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK ||
	    sqlite3_exec(db,
		st->sync_full ? "PRAGMA synchronous=FULL;"
			      : "PRAGMA synchronous=NORMAL;",
		NULL, NULL, NULL) != SQLITE_OK) {
		/* Commits checkpoint at STORE_WAL_MAX_FRAMES instead. */
		sqlite3_close(db);
		return (NULL);
	}
	pthread_mutex_lock(&st->ck_mu);
	for (;;) {
		while (!st->ck_want && !st->ck_stop)
			pthread_cond_wait(&st->ck_cv, &st->ck_mu);
		if (st->ck_stop)
			break;
		st->ck_want = 0;
		pthread_mutex_unlock(&st->ck_mu);
		/* Neither waits for nor blocks the loop's reads and writes. */
		pthread_mutex_lock(&st->ck_run);
		sqlite3_wal_checkpoint_v2(
		    db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		pthread_mutex_unlock(&st->ck_run);
		__atomic_add_fetch(&st->ck_runs, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&st->ck_mu);
	}
	pthread_mutex_unlock(&st->ck_mu);
	sqlite3_close(db);
	return (NULL);
}

/* After every commit (in place of SQLite's automatic checkpoint). */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;
	int log, done;

	st->wal_frames = frames;
	if (!st->ck_started) {
		if (frames >= STORE_CKPT_FRAMES &&
		    sqlite3_wal_checkpoint_v2(db, name,
			SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK)
			st->ck_inline++;
		return (SQLITE_OK);
	}
	if (frames >= STORE_WAL_MAX_FRAMES) {
		/*
		 * The thread's checkpoints cannot finish while commits keep
		 * coming: this one waits for the thread's to end and makes one
		 * that does (no commit can come during it), so the next commit
		 * starts the WAL over.
		 */
		pthread_mutex_lock(&st->ck_run);
		if (sqlite3_wal_checkpoint_v2(db, name,
			SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK)
			st->ck_inline++;
		pthread_mutex_unlock(&st->ck_run);
		return (SQLITE_OK);
	}
	if (frames >= STORE_CKPT_FRAMES) {
		pthread_mutex_lock(&st->ck_mu);
		st->ck_want = 1;
		pthread_cond_signal(&st->ck_cv);
		pthread_mutex_unlock(&st->ck_mu);
	}
	return (SQLITE_OK);
}

/* Start the checkpoint thread for a database in WAL mode on a file. */
static void
store_ck_start(struct store *st, const char *path, int sync_full)
{
	sqlite3_stmt *s;
	int wal = 0, rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode;", -1, &s, NULL) ==
	    SQLITE_OK) {
		wal =
		    sqlite3_step(s) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
		sqlite3_finalize(s);
	}
	if (!wal || !sqlite3_threadsafe() || strlen(path) >= sizeof(st->path))
		return; /* SQLite's automatic checkpoint stays */
	memcpy(st->path, path, strlen(path) + 1);
	st->sync_full = sync_full;
	pthread_mutex_init(&st->ck_mu, NULL);
	pthread_mutex_init(&st->ck_run, NULL);
	pthread_cond_init(&st->ck_cv, NULL);
	rc = thread_start(&st->ck_thread, store_ck_main, st, "checkpoint");
	if ((errno = rc) != 0) {
		log_warnx("store: no checkpoint thread: %s", strerror(errno));
		pthread_mutex_destroy(&st->ck_mu);
		pthread_mutex_destroy(&st->ck_run);
		pthread_cond_destroy(&st->ck_cv);
		sqlite3_wal_hook(st->db, store_wal_hook, st);
		return;
	}
	st->ck_started = 1;
	sqlite3_wal_hook(st->db, store_wal_hook, st);
}

static void
store_ck_stop(struct store *st)
{
	if (!st->ck_started)
		return;
	pthread_mutex_lock(&st->ck_mu);
	st->ck_stop = 1;
	pthread_cond_signal(&st->ck_cv);
	pthread_mutex_unlock(&st->ck_mu);
	pthread_join(st->ck_thread, NULL);
	pthread_mutex_destroy(&st->ck_mu);
	pthread_mutex_destroy(&st->ck_run);
	pthread_cond_destroy(&st->ck_cv);
	st->ck_started = 0;
}

void
store_wal_stats(struct store *st, struct store_wal *w)
{
	w->frames = st->wal_frames;
	w->thread = st->ck_started;
	w->thread_checkpoints = __atomic_load_n(&st->ck_runs, __ATOMIC_RELAXED);
	w->inline_checkpoints = st->ck_inline;
}

struct store *
store_open(const char *path, int sync_full, struct serr *err)
{
	struct store *st;
	char *msg = NULL;
	int i;
	const char *pragmas;

	st = xcalloc(1, sizeof(*st));
	if (sqlite3_open_v2(path, &st->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		serr_set(err, SERR_INTERNAL, NULL, "open %s: %s", path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	/* Another process's lock is never waited for in the loop: a busy
	 * database is a store that cannot write for now. */
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	pragmas = sync_full
		      ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			" PRAGMA foreign_keys=ON;"
		      : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			" PRAGMA foreign_keys=ON;";
	if (sqlite3_exec(st->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		serr_set(err, SERR_INTERNAL, NULL, "%s: %s", path, msg);
		sqlite3_free(msg);
		goto fail;
	}
	if (store_migrate(st, err) == -1)
		goto fail;
	store_ck_start(st, path, sync_full);
	for (i = 0; i < SQL_NSTMTS; i++) {
		if (sqlite3_prepare_v3(st->db, sql_statements[i], -1,
			SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
			NULL) != SQLITE_OK) {
			serr_set(err, SERR_INTERNAL, NULL, "prepare %s: %s",
			    sql_statement_names[i], sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	return (st);
fail:
	store_close(st);
	return (NULL);
}

void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	store_ck_stop(st);
	for (i = 0; i < SQL_NSTMTS; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("close: %s", sqlite3_errmsg(st->db));
	free(st);
}

int
store_begin(struct store *st, struct serr *err)
{
	return (store_exec_simple(st, SQL_BEGIN, err));
}

int
store_commit(struct store *st, struct serr *err)
{
	if (store_exec_simple(st, SQL_COMMIT, err) == -1) {
		store_rollback(st);
		return (-1);
	}
	return (0);
}

void
store_rollback(struct store *st)
{
	memset(st->next_id, 0, sizeof(st->next_id));
	if (sqlite3_get_autocommit(st->db))
		return;
	store_exec_simple(st, SQL_ROLLBACK, NULL);
}

/* The next id of a table (STORE_ID_*): read once, then counted. */
static int64_t
store_next_id(struct store *st, int which, struct serr *err)
{
	static const int stmt[] = {
	    SQL_JOB_NEXT_ID, SQL_RUN_NEXT_ID, SQL_EVENT_NEXT_ID};
	sqlite3_stmt *s;

	if (st->next_id[which] > 0)
		return (st->next_id[which]);
	s = stmt_get(st, stmt[which]);
	if (sqlite3_step(s) == SQLITE_ROW)
		st->next_id[which] = sqlite3_column_int64(s, 0);
	else
		store_fail(st, err, sql_statement_names[stmt[which]]);
	stmt_done(s);
	return (st->next_id[which] > 0 ? st->next_id[which] : -1);
}

/* An insert of id ended (rc): the next is past it; after a failure it is
 * read again. */
static void
store_id_used(struct store *st, int which, int64_t id, int rc)
{
	st->next_id[which] = rc == 0 && id >= st->next_id[which] ? id + 1 : 0;
}

int64_t
store_job_next_id(struct store *st, struct serr *err)
{
	return (store_next_id(st, STORE_ID_JOB, err));
}

int
store_job_insert(struct store *st, int64_t id, const char *name,
    const char *source, const char *spec_json, const char *state,
    int64_t created_ms, int64_t owner_uid, int64_t actor_uid, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_JOB_INSERT);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    bind_text(s, 2, name) != SQLITE_OK ||
	    bind_text(s, 3, source) != SQLITE_OK ||
	    bind_text(s, 4, spec_json) != SQLITE_OK ||
	    bind_text(s, 5, state) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, created_ms) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, owner_uid) != SQLITE_OK ||
	    bind_opt(s, 8, actor_uid, -1) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "job_insert");
	stmt_done(s);
	store_id_used(st, STORE_ID_JOB, id, rc);
	return (rc);
}

int
store_job_update_schedule(struct store *st, int64_t id, int64_t next_ms,
    int64_t skipped, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_JOB_UPDATE_SCHEDULE);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    bind_opt(s, 2, next_ms, 0) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, skipped) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "job_update_schedule");
	stmt_done(s);
	return (rc);
}

int
store_job_update_state(struct store *st, int64_t id, const char *state,
    int64_t restarts, int retries, int64_t updated_ms, const char *reason,
    int64_t next_start_ms, int64_t actor_uid, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_JOB_UPDATE_STATE);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    bind_text(s, 2, state) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, restarts) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, updated_ms) != SQLITE_OK ||
	    bind_text(s, 5, reason) != SQLITE_OK ||
	    bind_opt(s, 6, next_start_ms, 0) != SQLITE_OK ||
	    sqlite3_bind_int(s, 7, retries) != SQLITE_OK ||
	    bind_opt(s, 8, actor_uid, -1) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "job_update_state");
	stmt_done(s);
	return (rc);
}

int
store_job_update_spec(struct store *st, int64_t id, const char *spec_json,
    const char *source, int64_t updated_ms, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_JOB_UPDATE_SPEC);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    bind_text(s, 2, spec_json) != SQLITE_OK ||
	    bind_text(s, 3, source) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, updated_ms) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "job_update_spec");
	stmt_done(s);
	return (rc);
}

int
store_job_delete(struct store *st, int64_t id, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_JOB_DELETE);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "job_delete");
	stmt_done(s);
	return (rc);
}

int
store_job_load(struct store *st, int (*cb)(void *, const struct store_job *),
    void *arg, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_JOB_LIST);
	struct store_job j;
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		j.id = sqlite3_column_int64(s, 0);
		j.name = (const char *)sqlite3_column_text(s, 1);
		j.source = (const char *)sqlite3_column_text(s, 2);
		j.spec = (const char *)sqlite3_column_text(s, 3);
		j.state = (const char *)sqlite3_column_text(s, 4);
		j.restarts = sqlite3_column_int64(s, 5);
		j.created_ms = sqlite3_column_int64(s, 6);
		j.updated_ms = sqlite3_column_int64(s, 7);
		j.reason = (const char *)sqlite3_column_text(s, 8);
		j.next_start_ms = col_opt(s, 9, 0);
		j.retries = sqlite3_column_int(s, 10);
		j.owner_uid = sqlite3_column_int64(s, 11);
		j.actor_uid = col_opt(s, 12, -1);
		j.acted_ms = col_opt(s, 13, 0);
		j.sched_next_ms = col_opt(s, 14, 0);
		j.sched_skipped = sqlite3_column_int64(s, 15);
		if (j.name == NULL || j.source == NULL || j.spec == NULL ||
		    j.state == NULL)
			continue;
		if (cb(arg, &j) == -1)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_fail(st, err, "job_list");
	stmt_done(s);
	return (ret);
}

int
store_run_insert(struct store *st, int64_t job_id, struct run *run, pid_t ppid,
    const char *comm, const char *argv_json, struct serr *err)
{
	sqlite3_stmt *s;
	int64_t id;
	int rc = 0;

	if ((id = store_next_id(st, STORE_ID_RUN, err)) == -1)
		return (-1);
	s = stmt_get(st, SQL_RUN_INSERT);
	if (sqlite3_bind_int64(s, 9, id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, job_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, run->number) != SQLITE_OK ||
	    bind_opt(s, 3, run->pid, 0) != SQLITE_OK ||
	    bind_opt(s, 4, (int64_t)run->pid_start, 0) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, run->started_ms) != SQLITE_OK ||
	    bind_opt(s, 6, run->exited_ms, 0) != SQLITE_OK ||
	    bind_text(s, 7, run_text(run->error)) != SQLITE_OK ||
	    bind_text(s, 8, run_text(run->cpus)) != SQLITE_OK ||
	    bind_opt(s, 10, ppid, 0) != SQLITE_OK ||
	    bind_text(s, 11, comm) != SQLITE_OK ||
	    bind_text(s, 12, argv_json) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "run_insert");
	else
		run->id = id;
	stmt_done(s);
	store_id_used(st, STORE_ID_RUN, id, rc);
	return (rc);
}

int
store_run_end(struct store *st, const struct run *run, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_RUN_UPDATE_END);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, run->id) != SQLITE_OK ||
	    bind_opt(s, 2, run->exited_ms, 0) != SQLITE_OK ||
	    bind_opt(s, 3, run->exit_code, -1) != SQLITE_OK ||
	    bind_opt(s, 4, run->signal, 0) != SQLITE_OK ||
	    sqlite3_bind_int(s, 5, run->core_dumped) != SQLITE_OK ||
	    sqlite3_bind_int(s, 6, run->oom_killed) != SQLITE_OK ||
	    bind_text(s, 7, run_text(run->error)) != SQLITE_OK ||
	    bind_opt(s, 8, run->user_cpu_ms, -1) != SQLITE_OK ||
	    bind_opt(s, 9, run->system_cpu_ms, -1) != SQLITE_OK ||
	    bind_opt(s, 10, run->max_rss_kb, -1) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 11, run->output_dropped) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "run_update_end");
	stmt_done(s);
	return (rc);
}

int
store_run_prune(
    struct store *st, int64_t job_id, int64_t upto, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_RUN_PRUNE);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, job_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, upto) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "run_prune");
	stmt_done(s);
	return (rc);
}

int
store_run_list(struct store *st, int64_t job_id, int limit,
    int (*cb)(void *, const struct run *), void *arg, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_RUN_LIST);
	struct run r;
	struct cpulist cl;
	const char *e, *why;
	int rc, n = 0;

	if (sqlite3_bind_int64(s, 1, job_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, limit) != SQLITE_OK) {
		stmt_done(s);
		return (store_fail(st, err, "run_list"));
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(s, 0);
		r.number = sqlite3_column_int64(s, 1);
		r.pid = (pid_t)col_opt(s, 2, 0);
		r.pid_start = (uint64_t)col_opt(s, 3, 0);
		r.started_ms = sqlite3_column_int64(s, 4);
		r.exited_ms = col_opt(s, 5, 0);
		r.exit_code = (int)col_opt(s, 6, -1);
		r.signal = (int)col_opt(s, 7, 0);
		r.core_dumped = sqlite3_column_int(s, 8);
		r.oom_killed = sqlite3_column_int(s, 9);
		/* Lent: the column's text, until the next step. */
		if ((e = (const char *)sqlite3_column_text(s, 10)) != NULL &&
		    *e != '\0')
			r.error = (char *)e;
		r.user_cpu_ms = col_opt(s, 11, -1);
		r.system_cpu_ms = col_opt(s, 12, -1);
		r.max_rss_kb = col_opt(s, 13, -1);
		if ((e = (const char *)sqlite3_column_text(s, 14)) != NULL &&
		    cpulist_parse(e, &cl, 1, &why) == 0)
			r.cpus = (char *)e;
		r.output_dropped = sqlite3_column_int64(s, 15);
		n++;
		if (cb(arg, &r) == -1)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		n = store_fail(st, err, "run_list");
	stmt_done(s);
	return (n);
}

int
store_process_insert(struct store *st, int64_t run_id, pid_t pid,
    uint64_t pid_start, pid_t ppid, const char *comm, const char *argv_json,
    int64_t first_seen_ms, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_PROCESS_INSERT);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, pid) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, (int64_t)pid_start) != SQLITE_OK ||
	    bind_opt(s, 4, ppid, 0) != SQLITE_OK ||
	    bind_text(s, 5, comm) != SQLITE_OK ||
	    bind_text(s, 6, argv_json) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, first_seen_ms) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "process_insert");
	stmt_done(s);
	return (rc);
}

int
store_process_exit(struct store *st, int64_t run_id, pid_t pid,
    uint64_t pid_start, int64_t exited_ms, int exit_code, int sig,
    struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_PROCESS_EXIT);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, pid) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, (int64_t)pid_start) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, exited_ms) != SQLITE_OK ||
	    bind_opt(s, 5, exit_code, -1) != SQLITE_OK ||
	    bind_opt(s, 6, sig, 0) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "process_exit");
	stmt_done(s);
	return (rc);
}

int
store_process_list(struct store *st, int64_t job_id, int limit,
    int (*cb)(void *, const struct store_process *), void *arg,
    struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_PROCESS_LIST);
	struct store_process p;
	int rc, n = 0;

	if (sqlite3_bind_int64(s, 1, job_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, limit) != SQLITE_OK) {
		stmt_done(s);
		return (store_fail(st, err, "process_list"));
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		p.run = sqlite3_column_int64(s, 0);
		p.pid = (pid_t)sqlite3_column_int64(s, 1);
		p.pid_start = (uint64_t)sqlite3_column_int64(s, 2);
		p.ppid = (pid_t)col_opt(s, 3, 0);
		p.comm = (const char *)sqlite3_column_text(s, 4);
		p.argv = (const char *)sqlite3_column_text(s, 5);
		p.first_seen_ms = sqlite3_column_int64(s, 6);
		p.exited_ms = col_opt(s, 7, 0);
		p.exit_code = (int)col_opt(s, 8, -1);
		p.signal = (int)col_opt(s, 9, 0);
		n++;
		if (cb(arg, &p) == -1)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		n = store_fail(st, err, "process_list");
	stmt_done(s);
	return (n);
}

int
store_event_insert(struct store *st, struct event_rec *ev, struct serr *err)
{
	sqlite3_stmt *s;
	int64_t id;
	int rc = 0;

	if ((id = store_next_id(st, STORE_ID_EVENT, err)) == -1)
		return (-1);
	s = stmt_get(st, SQL_EVENT_INSERT);
	if (sqlite3_bind_int64(s, 7, id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 1, ev->time_ms) != SQLITE_OK ||
	    bind_opt(s, 2, ev->job_id, 0) != SQLITE_OK ||
	    bind_text(s, 3, ev->job) != SQLITE_OK ||
	    bind_opt(s, 4, ev->run, 0) != SQLITE_OK ||
	    bind_text(s, 5, ev->type) != SQLITE_OK ||
	    bind_text(s, 6, ev->data != NULL ? ev->data : "{}") != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "event_insert");
	else
		ev->id = id;
	stmt_done(s);
	store_id_used(st, STORE_ID_EVENT, id, rc);
	return (rc);
}

int
store_event_since(struct store *st, int64_t since, int limit,
    int (*cb)(void *, const struct event_rec *), void *arg, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_EVENT_SINCE);
	struct event_rec ev;
	int rc, n = 0;

	if (sqlite3_bind_int64(s, 1, since) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, limit) != SQLITE_OK) {
		stmt_done(s);
		return (store_fail(st, err, "event_since"));
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ev.id = sqlite3_column_int64(s, 0);
		ev.time_ms = sqlite3_column_int64(s, 1);
		ev.job_id = col_opt(s, 2, 0);
		ev.job = (const char *)sqlite3_column_text(s, 3);
		ev.run = col_opt(s, 4, 0);
		ev.type = (const char *)sqlite3_column_text(s, 5);
		ev.data = (const char *)sqlite3_column_text(s, 6);
		if (ev.type == NULL)
			ev.type = "unknown";
		n++;
		if (cb(arg, &ev) == -1)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		n = store_fail(st, err, "event_since");
	stmt_done(s);
	return (n);
}

int
store_event_bounds(
    struct store *st, int64_t *oldest, int64_t *last, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_EVENT_BOUNDS);
	int rc = 0;

	if (sqlite3_step(s) == SQLITE_ROW) {
		*oldest = col_opt(s, 0, 0);
		*last = col_opt(s, 1, 0);
	} else
		rc = store_fail(st, err, "event_bounds");
	stmt_done(s);
	return (rc);
}

int
store_event_prune(struct store *st, int64_t upto, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_EVENT_PRUNE);
	int rc = 0;

	if (sqlite3_bind_int64(s, 1, upto) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, err, "event_prune");
	stmt_done(s);
	return (rc);
}

int
store_process_owner(struct store *st, pid_t pid, uint64_t pid_start,
    int64_t *job_id, int64_t *run, int64_t *run_id, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_PROCESS_OWNER);
	int rc;

	if (sqlite3_bind_int64(s, 1, pid) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)pid_start) != SQLITE_OK) {
		stmt_done(s);
		return (store_fail(st, err, "process_owner"));
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*job_id = sqlite3_column_int64(s, 0);
		*run = sqlite3_column_int64(s, 1);
		*run_id = sqlite3_column_int64(s, 2);
		stmt_done(s);
		return (1);
	}
	stmt_done(s);
	if (rc != SQLITE_DONE)
		return (store_fail(st, err, "process_owner"));
	return (0);
}

/*
 * The reserve: a file of preallocated blocks beside the database. Job
 * output shares the state file system by default; when it fills the disk,
 * giving this file back lets the store write what it holds at once.
 */
int
store_reserve(struct store *st, const char *path, int64_t bytes)
{
	int fd, rc;

	if (bytes <= 0 || st->reserve_held)
		return (0);
	if (util_strlcpy(st->reserve, path, sizeof(st->reserve)) >=
	    sizeof(st->reserve)) {
		st->reserve[0] = '\0';
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return (-1);
	rc = posix_fallocate(fd, 0, (off_t)bytes);
	close(fd);
	if (rc != 0) {
		unlink(path);
		errno = rc;
		return (-1);
	}
	st->reserve_held = 1;
	return (0);
}

int
store_reserve_release(struct store *st)
{
	if (!st->reserve_held)
		return (0);
	st->reserve_held = 0;
	if (unlink(st->reserve) == -1 && errno != ENOENT)
		return (0);
	return (1);
}

int
store_probe(struct store *st, struct serr *err)
{
	sqlite3_stmt *s = stmt_get(st, SQL_PROBE_WRITE);
	int rc;

	if (store_begin(st, err) == -1)
		return (-1);
	rc = sqlite3_bind_int64(s, 1, 1) == SQLITE_OK &&
	     sqlite3_step(s) == SQLITE_DONE;
	if (!rc)
		store_fail(st, err, "probe_write");
	stmt_done(s);
	if (!rc) {
		store_rollback(st);
		return (-1);
	}
	return (store_commit(st, err));
}

int
store_disk_full(const struct store *st)
{
	return (st->full);
}
