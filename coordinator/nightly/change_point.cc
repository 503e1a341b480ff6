#include "coordinator/nightly/change_point.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/math/distributions/students_t.hpp>

namespace gauntlet::nightly {
namespace {

struct Baseline {
  double mean = 0;
  double sd = 0;
  int nights = 0;
};

double Mean(const std::vector<double>& values) {
  return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double Median(std::vector<double> values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  return (upper + *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
}

// The baseline's level and noise, without the nights a robust (median and
// MAD) test calls wild: one bad night in the history must not hide the
// next step, nor fake one.
std::optional<Baseline> BaselineOf(const std::vector<double>& nights, double outlier_z) {
  if (nights.size() < 2) return std::nullopt;
  const double median = Median(nights);
  std::vector<double> deviations;
  for (double v : nights) deviations.push_back(std::abs(v - median));
  const double scale = 1.4826 * Median(deviations);
  std::vector<double> kept;
  for (double v : nights) {
    if (scale == 0 || std::abs(v - median) <= outlier_z * scale) kept.push_back(v);
  }
  if (kept.size() < 2) return std::nullopt;
  Baseline baseline;
  baseline.mean = Mean(kept);
  double squares = 0;
  for (double v : kept) squares += (v - baseline.mean) * (v - baseline.mean);
  baseline.sd = std::sqrt(squares / static_cast<double>(kept.size() - 1));
  baseline.nights = static_cast<int>(kept.size());
  return baseline;
}

struct Tested {
  double t = 0;
  double p = 1;
  double effect = 0;
  double se = 0;
};

Tested TestMean(const Baseline& baseline, double new_mean, int new_nights) {
  // A perfectly flat baseline still has some noise: a change must beat it
  // by the minimum effect, never by an infinite t.
  const double sd = std::max(baseline.sd, 1e-9 * std::abs(baseline.mean));
  Tested out;
  out.se = sd * std::sqrt(1.0 / baseline.nights + 1.0 / new_nights);
  out.t = (new_mean - baseline.mean) / out.se;
  const boost::math::students_t distribution(baseline.nights - 1);
  out.p = 2 * boost::math::cdf(boost::math::complement(distribution, std::abs(out.t)));
  out.effect = new_mean / baseline.mean - 1;
  return out;
}

bool Passes(const Tested& tested, const DetectorOptions& options) {
  return tested.p < options.alpha && std::abs(tested.effect) >= options.min_effect;
}

struct Candidate {
  Change change;
  bool needs_confirmation = false;
};

// The newest `k` nights up to `newest` against the baseline before them,
// which starts no earlier than `floor` (the last change).
std::optional<Candidate> TestWindow(const std::vector<NightSeries>& series, const std::vector<double>& values,
                                    size_t floor, size_t newest, int k, Better better,
                                    const DetectorOptions& options) {
  if (newest + 1 < static_cast<size_t>(k)) return std::nullopt;
  const size_t first = newest + 1 - static_cast<size_t>(k);
  if (first < floor + static_cast<size_t>(options.min_before)) return std::nullopt;
  const size_t begin = std::max(floor, first >= static_cast<size_t>(options.max_before)
                                           ? first - static_cast<size_t>(options.max_before)
                                           : size_t{0});
  auto baseline = BaselineOf(std::vector<double>(values.begin() + static_cast<std::ptrdiff_t>(begin),
                                                 values.begin() + static_cast<std::ptrdiff_t>(first)),
                             options.outlier_z);
  if (!baseline || baseline->nights < options.min_before || baseline->mean == 0) return std::nullopt;
  const double new_mean = Mean(std::vector<double>(values.begin() + static_cast<std::ptrdiff_t>(first),
                                                   values.begin() + static_cast<std::ptrdiff_t>(newest + 1)));
  const Tested tested = TestMean(*baseline, new_mean, k);
  if (!Passes(tested, options)) return std::nullopt;
  for (size_t i = first; i <= newest; ++i) {
    const double deviation = values[i] / baseline->mean - 1;
    if (deviation * tested.effect <= 0 || std::abs(deviation) < options.min_effect / 2) return std::nullopt;
  }

  Candidate candidate;
  Change& change = candidate.change;
  change.first_night = first;
  change.seen_at = newest;
  change.baseline_mean = baseline->mean;
  change.new_mean = new_mean;
  change.effect = tested.effect;
  change.t = tested.t;
  change.p_value = tested.p;
  change.df = baseline->nights - 1;
  change.noise_cv = baseline->sd / std::abs(baseline->mean);
  change.baseline_nights = baseline->nights;
  change.new_nights = k;
  change.regression = better == Better::kLower ? tested.effect > 0 : tested.effect < 0;
  const boost::math::students_t distribution(change.df);
  const double quantile = boost::math::quantile(distribution, 1 - (1 - options.confidence) / 2);
  change.effect_low = (new_mean - quantile * tested.se) / baseline->mean - 1;
  change.effect_high = (new_mean + quantile * tested.se) / baseline->mean - 1;
  change.test = "t-test (baseline variance), " + std::to_string(baseline->nights) + " vs " + std::to_string(k) +
                " nights";

  if (k == 1) {
    // One night is one draw: it counts only when a second run of it agrees.
    const NightSeries& night = series[newest];
    if (night.runs.size() < 2) {
      if (!change.regression) return std::nullopt;  // An improvement can wait a night.
      candidate.needs_confirmation = true;
      return candidate;
    }
    for (const auto& run : night.runs) {
      const Tested alone = TestMean(*baseline, Mean(run), 1);
      if (!Passes(alone, options) || alone.effect * tested.effect <= 0) return std::nullopt;
    }
    change.test += ", confirmed by " + std::to_string(night.runs.size()) + " runs";
  }
  return candidate;
}

struct Walk {
  std::vector<Change> changes;
  size_t floor = 0;
};

Walk WalkSeries(const std::vector<NightSeries>& series, const std::vector<double>& values, Better better,
                const DetectorOptions& options) {
  Walk walk;
  for (size_t n = 0; n < series.size(); ++n) {
    std::optional<Candidate> best;
    for (int k = 1; k <= options.max_after; ++k) {
      auto candidate = TestWindow(series, values, walk.floor, n, k, better, options);
      if (!candidate || candidate->needs_confirmation) continue;
      if (!best || std::abs(candidate->change.t) > std::abs(best->change.t)) best = std::move(candidate);
    }
    if (!best) continue;
    walk.floor = best->change.first_night;
    walk.changes.push_back(std::move(best->change));
  }
  return walk;
}

std::vector<double> Values(const std::vector<NightSeries>& series) {
  std::vector<double> values;
  values.reserve(series.size());
  for (const auto& night : series) values.push_back(NightValue(night));
  return values;
}

}  // namespace

double NightValue(const NightSeries& night) {
  double sum = 0;
  size_t count = 0;
  for (const auto& run : night.runs) {
    sum += std::accumulate(run.begin(), run.end(), 0.0);
    count += run.size();
  }
  return count == 0 ? 0 : sum / static_cast<double>(count);
}

std::vector<Change> DetectChanges(const std::vector<NightSeries>& series, Better better,
                                  const DetectorOptions& options) {
  return WalkSeries(series, Values(series), better, options).changes;
}

std::vector<Level> Levels(const std::vector<NightSeries>& series, Better better, const DetectorOptions& options) {
  std::vector<Level> levels;
  if (series.empty()) return levels;
  const std::vector<double> values = Values(series);
  std::vector<Change> changes = WalkSeries(series, values, better, options).changes;
  levels.push_back(Level{});
  for (auto& change : changes) {
    levels.back().end_night = change.first_night;
    Level next;
    next.first_night = change.first_night;
    next.starts_with = std::move(change);
    levels.push_back(std::move(next));
  }
  levels.back().end_night = series.size();
  for (auto& level : levels) {
    const std::vector<double> nights(values.begin() + static_cast<std::ptrdiff_t>(level.first_night),
                                     values.begin() + static_cast<std::ptrdiff_t>(level.end_night));
    if (auto baseline = BaselineOf(nights, options.outlier_z)) {
      level.mean = baseline->mean;
      level.sd = baseline->sd;
    } else {
      level.mean = Mean(nights);
    }
  }
  return levels;
}

NightVerdict JudgeNewest(const std::vector<NightSeries>& series, Better better, const DetectorOptions& options) {
  NightVerdict verdict;
  if (series.empty()) return verdict;
  const std::vector<double> values = Values(series);
  Walk walk = WalkSeries(series, values, better, options);
  const size_t newest = series.size() - 1;
  // The baseline tonight's night is judged against, for the noise it shows.
  const size_t begin = std::max(walk.floor, newest >= static_cast<size_t>(options.max_before)
                                                ? newest - static_cast<size_t>(options.max_before)
                                                : size_t{0});
  if (newest > begin) {
    if (auto baseline = BaselineOf(std::vector<double>(values.begin() + static_cast<std::ptrdiff_t>(begin),
                                                       values.begin() + static_cast<std::ptrdiff_t>(newest)),
                                   options.outlier_z)) {
      verdict.noise_cv = baseline->mean != 0 ? baseline->sd / std::abs(baseline->mean) : 0;
      verdict.baseline_nights = baseline->nights;
    }
  }
  if (!walk.changes.empty() && walk.changes.back().seen_at == newest) {
    verdict.change = walk.changes.back();
    verdict.verdict = verdict.change->regression ? Verdict::kRegression : Verdict::kImprovement;
    if (walk.changes.size() > 1) verdict.last_change = walk.changes[walk.changes.size() - 2];
    return verdict;
  }
  if (!walk.changes.empty()) verdict.last_change = walk.changes.back();
  if (auto candidate = TestWindow(series, values, walk.floor, newest, 1, better, options);
      candidate && candidate->needs_confirmation) {
    verdict.verdict = Verdict::kNeedsConfirmation;
    verdict.change = std::move(candidate->change);
    return verdict;
  }
  // Just after a change the new level's baseline is short, but the series
  // has a history: nothing new tonight.
  const bool judged = verdict.baseline_nights >= options.min_before || verdict.last_change.has_value();
  verdict.verdict = judged ? Verdict::kNoChange : Verdict::kNotEnoughHistory;
  return verdict;
}

Better BetterFor(const std::string& metric) {
  std::string name = metric;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* higher : {"per_s", "per_sec", "throughput", "tflops", "gflops", "gbps", "bandwidth", "speedup",
                             "tokens_s", "accuracy", "top1"}) {
    if (name.find(higher) != std::string::npos) return Better::kHigher;
  }
  return Better::kLower;
}

}  // namespace gauntlet::nightly
