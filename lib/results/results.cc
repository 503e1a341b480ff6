#include "lib/results/results.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "lib/results/benchmark_json.h"
#include "lib/results/junit.h"

namespace gauntlet::results {

std::string_view CaseStatusName(CaseStatus status) {
  switch (status) {
    case CaseStatus::kPassed: return "passed";
    case CaseStatus::kFailed: return "failed";
    case CaseStatus::kError: return "error";
    case CaseStatus::kSkipped: return "skipped";
  }
  return "passed";
}

bool CaseStatusFromName(std::string_view name, CaseStatus* out) {
  for (CaseStatus status : {CaseStatus::kPassed, CaseStatus::kFailed, CaseStatus::kError, CaseStatus::kSkipped}) {
    if (CaseStatusName(status) == name) {
      *out = status;
      return true;
    }
  }
  return false;
}

bool IsFormat(std::string_view format) { return std::find(kFormats.begin(), kFormats.end(), format) != kFormats.end(); }

StatusOr<ParsedResults> Parse(std::string_view format, const std::string& text, const std::string& source) {
  if (format == "junit") return ParseJunit(text, source);
  if (format == "google-benchmark") return ParseGoogleBenchmark(text, source);
  if (format == "vllm-bench") return ParseVllmBench(text, source);
  if (format == "pytest-benchmark") return ParsePytestBenchmark(text, source);
  return Err(Status::InvalidArgument(source + ": '" + std::string(format) + "' is not a results format"));
}

StatusOr<ParsedResults> ParseFile(std::string_view format, const std::string& path, const std::string& source) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Err(Status::InvalidArgument(source + ": the job wrote no " + path));
  if (static_cast<int64_t>(size) > kMaxFileBytes) {
    return Err(Status::InvalidArgument(source + ": " + std::to_string(size >> 20) + " MiB, over the " +
                                       std::to_string(kMaxFileBytes >> 20) + " MiB a results file may hold"));
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return Err(Status::InvalidArgument(source + ": cannot read " + path));
  // The parsers check types before reading; should one miss a case, a
  // job's odd file fails that job, never the agent reading it.
  try {
    return Parse(format, text, source);
  } catch (const std::exception& e) {
    return Err(Status::InvalidArgument(source + ": unreadable: " + e.what()));
  }
}

void Merge(ParsedResults from, ParsedResults* into) {
  for (auto& test : from.cases) into->cases.push_back(std::move(test));
  for (const auto& [name, value] : from.metrics) into->metrics[name] = value;
  for (auto& [name, values] : from.samples) into->samples[name] = std::move(values);
}

std::vector<TestCase> LatestWithFlaky(const std::vector<AttemptCases>& attempts) {
  if (attempts.empty()) return {};
  std::set<std::pair<std::string, std::string>> failed_before;
  for (size_t i = 0; i + 1 < attempts.size(); ++i) {
    for (const auto& test : attempts[i].cases) {
      if (IsFailure(test.status)) failed_before.insert({test.suite, test.name});
    }
  }
  std::vector<TestCase> latest = attempts.back().cases;
  for (auto& test : latest) {
    if (test.status == CaseStatus::kPassed && failed_before.contains({test.suite, test.name})) test.flaky = true;
  }
  return latest;
}

std::string FailureSummary(const std::vector<TestCase>& cases) {
  constexpr size_t kNamed = 3;
  std::vector<const TestCase*> failed;
  size_t counted = 0;
  for (const auto& test : cases) {
    if (test.status == CaseStatus::kSkipped) continue;
    ++counted;
    if (IsFailure(test.status)) failed.push_back(&test);
  }
  if (failed.empty()) return "";
  std::string summary = std::to_string(failed.size()) + " of " + std::to_string(counted) + " tests failed: ";
  for (size_t i = 0; i < std::min(failed.size(), kNamed); ++i) {
    std::string message = failed[i]->message.substr(0, failed[i]->message.find('\n'));
    if (message.size() > 120) message = message.substr(0, 120) + "...";
    summary += (i ? ", " : "") + failed[i]->name + (message.empty() ? "" : " (" + message + ")");
  }
  if (failed.size() > kNamed) summary += " and " + std::to_string(failed.size() - kNamed) + " more";
  return summary;
}

}  // namespace gauntlet::results
