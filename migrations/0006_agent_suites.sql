-- The suites each agent's worker has built in, comma-separated names; submit
-- refuses a worker job whose suite no agent offers.
ALTER TABLE agents ADD COLUMN suites TEXT NOT NULL DEFAULT '';
