// The CPU backend's kernels: fp32, multithreaded with OpenMP, written for
// clarity first. They are the reference every device result is compared with.
#pragma once

#include <vector>

#include "worker/kernels/cpu_isa.h"
#include "worker/kv/paged_cache.h"

namespace gauntlet::worker::cpu {

// y[m, n] = sum_k x[m, k] · w[n, k]   (x: [m, k], w: [n, k] as stored by PyTorch Linear)
// with the widest vector ISA the CPU supports (cpu_isa.h).
void MatMulTransposed(const float* x, const float* w, float* y, int m, int n, int k);
// The same with a chosen ISA, which the CPU must support: for tests and benchmarks.
void MatMulTransposed(CpuIsa isa, const float* x, const float* w, float* y, int m, int n, int k);
// The same over row-major matrices with their own row strides (BLAS's leading
// dimensions), for products over part of a larger buffer.
struct StridedProduct {
  const float* x;  // [m, k]
  int x_stride;
  const float* w;  // [n, k]
  int w_stride;
  float* y;  // [m, n]
  int y_stride;
  int m, n, k;
};
void MatMulTransposed(const StridedProduct& product);
void MatMulTransposed(CpuIsa isa, const StridedProduct& product);
// y = x / rms(x) · weight, per row of `dim` values.
void RmsNorm(const float* x, const float* weight, float* y, int rows, int dim, float eps);
// Rotary embedding, Llama's rotate-half convention, on `heads` heads of one token.
void Rope(float* x, int heads, int head_dim, int position, float theta);
// out = silu(gate) · up, elementwise.
void SwiGlu(const float* gate, const float* up, float* out, int size);

// Attention of one token's query heads (`heads` × head_dim, grouped-query: head
// h reads KV head h / (heads / kv_heads)) over positions [0, length) of a
// sequence in the paged cache. `out` is heads × head_dim.
void PagedAttention(const PagedKvCache& cache, int layer, int seq, int length, const float* q, int heads,
                    float scale, float* out);
// Attention of `rows` consecutive tokens of one sequence, at positions
// [first, first + rows), each over the sequence up to and including its own
// position (causal): a prefill's rows, or a decode step's one. q and out are
// rows × heads × head_dim. The same result as PagedAttention row by row, to
// fp32 rounding, with each KV head read from the cache once.
void PagedCausalAttention(const PagedKvCache& cache, int layer, int seq, int first, int rows, const float* q,
                          int heads, float scale, float* out);
// The same over a contiguous cache: k, v are [length, kv_heads, head_dim].
void ContiguousAttention(const float* k, const float* v, int length, int kv_heads, int head_dim, const float* q,
                         int heads, float scale, float* out);

}  // namespace gauntlet::worker::cpu
