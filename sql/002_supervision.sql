-- SPDX-License-Identifier: ISC
-- Supervision: why a job is in its state (gave up restarting, waiting for
-- a dependency) and when a backed-off job starts again.

ALTER TABLE jobs ADD COLUMN reason TEXT;
ALTER TABLE jobs ADD COLUMN next_start_at INTEGER;

PRAGMA user_version = 2;
