// How well the nightly change detector tells steps from noise, on synthetic
// histories with known truth, beside fixed-threshold rules run on the same
// nights. Quality, not speed: see bench/RESULTS.md.
//
// A series is 30-60 nights of one benchmark metric (lower is better). Each
// night's job makes `repeats` samples; a sample is the level times
// (1 + night) times (1 + sample) noise, the night's share of the noise
// (machine state that night) half the sample's. The noise CV is the
// sample's. Kinds: flat; one step of 3-30% up or down; flat with runs
// that go wild (25-60%, once in a while, not repeated by a re-run); slow
// drift (0.2-1% a night). Every night is judged as the farm would judge it
// that night, with the nights before it, and a night the detector wants
// confirmed gets its re-run.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "coordinator/nightly/change_point.h"

namespace {

using gauntlet::nightly::Better;
using gauntlet::nightly::DetectorOptions;
using gauntlet::nightly::NightSeries;
using gauntlet::nightly::Verdict;

enum class Kind { kFlat, kStep, kOutliers, kDrift };

struct Truth {
  Kind kind = Kind::kFlat;
  double cv = 0.05;
  int nights = 40;
  int step_at = -1;     // First night at the new level.
  double step = 0;      // Relative.
  double drift = 0;     // Relative per night.
  std::vector<int> wild_nights;
};

class Generator {
 public:
  Generator(uint64_t seed, int repeats, double night_share) : rng_(seed), repeats_(repeats), night_share_(night_share) {}

  Truth Draw(Kind kind, double cv, double step = -1) {
    Truth truth;
    truth.kind = kind;
    truth.cv = cv > 0 ? cv : std::exp(Uniform(std::log(0.02), std::log(0.20)));
    truth.nights = static_cast<int>(Uniform(30, 61));
    if (kind == Kind::kStep) {
      truth.step_at = static_cast<int>(Uniform(15, truth.nights - 4));
      truth.step = step > 0 ? step : Uniform(0.03, 0.30);
      if (step <= 0 && Uniform(0, 1) < 0.5) truth.step = -truth.step;
    }
    if (kind == Kind::kDrift) truth.drift = Uniform(0.002, 0.01) * (Uniform(0, 1) < 0.5 ? -1 : 1);
    if (kind == Kind::kOutliers) {
      for (int n = 0; n < truth.nights; ++n) {
        if (Uniform(0, 1) < 0.08) truth.wild_nights.push_back(n);
      }
    }
    return truth;
  }

  double Level(const Truth& truth, int night) const {
    double level = 100;
    if (truth.step_at >= 0 && night >= truth.step_at) level *= 1 + truth.step;
    return level * (1 + truth.drift * night);
  }

  // One night's first run; `night_noise` is kept for its re-run.
  std::vector<double> Run(const Truth& truth, int night, double night_noise, bool wild) {
    std::normal_distribution<double> sample(0, truth.cv);
    double factor = Level(truth, night) * (1 + night_noise);
    if (wild) factor *= 1 + Uniform(0.25, 0.60) * (Uniform(0, 1) < 0.5 ? -1 : 1);
    std::vector<double> samples;
    for (int i = 0; i < repeats_; ++i) samples.push_back(factor * (1 + sample(rng_)));
    return samples;
  }

  double NightNoise(const Truth& truth) {
    return night_share_ > 0 ? std::normal_distribution<double>(0, truth.cv * night_share_)(rng_) : 0;
  }

 private:
  double Uniform(double low, double high) { return std::uniform_real_distribution<double>(low, high)(rng_); }

  std::mt19937_64 rng_;
  int repeats_;
  double night_share_;
};

struct Alarm {
  int night = 0;       // When it was raised.
  int first_night = 0; // Where it says the change starts.
};

struct Tally {
  long judged_nights = 0;   // Nights with a verdict possible (enough history).
  long false_alarms = 0;
  long steps = 0;           // Eligible steps (>= 2x noise and >= the minimum effect).
  long detected = 0;        // Within 3 nights.
  long detected_late = 0;   // Within 6 nights.
  std::vector<int> delays;
  long reruns = 0;
  long drift_nights = 0;
  long drift_alarms = 0;

  void Add(const Tally& other) {
    judged_nights += other.judged_nights;
    false_alarms += other.false_alarms;
    steps += other.steps;
    detected += other.detected;
    detected_late += other.detected_late;
    delays.insert(delays.end(), other.delays.begin(), other.delays.end());
    reruns += other.reruns;
    drift_nights += other.drift_nights;
    drift_alarms += other.drift_alarms;
  }
};

// Scores one series' alarms against its truth.
void Score(const Truth& truth, const std::vector<Alarm>& alarms, int first_judged, double min_effect, Tally* tally) {
  const int judged = std::max(0, truth.nights - first_judged);
  const bool eligible = truth.kind == Kind::kStep && std::abs(truth.step) >= 2 * truth.cv &&
                        std::abs(truth.step) >= min_effect;
  if (truth.kind == Kind::kDrift) {
    tally->drift_nights += judged;
    tally->drift_alarms += static_cast<long>(alarms.size());
    return;
  }
  tally->judged_nights += judged;
  bool found = false;
  for (const auto& alarm : alarms) {
    const bool at_step = truth.kind == Kind::kStep && std::abs(alarm.first_night - truth.step_at) <= 1 &&
                         alarm.night >= truth.step_at;
    if (at_step) {
      if (!found && eligible && alarm.night - truth.step_at <= 5) {
        ++tally->detected_late;
        if (alarm.night - truth.step_at <= 2) ++tally->detected;
        tally->delays.push_back(alarm.night - truth.step_at);
      }
      found = true;
      continue;
    }
    ++tally->false_alarms;
  }
  if (eligible) ++tally->steps;
}

// The detector, judging each night with the nights before it.
Tally RunDetector(Generator& gen, const Truth& truth, const DetectorOptions& options) {
  std::vector<NightSeries> series;
  std::vector<Alarm> alarms;
  Tally tally;
  int first_judged = truth.nights;
  for (int n = 0; n < truth.nights; ++n) {
    const double night_noise = gen.NightNoise(truth);
    const bool wild = std::find(truth.wild_nights.begin(), truth.wild_nights.end(), n) != truth.wild_nights.end();
    series.push_back({std::to_string(n), {gen.Run(truth, n, night_noise, wild)}});
    auto verdict = gauntlet::nightly::JudgeNewest(series, Better::kLower, options);
    if (verdict.verdict == Verdict::kNeedsConfirmation) {
      ++tally.reruns;
      series.back().runs.push_back(gen.Run(truth, n, night_noise, false));
      verdict = gauntlet::nightly::JudgeNewest(series, Better::kLower, options);
    }
    if (verdict.verdict != Verdict::kNotEnoughHistory) first_judged = std::min(first_judged, n);
    if (verdict.verdict == Verdict::kRegression || verdict.verdict == Verdict::kImprovement) {
      alarms.push_back({n, static_cast<int>(verdict.change->first_night)});
    }
  }
  Score(truth, alarms, first_judged, options.min_effect, &tally);
  return tally;
}

// A fixed threshold: tonight against the previous night, or against the
// mean of the last 12 nights, alarms beyond 5%.
Tally RunThreshold(Generator& gen, const Truth& truth, bool against_mean, double threshold) {
  std::vector<double> values;
  std::vector<Alarm> alarms;
  const int first_judged = against_mean ? 5 : 1;
  for (int n = 0; n < truth.nights; ++n) {
    const bool wild = std::find(truth.wild_nights.begin(), truth.wild_nights.end(), n) != truth.wild_nights.end();
    auto run = gen.Run(truth, n, gen.NightNoise(truth), wild);
    double value = 0;
    for (double v : run) value += v / static_cast<double>(run.size());
    if (n >= first_judged) {
      double reference = values.back();
      if (against_mean) {
        const size_t begin = values.size() > 12 ? values.size() - 12 : 0;
        reference = 0;
        for (size_t i = begin; i < values.size(); ++i) reference += values[i] / static_cast<double>(values.size() - begin);
      }
      if (std::abs(value / reference - 1) > threshold) alarms.push_back({n, n});
    }
    values.push_back(value);
  }
  Tally tally;
  Score(truth, alarms, first_judged, threshold, &tally);
  return tally;
}

double Median(std::vector<int> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void PrintRow(const std::string& name, const Tally& tally) {
  std::printf("| %-44s | %7.3f%% | %7.1f%% | %7.1f%% | %5.1f | %7.3f%% | %6ld |\n", name.c_str(),
              100.0 * static_cast<double>(tally.false_alarms) / std::max(1L, tally.judged_nights),
              100.0 * static_cast<double>(tally.detected) / std::max(1L, tally.steps),
              100.0 * static_cast<double>(tally.detected_late) / std::max(1L, tally.steps), Median(tally.delays),
              100.0 * static_cast<double>(tally.drift_alarms) / std::max(1L, tally.drift_nights), tally.reruns);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Change detector quality on synthetic nightly histories"};
  int series_count = 4000;
  uint64_t seed = 20261202;
  int repeats = 5;
  double night_share = 0.5;
  DetectorOptions options;
  app.add_option("--series", series_count, "Series of mixed kinds (and as many again for the 10%/5% case)");
  app.add_option("--seed", seed, "Random seed");
  app.add_option("--repeats", repeats, "Samples per run");
  app.add_option("--night-share", night_share, "The night's noise (shared by its re-run) over the sample's");
  app.add_option("--alpha", options.alpha, "Detector: two-sided p-value threshold");
  app.add_option("--min-effect", options.min_effect, "Detector: minimum effect");
  app.add_option("--max-before", options.max_before, "Detector: most baseline nights");
  app.add_option("--min-before", options.min_before, "Detector: fewest baseline nights");
  CLI11_PARSE(app, argc, argv);

  struct Method {
    std::string name;
    std::function<Tally(Generator&, const Truth&)> run;
  };
  const std::vector<Method> methods = {
      {"detector (t-test, alpha " + std::to_string(options.alpha).substr(0, 5) + ", re-run)", [&](Generator& g, const Truth& t) { return RunDetector(g, t, options); }},
      {"fixed 5% vs the previous night", [](Generator& g, const Truth& t) { return RunThreshold(g, t, false, 0.05); }},
      {"fixed 5% vs the mean of the last 12 nights", [](Generator& g, const Truth& t) { return RunThreshold(g, t, true, 0.05); }},
  };
  auto header = [] {
    std::printf("| %-44s | %8s | %8s | %8s | %5s | %8s | %6s |\n", "method", "FP/night", "in 3", "in 6",
                "delay", "drift", "reruns");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(46, '-').c_str(), std::string(10, '-').c_str(),
                std::string(10, '-').c_str(), std::string(10, '-').c_str(), std::string(7, '-').c_str(),
                std::string(10, '-').c_str(), std::string(8, '-').c_str());
  };

  std::printf("Mixed histories: %d series (40%% flat, 30%% one step of 3-30%%, 15%% wild runs, 15%% drift), "
              "noise CV 2-20%%, %d samples a run, night noise %.2f of the sample's, seed %llu\n\n", series_count,
              repeats, night_share, static_cast<unsigned long long>(seed));
  header();
  for (const auto& method : methods) {
    // Every method sees the same series: the same seed, drawn in the same order.
    Generator truths(seed, repeats, night_share);
    Generator noise(seed + 1, repeats, night_share);
    Tally total;
    for (int i = 0; i < series_count; ++i) {
      const double pick = static_cast<double>(i % 20) / 20;
      const Kind kind = pick < 0.40 ? Kind::kFlat : pick < 0.70 ? Kind::kStep : pick < 0.85 ? Kind::kOutliers : Kind::kDrift;
      total.Add(method.run(noise, truths.Draw(kind, -1)));
    }
    PrintRow(method.name, total);
  }

  std::printf("\nThe issue's case: 10%% steps at 5%% noise (%d step series, %d flat series), same seeds\n\n",
              series_count / 2, series_count / 2);
  header();
  for (const auto& method : methods) {
    Generator truths(seed + 2, repeats, night_share);
    Generator noise(seed + 3, repeats, night_share);
    Tally total;
    for (int i = 0; i < series_count; ++i) {
      total.Add(method.run(noise, truths.Draw(i % 2 == 0 ? Kind::kStep : Kind::kFlat, 0.05, 0.10)));
    }
    PrintRow(method.name, total);
  }
  return 0;
}
