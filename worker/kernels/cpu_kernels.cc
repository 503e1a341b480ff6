#include "worker/kernels/cpu_kernels.h"

#include <algorithm>
#include <cmath>

namespace gauntlet::worker::cpu {

namespace {
// Four dot products of one row of x, sharing its loads and giving the core
// four independent accumulator chains instead of one.
void Dot4(const float* a, const float* w, int k, float* out) {
  const float *b0 = w, *b1 = w + k, *b2 = w + 2 * static_cast<size_t>(k), *b3 = w + 3 * static_cast<size_t>(k);
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (int t = 0; t < k; ++t) {
    s0 += a[t] * b0[t];
    s1 += a[t] * b1[t];
    s2 += a[t] * b2[t];
    s3 += a[t] * b3[t];
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

// Two rows of x against four rows of w: eight chains, six loads per step.
void Dot2x4(const float* a0, const float* a1, const float* w, int k, float* out0, float* out1) {
  const float *b0 = w, *b1 = w + k, *b2 = w + 2 * static_cast<size_t>(k), *b3 = w + 3 * static_cast<size_t>(k);
  float s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
#pragma omp simd reduction(+ : s00, s01, s02, s03, s10, s11, s12, s13)
  for (int t = 0; t < k; ++t) {
    s00 += a0[t] * b0[t];
    s01 += a0[t] * b1[t];
    s02 += a0[t] * b2[t];
    s03 += a0[t] * b3[t];
    s10 += a1[t] * b0[t];
    s11 += a1[t] * b1[t];
    s12 += a1[t] * b2[t];
    s13 += a1[t] * b3[t];
  }
  out0[0] = s00, out0[1] = s01, out0[2] = s02, out0[3] = s03;
  out1[0] = s10, out1[1] = s11, out1[2] = s12, out1[3] = s13;
}

float Dot(const float* a, const float* b, int k) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int t = 0; t < k; ++t) sum += a[t] * b[t];
  return sum;
}
}  // namespace

void MatMulTransposed(const float* x, const float* w, float* y, int m, int n, int k) {
  // A few rows of w stay in cache while every row of x passes them, so w
  // comes from memory once, not once per row of x (a prefill's x has
  // thousands).
  constexpr int kRowsOfW = 8;
  const int blocks = (n + kRowsOfW - 1) / kRowsOfW;
#pragma omp parallel for schedule(static)
  for (int block = 0; block < blocks; ++block) {
    const int first = block * kRowsOfW, last = std::min(n, first + kRowsOfW);
    int i = 0;
    for (; i + 2 <= m; i += 2) {
      const float* a0 = x + static_cast<size_t>(i) * k;
      float* out0 = y + static_cast<size_t>(i) * n;
      int j = first;
      for (; j + 4 <= last; j += 4) Dot2x4(a0, a0 + k, w + static_cast<size_t>(j) * k, k, out0 + j, out0 + n + j);
      for (; j < last; ++j) {
        out0[j] = Dot(a0, w + static_cast<size_t>(j) * k, k);
        out0[n + j] = Dot(a0 + k, w + static_cast<size_t>(j) * k, k);
      }
    }
    for (; i < m; ++i) {
      const float* a = x + static_cast<size_t>(i) * k;
      float* out = y + static_cast<size_t>(i) * n;
      int j = first;
      for (; j + 4 <= last; j += 4) Dot4(a, w + static_cast<size_t>(j) * k, k, out + j);
      for (; j < last; ++j) out[j] = Dot(a, w + static_cast<size_t>(j) * k, k);
    }
  }
}

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
