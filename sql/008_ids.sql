-- SPDX-License-Identifier: ISC
-- Ids without AUTOINCREMENT (issue 18). AUTOINCREMENT kept each table's
-- highest id in sqlite_sequence, so every transaction that inserted a job,
-- a run or an event wrote that page too: 3 of the 17 WAL pages of a job
-- that runs once. Ids are still never reused: id_floor holds a table's
-- highest id once its newest row has been deleted (the triggers below
-- write it then, and only then), and an insert takes one past both the
-- table's highest id and its floor (queries.sql). jobs, runs and events
-- are rebuilt with the same columns, rows and constraints; store_migrate
-- turns foreign keys off around the migrations and checks them before
-- committing.

CREATE TABLE id_floor (
	name		TEXT PRIMARY KEY,
	seq		INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO id_floor (name, seq)
	SELECT name, seq FROM sqlite_sequence
	WHERE name IN ('jobs', 'runs', 'events');

CREATE TABLE jobs_new (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	source		TEXT NOT NULL,		-- "api" or "file:/path"
	spec		TEXT NOT NULL,		-- normalised job spec JSON
	state		TEXT NOT NULL,
	restarts	INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	reason		TEXT,
	next_start_at	INTEGER,
	retries		INTEGER NOT NULL DEFAULT 0,
	owner_uid	INTEGER NOT NULL DEFAULT 0,
	actor_uid	INTEGER,
	acted_at	INTEGER,
	sched_next_at	INTEGER,
	sched_skipped	INTEGER NOT NULL DEFAULT 0
);
INSERT INTO jobs_new (id, name, source, spec, state, restarts, created_at,
	updated_at, reason, next_start_at, retries, owner_uid, actor_uid,
	acted_at, sched_next_at, sched_skipped)
	SELECT id, name, source, spec, state, restarts, created_at,
	updated_at, reason, next_start_at, retries, owner_uid, actor_uid,
	acted_at, sched_next_at, sched_skipped FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

CREATE TABLE runs_new (
	id		INTEGER PRIMARY KEY,
	job_id		INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	run		INTEGER NOT NULL,	-- 1, 2, ... per job
	pid		INTEGER,		-- NULL: never started
	pid_start	INTEGER,		-- /proc/PID/stat starttime
	started_at	INTEGER NOT NULL,
	exited_at	INTEGER,
	exit_code	INTEGER,
	signal		INTEGER,
	core_dumped	INTEGER NOT NULL DEFAULT 0,
	oom_killed	INTEGER NOT NULL DEFAULT 0,
	error		TEXT,
	user_cpu_ms	INTEGER,
	system_cpu_ms	INTEGER,
	max_rss_kb	INTEGER,
	cpus		TEXT,
	output_dropped	INTEGER NOT NULL DEFAULT 0,
	UNIQUE (job_id, run)
);
INSERT INTO runs_new (id, job_id, run, pid, pid_start, started_at,
	exited_at, exit_code, signal, core_dumped, oom_killed, error,
	user_cpu_ms, system_cpu_ms, max_rss_kb, cpus, output_dropped)
	SELECT id, job_id, run, pid, pid_start, started_at, exited_at,
	exit_code, signal, core_dumped, oom_killed, error, user_cpu_ms,
	system_cpu_ms, max_rss_kb, cpus, output_dropped FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;

CREATE TABLE events_new (
	id		INTEGER PRIMARY KEY,
	time		INTEGER NOT NULL,
	job_id		INTEGER,
	job		TEXT,
	run		INTEGER,
	type		TEXT NOT NULL,
	data		TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO events_new (id, time, job_id, job, run, type, data)
	SELECT id, time, job_id, job, run, type, data FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

CREATE TRIGGER jobs_floor AFTER DELETE ON jobs
WHEN old.id > COALESCE((SELECT MAX(id) FROM jobs), 0)
BEGIN
	INSERT INTO id_floor (name, seq) VALUES ('jobs', old.id)
	ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq);
END;
CREATE TRIGGER runs_floor AFTER DELETE ON runs
WHEN old.id > COALESCE((SELECT MAX(id) FROM runs), 0)
BEGIN
	INSERT INTO id_floor (name, seq) VALUES ('runs', old.id)
	ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq);
END;
CREATE TRIGGER events_floor AFTER DELETE ON events
WHEN old.id > COALESCE((SELECT MAX(id) FROM events), 0)
BEGIN
	INSERT INTO id_floor (name, seq) VALUES ('events', old.id)
	ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq);
END;

PRAGMA user_version = 8;
