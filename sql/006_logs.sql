-- SPDX-License-Identifier: ISC
-- Job output (issue 14): output a run could not store (a full disk) is
-- counted on the run, and history is pruned to runs_keep runs per job, by
-- (job_id, run).

ALTER TABLE runs ADD COLUMN output_dropped INTEGER NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS runs_job_run ON runs(job_id, run);

PRAGMA user_version = 6;
