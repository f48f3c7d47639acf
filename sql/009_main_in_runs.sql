-- SPDX-License-Identifier: ISC
-- A run's main process lives in its runs row (issue 18). Its pid, start
-- time, start, exit and status were there already, and a processes row
-- repeated them: with the processes table's two indexes, three WAL pages
-- more at each start and one at each end, 4 of a job's 15. The row keeps
-- what only the processes row had (ppid, comm, argv), the processes table
-- now holds the other processes of a run (what the tracker saw, the
-- orphans reaped), and the process_list query gives both, as before.

ALTER TABLE runs ADD COLUMN ppid INTEGER;
ALTER TABLE runs ADD COLUMN comm TEXT;
ALTER TABLE runs ADD COLUMN argv TEXT;		-- JSON array, NULL if unknown

UPDATE runs SET (ppid, comm, argv) = (
	SELECT p.ppid, p.comm, p.argv FROM processes p
	WHERE p.run_id = runs.id AND p.pid = runs.pid
	AND p.pid_start = runs.pid_start)
WHERE pid IS NOT NULL;
DELETE FROM processes WHERE EXISTS (
	SELECT 1 FROM runs r WHERE r.id = processes.run_id
	AND r.pid = processes.pid AND r.pid_start = processes.pid_start);

PRAGMA user_version = 9;
