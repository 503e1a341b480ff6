// Causal prefill attention of one sequence's new tokens over its paged KV
// cache, on tensor cores (FlashAttention-2's scheme: a warp owns 16 query
// rows, K/V tiles of 64 tokens stream through shared memory, the softmax is
// online and never leaves registers).
//
// Layouts as in llama_kernels.h: q/out [rows, heads, head_dim] in the element
// type; the cache [num_blocks, kv_heads, 16, head_dim] per layer, K and V
// apart; `table` is the sequence's block table. Rows are consecutive
// positions (row_length increasing), as a prefill's are.
#pragma once

#include <cstdint>

#include "worker/backend/gpu_vendor.h"
#include "worker/kernels/gpu/gemm.h"

namespace gauntlet::worker::gpu {

struct PrefillArgs {
  const void* q;
  const void* k_cache;
  const void* v_cache;
  const int32_t* table;
  const int32_t* row_length;  // [rows]: row r attends to positions [0, row_length[r]).
  int rows, heads, kv_heads, head_dim, block_size;
  float scale;
  void* out;
  // fp8 e4m3 caches: a scale per (block, KV head), K and V apart; null for a
  // cache in the element type.
  const float* k_scales = nullptr;
  const float* v_scales = nullptr;
};

// Whether this build and shape can take the tensor-core kernel (NVIDIA,
// head_dim 64 or 128, blocks of 16; fp8 caches too); otherwise use
// PagedRowsAttention.
bool PrefillAttentionSupported(int head_dim, int block_size);
gpuError_t LaunchPrefillAttention(Elem elem, const PrefillArgs& args, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
