-- Nightly schedules and their firings. A firing's key is (schedule, slot):
-- a restart, a crash between submitting the sweep and recording the slot
-- (they share one transaction), or a retry can never fire a slot twice.
CREATE TABLE schedules (
  id                INTEGER PRIMARY KEY,
  name              TEXT    NOT NULL UNIQUE,
  cron              TEXT    NOT NULL,
  timezone          TEXT    NOT NULL DEFAULT 'UTC',
  catch_up          TEXT    NOT NULL DEFAULT 'latest',
  max_catch_up      INTEGER NOT NULL DEFAULT 10,
  concurrency       TEXT    NOT NULL DEFAULT 'allow',
  webhook           TEXT    NOT NULL DEFAULT '',
  -- The SubmitSweepRequest each firing submits, serialized.
  request           BLOB    NOT NULL,
  paused            INTEGER NOT NULL DEFAULT 0,
  -- Every slot at or before it is decided (fired or skipped).
  cursor_ms         INTEGER NOT NULL,
  baseline_sweep_id INTEGER NOT NULL DEFAULT 0,
  created_at_ms     INTEGER NOT NULL
);

CREATE TABLE schedule_firings (
  schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  slot_ms     INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  sweep_id    INTEGER NOT NULL DEFAULT 0,
  detail      TEXT    NOT NULL DEFAULT '',
  at_ms       INTEGER NOT NULL,
  PRIMARY KEY (schedule_id, slot_ms)
) WITHOUT ROWID;

ALTER TABLE sweeps ADD COLUMN schedule_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN nominal_date TEXT NOT NULL DEFAULT '';
CREATE INDEX sweeps_by_schedule ON sweeps(schedule_id, id) WHERE schedule_id != 0;
