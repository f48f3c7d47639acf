-- SPDX-License-Identifier: ISC
-- Every statement schedd runs, prepared once at start-up. "-- name: x"
-- starts a statement; sql-gen.awk turns the names into SQL_X constants.

-- name: begin
BEGIN IMMEDIATE;

-- name: commit
COMMIT;

-- name: rollback
ROLLBACK;

-- name: job_next_id
SELECT MAX(COALESCE((SELECT MAX(id) FROM jobs), 0),
	COALESCE((SELECT seq FROM id_floor WHERE name = 'jobs'), 0)) + 1;

-- name: job_insert
INSERT INTO jobs (id, name, source, spec, state, restarts, created_at, updated_at,
	owner_uid, actor_uid, acted_at)
VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6, ?7, ?8, CASE WHEN ?8 IS NULL THEN NULL
	ELSE ?6 END);

-- name: job_update_schedule
UPDATE jobs SET sched_next_at = ?2, sched_skipped = ?3 WHERE id = ?1;

-- name: job_update_state
UPDATE jobs SET state = ?2, restarts = ?3, updated_at = ?4, reason = ?5,
	next_start_at = ?6, retries = ?7,
	actor_uid = CASE WHEN ?8 IS NULL THEN actor_uid ELSE ?8 END,
	acted_at = CASE WHEN ?8 IS NULL THEN acted_at ELSE ?4 END
WHERE id = ?1;

-- name: job_update_spec
UPDATE jobs SET spec = ?2, source = ?3, updated_at = ?4 WHERE id = ?1;

-- name: job_delete
DELETE FROM jobs WHERE id = ?1;

-- name: job_list
SELECT id, name, source, spec, state, restarts, created_at, updated_at,
	reason, next_start_at, retries, owner_uid, actor_uid, acted_at,
	sched_next_at, sched_skipped
FROM jobs ORDER BY id;

-- name: run_next_id
SELECT MAX(COALESCE((SELECT MAX(id) FROM runs), 0),
	COALESCE((SELECT seq FROM id_floor WHERE name = 'runs'), 0)) + 1;

-- name: run_insert
INSERT INTO runs (id, job_id, run, pid, pid_start, started_at, exited_at,
	error, cpus, ppid, comm, argv)
VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, ?11, ?12);

-- name: run_update_end
UPDATE runs SET exited_at = ?2, exit_code = ?3, signal = ?4, core_dumped = ?5,
	oom_killed = ?6, error = ?7, user_cpu_ms = ?8, system_cpu_ms = ?9,
	max_rss_kb = ?10, output_dropped = ?11
WHERE id = ?1;

-- name: run_list
SELECT id, run, pid, pid_start, started_at, exited_at, exit_code, signal,
	core_dumped, oom_killed, error, user_cpu_ms, system_cpu_ms, max_rss_kb,
	cpus, output_dropped
FROM runs WHERE job_id = ?1 ORDER BY run DESC LIMIT ?2;

-- name: run_prune
DELETE FROM runs WHERE job_id = ?1 AND run <= ?2;

-- name: process_insert
INSERT OR IGNORE INTO processes (run_id, pid, pid_start, ppid, comm, argv,
	first_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7);

-- name: process_exit
UPDATE processes SET exited_at = ?4, exit_code = ?5, signal = ?6
WHERE run_id = ?1 AND pid = ?2 AND pid_start = ?3;

-- name: event_next_id
SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0),
	COALESCE((SELECT seq FROM id_floor WHERE name = 'events'), 0)) + 1;

-- name: event_insert
INSERT INTO events (id, time, job_id, job, run, type, data)
VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6);

-- name: event_since
SELECT id, time, job_id, job, run, type, data
FROM events WHERE id > ?1 ORDER BY id LIMIT ?2;

-- name: event_bounds
SELECT (SELECT MIN(id) FROM events),
	MAX(COALESCE((SELECT MAX(id) FROM events), 0),
	COALESCE((SELECT seq FROM id_floor WHERE name = 'events'), 0));

-- name: event_prune
DELETE FROM events WHERE id <= ?1;

-- name: process_list
-- A run's main process is its runs row (009_main_in_runs.sql).
SELECT run, pid, pid_start, ppid, comm, argv, first_seen, exited_at,
	exit_code, signal
FROM (SELECT r.run, p.pid, p.pid_start, p.ppid, p.comm, p.argv,
		p.first_seen, p.exited_at, p.exit_code, p.signal
	FROM processes p JOIN runs r ON p.run_id = r.id
	WHERE r.job_id = ?1
	UNION ALL
	SELECT run, pid, COALESCE(pid_start, 0), ppid, comm, argv, started_at,
		exited_at, exit_code, signal
	FROM runs WHERE job_id = ?1 AND pid IS NOT NULL)
ORDER BY run DESC, first_seen, pid LIMIT ?2;

-- name: process_owner
SELECT r.job_id, r.run, r.id FROM processes p JOIN runs r ON p.run_id = r.id
WHERE p.pid = ?1 AND p.pid_start = ?2 ORDER BY r.id DESC LIMIT 1;

-- name: probe_write
INSERT OR REPLACE INTO probe (id, pad) VALUES (?1, zeroblob(4096));
