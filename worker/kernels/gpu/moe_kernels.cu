#include "worker/kernels/gpu/moe_kernels.h"

namespace gauntlet::worker::gpu {
namespace {

constexpr int kThreads = 256;

// 16-byte copies: a bf16/fp16 row of `hidden` elements is hidden / 8 of them
// when hidden is a multiple of 8, else one element at a time.
__global__ void GatherRowsKernel(const uint16_t* x, const int32_t* rows, int hidden, uint16_t* out) {
  const int r = blockIdx.x;
  const uint16_t* from = x + static_cast<int64_t>(rows[r]) * hidden;
  uint16_t* to = out + static_cast<int64_t>(r) * hidden;
  if (hidden % 8 == 0) {
    const uint4* source = reinterpret_cast<const uint4*>(from);
    uint4* target = reinterpret_cast<uint4*>(to);
    for (int i = threadIdx.x; i < hidden / 8; i += blockDim.x) target[i] = source[i];
  } else {
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) to[i] = from[i];
  }
}

__global__ void ScatterAddWeightedKernel(const float* slices, int splits, int count, int hidden, const int32_t* rows,
                                         const float* weights, float* y) {
  const int r = blockIdx.x;
  const int64_t slice = static_cast<int64_t>(count) * hidden;
  float* out = y + static_cast<int64_t>(rows[r]) * hidden;
  const float weight = weights[r];
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    float sum = 0;
    for (int s = 0; s < splits; ++s) sum += slices[s * slice + static_cast<int64_t>(r) * hidden + i];
    out[i] += weight * sum;
  }
}

}  // namespace

gpuError_t GatherRows(Elem, const void* x, const int32_t* rows, int count, int hidden, void* out, gpuStream_t stream) {
  if (count <= 0) return gpuSuccess;
  GatherRowsKernel<<<count, kThreads, 0, stream>>>(static_cast<const uint16_t*>(x), rows, hidden,
                                                   static_cast<uint16_t*>(out));
  return gpuGetLastError();
}

gpuError_t ScatterAddWeighted(const float* slices, int splits, int count, int hidden, const int32_t* rows,
                              const float* weights, float* y, gpuStream_t stream) {
  if (count <= 0) return gpuSuccess;
  ScatterAddWeightedKernel<<<count, kThreads, 0, stream>>>(slices, splits, count, hidden, rows, weights, y);
  return gpuGetLastError();
}

}  // namespace gauntlet::worker::gpu
