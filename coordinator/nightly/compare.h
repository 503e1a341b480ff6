// A night against its baseline: which jobs regressed, were fixed, are known
// failures, are flaky, and which benchmark metrics moved.
//
// Jobs are matched by name (a sweep's names are unique, and a schedule
// fires the same spec each night). Pass/fail:
//   passed -> failed   regression      failed -> passed   fix
//   failed -> failed   known failure   (absent) -> failed  new failure
// A job that failed and then passed on a retry within its sweep is flaky
// (PyTorch HUD's rule): counted per job over the history and shown as
// flaky, never as a regression or a fix.
//
// Benchmark metrics: with a history (a schedule's earlier nights), the
// change detector (change_point.h) judges the night; with two sweeps only,
// Welch's t-test on their samples. Either way a change must also reach the
// minimum effect, in the metric's worse direction to be a regression.
//
// Pure: the caller brings the sweeps' jobs, oldest first.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "coordinator/nightly/change_point.h"

namespace gauntlet::nightly {

enum class Outcome { kPassed, kFailed, kUnfinished };

struct JobRecord {
  std::string name;
  Outcome outcome = Outcome::kUnfinished;
  bool flaky = false;  // Failed, then passed on a retry.
  // Metric -> runs -> samples. A metric without samples is one sample.
  std::map<std::string, std::vector<std::vector<double>>> samples;
};

struct SweepRecord {
  int64_t id = 0;
  std::string label;  // Nominal date, or "sweep N".
  std::vector<JobRecord> jobs;
};

struct Finding {
  std::string job;
  std::string kind;     // regression | fix | known_failure | new_failure | flaky | bench_regression |
                        // bench_improvement | needs_confirmation | unchanged
  std::string metric;   // Benchmarks only.
  double before = 0;
  double after = 0;
  double effect = 0;
  double effect_low = 0;
  double effect_high = 0;
  double statistic = 0;
  double p_value = 1;
  double noise_cv = 0;
  std::string test;
  std::string detail;
  int flaky_count = 0;   // Nights this job was flaky in the history.
};

struct Comparison {
  std::vector<Finding> findings;  // Regressions first, then fixes, new failures, flaky, the rest.
  std::map<std::string, int> counts;  // By kind.
  bool HasRegressions() const;
};

struct CompareOptions {
  DetectorOptions detector;
  std::map<std::string, double> min_effect_by_metric;  // Overrides detector.min_effect; "default" for all.
  std::vector<std::string> higher_is_better;           // Beyond what BetterFor reads in the name.
  int flaky_window = 14;  // Nights over which flakiness is counted.
};

// `history`: earlier nights, oldest first, then `base`, then `night`; for
// two sweeps alone, empty.
Comparison Compare(const std::vector<SweepRecord>& history, const SweepRecord& base, const SweepRecord& night,
                   const CompareOptions& options = {});

// Welch's t-test of b's samples against a's: (t, p, df).
struct WelchResult {
  double t = 0;
  double p = 1;
  double df = 0;
  double mean_a = 0;
  double mean_b = 0;
  double se = 0;
};
WelchResult Welch(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace gauntlet::nightly
