#include "worker/suites/moe/moe_layer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "worker/kernels/cpu_kernels.h"

namespace gauntlet::worker::moe {
namespace {

float Silu(float value) { return value / (1.0f + std::exp(-value)); }

}  // namespace

Routing Route(const std::vector<float>& logits, int tokens, int experts, int topk) {
  Routing routing;
  routing.topk = topk;
  routing.experts.resize(static_cast<size_t>(tokens) * topk);
  routing.weights.resize(static_cast<size_t>(tokens) * topk);
  std::vector<int> order(static_cast<size_t>(experts));
  std::vector<float> probabilities(static_cast<size_t>(experts));
  for (int t = 0; t < tokens; ++t) {
    const float* row = logits.data() + static_cast<size_t>(t) * experts;
    const float largest = *std::max_element(row, row + experts);
    double total = 0;
    for (int e = 0; e < experts; ++e) total += probabilities[static_cast<size_t>(e)] = std::exp(row[e] - largest);
    for (auto& p : probabilities) p = static_cast<float>(p / total);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return probabilities[static_cast<size_t>(a)] > probabilities[static_cast<size_t>(b)];
    });
    double kept = 0;
    for (int s = 0; s < topk; ++s) kept += probabilities[static_cast<size_t>(order[static_cast<size_t>(s)])];
    for (int s = 0; s < topk; ++s) {
      const size_t at = static_cast<size_t>(t) * topk + s;
      routing.experts[at] = order[static_cast<size_t>(s)];
      routing.weights[at] = static_cast<float>(probabilities[static_cast<size_t>(order[static_cast<size_t>(s)])] / kept);
    }
  }
  return routing;
}

std::vector<float> ReferenceMoe(const std::vector<float>& x, const MoeWeights& weights, const Routing& routing,
                                const MoeShape& shape) {
  const size_t n = static_cast<size_t>(shape.inter), k = static_cast<size_t>(shape.hidden);
  std::vector<float> y(static_cast<size_t>(shape.tokens) * k, 0.0f);
#pragma omp parallel for
  for (int t = 0; t < shape.tokens; ++t) {
    const float* token = x.data() + static_cast<size_t>(t) * k;
    std::vector<float> activation(n);
    for (int s = 0; s < shape.topk; ++s) {
      const size_t at = static_cast<size_t>(t) * shape.topk + s;
      const size_t e = static_cast<size_t>(routing.experts[at]);
      const float* w1 = weights.w1.data() + e * 2 * n * k;
      const float* w2 = weights.w2.data() + e * k * n;
      for (size_t j = 0; j < n; ++j) {
        double gate = 0, up = 0;
        for (size_t c = 0; c < k; ++c) {
          gate += static_cast<double>(token[c]) * w1[j * k + c];
          up += static_cast<double>(token[c]) * w1[(n + j) * k + c];
        }
        activation[j] = Silu(static_cast<float>(gate)) * static_cast<float>(up);
      }
      for (size_t c = 0; c < k; ++c) {
        double out = 0;
        for (size_t j = 0; j < n; ++j) out += static_cast<double>(activation[j]) * w2[c * n + j];
        y[static_cast<size_t>(t) * k + c] += routing.weights[at] * static_cast<float>(out);
      }
    }
  }
  return y;
}

Alignment AlignByExpert(const Routing& routing, int tokens, int experts, int block_m) {
  Alignment alignment;
  alignment.block_m = block_m;
  const int sentinel = tokens * routing.topk;
  std::vector<std::vector<int>> slots(static_cast<size_t>(experts));
  for (int i = 0; i < sentinel; ++i) slots[static_cast<size_t>(routing.experts[static_cast<size_t>(i)])].push_back(i);
  for (int e = 0; e < experts; ++e) {
    const auto& mine = slots[static_cast<size_t>(e)];
    if (mine.empty()) continue;
    const size_t padded = (mine.size() + block_m - 1) / block_m * block_m;
    for (size_t i = 0; i < padded; ++i) alignment.sorted_slots.push_back(i < mine.size() ? mine[i] : sentinel);
    for (size_t b = 0; b < padded / block_m; ++b) alignment.block_experts.push_back(e);
  }
  return alignment;
}

std::vector<float> CpuMoe(const std::vector<float>& x, const MoeWeights& weights, const Routing& routing,
                          const MoeShape& shape, int block_m) {
  const Alignment alignment = AlignByExpert(routing, shape.tokens, shape.experts, block_m);
  const int n = shape.inter, k = shape.hidden;
  const int sentinel = shape.tokens * shape.topk;
  const size_t blocks = alignment.block_experts.size();
  // Each block's down-projection rows, combined after: blocks run in
  // parallel, and the combine adds in slot order for the same bits each run.
  std::vector<float> expert_out(static_cast<size_t>(sentinel) * k, 0.0f);
#pragma omp parallel for schedule(dynamic)
  for (size_t b = 0; b < blocks; ++b) {
    const size_t e = static_cast<size_t>(alignment.block_experts[b]);
    const int* slots = alignment.sorted_slots.data() + b * block_m;
    int rows = 0;
    while (rows < block_m && slots[rows] != sentinel) ++rows;
    std::vector<float> gathered(static_cast<size_t>(rows) * k);
    for (int r = 0; r < rows; ++r) {
      const float* token = x.data() + static_cast<size_t>(slots[r] / shape.topk) * k;
      std::copy(token, token + k, gathered.begin() + static_cast<std::ptrdiff_t>(r) * k);
    }
    std::vector<float> gate_up(static_cast<size_t>(rows) * 2 * n);
    cpu::MatMulTransposed(gathered.data(), weights.w1.data() + e * 2 * n * k, gate_up.data(), rows, 2 * n, k);
    std::vector<float> activation(static_cast<size_t>(rows) * n);
    for (int r = 0; r < rows; ++r) {
      for (int j = 0; j < n; ++j) {
        activation[static_cast<size_t>(r) * n + j] =
            Silu(gate_up[static_cast<size_t>(r) * 2 * n + j]) * gate_up[static_cast<size_t>(r) * 2 * n + n + j];
      }
    }
    std::vector<float> down(static_cast<size_t>(rows) * k);
    cpu::MatMulTransposed(activation.data(), weights.w2.data() + e * k * n, down.data(), rows, k, n);
    for (int r = 0; r < rows; ++r) {
      std::copy(down.begin() + static_cast<std::ptrdiff_t>(r) * k, down.begin() + static_cast<std::ptrdiff_t>(r + 1) * k,
                expert_out.begin() + static_cast<std::ptrdiff_t>(slots[r]) * k);
    }
  }
  std::vector<float> y(static_cast<size_t>(shape.tokens) * k, 0.0f);
#pragma omp parallel for
  for (int t = 0; t < shape.tokens; ++t) {
    for (int s = 0; s < shape.topk; ++s) {
      const size_t slot = static_cast<size_t>(t) * shape.topk + s;
      const float weight = routing.weights[slot];
      const float* row = expert_out.data() + slot * k;
      float* out = y.data() + static_cast<size_t>(t) * k;
      for (int c = 0; c < k; ++c) out[c] += weight * row[c];
    }
  }
  return y;
}

double TouchedWeightBytes(const Routing& routing, const MoeShape& shape, double bytes_per_weight) {
  const std::set<int> touched(routing.experts.begin(), routing.experts.end());
  return static_cast<double>(touched.size()) * 3.0 * shape.inter * shape.hidden * bytes_per_weight;
}

double MoeFlops(const MoeShape& shape) {
  return 2.0 * shape.tokens * shape.topk * 3.0 * shape.inter * static_cast<double>(shape.hidden);
}

}  // namespace gauntlet::worker::moe
