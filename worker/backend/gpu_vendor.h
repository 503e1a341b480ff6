// The few GPU runtime calls and types Gauntlet's kernels use, mapped to CUDA
// (NVIDIA) or HIP (AMD) so one kernel source builds for both, the way
// llama.cpp's vendors/ headers do. Debian's HIP 5.2 headers do not compile
// against CUDA 13, so on NVIDIA this goes to CUDA directly.
//
// Build with -DGAUNTLET_GPU_CUDA (nvcc) or -DGAUNTLET_GPU_HIP (hipcc).
#pragma once

#if defined(GAUNTLET_GPU_CUDA)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

using gpuError_t = cudaError_t;
using gpuStream_t = cudaStream_t;
using gpu_bf16 = __nv_bfloat16;
using gpu_bf162 = __nv_bfloat162;
using gpu_half = __half;
#define gpuSuccess cudaSuccess
#define gpuGetLastError cudaGetLastError
#define gpuGetErrorString cudaGetErrorString
#define gpuMalloc cudaMalloc
#define gpuFree cudaFree
#define gpuMemcpy cudaMemcpy
#define gpuMemcpyAsync cudaMemcpyAsync
#define gpuMemcpyHostToDevice cudaMemcpyHostToDevice
#define gpuMemcpyDeviceToHost cudaMemcpyDeviceToHost
#define gpuStreamSynchronize cudaStreamSynchronize
#define gpuDeviceGetAttribute cudaDeviceGetAttribute
#define gpuDevAttrMultiProcessorCount cudaDevAttrMultiProcessorCount
#define gpuDevAttrMaxSharedMemoryPerMultiprocessor cudaDevAttrMaxSharedMemoryPerMultiprocessor
#define gpuDevAttrComputeCapabilityMajor cudaDevAttrComputeCapabilityMajor
#define gpuDevAttrComputeCapabilityMinor cudaDevAttrComputeCapabilityMinor
#define gpuGetDevice cudaGetDevice
#define gpuErrorInvalidValue cudaErrorInvalidValue
#define gpuSetDevice cudaSetDevice
#define gpuGetDeviceCount cudaGetDeviceCount
#define gpuMemsetAsync cudaMemsetAsync
#define gpuStreamCreate cudaStreamCreate
#define gpuStreamDestroy cudaStreamDestroy
using gpuEvent_t = cudaEvent_t;
using gpuDeviceProp_t = cudaDeviceProp;
#define gpuGetDeviceProperties cudaGetDeviceProperties
#define gpuEventCreate cudaEventCreate
#define gpuEventDestroy cudaEventDestroy
#define gpuEventRecord cudaEventRecord
#define gpuEventSynchronize cudaEventSynchronize
#define gpuEventElapsedTime cudaEventElapsedTime
#define gpuMemGetInfo cudaMemGetInfo
using gpuGraph_t = cudaGraph_t;
using gpuGraphExec_t = cudaGraphExec_t;
#define gpuStreamBeginCapture cudaStreamBeginCapture
#define gpuStreamCaptureModeRelaxed cudaStreamCaptureModeRelaxed
#define gpuStreamEndCapture cudaStreamEndCapture
#define gpuGraphInstantiateWithFlags cudaGraphInstantiateWithFlags
#define gpuGraphLaunch cudaGraphLaunch
#define gpuGraphDestroy cudaGraphDestroy
#define gpuGraphExecDestroy cudaGraphExecDestroy
#define GPU_WARP_SIZE 32

#if defined(__CUDACC__)  // Device helpers; host-only files (gpu_model.cc) skip them.
__device__ __forceinline__ gpu_bf16 gpuFloatToBf16(float value) { return __float2bfloat16(value); }
__device__ __forceinline__ float2 gpuBf16PairToFloat2(gpu_bf162 pair) { return __bfloat1622float2(pair); }
// The value of lane (this lane ^ lane_mask) of the 32-lane group.
__device__ __forceinline__ float gpuShflXor(float value, int lane_mask) {
  return __shfl_xor_sync(0xffffffffu, value, lane_mask);
}
#endif

#elif defined(GAUNTLET_GPU_HIP)
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>

#if __has_include(<hip/hip_bf16.h>)
#include <hip/hip_bf16.h>
using gpu_bf16 = __hip_bfloat16;
using gpu_bf162 = __hip_bfloat162;
#if defined(__HIPCC__)
__device__ __forceinline__ gpu_bf16 gpuFloatToBf16(float value) { return __float2bfloat16(value); }
__device__ __forceinline__ float2 gpuBf16PairToFloat2(gpu_bf162 pair) { return __bfloat1622float2(pair); }
#endif
#else
// ROCm before 6.0 (Debian's HIP 5.2) has only hip_bfloat16, whose float
// constructor rounds to nearest even as __float2bfloat16 does.
#include <hip/hip_bfloat16.h>
using gpu_bf16 = hip_bfloat16;
struct gpu_bf162 {
  hip_bfloat16 x, y;
};
#if defined(__HIPCC__)
__device__ __forceinline__ gpu_bf16 gpuFloatToBf16(float value) { return hip_bfloat16(value); }
__device__ __forceinline__ float2 gpuBf16PairToFloat2(gpu_bf162 pair) {
  return make_float2(static_cast<float>(pair.x), static_cast<float>(pair.y));
}
#endif
#endif

#if defined(__HIPCC__)
// HIP before 6.2 has no *_sync shuffles; a wavefront runs in lockstep, and
// the 32-lane width keeps each half of a 64-wide wavefront to itself.
__device__ __forceinline__ float gpuShflXor(float value, int lane_mask) { return __shfl_xor(value, lane_mask, 32); }
#endif

using gpuError_t = hipError_t;
using gpuStream_t = hipStream_t;
using gpu_half = __half;
#define gpuSuccess hipSuccess
#define gpuGetLastError hipGetLastError
#define gpuGetErrorString hipGetErrorString
#define gpuMalloc hipMalloc
#define gpuFree hipFree
#define gpuMemcpy hipMemcpy
#define gpuMemcpyAsync hipMemcpyAsync
#define gpuMemcpyHostToDevice hipMemcpyHostToDevice
#define gpuMemcpyDeviceToHost hipMemcpyDeviceToHost
#define gpuStreamSynchronize hipStreamSynchronize
#define gpuDeviceGetAttribute hipDeviceGetAttribute
#define gpuDevAttrMultiProcessorCount hipDeviceAttributeMultiprocessorCount
#define gpuDevAttrMaxSharedMemoryPerMultiprocessor hipDeviceAttributeMaxSharedMemoryPerMultiprocessor
#define gpuDevAttrComputeCapabilityMajor hipDeviceAttributeComputeCapabilityMajor
#define gpuDevAttrComputeCapabilityMinor hipDeviceAttributeComputeCapabilityMinor
#define gpuGetDevice hipGetDevice
#define gpuErrorInvalidValue hipErrorInvalidValue
#define gpuSetDevice hipSetDevice
#define gpuGetDeviceCount hipGetDeviceCount
#define gpuMemsetAsync hipMemsetAsync
#define gpuStreamCreate hipStreamCreate
#define gpuStreamDestroy hipStreamDestroy
using gpuEvent_t = hipEvent_t;
using gpuDeviceProp_t = hipDeviceProp_t;
#define gpuGetDeviceProperties hipGetDeviceProperties
#define gpuEventCreate hipEventCreate
#define gpuEventDestroy hipEventDestroy
#define gpuEventRecord hipEventRecord
#define gpuEventSynchronize hipEventSynchronize
#define gpuEventElapsedTime hipEventElapsedTime
#define gpuMemGetInfo hipMemGetInfo
using gpuGraph_t = hipGraph_t;
using gpuGraphExec_t = hipGraphExec_t;
#define gpuStreamBeginCapture hipStreamBeginCapture
#define gpuStreamCaptureModeRelaxed hipStreamCaptureModeRelaxed
#define gpuStreamEndCapture hipStreamEndCapture
#define gpuGraphInstantiateWithFlags hipGraphInstantiateWithFlags
#define gpuGraphLaunch hipGraphLaunch
#define gpuGraphDestroy hipGraphDestroy
#define gpuGraphExecDestroy hipGraphExecDestroy
// The kernels below are written for 32-lane groups; on 64-wide AMD wavefronts
// each wavefront runs two of them.
#define GPU_WARP_SIZE 32

#else
#error "define GAUNTLET_GPU_CUDA or GAUNTLET_GPU_HIP"
#endif
