#include "lib/results/benchmark_json.h"

#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

namespace gauntlet::results {
namespace {

using nlohmann::json;

StatusOr<json> ParseObject(const std::string& text, const std::string& source, const char* what) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return Err(Status::InvalidArgument(source + ": not JSON"));
  if (!parsed.is_object()) return Err(Status::InvalidArgument(source + ": not " + std::string(what) + ": not a JSON object"));
  return parsed;
}

// A field of a tool's JSON, or `fallback` when it is absent or of another
// type: json::value() throws on a type mismatch, and these files are any bytes.
std::string Text(const json& object, const char* key, const std::string& fallback) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : fallback;
}

bool Flag(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_boolean() && found->get<bool>();
}

double Mean(const std::vector<double>& values) {
  return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

StatusOr<double> MillisecondsPer(const std::string& unit, const std::string& source, const std::string& name) {
  if (unit == "ns") return 1e-6;
  if (unit == "us") return 1e-3;
  if (unit == "ms" || unit.empty()) return 1.0;
  if (unit == "s") return 1e3;
  return Err(Status::InvalidArgument(source + ": benchmark '" + name + "' has time_unit '" + unit +
                                     "'; expected ns, us, ms or s"));
}

// Keys of a Google Benchmark run that are not the user's counters.
const std::set<std::string>& RunFields() {
  static const std::set<std::string> fields = {
      "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
      "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "aggregate_name",
      "aggregate_unit", "error_occurred", "error_message", "label"};
  return fields;
}

}  // namespace

StatusOr<ParsedResults> ParseGoogleBenchmark(const std::string& text, const std::string& source) {
  GAUNTLET_ASSIGN_OR_RETURN(json parsed, ParseObject(text, source, "Google Benchmark JSON"));
  if (!parsed.contains("benchmarks") || !parsed["benchmarks"].is_array()) {
    return Err(Status::InvalidArgument(source + ": not Google Benchmark JSON: no \"benchmarks\" list "
                                                "(run it with --benchmark_format=json or --benchmark_out)"));
  }
  ParsedResults results;
  std::map<std::string, std::map<std::string, std::vector<double>>> repetitions;  // run → metric → values
  std::map<std::string, size_t> case_of;
  for (const auto& run : parsed["benchmarks"]) {
    if (!run.is_object() || !run.contains("name") || !run["name"].is_string()) {
      return Err(Status::InvalidArgument(source + ": a benchmark entry has no name"));
    }
    const std::string run_name = Text(run, "run_name", run["name"].get<std::string>());
    if (!case_of.contains(run_name)) {
      case_of[run_name] = results.cases.size();
      results.cases.push_back({source, run_name, CaseStatus::kPassed, 0, "", false});
    }
    TestCase& test = results.cases[case_of[run_name]];
    if (Flag(run, "error_occurred")) {
      test.status = CaseStatus::kFailed;
      test.message = Text(run, "error_message", "the benchmark reported an error");
      continue;
    }
    GAUNTLET_ASSIGN_OR_RETURN(double to_ms, MillisecondsPer(Text(run, "time_unit", "ns"), source, run_name));
    const std::string run_type = Text(run, "run_type", "iteration");
    if (run_type == "aggregate") {
      const std::string aggregate = Text(run, "aggregate_name", "");
      // cv is a ratio, not a time.
      const double scale = Text(run, "aggregate_unit", "time") == "percentage" ? 1.0 : to_ms;
      for (const char* field : {"real_time", "cpu_time"}) {
        if (run.contains(field) && run[field].is_number() && !aggregate.empty()) {
          results.metrics[run_name + "." + field + "_ms_" + aggregate] = run[field].get<double>() * scale;
        }
      }
      continue;
    }
    auto& values = repetitions[run_name];
    for (const char* field : {"real_time", "cpu_time"}) {
      if (run.contains(field) && run[field].is_number()) {
        values[std::string(field) + "_ms"].push_back(run[field].get<double>() * to_ms);
      }
    }
    for (const auto& [key, value] : run.items()) {
      if (value.is_number() && !RunFields().contains(key)) values[key].push_back(value.get<double>());
    }
    test.time_s = values["real_time_ms"].empty() ? 0 : Mean(values["real_time_ms"]) / 1000;
  }
  for (auto& [run_name, metrics] : repetitions) {
    for (auto& [metric, values] : metrics) {
      results.metrics[run_name + "." + metric] = Mean(values);
      if (values.size() > 1) results.samples[run_name + "." + metric] = std::move(values);
    }
  }
  // Aggregates only (--benchmark_report_aggregates_only): the mean stands in.
  for (const auto& test : results.cases) {
    for (const char* field : {"real_time", "cpu_time"}) {
      const std::string plain = test.name + "." + field + "_ms";
      auto mean = results.metrics.find(plain + "_mean");
      if (!results.metrics.contains(plain) && mean != results.metrics.end()) results.metrics[plain] = mean->second;
    }
  }
  return results;
}

StatusOr<ParsedResults> ParseVllmBench(const std::string& text, const std::string& source) {
  GAUNTLET_ASSIGN_OR_RETURN(json parsed, ParseObject(text, source, "vLLM benchmark JSON"));
  if (!parsed.contains("mean_ttft_ms") && !parsed.contains("median_ttft_ms")) {
    return Err(Status::InvalidArgument(source + ": not vLLM benchmark JSON: no mean_ttft_ms (save it with "
                                                "benchmark_serving.py --save-result or vllm bench serve --save-result)"));
  }
  ParsedResults results;
  for (const auto& [key, value] : parsed.items()) {
    if (value.is_number()) results.metrics[key] = value.get<double>();
  }
  // The names the benchmark page and targets read.
  for (const char* metric : {"ttft_ms", "itl_ms", "tpot_ms", "e2el_ms"}) {
    if (auto mean = results.metrics.find(std::string("mean_") + metric); mean != results.metrics.end()) {
      results.metrics[metric] = mean->second;
    }
  }
  if (results.metrics.contains("output_throughput")) results.metrics["tokens_per_s"] = results.metrics["output_throughput"];
  // Per-request lists are in seconds.
  if (parsed.contains("ttfts") && parsed["ttfts"].is_array()) {
    for (const auto& value : parsed["ttfts"]) {
      if (value.is_number() && value.get<double>() > 0) results.samples["ttft_ms"].push_back(value.get<double>() * 1000);
    }
  }
  if (parsed.contains("itls") && parsed["itls"].is_array()) {
    for (const auto& request : parsed["itls"]) {
      if (!request.is_array()) continue;
      for (const auto& value : request) {
        if (value.is_number()) results.samples["itl_ms"].push_back(value.get<double>() * 1000);
      }
    }
  }
  TestCase serving{source, Text(parsed, "backend", "vllm") + " serving", CaseStatus::kPassed,
                   results.metrics.contains("duration") ? results.metrics["duration"] : 0, "", false};
  if (results.metrics.contains("completed") && results.metrics["completed"] == 0) {
    serving.status = CaseStatus::kFailed;
    serving.message = "no request completed";
  }
  results.cases.push_back(std::move(serving));
  return results;
}

StatusOr<ParsedResults> ParsePytestBenchmark(const std::string& text, const std::string& source) {
  GAUNTLET_ASSIGN_OR_RETURN(json parsed, ParseObject(text, source, "pytest-benchmark JSON"));
  if (!parsed.contains("benchmarks") || !parsed["benchmarks"].is_array()) {
    return Err(Status::InvalidArgument(source + ": not pytest-benchmark JSON: no \"benchmarks\" list "
                                                "(write it with pytest --benchmark-json=FILE)"));
  }
  ParsedResults results;
  for (const auto& benchmark : parsed["benchmarks"]) {
    if (!benchmark.is_object() || !benchmark.contains("stats") || !benchmark["stats"].is_object()) {
      return Err(Status::InvalidArgument(source + ": a benchmark entry has no stats"));
    }
    const std::string name = Text(benchmark, "fullname", Text(benchmark, "name", "benchmark"));
    const json& stats = benchmark["stats"];
    for (const char* stat : {"min", "max", "mean", "stddev", "median", "iqr", "q1", "q3"}) {
      if (stats.contains(stat) && stats[stat].is_number()) {
        results.metrics[name + "." + stat + "_ms"] = stats[stat].get<double>() * 1000;
      }
    }
    for (const char* count : {"ops", "rounds"}) {
      if (stats.contains(count) && stats[count].is_number()) results.metrics[name + "." + count] = stats[count].get<double>();
    }
    if (stats.contains("data") && stats["data"].is_array()) {
      for (const auto& value : stats["data"]) {
        if (value.is_number()) results.samples[name + ".time_ms"].push_back(value.get<double>() * 1000);
      }
    }
    // "group" is null unless the test names one.
    results.cases.push_back({Text(benchmark, "group", source), name, CaseStatus::kPassed,
                             stats.contains("total") && stats["total"].is_number() ? stats["total"].get<double>() : 0.0,
                             "", false});
  }
  return results;
}

}  // namespace gauntlet::results
