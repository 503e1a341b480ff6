#include "agent/job_results.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "lib/results/results.h"

namespace gauntlet::agent {

std::string ReadDeclaredResults(const std::string& results_json, const std::string& out_dir,
                                results::ParsedResults* parsed) {
  const auto entries = nlohmann::json::parse(results_json, nullptr, false);
  if (!entries.is_array()) return "results: not a list (the coordinator sent " + results_json + ")";
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string format = entries[i].value("format", ""), path = entries[i].value("path", "");
    const std::string source = "results[" + std::to_string(i) + "] (" + format + ", " + path + ")";
    const std::filesystem::path file = std::filesystem::path(path).is_absolute() ? std::filesystem::path(path)
                                                                                : std::filesystem::path(out_dir) / path;
    auto read = results::ParseFile(format, file.string(), source);
    if (!read) {
      *parsed = {};
      return read.error().message();
    }
    results::Merge(std::move(*read), parsed);
  }
  return "";
}

void AddToReport(const results::ParsedResults& parsed, v1::AttemptReport* report) {
  for (const auto& test : parsed.cases) {
    v1::TestCase* out = report->add_test_cases();
    out->set_suite(test.suite);
    out->set_name(test.name);
    out->set_status(std::string(results::CaseStatusName(test.status)));
    out->set_time_s(test.time_s);
    out->set_message(test.message);
    out->set_flaky(test.flaky);
  }
  auto& metrics = *report->mutable_metrics();
  for (const auto& [name, value] : parsed.metrics) metrics.try_emplace(name, value);
  if (parsed.samples.empty()) return;
  nlohmann::json result = nlohmann::json::parse(report->result_json(), nullptr, false);
  // No verdict of its own: the attempt's outcome, decided after, is the job's.
  if (!result.is_object()) result = nlohmann::json::object();
  for (const auto& [name, values] : parsed.samples) {
    if (!result["samples"].contains(name)) result["samples"][name] = values;
  }
  report->set_result_json(result.dump());
}

}  // namespace gauntlet::agent
