-- SPDX-License-Identifier: ISC
-- What decides a job's future is stored, so that a restarted daemon goes
-- on exactly where the old one stopped: the count of consecutive automatic
-- restarts (max_retries counts them). Orphans are attributed through the
-- processes the tracker recorded, found by (pid, start time).

ALTER TABLE jobs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;

CREATE INDEX processes_pid ON processes(pid, pid_start);

-- One row, rewritten to learn whether the store can write again after it
-- could not (a full disk, another process's lock).
CREATE TABLE probe (
	id		INTEGER PRIMARY KEY,
	pad		BLOB
);

PRAGMA user_version = 4;
