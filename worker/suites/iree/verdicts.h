// The IREE tests' verdicts, pure: what the benchmark's repeats and the
// compile statistics say against the definitions' golden values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gauntlet::worker::iree {

struct Verdict {
  bool pass = true;
  std::string reason;
  std::map<std::string, double> metrics;
};

// pytest-iree asserts min(real_time) <= golden_time_ms with no slack, which
// flakes on noise (iree#19442: 80.4 <= 80.0 failed, then passed on rerun).
// Here the best repeat passes up to golden × (1 + tolerance), and the margin
// is reported either way.
Verdict JudgeBenchmark(const std::vector<double>& repeats_ms, std::optional<double> golden_time_ms, double tolerance);

// Every repeat's real time, in milliseconds, from Google Benchmark's JSON
// (iree-benchmark-module --benchmark_out): the iteration runs, not the
// aggregates. Fails on a file that is no such JSON or that reports an error.
StatusOr<std::vector<double>> BenchmarkRepeatsMs(const std::string& json_text, const std::string& source);

// The stream dispatch count iree-compile wrote with
// --iree-scheduling-dump-statistics-format=json; nullopt when absent.
std::optional<double> DispatchCount(const nlohmann::json& statistics);

// pytest-iree's compstat: each golden value is the most allowed.
Verdict JudgeCompileStatistics(std::optional<double> dispatch_count, double binary_size_bytes,
                               std::optional<double> golden_dispatch_count, std::optional<double> golden_binary_size);

// The compile cache's key: the MLIR's bytes (by digest), the flags in order,
// the target and the compiler's own --version text. Anything else that
// changes the binary is a flag.
std::string CompileKey(const std::string& mlir_sha256, const std::vector<std::string>& flags,
                       const std::string& target, const std::string& compiler_version);

}  // namespace gauntlet::worker::iree
