// Comparing a device's output with the CPU reference, as aiu-fms-testing-utils
// does. Pure.
//
// tokens:  the device's generated tokens must equal the reference's.
// metrics: golden-token decoding (the reference's token is fed back at every
//          step, so the two never drift); per step, over the reference's top-k
//          logits, the cross-entropy of the device's distribution against the
//          reference's and the mean absolute softmax difference. A step fails
//          when either reaches its threshold (the difference's only when one
//          is set); the test fails when the share of failing steps reaches
//          failure_rate_threshold (all `>=`, as drive_paged_programs.py
//          compares).
#pragma once

#include <string>
#include <vector>

namespace gauntlet::worker {

struct StepMetrics {
  double cross_entropy = 0;
  double mean_abs_diff = 0;
};

// `reference` and `device` are one step's logits over the same vocabulary.
StepMetrics CompareStep(const float* reference, const float* device, int vocab, int top_k);

struct Verdict {
  bool pass = false;
  int steps = 0;
  int failed_steps = 0;
  double failure_rate = 0;
  double max_cross_entropy = 0;
  double mean_cross_entropy = 0;
  double max_mean_abs_diff = 0;
  std::string reason;  // Why it failed.
};

struct MetricThresholds {
  int top_k = 20;
  double cross_entropy = 2.5;
  double mean_abs_diff = 0;  // 0: not checked.
  double failure_rate = 0.1;
};

// logits are [steps × vocab], in the same order for both.
Verdict ValidateMetrics(const std::vector<float>& reference, const std::vector<float>& device, int vocab,
                        const MetricThresholds& thresholds);
// tokens are per sequence.
Verdict ValidateTokens(const std::vector<std::vector<int>>& reference, const std::vector<std::vector<int>>& device);

}  // namespace gauntlet::worker
