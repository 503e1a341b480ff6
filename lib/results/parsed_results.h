// Result rows and metrics read from the files test and benchmark tools
// already write (docs/results.md). Pure: text in, rows out.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gauntlet::results {

enum class CaseStatus { kPassed, kFailed, kError, kSkipped };

struct TestCase {
  std::string suite;    // JUnit classname or testsuite; the benchmark file's name.
  std::string name;
  CaseStatus status = CaseStatus::kPassed;
  double time_s = 0;
  std::string message;  // Why it failed or was skipped.
  // Passed here after failing here first: a rerun recorded in the same file.
  // (A pass after a failed attempt of the job is found by the coordinator.)
  bool flaky = false;
};

struct ParsedResults {
  std::vector<TestCase> cases;
  std::map<std::string, double> metrics;
  std::map<std::string, std::vector<double>> samples;
};

std::string_view CaseStatusName(CaseStatus status);
bool CaseStatusFromName(std::string_view name, CaseStatus* out);
inline bool IsFailure(CaseStatus status) { return status == CaseStatus::kFailed || status == CaseStatus::kError; }

}  // namespace gauntlet::results
