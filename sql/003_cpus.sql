-- SPDX-License-Identifier: ISC
-- The CPUs a run was given (a CPU list, e.g. "2-3"), so that an exclusive
-- grant is known again after a daemon restart.

ALTER TABLE runs ADD COLUMN cpus TEXT;

PRAGMA user_version = 3;
