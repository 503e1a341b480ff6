// Benchmark JSON: Google Benchmark's --benchmark_format=json (and
// iree-benchmark-module's, which is the same), vLLM's serving benchmark
// --save-result, and pytest-benchmark's --benchmark-json. Times become
// milliseconds; every repetition is kept as a sample, so nightly change
// detection tests the spread and not one mean.
#pragma once

#include <string>

#include "common/status.h"
#include "lib/results/parsed_results.h"

namespace gauntlet::results {

// Metrics "<run_name>.real_time_ms", ".cpu_time_ms" and each counter, the mean
// over repetitions; one case per benchmark, failed when it reported an error.
StatusOr<ParsedResults> ParseGoogleBenchmark(const std::string& text, const std::string& source);

// Every number of the summary (mean_ttft_ms, p99_itl_ms, request_throughput,
// ...), ttft_ms/itl_ms/tpot_ms as the means, and the per-request TTFTs and
// per-token ITLs as samples.
StatusOr<ParsedResults> ParseVllmBench(const std::string& text, const std::string& source);

// Metrics "<test>.mean_ms", ".median_ms", ".min_ms", ".max_ms", ".stddev_ms",
// ".ops"; the rounds' times as samples when saved (--benchmark-save-data).
StatusOr<ParsedResults> ParsePytestBenchmark(const std::string& text, const std::string& source);

}  // namespace gauntlet::results
