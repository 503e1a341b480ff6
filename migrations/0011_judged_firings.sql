-- A fired night is judged once its sweep finishes: a benchmark that looks
-- like a regression on that night alone is re-run before it is declared,
-- and the night's alert waits for that.
ALTER TABLE schedule_firings ADD COLUMN judged INTEGER NOT NULL DEFAULT 0;
CREATE INDEX firings_to_judge ON schedule_firings(sweep_id) WHERE judged = 0 AND sweep_id != 0;
