-- An agent's session credential, by its SHA-256 (never the credential), and
-- when it was revoked: a revoked name registers again only after
-- `gauntlet agents revoke NAME --undo`.
ALTER TABLE agents ADD COLUMN session_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN revoked_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN admitted_by TEXT NOT NULL DEFAULT '';
