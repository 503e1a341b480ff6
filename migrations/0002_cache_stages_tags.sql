-- The content-key cache (jobs satisfied by an earlier result), LLM stages
-- and node tags.
ALTER TABLE jobs ADD COLUMN stage TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN cacheable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN cached_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN tags TEXT NOT NULL DEFAULT '';      -- comma-separated
ALTER TABLE agents ADD COLUMN tags TEXT NOT NULL DEFAULT '';    -- comma-separated
CREATE INDEX jobs_by_stage ON jobs(stage, state);
