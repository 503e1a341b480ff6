// The decoder's kernels other than GEMM and decode attention, launched by
// the GPU model. Activations between kernels are either the model's element
// type (`Elem`: what GEMMs read) or fp32 (the residual stream, GEMM outputs
// and K/V before they are cached), so rounding happens where a bf16/fp16
// inference engine rounds and nowhere else.
//
// GEMM outputs arrive as `splits` fp32 slices (see gemm.h); the kernels that
// read them sum the slices themselves.
//
// KV cache layout, per layer: [num_blocks, kv_heads, block_size, head_dim],
// K and V apart; in the model's element type, or fp8 e4m3 bytes with one
// fp32 scale per (block, KV head), K and V apart.
#pragma once

#include <cstdint>

#include "worker/backend/gpu_vendor.h"
#include "worker/kernels/gpu/gemm.h"

namespace gauntlet::worker::gpu {

// x[i] = embed[tokens[i]] × multiplier, as fp32.
gpuError_t Embed(Elem elem, const void* embed, const int32_t* tokens, int rows, int hidden, float multiplier,
                 float* x, gpuStream_t stream);

// out[i] = x[rows[i]] / rms(x[rows[i]]) × weight, in the element type; `rows`
// null means row i.
gpuError_t RmsNorm(Elem elem, const float* x, const int32_t* rows, int count, int hidden, const float* weight,
                   float eps, void* out, gpuStream_t stream);

// The residual step and the next norm in one pass over x:
// x += multiplier × Σ_s slices[s]; out = RmsNorm(x) × weight.
gpuError_t AddAndNorm(Elem elem, const float* slices, int splits, int rows, int hidden, float multiplier, float* x,
                      const float* weight, float eps, void* out, gpuStream_t stream);

struct RopeArgs {
  const float* qkv;  // [splits, rows, (heads + 2 kv_heads) × head_dim]: Q, K, V columns.
  int splits, rows, heads, kv_heads, head_dim;
  const int32_t* positions;  // [rows]
  float theta;
  void* q;    // [rows, heads, head_dim], element type
  float* kv;  // [rows, 2, kv_heads, head_dim]: K (rotated) then V
  // When set, K and V go straight into this layer's model-dtype cache at
  // each row's slot instead of to `kv` (fp8 caches quantize from `kv`).
  void* k_cache = nullptr;
  void* v_cache = nullptr;
  const int32_t* row_block = nullptr;
  const int32_t* row_offset = nullptr;
  int block_size = 16;
};
// Sums the QKV slices and applies rotary embeddings (Llama's rotate-half).
gpuError_t RopeAndSplit(Elem elem, const RopeArgs& args, gpuStream_t stream);

struct KvStoreArgs {
  const float* kv;  // [rows, 2, kv_heads, head_dim]
  int rows, kv_heads, head_dim, block_size;
  const int32_t* row_block;   // Cache block of each row.
  const int32_t* row_offset;  // Offset in that block.
  void* k_cache;              // This layer's.
  void* v_cache;
};
// Stores K/V rounded to the element type.
gpuError_t StoreKv(Elem elem, const KvStoreArgs& args, gpuStream_t stream);

struct Fp8StoreArgs {
  KvStoreArgs rows;
  // Runs of rows that fill one block in order: [segments] each.
  const int32_t* segment_first_row;
  const int32_t* segment_rows;
  int segments;
  float* k_scales;  // This layer's [num_blocks, kv_heads].
  float* v_scales;
};
// Stores K/V as fp8 e4m3 exactly as PagedKvCache does: a block's scale
// follows its largest magnitude (reset by the block's first token), and a
// token that raises it re-quantizes the block's earlier tokens.
gpuError_t StoreKvFp8(const Fp8StoreArgs& args, gpuStream_t stream);

struct AttentionArgs {
  const void* q;  // [rows, heads, head_dim], element type
  const void* k_cache;
  const void* v_cache;
  const float* k_scales;  // fp8 caches only, else null.
  const float* v_scales;
  const int32_t* tables;     // [slots, max_blocks]
  const int32_t* row_slot;   // [rows]: which table a row reads
  const int32_t* row_length; // [rows]: positions [0, length) are attended (causal)
  int rows, heads, kv_heads, head_dim, block_size, max_blocks;
  float scale;
  void* out;  // [rows, heads, head_dim], element type
};
// Attention of any rows over the paged cache (prefill, and decode where the
// specialised kernel does not apply); `fp8` selects the cache format.
gpuError_t PagedRowsAttention(Elem elem, bool fp8, const AttentionArgs& args, gpuStream_t stream);

// out[i] = (accumulate ? out[i] : 0) + multiplier × Σ_s slices[s][i].
gpuError_t AddSlices(const float* slices, int splits, int64_t count, float multiplier, bool accumulate, float* out,
                     gpuStream_t stream);

// act[r, j] = silu(gate) × up with gate = Σ slices[r, j], up = Σ slices[r, inter + j].
gpuError_t SwiGlu(Elem elem, const float* gate_up, int splits, int rows, int inter, void* act, gpuStream_t stream);

// out[r] = the index of row r's largest value (the first, on ties), as the
// host's std::max_element picks it.
gpuError_t ArgmaxRows(const float* values, int rows, int width, int32_t* out, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
