-- SPDX-License-Identifier: ISC
-- Two indexes that repeat what a UNIQUE constraint's own index already
-- holds: runs_job_run is runs' UNIQUE (job_id, run), and processes_run is
-- the first column of processes' UNIQUE (run_id, pid, pid_start). The
-- planner picks those for every query and foreign key that used these
-- (same plans), and each new run and process no longer writes two index
-- pages more (issue 18: two WAL frames fewer per run).

DROP INDEX IF EXISTS runs_job_run;
DROP INDEX IF EXISTS processes_run;

PRAGMA user_version = 7;
