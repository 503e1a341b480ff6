// Paged decode attention on the GPU: one new query token per sequence
// attends over its whole context, read through a block table.
//
// Layouts (bf16, or fp8 e4m3 for the cache with a scale per block and head):
//   q            [batch, heads, head_dim]
//   k/v cache    [num_blocks, kv_heads, block_size, head_dim]
//   block_table  [batch, max_blocks_per_seq] (int32)
//   context_lens [batch] (int32)
//   out          [batch, heads, head_dim] (bf16)
// head_dim is 64 or 128 and block_size 16; heads / kv_heads query heads share each
// KV head (grouped-query attention), so each K/V row is read once per group.
#pragma once

#include <cstdint>

#include "worker/backend/gpu_vendor.h"

namespace gauntlet::worker::gpu {

struct PagedDecodeArgs {
  const gpu_bf16* q;
  const void* k_cache;  // bf16, or fp8 e4m3 bytes when k_scales is set
  const void* v_cache;
  const int32_t* block_table;
  const int32_t* context_lens;
  gpu_bf16* out;
  float* scratch;     // PagedDecodeScratchFloats() floats of device memory.
  int batch, heads, kv_heads, head_dim, max_blocks_per_seq, max_context;
  float scale;
  const float* k_scales = nullptr;  // fp8 caches: [num_blocks, kv_heads] per block and head
  const float* v_scales = nullptr;
};

// Whether LaunchPagedDecode takes fp8 caches in this build (the tensor-core
// pass widens them; HIP builds use PagedRowsAttention for fp8).
#if defined(GAUNTLET_GPU_CUDA)
inline constexpr bool kPagedDecodeTakesFp8 = true;
#else
inline constexpr bool kPagedDecodeTakesFp8 = false;
#endif

// Floats of scratch the split-K passes need.
int64_t PagedDecodeScratchFloats(int batch, int heads, int max_context, int multiprocessors);
gpuError_t LaunchPagedDecode(const PagedDecodeArgs& args, int multiprocessors, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
