// Hopper's building blocks for the warpgroup GEMM: mbarriers, the bulk tensor
// copy engine (TMA), wgmma with shared-memory descriptors, and register
// reallocation between warpgroups. The bodies exist only in sm_90a device
// code; elsewhere they trap, and the host never picks a kernel that uses them
// (WgmmaGemmAvailable).
#pragma once

#if defined(GAUNTLET_GPU_CUDA)

#include <cstdint>
#include <type_traits>

#include <cuda.h>

#include "worker/backend/gpu_vendor.h"
#include "worker/kernels/gpu/mma_sm80.h"  // SharedAddress

namespace gauntlet::worker::gpu {

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define GAUNTLET_SM90A_ASM(...) asm volatile(__VA_ARGS__)
#else
#define GAUNTLET_SM90A_ASM(...) __trap()
#endif

// ---- mbarriers: a count of arrivals plus, for TMA, a count of bytes.

__device__ __forceinline__ void BarrierInit(uint64_t* barrier, int arrivals) {
  GAUNTLET_SM90A_ASM("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(SharedAddress(barrier)), "r"(arrivals));
}
// Makes initialized barriers visible to the copy engine before anyone uses them.
__device__ __forceinline__ void FenceBarrierInit() {
  GAUNTLET_SM90A_ASM("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
__device__ __forceinline__ void BarrierArrive(uint64_t* barrier) {
  GAUNTLET_SM90A_ASM("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(SharedAddress(barrier)) : "memory");
}
// One arrival that also tells the barrier how many bytes the copies will land.
__device__ __forceinline__ void BarrierArriveExpectBytes(uint64_t* barrier, uint32_t bytes) {
  GAUNTLET_SM90A_ASM("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(SharedAddress(barrier)),
                     "r"(bytes)
                     : "memory");
}
// Spins until the barrier's phase of parity `parity` has completed.
__device__ __forceinline__ void BarrierWait(uint64_t* barrier, uint32_t parity) {
  uint32_t done = 0;
  do {
    GAUNTLET_SM90A_ASM(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(SharedAddress(barrier)), "r"(parity)
        : "memory");
  } while (!done);
}

// ---- TMA: one 2-D box of a tensor map into shared memory, completing on
// `barrier`. Coordinates are elements, innermost (k) first; the box's parts
// past the tensor's edge arrive as zeros.
__device__ __forceinline__ void TmaLoad2d(void* shared, const CUtensorMap* map, uint64_t* barrier, int inner,
                                          int outer) {
  GAUNTLET_SM90A_ASM(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], "
      "[%4];\n" ::"r"(SharedAddress(shared)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(inner), "r"(outer), "r"(SharedAddress(barrier))
      : "memory");
}

// ---- wgmma

// A shared-memory matrix descriptor for a k-major tile written by TMA with
// 128-byte swizzling: rows of 64 bf16/fp16 (128 bytes), 8-row atoms of 1024
// bytes. Stepping k by 16 within a row moves the start by 32 bytes; the
// hardware applies the swizzle to the resulting addresses.
__device__ __forceinline__ uint64_t SwizzledTileDescriptor(const void* shared) {
  const uint64_t address = SharedAddress(shared);
  uint64_t descriptor = (address & 0x3FFFF) >> 4;
  descriptor |= uint64_t{16 >> 4} << 16;    // Leading-dimension offset (unused by swizzled k-major).
  descriptor |= uint64_t{1024 >> 4} << 32;  // Stride offset: one 8-row atom.
  descriptor |= uint64_t{1} << 62;          // 128-byte swizzle.
  return descriptor;
}

__device__ __forceinline__ void WgmmaFence() { GAUNTLET_SM90A_ASM("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void WgmmaCommit() {
  GAUNTLET_SM90A_ASM("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int kPending>
__device__ __forceinline__ void WgmmaWait() {
  GAUNTLET_SM90A_ASM("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}
// Pins accumulators in place around asynchronous wgmma: the compiler may not
// move their reads or writes across this point.
__device__ __forceinline__ void PinRegister(float& value) { asm volatile("" : "+f"(value)::"memory"); }

#define GAUNTLET_WGMMA_OPERANDS8(i)                                                                \
  "+f"(d[i + 0]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), \
      "+f"(d[i + 6]), "+f"(d[i + 7])
#define GAUNTLET_WGMMA_M64N128K16(types)                                                                        \
  GAUNTLET_SM90A_ASM(                                                                                           \
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %66, 0;\n"                                            \
      "wgmma.mma_async.sync.aligned.m64n128k16.f32." types                                                      \
      " {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, "  \
      "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, " \
      "%43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, " \
      "%64, %65, accumulate, 1, 1, 0, 0;\n}\n"                                                                \
      : GAUNTLET_WGMMA_OPERANDS8(0), GAUNTLET_WGMMA_OPERANDS8(8), GAUNTLET_WGMMA_OPERANDS8(16),                 \
        GAUNTLET_WGMMA_OPERANDS8(24), GAUNTLET_WGMMA_OPERANDS8(32), GAUNTLET_WGMMA_OPERANDS8(40),               \
        GAUNTLET_WGMMA_OPERANDS8(48), GAUNTLET_WGMMA_OPERANDS8(56)                                              \
      : "l"(a), "l"(b), "r"(1))

// d[64 × 128] += A[64 × 16] · B[128 × 16]ᵀ, both k-major in shared memory,
// issued by a whole warpgroup. Thread t of warp w holds rows 16w + t/4 (+8)
// and, for each 8-column group j, columns 8j + 2(t%4) (+1) in d[4j .. 4j+3],
// as mma.sync's C fragment.
template <typename T>
__device__ __forceinline__ void WgmmaM64N128K16(float (&d)[64], uint64_t a, uint64_t b) {
  if constexpr (std::is_same_v<T, gpu_bf16>) {
    GAUNTLET_WGMMA_M64N128K16("bf16.bf16");
  } else {
    GAUNTLET_WGMMA_M64N128K16("f16.f16");
  }
}
#undef GAUNTLET_WGMMA_M64N128K16
#undef GAUNTLET_WGMMA_OPERANDS8

// Register reallocation: the copying warpgroup gives registers back so the
// computing ones can hold bigger accumulator tiles.
template <int kRegisters>
__device__ __forceinline__ void ReleaseRegisters() {
  GAUNTLET_SM90A_ASM("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegisters));
}
template <int kRegisters>
__device__ __forceinline__ void ClaimRegisters() {
  GAUNTLET_SM90A_ASM("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegisters));
}

}  // namespace gauntlet::worker::gpu

#endif
