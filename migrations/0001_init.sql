-- The first schema: sweeps and their job DAG, attempts with leases, agents and
-- their devices, results, content-addressed artifacts, logs and events.
-- Enum columns hold the proto enum numbers (gauntlet.v1.JobState, ...).

CREATE TABLE sweeps (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL,
  source        TEXT    NOT NULL DEFAULT '',
  spec_text     TEXT    NOT NULL,
  priority      INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE jobs (
  id             INTEGER PRIMARY KEY,
  sweep_id       INTEGER NOT NULL REFERENCES sweeps(id),
  name           TEXT    NOT NULL,
  kind           INTEGER NOT NULL,
  state          INTEGER NOT NULL,
  spec_json      TEXT    NOT NULL,
  devices        INTEGER NOT NULL,
  device_kind    TEXT    NOT NULL DEFAULT '',
  priority       INTEGER NOT NULL DEFAULT 0,
  max_attempts   INTEGER NOT NULL DEFAULT 1,
  attempt_count  INTEGER NOT NULL DEFAULT 0,
  -- attempt_count when the job was last retried by hand; attempts used since
  -- then are attempt_count - retry_base.
  retry_base     INTEGER NOT NULL DEFAULT 0,
  timeout_s      REAL    NOT NULL DEFAULT 0,
  labels_json    TEXT    NOT NULL DEFAULT '{}',
  content_key    TEXT    NOT NULL,
  reason         TEXT    NOT NULL DEFAULT '',
  verdict        TEXT    NOT NULL DEFAULT '',
  result_json    TEXT    NOT NULL DEFAULT '',
  created_at_ms  INTEGER NOT NULL,
  started_at_ms  INTEGER NOT NULL DEFAULT 0,
  finished_at_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE (sweep_id, name)
);
CREATE INDEX jobs_by_state ON jobs(state, priority DESC, id);
CREATE INDEX jobs_by_sweep ON jobs(sweep_id, state);
CREATE INDEX jobs_by_content_key ON jobs(content_key, state);

CREATE TABLE job_deps (
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  depends_on INTEGER NOT NULL REFERENCES jobs(id),
  PRIMARY KEY (job_id, depends_on)
) WITHOUT ROWID;
CREATE INDEX job_deps_by_upstream ON job_deps(depends_on, job_id);

CREATE TABLE agents (
  name              TEXT    PRIMARY KEY,
  version           TEXT    NOT NULL DEFAULT '',
  registered_at_ms  INTEGER NOT NULL,
  last_heartbeat_ms INTEGER NOT NULL,
  drained           INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE devices (
  agent TEXT    NOT NULL REFERENCES agents(name) ON DELETE CASCADE,
  idx   INTEGER NOT NULL,
  kind  TEXT    NOT NULL,
  model TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (agent, idx)
) WITHOUT ROWID;

CREATE TABLE attempts (
  id               INTEGER PRIMARY KEY,
  job_id           INTEGER NOT NULL REFERENCES jobs(id),
  number           INTEGER NOT NULL,
  state            INTEGER NOT NULL,
  agent            TEXT    NOT NULL,
  device_indices   TEXT    NOT NULL,  -- "0,1"
  leased_at_ms     INTEGER NOT NULL,
  lease_expires_ms INTEGER NOT NULL,
  started_at_ms    INTEGER NOT NULL DEFAULT 0,
  finished_at_ms   INTEGER NOT NULL DEFAULT 0,
  exit_code        INTEGER NOT NULL DEFAULT 0,
  reason           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX attempts_by_job ON attempts(job_id, number);
-- Leased (1) and running (2) attempts: what holds devices and leases.
CREATE INDEX attempts_active ON attempts(agent, state) WHERE state IN (1, 2);

CREATE TABLE metrics (
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  name       TEXT    NOT NULL,
  value      REAL    NOT NULL,
  PRIMARY KEY (attempt_id, name)
) WITHOUT ROWID;
CREATE INDEX metrics_by_job ON metrics(job_id);

CREATE TABLE artifacts (
  sha256        TEXT    PRIMARY KEY,
  size          INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE job_artifacts (
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  name       TEXT    NOT NULL,
  sha256     TEXT    NOT NULL REFERENCES artifacts(sha256),
  PRIMARY KEY (attempt_id, name)
) WITHOUT ROWID;
CREATE INDEX job_artifacts_by_job ON job_artifacts(job_id);

CREATE TABLE log_chunks (
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  offset     INTEGER NOT NULL,
  data       BLOB    NOT NULL,
  PRIMARY KEY (attempt_id, offset)
) WITHOUT ROWID;

CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  at_ms      INTEGER NOT NULL,
  sweep_id   INTEGER,
  job_id     INTEGER,
  attempt_id INTEGER,
  kind       TEXT    NOT NULL,
  message    TEXT    NOT NULL
);
CREATE INDEX events_by_job ON events(job_id, id);
