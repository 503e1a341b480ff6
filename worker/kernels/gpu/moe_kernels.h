// The kernels a MoE layer needs beside the GEMMs and SwiGLU
// (llama_kernels.h): gathering the rows routed to an expert, and adding its
// output back to those tokens with their routing weights.
#pragma once

#include <cstdint>

#include "worker/backend/gpu_vendor.h"
#include "worker/kernels/gpu/gemm.h"

namespace gauntlet::worker::gpu {

// out[r] = x[rows[r]] for r < count; rows of `hidden` elements of `elem`.
gpuError_t GatherRows(Elem elem, const void* x, const int32_t* rows, int count, int hidden, void* out,
                      gpuStream_t stream);

// y[rows[r]] += weights[r] × Σ_s slices[s][r] (fp32, [count, hidden] a slice).
// Each token appears at most once per call, so no two rows collide.
gpuError_t ScatterAddWeighted(const float* slices, int splits, int count, int hidden, const int32_t* rows,
                              const float* weights, float* y, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu

namespace gauntlet::worker::gpu {

// The fused MoE's two grouped kernels over blocks of `block_m` slots
// (token × topk + choice) of one expert each, vLLM's aligned layout:
// slots[b × block_m + i] (sentinel `slot_count` for padding), experts[b].
struct FusedMoeArgs {
  const void* x;          // [tokens, hidden] bf16
  const void* w1;         // [experts, 2 × inter, hidden] bf16: gate rows, then up rows
  const void* w2;         // [experts, hidden, inter] bf16
  const int32_t* slots;   // [blocks × block_m]
  const int32_t* experts; // [blocks]
  int blocks, block_m, slot_count, topk, inter, hidden;
  void* activation;       // [slot_count, inter] bf16: silu(gate) × up per slot
  float* expert_out;      // [slot_count, hidden]: each slot's down projection
};

// activation = SiLU(x · w1_gateᵀ) × (x · w1_upᵀ) for every slot of every
// block: each weight row is read once per block, the block's rows from L1.
// block_m one of 1, 2, 4, 8, 16, 32.
gpuError_t FusedMoeGateUp(const FusedMoeArgs& args, gpuStream_t stream);
// expert_out = activation · w2ᵀ per slot.
gpuError_t FusedMoeDown(const FusedMoeArgs& args, gpuStream_t stream);
// y[t] = Σ_s weights[t, s] × expert_out[t × topk + s], in slot order.
gpuError_t CombineSlots(const float* expert_out, const float* weights, int tokens, int topk, int hidden, float* y,
                        gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
