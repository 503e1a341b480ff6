-- Keys the coordinator signs with. "job-tokens" derives each attempt's job
-- token (HMAC of the attempt id), so no token is ever stored and a token
-- handed out before a restart still verifies after it.
CREATE TABLE signing_keys (
  name TEXT PRIMARY KEY,
  key_hex TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
