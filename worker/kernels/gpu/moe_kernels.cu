#include "worker/kernels/gpu/moe_kernels.h"

#include <algorithm>
#include <type_traits>

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

constexpr int kWarps = 8;  // A CTA: 8 warps, each one output column at a time.

__device__ __forceinline__ float Bf16ToFloat(uint16_t bits) { return __uint_as_float(static_cast<uint32_t>(bits) << 16); }
__device__ __forceinline__ uint16_t FloatToBf16(float value) {
  const uint32_t bits = __float_as_uint(value);
  return static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}
__device__ __forceinline__ float WarpSum(float value) {
  for (int offset = GPU_WARP_SIZE / 2; offset > 0; offset /= 2) value += gpuShflXor(value, offset);
  return value;
}

// One CTA per (block, group of columns); each warp a column j: its gate and
// up rows streamed once, dotted with each of the block's rows.
template <int kBlockM>
__global__ void __launch_bounds__(kWarps * GPU_WARP_SIZE) FusedGateUpKernel(FusedMoeArgs args) {
  const int block = blockIdx.x;
  const int expert = args.experts[block];
  const int lane = threadIdx.x % GPU_WARP_SIZE, warp = threadIdx.x / GPU_WARP_SIZE;
  const int* slots = args.slots + static_cast<int64_t>(block) * kBlockM;
  const uint16_t* x = static_cast<const uint16_t*>(args.x);
  const uint16_t* w1 = static_cast<const uint16_t*>(args.w1) + static_cast<int64_t>(expert) * 2 * args.inter * args.hidden;
  for (int j = blockIdx.y * kWarps + warp; j < args.inter; j += gridDim.y * kWarps) {
    const uint16_t* gate_row = w1 + static_cast<int64_t>(j) * args.hidden;
    const uint16_t* up_row = w1 + static_cast<int64_t>(args.inter + j) * args.hidden;
    float gate[kBlockM], up[kBlockM];
    for (int r = 0; r < kBlockM; ++r) gate[r] = up[r] = 0;
    for (int k = lane; k < args.hidden; k += GPU_WARP_SIZE) {
      const float g = Bf16ToFloat(gate_row[k]), u = Bf16ToFloat(up_row[k]);
#pragma unroll
      for (int r = 0; r < kBlockM; ++r) {
        const int slot = slots[r];
        if (slot >= args.slot_count) continue;
        const float value = Bf16ToFloat(x[static_cast<int64_t>(slot / args.topk) * args.hidden + k]);
        gate[r] += g * value;
        up[r] += u * value;
      }
    }
#pragma unroll
    for (int r = 0; r < kBlockM; ++r) {
      const float g = WarpSum(gate[r]), u = WarpSum(up[r]);
      const int slot = slots[r];
      if (lane == 0 && slot < args.slot_count) {
        static_cast<uint16_t*>(args.activation)[static_cast<int64_t>(slot) * args.inter + j] =
            FloatToBf16(g / (1.0f + __expf(-g)) * u);
      }
    }
  }
}

template <int kBlockM>
__global__ void __launch_bounds__(kWarps * GPU_WARP_SIZE) FusedDownKernel(FusedMoeArgs args) {
  const int block = blockIdx.x;
  const int expert = args.experts[block];
  const int lane = threadIdx.x % GPU_WARP_SIZE, warp = threadIdx.x / GPU_WARP_SIZE;
  const int* slots = args.slots + static_cast<int64_t>(block) * kBlockM;
  const uint16_t* act = static_cast<const uint16_t*>(args.activation);
  const uint16_t* w2 = static_cast<const uint16_t*>(args.w2) + static_cast<int64_t>(expert) * args.hidden * args.inter;
  for (int c = blockIdx.y * kWarps + warp; c < args.hidden; c += gridDim.y * kWarps) {
    const uint16_t* row = w2 + static_cast<int64_t>(c) * args.inter;
    float out[kBlockM];
    for (int r = 0; r < kBlockM; ++r) out[r] = 0;
    for (int j = lane; j < args.inter; j += GPU_WARP_SIZE) {
      const float w = Bf16ToFloat(row[j]);
#pragma unroll
      for (int r = 0; r < kBlockM; ++r) {
        const int slot = slots[r];
        if (slot >= args.slot_count) continue;
        out[r] += w * Bf16ToFloat(act[static_cast<int64_t>(slot) * args.inter + j]);
      }
    }
#pragma unroll
    for (int r = 0; r < kBlockM; ++r) {
      const float sum = WarpSum(out[r]);
      const int slot = slots[r];
      if (lane == 0 && slot < args.slot_count) args.expert_out[static_cast<int64_t>(slot) * args.hidden + c] = sum;
    }
  }
}

__global__ void CombineSlotsKernel(const float* expert_out, const float* weights, int topk, int hidden, float* y) {
  const int t = blockIdx.x;
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
    float sum = 0;
    for (int s = 0; s < topk; ++s) sum += weights[t * topk + s] * expert_out[static_cast<int64_t>(t * topk + s) * hidden + c];
    y[static_cast<int64_t>(t) * hidden + c] = sum;
  }
}

// Enough CTAs per block to fill the GPU at decode, few at prefill.
int ColumnGroups(int columns, int blocks) {
  const int wanted = blocks >= 264 ? 1 : (264 + blocks - 1) / blocks;
  return std::max(1, std::min(wanted, (columns + kWarps - 1) / kWarps));
}

// Calls `launch` with the block size as a compile-time constant: the
// kernels keep a block's rows in registers.
template <typename Launch>
gpuError_t WithBlockM(int block_m, Launch launch) {
  switch (block_m) {
    case 1: launch(std::integral_constant<int, 1>{}); break;
    case 2: launch(std::integral_constant<int, 2>{}); break;
    case 4: launch(std::integral_constant<int, 4>{}); break;
    case 8: launch(std::integral_constant<int, 8>{}); break;
    case 16: launch(std::integral_constant<int, 16>{}); break;
    case 32: launch(std::integral_constant<int, 32>{}); break;
    default: return gpuErrorInvalidValue;
  }
  return gpuGetLastError();
}

}  // namespace

gpuError_t FusedMoeGateUp(const FusedMoeArgs& args, gpuStream_t stream) {
  if (args.blocks <= 0) return gpuSuccess;
  const dim3 grid(args.blocks, ColumnGroups(args.inter, args.blocks));
  return WithBlockM(args.block_m, [&](auto block_m) {
    FusedGateUpKernel<decltype(block_m)::value><<<grid, kWarps * GPU_WARP_SIZE, 0, stream>>>(args);
  });
}

gpuError_t FusedMoeDown(const FusedMoeArgs& args, gpuStream_t stream) {
  if (args.blocks <= 0) return gpuSuccess;
  const dim3 grid(args.blocks, ColumnGroups(args.hidden, args.blocks));
  return WithBlockM(args.block_m, [&](auto block_m) {
    FusedDownKernel<decltype(block_m)::value><<<grid, kWarps * GPU_WARP_SIZE, 0, stream>>>(args);
  });
}

gpuError_t CombineSlots(const float* expert_out, const float* weights, int tokens, int topk, int hidden, float* y,
                        gpuStream_t stream) {
  if (tokens <= 0) return gpuSuccess;
  CombineSlotsKernel<<<tokens, kThreads, 0, stream>>>(expert_out, weights, topk, hidden, y);
  return gpuGetLastError();
}

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
