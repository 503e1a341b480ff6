-- Webhook alerts: one notification per fired sweep of a schedule with a
-- webhook, sent once the sweep finishes if its night has regressions, with
-- retries; every attempt is kept as the delivery log.
CREATE TABLE notifications (
  sweep_id        INTEGER PRIMARY KEY,
  schedule_id     INTEGER NOT NULL,
  url             TEXT    NOT NULL,
  -- waiting (for the sweep) | retrying | delivered | failed | quiet (no regression to tell)
  state           TEXT    NOT NULL DEFAULT 'waiting',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  created_at_ms   INTEGER NOT NULL
);
CREATE INDEX notifications_open ON notifications(next_attempt_ms) WHERE state IN ('waiting', 'retrying');

CREATE TABLE webhook_deliveries (
  id          INTEGER PRIMARY KEY,
  sweep_id    INTEGER NOT NULL,
  schedule_id INTEGER NOT NULL,
  attempt     INTEGER NOT NULL,
  at_ms       INTEGER NOT NULL,
  http_status INTEGER NOT NULL,  -- 0: no answer (refused, timed out).
  error       TEXT    NOT NULL DEFAULT '',
  regressions INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_by_schedule ON webhook_deliveries(schedule_id, id);
