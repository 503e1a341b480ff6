-- Lease expiry scans only the active attempts (leased 1, running 2), not the
-- whole attempt history, which grows forever.
CREATE INDEX attempts_active_leases ON attempts(lease_expires_ms) WHERE state IN (1, 2);
CREATE INDEX attempts_active_jobs ON attempts(job_id) WHERE state IN (1, 2);
-- How the agent classified a failed attempt (gauntlet.v1.FailureClass).
ALTER TABLE attempts ADD COLUMN failure_class INTEGER NOT NULL DEFAULT 0;
