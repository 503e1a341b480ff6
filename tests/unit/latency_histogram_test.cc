#include "coordinator/latency_histogram.h"

#include <gtest/gtest.h>

namespace gauntlet {
namespace {

// Prometheus buckets are "less than or equal": a value on a bound counts in it.
TEST(LatencyHistogram, CountsEachValueInTheFirstBucketItDoesNotExceed) {
  LatencyHistogram histogram;
  histogram.Observe(0.0);      // First bucket.
  histogram.Observe(0.05);     // On the 50 ms bound.
  histogram.Observe(0.0500001);
  histogram.Observe(60.0);     // Past the last bound: +Inf.
  const std::vector<double> counts = histogram.Counts();
  const std::vector<double> bounds = histogram.Bounds();
  ASSERT_EQ(counts.size(), bounds.size() + 1);
  size_t at_50ms = 0;
  while (bounds[at_50ms] < 0.05) ++at_50ms;
  EXPECT_EQ(counts[0], 1);
  EXPECT_EQ(counts[at_50ms], 1);
  EXPECT_EQ(counts[at_50ms + 1], 1);
  EXPECT_EQ(counts.back(), 1);
  EXPECT_EQ(histogram.count(), 4);
  EXPECT_NEAR(histogram.sum(), 60.1000001, 1e-9);
}

}  // namespace
}  // namespace gauntlet
