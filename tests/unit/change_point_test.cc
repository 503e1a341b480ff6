// The nightly change detector on series built by hand: a step is found once
// and where it starts, noise and one wild night are not, one night alone
// asks for a re-run, and the direction decides regression or improvement.
#include <gtest/gtest.h>

#include <random>

#include "coordinator/nightly/change_point.h"

namespace gauntlet::nightly {
namespace {

// `nights` nights around `level` with night-to-night noise `cv`, one run
// of five samples each.
std::vector<NightSeries> Series(int nights, double level, double cv, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, cv);
  std::vector<NightSeries> series;
  for (int n = 0; n < nights; ++n) {
    const double night = level * (1 + noise(rng));
    series.push_back({"n" + std::to_string(n), {{night, night, night, night, night}}});
  }
  return series;
}

void Append(std::vector<NightSeries>& series, double value, int runs = 1) {
  NightSeries night{"n" + std::to_string(series.size()), {}};
  for (int i = 0; i < runs; ++i) night.runs.push_back({value, value});
  series.push_back(std::move(night));
}

TEST(ChangePoint, NoiseAloneRaisesNothing) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto series = Series(40, 100, 0.01, seed);
    EXPECT_TRUE(DetectChanges(series, Better::kLower).empty()) << "seed " << seed;
    EXPECT_EQ(JudgeNewest(series, Better::kLower).verdict, Verdict::kNoChange);
  }
}

TEST(ChangePoint, LevelsCutTheSeriesAtItsStepsWithTheirNoiseBands) {
  auto series = Series(20, 100, 0.02);
  for (int i = 0; i < 8; ++i) Append(series, i % 2 ? 121 : 119);
  auto levels = Levels(series, Better::kLower);
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(levels[0].first_night, 0u);
  EXPECT_EQ(levels[0].end_night, 20u);
  EXPECT_FALSE(levels[0].starts_with.has_value());
  EXPECT_NEAR(levels[0].mean, 100, 2);
  EXPECT_NEAR(levels[0].sd, 2, 1) << "the first level's night-to-night noise";
  EXPECT_EQ(levels[1].first_night, 20u);
  EXPECT_EQ(levels[1].end_night, 28u);
  ASSERT_TRUE(levels[1].starts_with.has_value());
  EXPECT_TRUE(levels[1].starts_with->regression);
  EXPECT_NEAR(levels[1].mean, 120, 0.01);
  EXPECT_NEAR(levels[1].sd, 1.07, 0.01) << "119/121 alternating: sd of eight nights";
}

TEST(ChangePoint, ASteadySeriesIsOneLevelAndOneNightHasNoBand) {
  auto steady = Levels(Series(30, 50, 0.01), Better::kLower);
  ASSERT_EQ(steady.size(), 1u);
  EXPECT_EQ(steady[0].end_night, 30u);
  std::vector<NightSeries> one;
  Append(one, 7);
  auto single = Levels(one, Better::kLower);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].mean, 7);
  EXPECT_EQ(single[0].sd, 0);
  EXPECT_TRUE(Levels({}, Better::kLower).empty());
}

TEST(ChangePoint, TooLittleHistoryHasNoVerdict) {
  auto series = Series(4, 100, 0.01);
  EXPECT_EQ(JudgeNewest(series, Better::kLower).verdict, Verdict::kNotEnoughHistory);
}

TEST(ChangePoint, AStepIsFoundOnceWhereItStarts) {
  auto series = Series(20, 100, 0.01);
  for (int i = 0; i < 6; ++i) Append(series, 115);
  auto changes = DetectChanges(series, Better::kLower);
  ASSERT_EQ(changes.size(), 1u);
  const Change& change = changes[0];
  EXPECT_EQ(change.first_night, 20u);
  EXPECT_EQ(change.seen_at, 21u) << "one night alone waits for its re-run or the next night";
  EXPECT_TRUE(change.regression) << "higher is worse for latencies";
  EXPECT_NEAR(change.effect, 0.15, 0.02);
  EXPECT_LT(change.effect_low, change.effect);
  EXPECT_GT(change.effect_high, change.effect);
  EXPECT_GT(change.effect_low, 0.10);
  EXPECT_LT(change.p_value, 0.002);
  EXPECT_NEAR(change.noise_cv, 0.01, 0.006);
  EXPECT_NE(change.test.find("t-test (baseline variance), 20 vs 2 nights"), std::string::npos) << change.test;
}

TEST(ChangePoint, TheSameStepIsAnImprovementWhenHigherIsBetter) {
  auto series = Series(20, 100, 0.01);
  for (int i = 0; i < 2; ++i) Append(series, 115);
  auto verdict = JudgeNewest(series, BetterFor("tokens_per_s"));
  EXPECT_EQ(verdict.verdict, Verdict::kImprovement);
  EXPECT_FALSE(verdict.change->regression);
}

TEST(ChangePoint, OneBadNightAsksForARerunAndTheRerunDecides) {
  auto series = Series(20, 100, 0.01);
  Append(series, 130);
  EXPECT_EQ(JudgeNewest(series, Better::kLower).verdict, Verdict::kNeedsConfirmation);
  // The re-run agrees: a regression tonight, on one night.
  auto confirmed = series;
  confirmed.back().runs.push_back({129, 131});
  auto verdict = JudgeNewest(confirmed, Better::kLower);
  EXPECT_EQ(verdict.verdict, Verdict::kRegression);
  EXPECT_NE(verdict.change->test.find("confirmed by 2 runs"), std::string::npos);
  // The re-run does not: a wild run, not a change.
  auto refuted = series;
  refuted.back().runs.push_back({100.5, 100.2});
  EXPECT_EQ(JudgeNewest(refuted, Better::kLower).verdict, Verdict::kNoChange);
  // And the next ordinary night does not turn it into one.
  Append(refuted, 100.4);
  EXPECT_EQ(JudgeNewest(refuted, Better::kLower).verdict, Verdict::kNoChange);
}

TEST(ChangePoint, ASmallButSignificantShiftIsBelowTheMinimumEffect) {
  auto series = Series(20, 100, 0.002);
  for (int i = 0; i < 3; ++i) Append(series, 103);  // Far beyond the noise, under 5%.
  EXPECT_EQ(JudgeNewest(series, Better::kLower).verdict, Verdict::kNoChange);
  EXPECT_TRUE(DetectChanges(series, Better::kLower).empty());
  DetectorOptions strict;
  strict.min_effect = 0.02;
  auto changes = DetectChanges(series, Better::kLower, strict);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first_night, 20u);
  // The night after it was reported: nothing new, at the new level.
  auto after = JudgeNewest(series, Better::kLower, strict);
  EXPECT_EQ(after.verdict, Verdict::kNoChange);
  ASSERT_TRUE(after.last_change.has_value());
  EXPECT_EQ(after.last_change->first_night, 20u);
}

TEST(ChangePoint, AWildNightInTheBaselineDoesNotHideTheNextStep) {
  auto series = Series(20, 100, 0.01);
  series[12].runs = {{300, 300}};
  for (int i = 0; i < 2; ++i) Append(series, 110);
  auto changes = DetectChanges(series, Better::kLower);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().first_night, 20u);
}

TEST(ChangePoint, MetricNamesSayWhichWayIsBetter) {
  EXPECT_EQ(BetterFor("itl_ms"), Better::kLower);
  EXPECT_EQ(BetterFor("ttft_ms"), Better::kLower);
  EXPECT_EQ(BetterFor("tokens_per_s"), Better::kHigher);
  EXPECT_EQ(BetterFor("gemm_tflops"), Better::kHigher);
}

}  // namespace
}  // namespace gauntlet::nightly
