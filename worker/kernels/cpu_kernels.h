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
// The same over a contiguous cache: k, v are [length, kv_heads, head_dim].
void ContiguousAttention(const float* k, const float* v, int length, int kv_heads, int head_dim, const float* q,
                         int heads, float scale, float* out);

}  // namespace gauntlet::worker::cpu
