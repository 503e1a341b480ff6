// The decode GEMM (gemv.cu), reached through LaunchGemm: m ≤ 16 rows of x
// against a weight matrix that is read once, so its speed is the weights'
// bytes over the memory's bandwidth and nothing else.
#pragma once

#include "worker/kernels/gpu/gemm.h"

namespace gauntlet::worker::gpu {

// For plans of kernel kGemv; x and w 16-byte aligned, k a multiple of 8.
gpuError_t LaunchGemv(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
