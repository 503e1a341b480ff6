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
