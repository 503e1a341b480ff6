// Test cases from jobs' `results:` files: stored per attempt, read back as
// the latest attempt's with the ones a retry hid marked flaky.
#include "coordinator/store/store.h"

#include "lib/results/results.h"

namespace gauntlet::store {

Status Store::StoreTestCases(int64_t job_id, int64_t attempt_id,
                             const google::protobuf::RepeatedPtrField<v1::TestCase>& cases) {
  Statement insert = db_->Prepare(
      "INSERT INTO test_cases(attempt_id, job_id, suite, name, status, time_s, message, flaky) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& test : cases) {
    GAUNTLET_RETURN_IF_ERROR(insert.Bind(1, attempt_id).Bind(2, job_id).Bind(3, test.suite()).Bind(4, test.name())
                                 .Bind(5, test.status()).Bind(6, test.time_s()).Bind(7, test.message())
                                 .Bind(8, test.flaky() ? 1 : 0).Run());
  }
  return Status::Ok();
}

StatusOr<std::vector<v1::TestCase>> Store::TestCases(int64_t job_id) {
  Statement select = db_->Prepare(
      "SELECT attempt_id, suite, name, status, time_s, message, flaky FROM test_cases WHERE job_id = ? "
      "ORDER BY attempt_id, rowid");
  select.Bind(1, job_id);
  std::vector<results::AttemptCases> attempts;
  while (select.Step()) {
    if (attempts.empty() || attempts.back().attempt_id != select.Int(0)) attempts.push_back({select.Int(0), {}});
    results::TestCase test;
    test.suite = select.Text(1);
    test.name = select.Text(2);
    if (!results::CaseStatusFromName(select.Text(3), &test.status)) test.status = results::CaseStatus::kError;
    test.time_s = select.Double(4);
    test.message = select.Text(5);
    test.flaky = select.Int(6) != 0;
    attempts.back().cases.push_back(std::move(test));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  std::vector<v1::TestCase> out;
  const int64_t latest_attempt = attempts.empty() ? 0 : attempts.back().attempt_id;
  for (const auto& test : results::LatestWithFlaky(attempts)) {
    v1::TestCase& row = out.emplace_back();
    row.set_suite(test.suite);
    row.set_name(test.name);
    row.set_status(std::string(results::CaseStatusName(test.status)));
    row.set_time_s(test.time_s);
    row.set_message(test.message);
    row.set_flaky(test.flaky);
    row.set_attempt_id(latest_attempt);
  }
  return out;
}

}  // namespace gauntlet::store
