// Comparing a device's output with the CPU reference, as aiu-fms-testing-utils
// does. Pure.
//
// tokens:  the device's generated tokens must equal the reference's.
// metrics: golden-token decoding (the reference's token is fed back at every
//          step, so the two never drift). Per step, over the reference's
//          top-k logits: the cross-entropy of the device's distribution
//          against the reference's, the reference's own entropy, their
//          difference KL(reference ‖ device), the mean absolute softmax
//          difference, and whether the two argmaxes (over the whole
//          vocabulary) agree. A step fails when any threshold that is set is
//          reached (all `>=`, as drive_paged_programs.py compares); the test
//          fails when the share of failing steps reaches failure_rate, or
//          when top-1 agreement falls below its threshold.
//
// Cross-entropy is never below the reference's entropy, so a cross-entropy
// threshold under it fails every step whatever the device computes: a flat
// (random, or small) model's top-20 has ~2.9 nats. The verdict says so
// instead of reporting a numerics failure; KL is the device's own error.
#pragma once

#include <string>
#include <vector>

namespace gauntlet::worker {

struct StepMetrics {
  double cross_entropy = 0;
  double reference_entropy = 0;
  double kl = 0;  // cross_entropy − reference_entropy, ≥ 0.
  double mean_abs_diff = 0;
  bool top1_agrees = false;
  bool failed = false;  // Set by ValidateMetrics.
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
  double mean_reference_entropy = 0;
  double min_reference_entropy = 0;
  double max_kl = 0;
  double mean_kl = 0;
  double max_mean_abs_diff = 0;
  double top1_agreement = 0;  // Share of steps whose argmaxes agree.
  // Steps whose reference entropy reaches the cross-entropy threshold: they
  // fail whatever the device computes.
  int unreachable_steps = 0;
  std::vector<StepMetrics> per_step;
  std::string reason;  // Why it failed.
};

struct MetricThresholds {
  int top_k = 20;
  double cross_entropy = 2.5;
  double kl = 0;             // 0: not checked.
  double mean_abs_diff = 0;  // 0: not checked.
  double top1_agreement = 0; // 0: not checked; else the least share of steps whose argmaxes agree.
  double failure_rate = 0.1;
};

// logits are [steps × vocab], in the same order for both.
Verdict ValidateMetrics(const std::vector<float>& reference, const std::vector<float>& device, int vocab,
                        const MetricThresholds& thresholds);
// tokens are per sequence.
Verdict ValidateTokens(const std::vector<std::vector<int>>& reference, const std::vector<std::vector<int>>& device);

}  // namespace gauntlet::worker
