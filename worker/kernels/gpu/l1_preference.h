// Which kernels ask the SM for its largest L1 (the smallest shared-memory
// carveout).
//
// A kernel with no preference runs in whatever split of L1 and shared
// memory the SM already has, and a decode step's tensor-core GEMMs leave it
// at nearly all shared memory. The GEMV streams w through L1 with plain
// loads, so the bytes it can have in flight per SM are what is left of L1:
// in the replayed 8B step it moved 0.65 of copy bandwidth against 0.90 alone
// (bench/RESULTS.md). Kernels that keep their data in shared memory
// (cp.async into tiles) do not care.
//
// GAUNTLET_GPU_L1: `gemv` (default) the GEMV only; `all` also every chained
// kernel with at most 1 KB of shared memory (the norms, RoPE, SwiGLU, the
// merge); `0` none (to compare).
#pragma once

#include <cstdlib>
#include <mutex>
#include <string_view>
#include <unordered_set>

#include "worker/backend/gpu_vendor.h"

namespace gauntlet::worker::gpu {

enum class L1Preference { kNone, kGemv, kSmallKernels };

inline L1Preference L1PreferenceSetting() {
  static const L1Preference setting = [] {
    const char* value = std::getenv("GAUNTLET_GPU_L1");
    const std::string_view name = value ? value : "";
    if (name == "0") return L1Preference::kNone;
    if (name == "all") return L1Preference::kSmallKernels;
    return L1Preference::kGemv;
  }();
  return setting;
}

// Sets the preference once per kernel: the driver reconfigures an SM only
// when the preference changes, and a graph captures each kernel's setting.
inline void PreferL1Once(const void* kernel, bool only_if_small) {
#if defined(GAUNTLET_GPU_CUDA)
  static std::mutex mutex;
  static std::unordered_set<const void*> seen;
  std::lock_guard lock(mutex);
  if (!seen.insert(kernel).second) return;
  if (only_if_small) {
    cudaFuncAttributes attributes{};
    if (cudaFuncGetAttributes(&attributes, kernel) != cudaSuccess || attributes.sharedSizeBytes > 1024) {
      (void)cudaGetLastError();  // A hint not given; the launch itself reports real faults.
      return;
    }
  }
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxL1) !=
      cudaSuccess) {
    (void)cudaGetLastError();
  }
#else
  (void)kernel, (void)only_if_small;
#endif
}

// For kernels launched without dynamic shared memory.
inline void PreferL1IfSmall(const void* kernel) {
  if (L1PreferenceSetting() == L1Preference::kSmallKernels) PreferL1Once(kernel, true);
}

// For the GEMV, which streams its weights through L1.
inline void PreferL1ForStreaming(const void* kernel) {
  if (L1PreferenceSetting() != L1Preference::kNone) PreferL1Once(kernel, false);
}

}  // namespace gauntlet::worker::gpu
