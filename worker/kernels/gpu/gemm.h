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
#include "worker/kernels/gpu/gemm_plan.h"

namespace gauntlet::worker::gpu {

enum class Elem { kBF16, kF16 };

struct GemmArgs {
  const void* x;  // [m, k]
  const void* w;  // [n, k]
  float* out;     // [plan.splits, m, n]
  int m, n, k;
  Elem elem;
};

// What `device` and this build offer the GEMM: SM count, and which
// tensor-core kernels apply (mma.sync on NVIDIA sm_80+, wgmma on sm_90 when
// built with sm_90a code; a HIP build has the portable kernel only).
gpuError_t QueryGemmTarget(int device, GemmTarget* target);

// `plan` from PlanGemm(m, n, k, target).
gpuError_t LaunchGemm(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
