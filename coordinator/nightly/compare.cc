#include "coordinator/nightly/compare.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/math/distributions/students_t.hpp>

namespace gauntlet::nightly {
namespace {

int Rank(const std::string& kind) {
  static const std::vector<std::string> kOrder = {"regression",  "bench_regression", "new_failure",
                                                  "needs_confirmation", "fix", "bench_improvement",
                                                  "flaky", "known_failure", "untested", "unchanged"};
  auto found = std::find(kOrder.begin(), kOrder.end(), kind);
  return static_cast<int>(found - kOrder.begin());
}

std::vector<double> Flatten(const std::vector<std::vector<double>>& runs) {
  std::vector<double> out;
  for (const auto& run : runs) out.insert(out.end(), run.begin(), run.end());
  return out;
}

double Mean(const std::vector<double>& values) {
  return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

const JobRecord* Find(const SweepRecord& sweep, const std::string& name) {
  for (const auto& job : sweep.jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

void FromChange(const Change& change, Finding* finding) {
  finding->before = change.baseline_mean;
  finding->after = change.new_mean;
  finding->effect = change.effect;
  finding->effect_low = change.effect_low;
  finding->effect_high = change.effect_high;
  finding->statistic = change.t;
  finding->p_value = change.p_value;
  finding->noise_cv = change.noise_cv;
  finding->test = change.test;
}

// A metric across the nights, oldest first; nights without it are left out.
std::vector<NightSeries> SeriesOf(const std::vector<const SweepRecord*>& nights, const std::string& job,
                                  const std::string& metric) {
  std::vector<NightSeries> series;
  for (const SweepRecord* sweep : nights) {
    const JobRecord* record = Find(*sweep, job);
    if (!record) continue;
    auto found = record->samples.find(metric);
    if (found == record->samples.end() || Flatten(found->second).empty()) continue;
    series.push_back({sweep->label, found->second});
  }
  return series;
}

Finding JudgeMetric(const std::vector<const SweepRecord*>& nights, const JobRecord& job, const JobRecord* before,
                    const std::string& metric, const CompareOptions& options) {
  DetectorOptions detector = options.detector;
  for (const std::string& key : {std::string("default"), metric}) {
    if (auto found = options.min_effect_by_metric.find(key); found != options.min_effect_by_metric.end()) {
      detector.min_effect = found->second;
    }
  }
  const bool said_higher = std::find(options.higher_is_better.begin(), options.higher_is_better.end(), metric) !=
                           options.higher_is_better.end();
  const Better better = said_higher ? Better::kHigher : BetterFor(metric);
  Finding finding;
  finding.job = job.name;
  finding.metric = metric;
  finding.kind = "unchanged";
  const auto series = SeriesOf(nights, job.name, metric);
  if (static_cast<int>(series.size()) > detector.min_before) {
    const NightVerdict verdict = JudgeNewest(series, better, detector);
    finding.noise_cv = verdict.noise_cv;
    finding.after = NightValue(series.back());
    finding.test = "t-test (baseline variance), " + std::to_string(verdict.baseline_nights) + " nights";
    if (verdict.change) FromChange(*verdict.change, &finding);
    switch (verdict.verdict) {
      case Verdict::kRegression: finding.kind = "bench_regression"; break;
      case Verdict::kImprovement: finding.kind = "bench_improvement"; break;
      case Verdict::kNeedsConfirmation:
        finding.kind = "needs_confirmation";
        finding.detail = "one night's run says so; a re-run of it decides";
        break;
      case Verdict::kNoChange:
      case Verdict::kNotEnoughHistory: break;
    }
    return finding;
  }
  if (!before) return finding;
  auto base = before->samples.find(metric);
  if (base == before->samples.end()) return finding;
  const std::vector<double> a = Flatten(base->second);
  const std::vector<double> b = Flatten(job.samples.at(metric));
  if (a.empty() || b.empty()) return finding;
  finding.before = Mean(a);
  finding.after = Mean(b);
  finding.effect = finding.before != 0 ? finding.after / finding.before - 1 : 0;
  if (a.size() < 2 || b.size() < 2) {
    finding.kind = "untested";
    finding.detail = "one sample on a side: no test; record the benchmark's repeats";
    return finding;
  }
  const WelchResult welch = Welch(a, b);
  finding.statistic = welch.t;
  finding.p_value = welch.p;
  finding.test = "Welch t-test, " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) + " samples";
  const double quantile =
      boost::math::quantile(boost::math::students_t(std::max(welch.df, 1.0)), 1 - (1 - detector.confidence) / 2);
  finding.effect_low = (welch.mean_b - quantile * welch.se) / welch.mean_a - 1;
  finding.effect_high = (welch.mean_b + quantile * welch.se) / welch.mean_a - 1;
  double squares = 0;
  for (double v : a) squares += (v - welch.mean_a) * (v - welch.mean_a);
  finding.noise_cv = std::sqrt(squares / static_cast<double>(a.size() - 1)) / std::abs(welch.mean_a);
  if (welch.p < detector.alpha && std::abs(finding.effect) >= detector.min_effect) {
    const bool worse = better == Better::kLower ? finding.effect > 0 : finding.effect < 0;
    finding.kind = worse ? "bench_regression" : "bench_improvement";
  }
  return finding;
}

}  // namespace

WelchResult Welch(const std::vector<double>& a, const std::vector<double>& b) {
  WelchResult out;
  out.mean_a = Mean(a);
  out.mean_b = Mean(b);
  auto variance = [](const std::vector<double>& v, double mean) {
    double squares = 0;
    for (double x : v) squares += (x - mean) * (x - mean);
    return squares / static_cast<double>(v.size() - 1);
  };
  const double va = variance(a, out.mean_a) / static_cast<double>(a.size());
  const double vb = variance(b, out.mean_b) / static_cast<double>(b.size());
  // Identical samples on both sides still differ by their means; a floor
  // keeps t finite.
  const double floor = 1e-18 * std::max(out.mean_a * out.mean_a, 1e-300);
  out.se = std::sqrt(std::max(va + vb, floor));
  out.t = (out.mean_b - out.mean_a) / out.se;
  const double numerator = (va + vb) * (va + vb);
  const double denominator = va * va / static_cast<double>(a.size() - 1) + vb * vb / static_cast<double>(b.size() - 1);
  out.df = denominator > 0 ? numerator / denominator : static_cast<double>(a.size() + b.size() - 2);
  const boost::math::students_t distribution(std::max(out.df, 1.0));
  out.p = 2 * boost::math::cdf(boost::math::complement(distribution, std::abs(out.t)));
  return out;
}

bool Comparison::HasRegressions() const {
  for (const char* kind : {"regression", "bench_regression", "new_failure"}) {
    if (auto found = counts.find(kind); found != counts.end() && found->second > 0) return true;
  }
  return false;
}

Comparison Compare(const std::vector<SweepRecord>& history, const SweepRecord& base, const SweepRecord& night,
                   const CompareOptions& options) {
  std::vector<const SweepRecord*> nights;
  for (const auto& sweep : history) nights.push_back(&sweep);
  if (!history.empty()) {
    nights.push_back(&base);
    nights.push_back(&night);
  }
  // Flakiness over the last flaky_window nights, this one included.
  std::vector<const SweepRecord*> recent = nights.empty() ? std::vector<const SweepRecord*>{&base, &night} : nights;
  if (static_cast<int>(recent.size()) > options.flaky_window) {
    recent.erase(recent.begin(), recent.end() - options.flaky_window);
  }

  Comparison comparison;
  for (const JobRecord& job : night.jobs) {
    const JobRecord* before = Find(base, job.name);
    Finding finding;
    finding.job = job.name;
    for (const SweepRecord* sweep : recent) {
      if (const JobRecord* seen = Find(*sweep, job.name); seen && seen->flaky) ++finding.flaky_count;
    }
    if (job.flaky) {
      finding.kind = "flaky";
      finding.detail = "failed, then passed on a retry";
    } else if (job.outcome == Outcome::kFailed) {
      if (!before || before->outcome == Outcome::kUnfinished) {
        finding.kind = "new_failure";
      } else if (before->outcome == Outcome::kPassed) {
        finding.kind = "regression";
        finding.detail = "passed in " + base.label + ", fails now";
      } else {
        finding.kind = "known_failure";
        finding.detail = "failed in " + base.label + " too";
      }
    } else if (job.outcome == Outcome::kPassed && before && before->outcome == Outcome::kFailed) {
      finding.kind = "fix";
      finding.detail = "failed in " + base.label + ", passes now";
    } else {
      finding.kind = "unchanged";
    }
    if (finding.kind != "unchanged" || job.samples.empty()) comparison.findings.push_back(finding);
    // Benchmarks of a job that ran to the end, whatever its verdict.
    if (job.outcome != Outcome::kUnfinished) {
      for (const auto& [metric, runs] : job.samples) {
        comparison.findings.push_back(JudgeMetric(nights, job, before, metric, options));
      }
    }
  }
  std::stable_sort(comparison.findings.begin(), comparison.findings.end(),
                   [](const Finding& a, const Finding& b) { return Rank(a.kind) < Rank(b.kind); });
  for (const auto& finding : comparison.findings) ++comparison.counts[finding.kind];
  return comparison;
}

}  // namespace gauntlet::nightly
