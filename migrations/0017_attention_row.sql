-- Attention type (paged, paged_fp8) is a row dimension of the status matrix,
-- so two attention types never share a cell: a column of its own, in both
-- matrix indexes, filled for the jobs stored before.
ALTER TABLE jobs ADD COLUMN attention TEXT NOT NULL DEFAULT '';
UPDATE jobs SET attention = coalesce(json_extract(labels_json, '$.attention'), '') WHERE stage != '';
DROP INDEX IF EXISTS jobs_matrix;
CREATE INDEX jobs_matrix ON jobs(sweep_id, model, dtype, tp, attention, context, stage, state);
DROP INDEX IF EXISTS jobs_matrix_all;
CREATE INDEX jobs_matrix_all ON jobs(model, dtype, tp, attention, context, stage, state, tags, created_at_ms);
