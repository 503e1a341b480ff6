-- The all-sweeps status matrix groups every job by its row, column and state;
-- this index holds all it reads, in that order, so SQLite neither sorts nor
-- touches the table.
CREATE INDEX jobs_matrix_all ON jobs(model, dtype, tp, context, stage, state, tags, created_at_ms);
