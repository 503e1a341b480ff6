// Kernels of a decode step launched as a chain (Hopper's programmatic
// dependent launch): each may be scheduled while the kernel before it on the
// stream still runs, and waits for its predecessor only where it must. In a
// replayed graph the gap between two kernels is already tiny (0.06 µs on an
// H200); what chaining buys is the next grid's blocks resident and set up
// while the previous grid's last stores drain (2–6 % of a decode step,
// bench/RESULTS.md).
//
// The contract, for every kernel launched with LaunchChained:
//   - every block calls WaitForPredecessor() before its first read of memory
//     an earlier kernel wrote and before its first write of anything, even a
//     block with no work (a grid that ends without waiting would let its own
//     successor run ahead of the kernel before it);
//   - LetSuccessorLaunch() only says when the next kernel may be scheduled;
//     correctness never depends on where it is called.
// Kernels launched plainly keep the stream's full ordering, so a kernel
// that was never adapted stays correct wherever it sits in the chain.
//
// Off on HIP, before sm_90, in builds without sm_90a code (the waits exist
// only there), and with GAUNTLET_GPU_PDL=0 (to compare, or to debug).
#pragma once

#include <cstdlib>
#include <string_view>

#include "worker/backend/gpu_vendor.h"

namespace gauntlet::worker::gpu {

__device__ __forceinline__ void WaitForPredecessor() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void LetSuccessorLaunch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" :::);
#endif
}

// For kernels whose every access depends on the kernel before: the next
// kernel may be scheduled at once (to start its own independent part), and
// this one waits.
__device__ __forceinline__ void BeginChained() {
  LetSuccessorLaunch();
  WaitForPredecessor();
}

// Whether this process's device runs the build's sm_90a code (clusters,
// chained launches): CUDA builds with 90a in their architectures, on sm_90
// parts alone.
inline bool Sm90aDevice() {
#if defined(GAUNTLET_GPU_CUDA) && defined(GAUNTLET_GPU_SM90A)
  static const bool on = [] {
    int device = 0, major = 0, minor = 0;
    if (gpuGetDevice(&device) != gpuSuccess ||
        gpuDeviceGetAttribute(&major, gpuDevAttrComputeCapabilityMajor, device) != gpuSuccess ||
        gpuDeviceGetAttribute(&minor, gpuDevAttrComputeCapabilityMinor, device) != gpuSuccess) {
      (void)gpuGetLastError();  // No sm_90a code is the safe answer; the next real call reports the fault.
      return false;
    }
    return major == 9 && minor == 0;
  }();
  return on;
#else
  return false;
#endif
}

// Whether launches chain on this process's device.
inline bool ChainedLaunches() {
  static const bool on = [] {
    const char* setting = std::getenv("GAUNTLET_GPU_PDL");
    return Sm90aDevice() && !(setting && std::string_view(setting) == "0");
  }();
  return on;
}

template <typename... Params, typename... Args>
gpuError_t LaunchChained(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, gpuStream_t stream,
                         Args... args) {
#if defined(GAUNTLET_GPU_CUDA)
  if (ChainedLaunches()) {
    cudaLaunchAttribute chained{};
    chained.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    chained.val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config{};
    config.gridDim = grid;
    config.blockDim = block;
    config.dynamicSmemBytes = shared_bytes;
    config.stream = stream;
    config.attrs = &chained;
    config.numAttrs = 1;
    return cudaLaunchKernelEx(&config, kernel, static_cast<Params>(args)...);
  }
#endif
  kernel<<<grid, block, shared_bytes, stream>>>(static_cast<Params>(args)...);
  return gpuGetLastError();
}

#if defined(GAUNTLET_GPU_CUDA)
// A launch in thread-block clusters of `cluster` blocks along x (grid.x a
// multiple of it), chained like LaunchChained. Only where Sm90aDevice().
template <typename... Params, typename... Args>
gpuError_t LaunchClustered(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, gpuStream_t stream,
                           unsigned cluster, Args... args) {
  cudaLaunchAttribute attributes[2]{};
  attributes[0].id = cudaLaunchAttributeClusterDimension;
  attributes[0].val.clusterDim.x = cluster;
  attributes[0].val.clusterDim.y = 1;
  attributes[0].val.clusterDim.z = 1;
  attributes[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attributes[1].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  config.attrs = attributes;
  config.numAttrs = ChainedLaunches() ? 2 : 1;
  return cudaLaunchKernelEx(&config, kernel, static_cast<Params>(args)...);
}
#endif

}  // namespace gauntlet::worker::gpu
