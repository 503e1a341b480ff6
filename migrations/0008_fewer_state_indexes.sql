-- Every index holding `state` is rewritten on each of a job's state changes
-- (ready, leased, running, finished): the cost per job that grew with the
-- table. Indexes that serve one state become partial on it, so a job enters
-- and leaves them once; jobs_by_stage answered no query (per-sweep stage
-- counts walk jobs_by_sweep). The queries name these states as literals,
-- which SQLite needs to use a partial index.
DROP INDEX IF EXISTS jobs_by_stage;
DROP INDEX IF EXISTS jobs_by_state;
DROP INDEX IF EXISTS jobs_by_content_key;
-- The ready queue, read at start-up: state 2 = JOB_STATE_READY.
CREATE INDEX jobs_ready ON jobs(priority DESC, id) WHERE state = 2;
-- The content-key cache: state 5 = JOB_STATE_SUCCEEDED.
CREATE INDEX jobs_succeeded_by_key ON jobs(content_key) WHERE state = 5;
-- Leases live in the coordinator's memory (a restart grants fresh ones), so
-- no query looks attempts up by their lease expiry any more.
DROP INDEX IF EXISTS attempts_active_leases;
