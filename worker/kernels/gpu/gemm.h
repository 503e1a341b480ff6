// The projections of a decoder layer: out = x · wᵀ with x [m, k] and w [n, k]
// (PyTorch Linear's layout, both k-contiguous), bf16 or fp16 in, fp32 out.
//
// The k dimension may be split across thread blocks when m × n alone would
// leave the GPU idle (decode steps: m is the batch); each split writes its own
// [m, n] slice of fp32 partials and the consumer sums the slices, in a fixed
// order, so results do not depend on scheduling.
#pragma once

#include <cstdint>

#include "worker/backend/gpu_vendor.h"

namespace gauntlet::worker::gpu {

enum class Elem { kBF16, kF16 };

struct GemmPlan {
  int config = 0;  // Tile shape: 0 small m, 1 medium m, 2 large m, 3 the portable fallback.
  int splits = 1;  // Slices of k; `out` holds splits × m × n floats.
  int k_tiles_per_split = 0;
};

// Pure: picks the tile shape and split for a shape on `multiprocessors` SMs.
GemmPlan PlanGemm(int m, int n, int k, int multiprocessors);

struct GemmArgs {
  const void* x;  // [m, k]
  const void* w;  // [n, k]
  float* out;     // [plan.splits, m, n]
  int m, n, k;
  Elem elem;
};

gpuError_t LaunchGemm(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
