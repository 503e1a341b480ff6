// Change detection over a benchmark's nightly series: is tonight's value a
// regression, an improvement, or noise?
//
// The test, per night, as the farm would have run it that night: the newest
// k nights (k = 1..max_after) against a baseline of up to max_before nights
// before them, by Student's t on the difference of means with the noise
// estimated from the baseline's night-to-night spread (a step moves a
// series' level, not its noise, and a 20-night baseline estimates that far
// better than 1-3 new nights). A change is reported only when it is
//   - significant (two-sided p below alpha),
//   - at least min_effect relative to the baseline,
//   - consistent: every new night lies beyond half of min_effect on the
//     same side, so one wild night cannot carry a window; and
//   - when it rests on one night alone, seen in two runs of that night: a
//     regression candidate asks for a re-run (NeedsConfirmation), as
//     Perfherder's backfill and Chromium's Pinpoint do, and both runs must
//     show it.
// Baseline nights far from its median (outlier_z robust deviations) are
// left out of it. After a change, the baseline restarts at it, so one step
// is reported once.
//
// Pure: the caller brings the series (oldest first) and the direction.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gauntlet::nightly {

// Which way is worse: higher ITL and TTFT, lower tokens/s.
enum class Better { kLower, kHigher };

// One night of a metric: the samples (repeats) of each run of its job.
struct NightSeries {
  std::string label;                       // The night (nominal date) or sweep, for reports.
  std::vector<std::vector<double>> runs;   // At least one run with at least one sample.
};

struct DetectorOptions {
  int max_before = 20;
  int min_before = 5;      // Fewer nights of baseline: no verdict yet.
  int max_after = 3;
  double alpha = 0.002;    // Two-sided; bench/RESULTS.md shows the trade.
  double min_effect = 0.05;
  double outlier_z = 4.0;
  double confidence = 0.95;  // Of the effect's interval.
};

struct Change {
  size_t first_night = 0;   // Index of the first night at the new level.
  size_t seen_at = 0;       // Index of the night it was first reported on.
  double baseline_mean = 0;
  double new_mean = 0;
  double effect = 0;        // new / baseline - 1.
  double effect_low = 0;    // Its confidence interval.
  double effect_high = 0;
  double t = 0;
  double p_value = 1;
  int df = 0;
  double noise_cv = 0;      // The baseline's night-to-night sd / mean.
  int baseline_nights = 0;
  int new_nights = 0;
  bool regression = false;  // In the worse direction.
  std::string test;         // How it was found, e.g. "t-test (baseline variance), 12 vs 2 nights".
};

enum class Verdict {
  kNotEnoughHistory,
  kNoChange,
  kRegression,
  kImprovement,
  kNeedsConfirmation,   // Re-run tonight's job; judge again with both runs.
};

struct NightVerdict {
  Verdict verdict = Verdict::kNotEnoughHistory;
  std::optional<Change> change;  // The change tonight reports (or asks to confirm).
  std::optional<Change> last_change;  // The latest change before tonight, if any.
  double noise_cv = 0;           // The current baseline's.
  int baseline_nights = 0;
};

// Every change in the series, oldest first.
std::vector<Change> DetectChanges(const std::vector<NightSeries>& series, Better better,
                                  const DetectorOptions& options = {});

// The series cut at its change points: each level's nights [first, end),
// its mean and night-to-night sd without its outliers (0 with fewer than
// two nights), and the change it starts with (none for the first). What a
// chart draws as change points and noise bands.
struct Level {
  size_t first_night = 0;
  size_t end_night = 0;
  double mean = 0;
  double sd = 0;
  std::optional<Change> starts_with;
};
std::vector<Level> Levels(const std::vector<NightSeries>& series, Better better, const DetectorOptions& options = {});

// The newest night's verdict.
NightVerdict JudgeNewest(const std::vector<NightSeries>& series, Better better, const DetectorOptions& options = {});

// Whether a metric's name says lower is better (latencies, times, errors).
Better BetterFor(const std::string& metric);

// The night's value: the mean of all its runs' samples.
double NightValue(const NightSeries& night);

}  // namespace gauntlet::nightly
