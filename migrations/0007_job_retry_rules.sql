-- A job's `retry:` rules (lib/jobs/retry_policy.h, as JSON; '' for none):
-- which failures run again and how often, over the default of retrying only
-- what can heal within max_attempts.
ALTER TABLE jobs ADD COLUMN retry_json TEXT NOT NULL DEFAULT '';
