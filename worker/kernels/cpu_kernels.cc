#include "worker/kernels/cpu_kernels.h"

#include <algorithm>
#include <cmath>

namespace gauntlet::worker::cpu {

void RmsNorm(const float* x, const float* weight, float* y, int rows, int dim, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<size_t>(r) * dim;
    double sum = 0;
    for (int i = 0; i < dim; ++i) sum += static_cast<double>(row[i]) * row[i];
    const float inverse = 1.0f / std::sqrt(static_cast<float>(sum / dim) + eps);
    for (int i = 0; i < dim; ++i) y[static_cast<size_t>(r) * dim + i] = row[i] * inverse * weight[i];
  }
}

void Rope(float* x, int heads, int head_dim, int position, float theta) {
  const int half = head_dim / 2;
  for (int h = 0; h < heads; ++h) {
    float* head = x + static_cast<size_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const double frequency = std::pow(static_cast<double>(theta), -2.0 * i / head_dim);
      const double angle = position * frequency;
      const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
      const float a = head[i], b = head[i + half];
      head[i] = a * c - b * s;
      head[i + half] = b * c + a * s;
    }
  }
}

void SwiGlu(const float* gate, const float* up, float* out, int size) {
  for (int i = 0; i < size; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

namespace {
// Softmax-weighted sum with a running maximum (one pass, numerically stable).
template <typename LoadFn>
void AttendOneHead(const float* q, int length, int head_dim, float scale, LoadFn&& load, float* out) {
  std::vector<float> k(static_cast<size_t>(head_dim)), v(static_cast<size_t>(head_dim));
  std::vector<double> acc(static_cast<size_t>(head_dim), 0.0);
  double max_score = -INFINITY, denominator = 0;
  for (int t = 0; t < length; ++t) {
    load(t, k.data(), v.data());
    double score = 0;
    for (int i = 0; i < head_dim; ++i) score += static_cast<double>(q[i]) * k[static_cast<size_t>(i)];
    score *= scale;
    if (score > max_score) {
      const double correction = std::exp(max_score - score);
      denominator *= correction;
      for (auto& a : acc) a *= correction;
      max_score = score;
    }
    const double weight = std::exp(score - max_score);
    denominator += weight;
    for (int i = 0; i < head_dim; ++i) acc[static_cast<size_t>(i)] += weight * v[static_cast<size_t>(i)];
  }
  for (int i = 0; i < head_dim; ++i) out[i] = static_cast<float>(acc[static_cast<size_t>(i)] / denominator);
}
}  // namespace

void PagedAttention(const PagedKvCache& cache, int layer, int seq, int length, const float* q, int heads,
                    float scale, float* out) {
  const int head_dim = cache.config().head_dim;
  const int group = heads / cache.config().kv_heads;
#pragma omp parallel for schedule(static)
  for (int h = 0; h < heads; ++h) {
    const int kv_head = h / group;
    AttendOneHead(q + static_cast<size_t>(h) * head_dim, length, head_dim, scale,
                  [&](int t, float* k, float* v) {
                    cache.Load(layer, seq, t, kv_head, false, k);
                    cache.Load(layer, seq, t, kv_head, true, v);
                  },
                  out + static_cast<size_t>(h) * head_dim);
  }
}

void ContiguousAttention(const float* k, const float* v, int length, int kv_heads, int head_dim, const float* q,
                         int heads, float scale, float* out) {
  const int group = heads / kv_heads;
  for (int h = 0; h < heads; ++h) {
    const int kv_head = h / group;
    AttendOneHead(q + static_cast<size_t>(h) * head_dim, length, head_dim, scale,
                  [&](int t, float* kt, float* vt) {
                    const size_t base = (static_cast<size_t>(t) * kv_heads + kv_head) * head_dim;
                    std::copy_n(k + base, head_dim, kt);
                    std::copy_n(v + base, head_dim, vt);
                  },
                  out + static_cast<size_t>(h) * head_dim);
  }
}

}  // namespace gauntlet::worker::cpu
