// Counts of durations in fixed buckets, for /metrics: what a scrape needs
// (bucket counts and their sum) without keeping samples.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gauntlet {

class LatencyHistogram {
 public:
  // Upper bounds in seconds, 0.1 ms to 10 s; past the last is +Inf.
  // Dense around 50 ms, the scheduler's latency goal.
  static constexpr std::array<double, 17> kBounds = {0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04,
                                                     0.05,   0.075,  0.1,   0.2,   0.5,   1.0,  2.0,  10.0};

  void Observe(double seconds) {
    std::size_t bucket = 0;
    while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
    ++counts_[bucket];
    sum_ += seconds;
  }
  // One count per bound, then +Inf (not cumulative), as prometheus-cpp's
  // Histogram::ObserveMultiple takes them.
  std::vector<double> Counts() const { return {counts_.begin(), counts_.end()}; }
  std::vector<double> Bounds() const { return {kBounds.begin(), kBounds.end()}; }
  double sum() const { return sum_; }
  int64_t count() const {
    int64_t total = 0;
    for (int64_t c : counts_) total += c;
    return total;
  }

 private:
  std::array<int64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
};

}  // namespace gauntlet
