// y = x · wᵀ for decode steps (m ≤ 16), at the weights' bandwidth.
//
// The roles of the usual tensor-core GEMM are swapped: w's rows are mma's
// 16-row A operand and x's rows its 8-column B operand, so a batch of one
// pads to 8 columns instead of 16 rows and no weight byte waits on a
// shared-memory round trip. Each lane loads 16 contiguous bytes of two w
// rows straight into registers, and those bytes are the A fragment as they
// stand: within one mma the order of k does not matter as long as A and B
// agree, so lane q of a row group takes physical k [8q, 8q + 8) of each
// 32-element step, and x's B fragment is read with the same permutation.
//
// What made it fast (bench/RESULTS.md): w is loaded with ld.global.nc,
// no L1 allocation and a 256-byte L2 prefetch, which took the 8B model's
// projections from 0.60–0.69 to 0.81–0.99 of a plain read of the same bytes.
// x is tiny and read by every warp: for m ≤ 8 it comes through L1; for two
// batch tiles it is staged in shared memory, where L1 alone thrashed.
#include "worker/kernels/gpu/gemv.h"

#include "worker/kernels/gpu/chained_launch.h"
#include "worker/kernels/gpu/mma_sm80.h"

namespace gauntlet::worker::gpu {
namespace {

constexpr int kUnroll = 4;  // 32-element steps whose loads are in flight at once per lane.

// A warp per 16 rows of w (a variable, not a call: device code may not call
// the plan's host functions).
template <int kBatchTiles>
constexpr int kThreadsFor = kBatchTiles == 1 ? 128 : 256;
static_assert(kThreadsFor<1> == GemvRowsPerBlock(8) * 2 && kThreadsFor<2> == GemvRowsPerBlock(16) * 2,
              "the plan's rows per block");

__device__ __forceinline__ uint4 LoadStreaming(const uint4* pointer) {
  uint4 v;
  GAUNTLET_ASM("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(pointer));
  return v;
}

// Row stride of staged x in 16-byte chunks: ≡ 4 (mod 8), so the two x rows a
// quarter-warp reads fall in different banks.
__device__ __forceinline__ int StagedStride(int chunks) { return chunks + ((12 - chunks % 8) % 8); }

// kBatchTiles: 1 for m ≤ 8, 2 for m ≤ 16 (then x is staged).
template <typename T, int kBatchTiles>
__global__ void __launch_bounds__(kThreadsFor<kBatchTiles>)
    Gemv(const T* __restrict__ x, const T* __restrict__ w, float* __restrict__ out, int m, int n, int k,
         int k_tiles_per_split) {
  constexpr bool kStaged = kBatchTiles == 2;
  constexpr int kThreads = kThreadsFor<kBatchTiles>, kWarps = kThreads / 32;
  extern __shared__ uint4 x_staged[];  // [m][stride] 16-byte chunks of x's k slice, when kStaged.
  const int k0 = blockIdx.y * k_tiles_per_split * kGemmTileK;
  const int chunks = (min(k, k0 + k_tiles_per_split * kGemmTileK) - k0) / 8;
  const int x_stride = kStaged ? StagedStride(chunks) : k / 8;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, group = lane / 4, quad = lane % 4;
  const int row_a = (blockIdx.x * kWarps + warp) * 16 + group, row_b = row_a + 8;
  const bool valid_a = row_a < n, valid_b = row_b < n;
  const uint4* w_a = reinterpret_cast<const uint4*>(w + static_cast<int64_t>(valid_a ? row_a : 0) * k + k0);
  const uint4* w_b = reinterpret_cast<const uint4*>(w + static_cast<int64_t>(valid_b ? row_b : 0) * k + k0);
  WaitForPredecessor();
  if constexpr (kStaged) {
    for (int c = threadIdx.x; c < m * chunks; c += kThreads) {
      const int row = c / chunks, chunk = c % chunks;
      x_staged[row * x_stride + chunk] =
          *reinterpret_cast<const uint4*>(x + static_cast<int64_t>(row) * k + k0 + chunk * 8);
    }
    __syncthreads();
  }

  const uint4 zero = make_uint4(0, 0, 0, 0);
  float acc[kBatchTiles][4] = {};

  const int steps = (chunks + 3) / 4;
  for (int s = 0; s < steps; s += kUnroll) {
    uint4 a[kUnroll], b[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int chunk = (s + u) * 4 + quad;
      a[u] = valid_a && chunk < chunks ? LoadStreaming(w_a + chunk) : zero;
      b[u] = valid_b && chunk < chunks ? LoadStreaming(w_b + chunk) : zero;
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int chunk = (s + u) * 4 + quad;
      const uint32_t first[4] = {a[u].x, b[u].x, a[u].y, b[u].y};
      const uint32_t second[4] = {a[u].z, b[u].z, a[u].w, b[u].w};
#pragma unroll
      for (int t = 0; t < kBatchTiles; ++t) {
        const int batch_row = t * 8 + group;
        uint4 xv = zero;
        if (batch_row < m && chunk < chunks) {
          if constexpr (kStaged) {
            xv = x_staged[batch_row * x_stride + chunk];
          } else {
            xv = __ldg(reinterpret_cast<const uint4*>(x + k0) + static_cast<int64_t>(batch_row) * x_stride + chunk);
          }
        }
        const uint32_t x_first[2] = {xv.x, xv.y}, x_second[2] = {xv.z, xv.w};
        Mma<T>(acc[t], first, x_first);
        Mma<T>(acc[t], second, x_second);
      }
    }
  }

  // What is left is the stores: the next kernel may take the SMs it frees.
  LetSuccessorLaunch();
  // C's rows are w's (this lane's two), its columns x's rows 2·quad and 2·quad + 1.
  float* slice = out + static_cast<int64_t>(blockIdx.y) * m * n;
#pragma unroll
  for (int t = 0; t < kBatchTiles; ++t) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int batch_row = t * 8 + quad * 2 + i % 2, row = i < 2 ? row_a : row_b;
      if (batch_row < m && row < n) slice[static_cast<int64_t>(batch_row) * n + row] = acc[t][i];
    }
  }
}

template <typename T, int kBatchTiles>
gpuError_t Launch(const GemmArgs& args, const GemmPlan& plan, size_t shared_bytes, gpuStream_t stream) {
  const int rows = GemvRowsPerBlock(kBatchTiles * 8);
  const dim3 grid((args.n + rows - 1) / rows, plan.splits);
  return LaunchChained(Gemv<T, kBatchTiles>, grid, dim3(kThreadsFor<kBatchTiles>), shared_bytes, stream,
                       static_cast<const T*>(args.x), static_cast<const T*>(args.w), args.out, args.m, args.n, args.k,
                       plan.k_tiles_per_split);
}

template <typename T>
gpuError_t LaunchTyped(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  if (args.m <= 8) return Launch<T, 1>(args, plan, 0, stream);
  const size_t shared_bytes = static_cast<size_t>(args.m) * (plan.k_tiles_per_split * kGemmTileK / 8 + 8) * 16;
  return Launch<T, 2>(args, plan, shared_bytes, stream);
}

}  // namespace

gpuError_t LaunchGemv(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  return args.elem == Elem::kBF16 ? LaunchTyped<gpu_bf16>(args, plan, stream)
                                  : LaunchTyped<gpu_half>(args, plan, stream);
}

}  // namespace gauntlet::worker::gpu
