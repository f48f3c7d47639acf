-- SPDX-License-Identifier: ISC
-- Every job has an owner (the uid that created it; 0 for job files and
-- the jobs that existed before owners did), and remembers who last acted
-- on it and when. Who did what is also in each event's data ("by").

ALTER TABLE jobs ADD COLUMN owner_uid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN actor_uid INTEGER;
ALTER TABLE jobs ADD COLUMN acted_at INTEGER;

-- A scheduled job's next tick, and how many ticks it skipped (a run was
-- still active, or the daemon was down), so that a restart changes nothing.
ALTER TABLE jobs ADD COLUMN sched_next_at INTEGER;
ALTER TABLE jobs ADD COLUMN sched_skipped INTEGER NOT NULL DEFAULT 0;

PRAGMA user_version = 5;
