#include "worker/metrics/validation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gauntlet::worker {
namespace {

// Softmax of `logits` at `indices`, in double.
std::vector<double> SoftmaxAt(const float* logits, const std::vector<int>& indices) {
  double max_logit = -INFINITY;
  for (int i : indices) max_logit = std::max(max_logit, static_cast<double>(logits[i]));
  std::vector<double> out;
  double sum = 0;
  for (int i : indices) {
    out.push_back(std::exp(logits[i] - max_logit));
    sum += out.back();
  }
  for (double& value : out) value /= sum;
  return out;
}

}  // namespace

StepMetrics CompareStep(const float* reference, const float* device, int vocab, int top_k) {
  std::vector<int> indices(static_cast<size_t>(vocab));
  std::iota(indices.begin(), indices.end(), 0);
  top_k = std::min(top_k, vocab);
  std::partial_sort(indices.begin(), indices.begin() + top_k, indices.end(),
                    [&](int a, int b) { return reference[a] > reference[b]; });
  indices.resize(static_cast<size_t>(top_k));
  const std::vector<double> p = SoftmaxAt(reference, indices);
  const std::vector<double> q = SoftmaxAt(device, indices);
  StepMetrics metrics;
  for (size_t i = 0; i < indices.size(); ++i) {
    // Cross-entropy of the device's log-probabilities under the reference's distribution.
    metrics.cross_entropy -= p[i] * std::log(std::max(q[i], 1e-30));
    metrics.mean_abs_diff += std::fabs(p[i] - q[i]);
  }
  metrics.mean_abs_diff /= static_cast<double>(indices.size());
  return metrics;
}

Verdict ValidateMetrics(const std::vector<float>& reference, const std::vector<float>& device, int vocab,
                        const MetricThresholds& thresholds) {
  Verdict verdict;
  if (reference.size() != device.size() || vocab <= 0 || reference.size() % static_cast<size_t>(vocab) != 0) {
    verdict.reason = "reference and device logits differ in shape";
    return verdict;
  }
  verdict.steps = static_cast<int>(reference.size() / static_cast<size_t>(vocab));
  const bool check_diff = thresholds.mean_abs_diff > 0;
  int cross_entropy_failures = 0, diff_failures = 0;
  double total = 0;
  for (int s = 0; s < verdict.steps; ++s) {
    StepMetrics step = CompareStep(&reference[static_cast<size_t>(s) * vocab], &device[static_cast<size_t>(s) * vocab],
                                   vocab, thresholds.top_k);
    const bool bad_cross_entropy =
        !std::isfinite(step.cross_entropy) || step.cross_entropy >= thresholds.cross_entropy;
    const bool bad_diff = check_diff && (!std::isfinite(step.mean_abs_diff) || step.mean_abs_diff >= thresholds.mean_abs_diff);
    cross_entropy_failures += bad_cross_entropy;
    diff_failures += bad_diff;
    verdict.failed_steps += bad_cross_entropy || bad_diff;
    verdict.max_cross_entropy = std::max(verdict.max_cross_entropy, step.cross_entropy);
    verdict.max_mean_abs_diff = std::max(verdict.max_mean_abs_diff, step.mean_abs_diff);
    total += step.cross_entropy;
  }
  verdict.mean_cross_entropy = verdict.steps ? total / verdict.steps : 0;
  verdict.failure_rate = verdict.steps ? static_cast<double>(verdict.failed_steps) / verdict.steps : 0;
  verdict.pass = verdict.steps > 0 && verdict.failure_rate < thresholds.failure_rate;
  if (!verdict.pass) {
    std::string why = std::to_string(cross_entropy_failures) + " reached cross-entropy " +
                      std::to_string(thresholds.cross_entropy);
    if (check_diff) {
      why += ", " + std::to_string(diff_failures) + " mean softmax difference " +
             std::to_string(thresholds.mean_abs_diff);
    }
    verdict.reason = std::to_string(verdict.failed_steps) + " of " + std::to_string(verdict.steps) + " steps failed (" +
                     why + "); failure rate " + std::to_string(verdict.failure_rate) +
                     " >= " + std::to_string(thresholds.failure_rate);
  }
  return verdict;
}

Verdict ValidateTokens(const std::vector<std::vector<int>>& reference, const std::vector<std::vector<int>>& device) {
  Verdict verdict;
  verdict.steps = static_cast<int>(reference.size());
  for (size_t s = 0; s < reference.size(); ++s) {
    if (s >= device.size() || reference[s] != device[s]) ++verdict.failed_steps;
  }
  verdict.failure_rate = verdict.steps ? static_cast<double>(verdict.failed_steps) / verdict.steps : 0;
  verdict.pass = verdict.steps > 0 && verdict.failed_steps == 0 && device.size() == reference.size();
  if (!verdict.pass) {
    verdict.reason = std::to_string(verdict.failed_steps) + " of " + std::to_string(verdict.steps) +
                     " sequences generated different tokens than the reference";
  }
  return verdict;
}

}  // namespace gauntlet::worker
