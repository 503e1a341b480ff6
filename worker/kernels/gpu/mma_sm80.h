// The sm_80+ building blocks the tensor-core kernels share: cp.async copies
// into shared memory, ldmatrix, and mma.sync m16n8k16 with fp32
// accumulators. NVIDIA only; HIP builds take the kernels' portable paths.
#pragma once

#if defined(GAUNTLET_GPU_CUDA)

#include <cstdint>
#include <type_traits>

#include <cuda_fp8.h>

#include "worker/backend/gpu_vendor.h"

namespace gauntlet::worker::gpu {

// cp.async, ldmatrix and bf16 mma need sm_80; CMake builds for sm_90 unless
// told otherwise, and an older target traps rather than computing garbage.
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define GAUNTLET_ASM(...) asm volatile(__VA_ARGS__)
#else
#define GAUNTLET_ASM(...) __trap()
#endif

__device__ __forceinline__ uint32_t SharedAddress(const void* pointer) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(pointer));
}

// Copies 16 bytes global → shared without staging through registers; a false
// `valid` writes zeros (the ragged edges of m, n and k).
__device__ __forceinline__ void CopyAsync16(void* shared, const void* global, bool valid) {
  const int bytes = valid ? 16 : 0;
  GAUNTLET_ASM("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(SharedAddress(shared)), "l"(global),
               "r"(bytes));
}
__device__ __forceinline__ void CommitAsync() { GAUNTLET_ASM("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void WaitAsync() {
  GAUNTLET_ASM("cp.async.wait_group %0;\n" ::"n"(kPending));
}

__device__ __forceinline__ void LoadMatrixX4(uint32_t* r, const void* shared) {
  GAUNTLET_ASM("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SharedAddress(shared)));
}
// The same, each 8×8 matrix transposed on the way (a k-major operand read
// as mma's column-major B).
__device__ __forceinline__ void LoadMatrixX4Trans(uint32_t* r, const void* shared) {
  GAUNTLET_ASM("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SharedAddress(shared)));
}

template <typename T>
__device__ __forceinline__ void Mma(float* c, const uint32_t* a, const uint32_t* b) {
  if constexpr (std::is_same_v<T, gpu_bf16>) {
    GAUNTLET_ASM(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    GAUNTLET_ASM(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

// Rows of kChunks 16-byte chunks (kChunks >= 8), chunk c of row r stored at
// c ^ (r % 8): the eight rows one ldmatrix phase reads fall in different banks.
template <int kChunks>
__device__ __forceinline__ int Swizzle(int row, int chunk) {
  return row * kChunks + (chunk ^ (row & 7));
}

// Two floats as one register of the element type: an mma A fragment's pair.
template <typename T>
__device__ __forceinline__ uint32_t Pack(float lo, float hi) {
  uint32_t bits;
  if constexpr (std::is_same_v<T, gpu_bf16>) {
    const gpu_bf162 pair = __floats2bfloat162_rn(lo, hi);
    bits = *reinterpret_cast<const uint32_t*>(&pair);
  } else {
    const __half2 pair = __floats2half2_rn(lo, hi);
    bits = *reinterpret_cast<const uint32_t*>(&pair);
  }
  return bits;
}

// Eight fp8 e4m3 values times `scale`, as eight values of the element type,
// through the hardware's fp8x2 → f16x2 conversion (exact: e4m3 ⊂ f16).
template <typename T>
__device__ __forceinline__ uint4 WidenFp8(uint2 bytes, float scale) {
  const uint16_t* pairs = reinterpret_cast<const uint16_t*>(&bytes);
  uint4 out;
  uint32_t* words = reinterpret_cast<uint32_t*>(&out);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const __half2_raw raw = __nv_cvt_fp8x2_to_halfraw2(pairs[i], __NV_E4M3);
    const float2 wide = __half22float2(*reinterpret_cast<const __half2*>(&raw));
    words[i] = Pack<T>(wide.x * scale, wide.y * scale);
  }
  return out;
}

}  // namespace gauntlet::worker::gpu

#endif
