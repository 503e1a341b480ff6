// A night against its baseline, built by hand: each kind of finding, and
// the direction and noise rules for benchmarks.
#include <gtest/gtest.h>

#include "coordinator/nightly/compare.h"

namespace gauntlet::nightly {
namespace {

JobRecord Job(const std::string& name, Outcome outcome, bool flaky = false,
              std::map<std::string, std::vector<std::vector<double>>> samples = {}) {
  return {name, outcome, flaky, std::move(samples)};
}

const Finding& Of(const Comparison& comparison, const std::string& job, const std::string& metric = "") {
  for (const auto& finding : comparison.findings) {
    if (finding.job == job && finding.metric == metric) return finding;
  }
  static const Finding none{"", "missing"};
  return none;
}

TEST(Compare, PassFailTransitions) {
  SweepRecord base{1, "2026-05-01", {Job("a", Outcome::kPassed), Job("b", Outcome::kFailed), Job("c", Outcome::kFailed),
                                     Job("d", Outcome::kPassed), Job("f", Outcome::kPassed)}};
  SweepRecord night{2, "2026-05-02", {Job("a", Outcome::kFailed), Job("b", Outcome::kPassed), Job("c", Outcome::kFailed),
                                      Job("d", Outcome::kPassed), Job("e", Outcome::kFailed),
                                      Job("f", Outcome::kPassed, /*flaky=*/true)}};
  auto comparison = Compare({}, base, night);
  EXPECT_EQ(Of(comparison, "a").kind, "regression");
  EXPECT_EQ(Of(comparison, "a").detail, "passed in 2026-05-01, fails now");
  EXPECT_EQ(Of(comparison, "b").kind, "fix");
  EXPECT_EQ(Of(comparison, "c").kind, "known_failure");
  EXPECT_EQ(Of(comparison, "d").kind, "unchanged");
  EXPECT_EQ(Of(comparison, "e").kind, "new_failure");
  EXPECT_EQ(Of(comparison, "f").kind, "flaky") << "never a regression or a fix";
  EXPECT_EQ(Of(comparison, "f").flaky_count, 1);
  EXPECT_TRUE(comparison.HasRegressions());
  EXPECT_EQ(comparison.findings.front().kind, "regression") << "regressions first";
  EXPECT_EQ(comparison.counts.at("fix"), 1);
}

TEST(Compare, TwoSweepsUseWelchOnTheirSamples) {
  SweepRecord base{1, "a", {Job("bench", Outcome::kPassed, false,
                                {{"itl_ms", {{10.0, 10.2, 9.9, 10.1, 10.0}}}, {"tokens_per_s", {{100, 101, 99, 100}}}})}};
  SweepRecord night{2, "b", {Job("bench", Outcome::kPassed, false,
                                 {{"itl_ms", {{12.0, 12.1, 11.9, 12.2, 12.0}}}, {"tokens_per_s", {{100, 99, 101, 100}}}})}};
  auto comparison = Compare({}, base, night);
  const Finding& itl = Of(comparison, "bench", "itl_ms");
  EXPECT_EQ(itl.kind, "bench_regression") << "higher ITL is worse";
  EXPECT_NEAR(itl.effect, 0.2, 0.01);
  EXPECT_LT(itl.effect_low, 0.2);
  EXPECT_GT(itl.effect_high, 0.2);
  EXPECT_LT(itl.p_value, 1e-6);
  EXPECT_NE(itl.test.find("Welch t-test, 5 vs 5 samples"), std::string::npos);
  EXPECT_GT(itl.noise_cv, 0);
  EXPECT_EQ(Of(comparison, "bench", "tokens_per_s").kind, "unchanged");
  // Faster is an improvement, not a regression.
  auto reversed = Compare({}, night, base);
  EXPECT_EQ(Of(reversed, "bench", "itl_ms").kind, "bench_improvement");
  EXPECT_FALSE(reversed.HasRegressions());
}

TEST(Compare, PerMetricMinimumEffectAndDirection) {
  // 3% slower: under the default 5%, over a 2% override.
  SweepRecord base{1, "a", {Job("bench", Outcome::kPassed, false, {{"score", {{100, 100.1, 99.9, 100}}}})}};
  SweepRecord night{2, "b", {Job("bench", Outcome::kPassed, false, {{"score", {{97, 97.1, 96.9, 97}}}})}};
  EXPECT_EQ(Of(Compare({}, base, night), "bench", "score").kind, "unchanged");
  CompareOptions options;
  options.min_effect_by_metric["score"] = 0.02;
  EXPECT_EQ(Of(Compare({}, base, night, options), "bench", "score").kind, "bench_improvement")
      << "a lower score reads as better by default";
  options.higher_is_better = {"score"};
  EXPECT_EQ(Of(Compare({}, base, night, options), "bench", "score").kind, "bench_regression");
  CompareOptions everything;
  everything.min_effect_by_metric["default"] = 0.02;
  everything.higher_is_better = {"score"};
  EXPECT_EQ(Of(Compare({}, base, night, everything), "bench", "score").kind, "bench_regression");
}

TEST(Compare, OneSampleASideIsNotTested) {
  SweepRecord base{1, "a", {Job("bench", Outcome::kPassed, false, {{"itl_ms", {{10.0}}}})}};
  SweepRecord night{2, "b", {Job("bench", Outcome::kPassed, false, {{"itl_ms", {{30.0}}}})}};
  auto comparison = Compare({}, base, night);
  EXPECT_EQ(Of(comparison, "bench", "itl_ms").kind, "untested");
  EXPECT_FALSE(comparison.HasRegressions()) << "an untested number raises no alarm";
}

TEST(Compare, AHistoryIsJudgedByTheDetector) {
  std::vector<SweepRecord> history;
  for (int n = 0; n < 12; ++n) {
    const double v = 10 + 0.05 * (n % 3);
    history.push_back({n + 1, "n" + std::to_string(n),
                       {Job("bench", Outcome::kPassed, false, {{"itl_ms", {{v, v + 0.01}}}})}});
  }
  SweepRecord base{20, "base", {Job("bench", Outcome::kPassed, false, {{"itl_ms", {{13.0, 13.1}}}})}};
  SweepRecord night{21, "night", {Job("bench", Outcome::kPassed, false, {{"itl_ms", {{13.0, 12.9}}}})}};
  auto comparison = Compare(history, base, night);
  const Finding& itl = Of(comparison, "bench", "itl_ms");
  EXPECT_EQ(itl.kind, "bench_regression");
  EXPECT_NE(itl.test.find("t-test (baseline variance)"), std::string::npos) << itl.test;
  EXPECT_NEAR(itl.effect, 0.3, 0.02);
}

}  // namespace
}  // namespace gauntlet::nightly
