-- Devices that keep failing: attempts ending in infrastructure failures
-- K times in a row take a device out of service until a health check on it
-- passes or an admin returns it. A missing row is a healthy device with no
-- failures; rows outlive re-registration (the devices table is rewritten).
CREATE TABLE device_health (
  agent            TEXT    NOT NULL,
  idx              INTEGER NOT NULL,
  failures_in_row  INTEGER NOT NULL DEFAULT 0,
  state            INTEGER NOT NULL DEFAULT 0,  -- sched::HealthState
  reason           TEXT    NOT NULL DEFAULT '',
  since_ms         INTEGER NOT NULL DEFAULT 0,
  source_sweep_id  INTEGER NOT NULL DEFAULT 0,  -- Whose health_check: to run.
  check_job_id     INTEGER NOT NULL DEFAULT 0,
  last_check       TEXT    NOT NULL DEFAULT '',  -- How its last failed check ended.
  PRIMARY KEY (agent, idx)
) WITHOUT ROWID;

-- A job pinned to one agent's devices (a health check), placed there or nowhere.
ALTER TABLE jobs ADD COLUMN pin_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN pin_devices TEXT NOT NULL DEFAULT '';
-- The sweep's `health_check:` job, as YAML; '' for the default selftest.
ALTER TABLE sweeps ADD COLUMN health_check TEXT NOT NULL DEFAULT '';

-- What each agent holds for the model stages (a serialized v1.Inventory),
-- which submit's pre-flight checks model folders and datasets against.
ALTER TABLE agents ADD COLUMN inventory BLOB NOT NULL DEFAULT '';
