#include "worker/metrics/validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
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

int Argmax(const float* logits, int vocab) { return static_cast<int>(std::max_element(logits, logits + vocab) - logits); }

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
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
    if (p[i] > 0) {
      metrics.reference_entropy -= p[i] * std::log(p[i]);
      // Summed term by term: CE − H would lose the small KL a good device has to cancellation.
      metrics.kl += p[i] * (std::log(p[i]) - std::log(std::max(q[i], 1e-30)));
    }
    metrics.mean_abs_diff += std::fabs(p[i] - q[i]);
  }
  metrics.mean_abs_diff /= static_cast<double>(indices.size());
  metrics.top1_agrees = Argmax(reference, vocab) == Argmax(device, vocab);
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
  // A threshold of 0 is not checked; NaN or infinity always fails a checked one.
  auto reaches = [](double value, double threshold) { return threshold > 0 && !(value < threshold); };
  int cross_entropy_failures = 0, kl_failures = 0, diff_failures = 0, agreeing = 0;
  double cross_entropy_sum = 0, entropy_sum = 0, kl_sum = 0;
  verdict.min_reference_entropy = INFINITY;
  for (int s = 0; s < verdict.steps; ++s) {
    StepMetrics step = CompareStep(&reference[static_cast<size_t>(s) * vocab], &device[static_cast<size_t>(s) * vocab],
                                   vocab, thresholds.top_k);
    const bool bad_cross_entropy = !std::isfinite(step.cross_entropy) || step.cross_entropy >= thresholds.cross_entropy;
    const bool bad_kl = reaches(step.kl, thresholds.kl);
    const bool bad_diff = reaches(step.mean_abs_diff, thresholds.mean_abs_diff);
    cross_entropy_failures += bad_cross_entropy;
    kl_failures += bad_kl;
    diff_failures += bad_diff;
    verdict.unreachable_steps += step.reference_entropy >= thresholds.cross_entropy;
    step.failed = bad_cross_entropy || bad_kl || bad_diff;
    verdict.failed_steps += step.failed;
    agreeing += step.top1_agrees;
    verdict.max_cross_entropy = std::max(verdict.max_cross_entropy, step.cross_entropy);
    verdict.max_kl = std::max(verdict.max_kl, step.kl);
    verdict.max_mean_abs_diff = std::max(verdict.max_mean_abs_diff, step.mean_abs_diff);
    verdict.min_reference_entropy = std::min(verdict.min_reference_entropy, step.reference_entropy);
    cross_entropy_sum += step.cross_entropy;
    entropy_sum += step.reference_entropy;
    kl_sum += step.kl;
    verdict.per_step.push_back(step);
  }
  if (verdict.steps == 0) verdict.min_reference_entropy = 0;
  const double steps = std::max(1, verdict.steps);
  verdict.mean_cross_entropy = cross_entropy_sum / steps;
  verdict.mean_reference_entropy = entropy_sum / steps;
  verdict.mean_kl = kl_sum / steps;
  verdict.top1_agreement = agreeing / steps;
  verdict.failure_rate = verdict.failed_steps / steps;
  const bool rate_ok = verdict.failure_rate < thresholds.failure_rate;
  const bool top1_ok = !(thresholds.top1_agreement > 0) || verdict.top1_agreement >= thresholds.top1_agreement;
  verdict.pass = verdict.steps > 0 && rate_ok && top1_ok;
  if (verdict.pass) return verdict;

  if (!rate_ok && verdict.unreachable_steps > 0 && verdict.unreachable_steps / steps >= thresholds.failure_rate) {
    // Not the device's fault: say what would judge it.
    verdict.reason = "cross_entropy_threshold " + Number(thresholds.cross_entropy) + " lies below the reference's own "
                     "entropy on " + std::to_string(verdict.unreachable_steps) + " of " +
                     std::to_string(verdict.steps) + " steps (mean " + Number(verdict.mean_reference_entropy) +
                     " nats over its top " + std::to_string(thresholds.top_k) +
                     "): cross-entropy never goes below that entropy, so those steps fail whatever the device computes. "
                     "The device's own divergence, KL(reference || device), is mean " + Number(verdict.mean_kl) +
                     ", max " + Number(verdict.max_kl) + " nats: judge it with test.kl_threshold, or set "
                     "cross_entropy_threshold above " + Number(verdict.max_cross_entropy);
    return verdict;
  }
  std::vector<std::string> causes;
  if (cross_entropy_failures) {
    causes.push_back(std::to_string(cross_entropy_failures) + " reached cross-entropy " + Number(thresholds.cross_entropy));
  }
  if (kl_failures) causes.push_back(std::to_string(kl_failures) + " reached KL " + Number(thresholds.kl));
  if (diff_failures) {
    causes.push_back(std::to_string(diff_failures) + " reached mean softmax difference " +
                     Number(thresholds.mean_abs_diff));
  }
  std::string why;
  for (const auto& cause : causes) why += (why.empty() ? "" : ", ") + cause;
  std::vector<std::string> parts;
  if (!rate_ok) {
    parts.push_back(std::to_string(verdict.failed_steps) + " of " + std::to_string(verdict.steps) + " steps failed (" +
                    why + "); failure rate " + Number(verdict.failure_rate) + " >= " + Number(thresholds.failure_rate));
  }
  if (!top1_ok) {
    parts.push_back("top-1 agreement " + Number(verdict.top1_agreement) + " < " + Number(thresholds.top1_agreement));
  }
  if (verdict.steps == 0) parts.push_back("no steps to compare");
  for (const auto& part : parts) verdict.reason += (verdict.reason.empty() ? "" : "; ") + part;
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
