// The Hopper GEMM (gemm_sm90.cu), reached through LaunchGemm.
#pragma once

#include "worker/kernels/gpu/gemm.h"

namespace gauntlet::worker::gpu {

// Whether this build carries sm_90a code and the device is an sm_90 one.
bool WgmmaGemmAvailable(int compute_major, int compute_minor);

// For plans of kernel kWgmmaWide or kWgmmaNarrow; x and w 16-byte aligned.
gpuError_t LaunchWgmmaGemm(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream);

}  // namespace gauntlet::worker::gpu
