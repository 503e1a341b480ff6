-- API tokens by their SHA-256 (never the token), and the audit trail of
-- every mutating call. A revoked token keeps its row (and name), so the
-- trail always names a token that existed; tokens are in force once this
-- table has any row. Sweeps remember who submitted them.
CREATE TABLE api_tokens (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL DEFAULT 0,
  revoked_at_ms INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  peer TEXT NOT NULL
);
CREATE INDEX audit_events_by_actor ON audit_events(actor, id);

ALTER TABLE sweeps ADD COLUMN submitted_by TEXT NOT NULL DEFAULT '';
