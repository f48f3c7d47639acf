-- SPDX-License-Identifier: ISC
-- Initial schema. Times are milliseconds since the epoch (UTC).
-- Ids are never reused, even after deletes (AUTOINCREMENT here; 008 keeps
-- that with a table of floors instead): event ids are the cursor of
-- /v1/events and job ids are public.

CREATE TABLE jobs (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	name		TEXT NOT NULL UNIQUE,
	source		TEXT NOT NULL,		-- "api" or "file:/path"
	spec		TEXT NOT NULL,		-- normalised job spec JSON
	state		TEXT NOT NULL,
	restarts	INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE runs (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
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
	UNIQUE (job_id, run)
);

-- Every process seen in a run: its main process and reaped descendants.
CREATE TABLE processes (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	pid		INTEGER NOT NULL,
	pid_start	INTEGER NOT NULL,
	ppid		INTEGER,
	comm		TEXT,
	argv		TEXT,			-- JSON array, NULL if unknown
	first_seen	INTEGER NOT NULL,
	exited_at	INTEGER,
	exit_code	INTEGER,
	signal		INTEGER,
	UNIQUE (run_id, pid, pid_start)
);

-- Events outlive their job: no foreign key, the name is copied.
CREATE TABLE events (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	time		INTEGER NOT NULL,
	job_id		INTEGER,
	job		TEXT,
	run		INTEGER,
	type		TEXT NOT NULL,
	data		TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX processes_run ON processes(run_id);

PRAGMA user_version = 1;
