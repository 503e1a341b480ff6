#include "worker/suites/iree/verdicts.h"

#include <algorithm>
#include <cstdio>

#include "common/sha256.h"
#include "lib/results/benchmark_json.h"

namespace gauntlet::worker::iree {
namespace {

std::string Fixed(double value, int digits = 2) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

Verdict JudgeBenchmark(const std::vector<double>& repeats_ms, std::optional<double> golden_time_ms, double tolerance) {
  Verdict verdict;
  if (repeats_ms.empty()) {
    verdict.pass = false;
    verdict.reason = "the benchmark reported no repeats";
    return verdict;
  }
  const double best = *std::min_element(repeats_ms.begin(), repeats_ms.end());
  verdict.metrics["time_ms"] = best;
  verdict.metrics["time_ms_median"] = Median(repeats_ms);
  verdict.metrics["repeats"] = static_cast<double>(repeats_ms.size());
  if (!golden_time_ms || *golden_time_ms <= 0) return verdict;
  const double golden = *golden_time_ms;
  const double limit = golden * (1 + tolerance);
  const double over_pct = (best / golden - 1) * 100;
  verdict.metrics["golden_time_ms"] = golden;
  verdict.metrics["over_golden_pct"] = over_pct;
  verdict.pass = best <= limit;
  const std::string against = "golden_time_ms " + Fixed(golden) + " + " + Fixed(tolerance * 100, 1) + "% (" +
                              Fixed(limit) + " ms)";
  const std::string over = over_pct >= 0 ? Fixed(over_pct, 1) + "% over golden" : Fixed(-over_pct, 1) + "% under golden";
  verdict.reason = "best of " + std::to_string(repeats_ms.size()) + " repeats " + Fixed(best) + " ms (median " +
                   Fixed(verdict.metrics["time_ms_median"]) + ") is " + (verdict.pass ? "within " : "over ") + against +
                   ": " + over;
  return verdict;
}

StatusOr<std::vector<double>> BenchmarkRepeatsMs(const std::string& json_text, const std::string& source) {
  GAUNTLET_ASSIGN_OR_RETURN(results::ParsedResults parsed, results::ParseGoogleBenchmark(json_text, source));
  std::vector<double> repeats;
  for (const auto& test : parsed.cases) {
    if (results::IsFailure(test.status)) {
      return Err(Status::InvalidArgument(source + ": benchmark " + test.name + " failed: " + test.message));
    }
    const std::string metric = test.name + ".real_time_ms";
    if (auto samples = parsed.samples.find(metric); samples != parsed.samples.end()) {
      repeats.insert(repeats.end(), samples->second.begin(), samples->second.end());
    } else if (auto mean = parsed.metrics.find(metric); mean != parsed.metrics.end()) {
      repeats.push_back(mean->second);
    }
  }
  return repeats;
}

std::optional<double> DispatchCount(const nlohmann::json& statistics) {
  if (!statistics.is_object()) return std::nullopt;
  auto aggregate = statistics.find("stream-aggregate");
  if (aggregate == statistics.end() || !aggregate->is_object()) return std::nullopt;
  auto execution = aggregate->find("execution");
  if (execution == aggregate->end() || !execution->is_object()) return std::nullopt;
  auto count = execution->find("dispatch-count");
  if (count == execution->end() || !count->is_number()) return std::nullopt;
  return count->get<double>();
}

Verdict JudgeCompileStatistics(std::optional<double> dispatch_count, double binary_size_bytes,
                               std::optional<double> golden_dispatch_count, std::optional<double> golden_binary_size) {
  Verdict verdict;
  verdict.metrics["binary_size_bytes"] = binary_size_bytes;
  if (dispatch_count) verdict.metrics["dispatch_count"] = *dispatch_count;
  std::vector<std::string> problems;
  if (golden_dispatch_count) {
    verdict.metrics["golden_dispatch_count"] = *golden_dispatch_count;
    if (!dispatch_count) {
      problems.push_back("the compile statistics have no stream-aggregate.execution.dispatch-count");
    } else if (*dispatch_count > *golden_dispatch_count) {
      problems.push_back("dispatch count " + Fixed(*dispatch_count, 0) + " is over golden_dispatch_count " +
                         Fixed(*golden_dispatch_count, 0));
    }
  }
  if (golden_binary_size) {
    verdict.metrics["golden_binary_size"] = *golden_binary_size;
    if (binary_size_bytes > *golden_binary_size) {
      problems.push_back("binary size " + Fixed(binary_size_bytes, 0) + " bytes is over golden_binary_size " +
                         Fixed(*golden_binary_size, 0));
    }
  }
  for (const auto& problem : problems) verdict.reason += (verdict.reason.empty() ? "" : "; ") + problem;
  verdict.pass = problems.empty();
  return verdict;
}

std::string CompileKey(const std::string& mlir_sha256, const std::vector<std::string>& flags,
                       const std::string& target, const std::string& compiler_version) {
  // Each part ends in NUL, so no two lists of parts read as the same bytes.
  std::string material("iree-compile", sizeof("iree-compile"));
  for (const std::string* part : {&mlir_sha256, &target, &compiler_version}) material += *part + '\0';
  material += std::to_string(flags.size()) + '\0';
  for (const auto& flag : flags) material += flag + '\0';
  return Sha256Hex(material);
}

}  // namespace gauntlet::worker::iree
