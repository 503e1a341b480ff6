-- The board: the matrix's dimensions as columns (from the jobs' labels, so
-- grouping needs no JSON parsing), issue links, and an index for live events.
ALTER TABLE jobs ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN dtype TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN tp TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN context TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_matrix ON jobs(sweep_id, model, dtype, tp, context, stage, state);
CREATE INDEX sweeps_by_time ON sweeps(created_at_ms);

CREATE TABLE annotations (
  id            INTEGER PRIMARY KEY,
  scope         TEXT    NOT NULL,   -- sweep | model | job
  target        TEXT    NOT NULL,   -- sweep id, model name or job id
  url           TEXT    NOT NULL,
  title         TEXT    NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX annotations_by_target ON annotations(scope, target);
