// Attention over the paged KV cache. PagedAttention is the plain one, a token
// at a time in double precision: the oracle the tests and the GPU checks
// compare with. PagedCausalAttention is what the model runs: it copies each KV
// head out of its blocks once and computes every query of the head's group
// against it as two matrix products.
#include <algorithm>
#include <cmath>
#include <vector>

#include "worker/kernels/cpu_kernels.h"

namespace gauntlet::worker::cpu {

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

namespace {
// A pass's scores stay under this many floats (64 MiB), whatever the context.
constexpr size_t kScoreBudget = size_t{16} << 20;
// Query rows (rows × heads of the group) per pass: enough for the products to
// run at speed, few enough that the scores a pass computes past a row's own
// position and then discards (a triangle per pass) stay a few per cent.
constexpr int kQueryRowsPerPass = 256;
// Positions copied out of the cache per task: V is written transposed, and
// 16 consecutive positions fill a 64-byte cache line per dimension.
constexpr int kPositionsPerCopy = 16;

// One KV head of positions [0, length): keys as [position][dim] and values
// transposed, [dim][position], so that both products below read rows.
void CopyHead(const PagedKvCache& cache, int layer, int seq, int kv_head, int length, float* keys,
              float* values_by_dim) {
  const int head_dim = cache.config().head_dim;
  const int copies = (length + kPositionsPerCopy - 1) / kPositionsPerCopy;
#pragma omp parallel
  {
    std::vector<float> values(static_cast<size_t>(kPositionsPerCopy) * head_dim);
#pragma omp for schedule(static)
    for (int copy = 0; copy < copies; ++copy) {
      const int begin = copy * kPositionsPerCopy, end = std::min(length, begin + kPositionsPerCopy);
      for (int t = begin; t < end; ++t) {
        cache.Load(layer, seq, t, kv_head, false, keys + static_cast<size_t>(t) * head_dim);
        cache.Load(layer, seq, t, kv_head, true, &values[static_cast<size_t>(t - begin) * head_dim]);
      }
      for (int d = 0; d < head_dim; ++d) {
        for (int t = begin; t < end; ++t) {
          values_by_dim[static_cast<size_t>(d) * length + t] = values[static_cast<size_t>(t - begin) * head_dim + d];
        }
      }
    }
  }
}
}  // namespace

// Per KV head: scores = Q·Kᵀ and out = P·V as matrix products (the tuned
// MatMulTransposed), for the query rows of every head of the group at once,
// in passes of rows whose scores fit kScoreBudget. A pass computes scores up
// to its last row's position and zeroes what each earlier row may not see.
void PagedCausalAttention(const PagedKvCache& cache, int layer, int seq, int first, int rows, const float* q,
                          int heads, float scale, float* out) {
  const int head_dim = cache.config().head_dim, kv_heads = cache.config().kv_heads;
  const int group = heads / kv_heads, length = first + rows;
  const size_t fits = kScoreBudget / (static_cast<size_t>(group) * length);
  const int pass_rows = static_cast<int>(
      std::clamp<size_t>(std::min<size_t>(fits, kQueryRowsPerPass / group), 1, static_cast<size_t>(rows)));
  std::vector<float> keys(static_cast<size_t>(length) * head_dim), values_by_dim(keys.size());
  std::vector<float> queries(static_cast<size_t>(pass_rows) * group * head_dim), mixed(queries.size());
  std::vector<float> scores(static_cast<size_t>(pass_rows) * group * length);
  std::vector<double> denominators(static_cast<size_t>(pass_rows) * group);
  for (int kv_head = 0; kv_head < kv_heads; ++kv_head) {
    CopyHead(cache, layer, seq, kv_head, length, keys.data(), values_by_dim.data());
    for (int pass_first = 0; pass_first < rows; pass_first += pass_rows) {
      const int pass = std::min(pass_rows, rows - pass_first), query_rows = pass * group;
      const int visible = first + pass_first + pass;
      // Query row r·group + g is row pass_first + r of head kv_head·group + g.
      for (int r = 0; r < pass; ++r) {
        std::copy_n(q + (static_cast<size_t>(pass_first + r) * heads + kv_head * group) * head_dim, group * head_dim,
                    &queries[static_cast<size_t>(r) * group * head_dim]);
      }
      MatMulTransposed({queries.data(), head_dim, keys.data(), head_dim, scores.data(), visible, query_rows, visible,
                        head_dim});
#pragma omp parallel for schedule(static)
      for (int row = 0; row < query_rows; ++row) {
        float* score = &scores[static_cast<size_t>(row) * visible];
        const int own = first + pass_first + row / group + 1;
        float max_score = -INFINITY;
        for (int t = 0; t < own; ++t) {
          score[t] *= scale;
          max_score = std::max(max_score, score[t]);
        }
        double denominator = 0;
        for (int t = 0; t < own; ++t) {
          score[t] = std::exp(score[t] - max_score);
          denominator += score[t];
        }
        std::fill(score + own, score + visible, 0.0f);
        denominators[static_cast<size_t>(row)] = denominator;
      }
      MatMulTransposed({scores.data(), visible, values_by_dim.data(), length, mixed.data(), head_dim, query_rows,
                        head_dim, visible});
      for (int r = 0; r < pass; ++r) {
        for (int g = 0; g < group; ++g) {
          const size_t row = static_cast<size_t>(r) * group + g;
          float* target = out + (static_cast<size_t>(pass_first + r) * heads + kv_head * group + g) * head_dim;
          for (int d = 0; d < head_dim; ++d) {
            target[d] = static_cast<float>(mixed[row * head_dim + d] / denominators[row]);
          }
        }
      }
    }
  }
}

}  // namespace gauntlet::worker::cpu
