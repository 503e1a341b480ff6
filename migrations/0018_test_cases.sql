-- Test cases a job's `results:` parsers read from the files it wrote (JUnit
-- testcases, benchmarks), per attempt, so a case that failed on one attempt
-- and passed on the next is seen as flaky.
CREATE TABLE test_cases (
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  suite TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  time_s REAL NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  flaky INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX test_cases_job ON test_cases(job_id, attempt_id);
