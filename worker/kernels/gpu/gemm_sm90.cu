// The prefill GEMM on Hopper: y = x · wᵀ with wgmma, fed by the TMA copy
// engine. mma.sync tops out near 40% of an H100's matrix rate; wgmma is the
// instruction that reaches the rest.
//
// A block is three warpgroups. The first is the producer: one thread issues
// TMA copies of x and w tiles into a ring of shared-memory stages, each
// completing on the stage's "full" barrier. The other two consume: each owns
// 64 rows of the 128-row tile, waits for a stage, runs wgmma over it, and
// frees it on the stage's "empty" barrier. Copies and matrix work overlap
// without any thread waiting on its own loads.
#include "worker/kernels/gpu/gemm_sm90.h"

#include <algorithm>

#include <cudaTypedefs.h>

#include "worker/kernels/gpu/wgmma_sm90.h"

namespace gauntlet::worker::gpu {
namespace {

constexpr int kTileM = TileOf(GemmKernel::kWgmmaWide).m;  // Two consumer warpgroups × 64 rows.
static_assert(kTileM == 128 && TileOf(GemmKernel::kWgmmaNarrow).m == kTileM, "each consumer owns 64 rows");
constexpr int kRowBytes = kGemmTileK * 2;  // A tile row: 64 elements, one 128-byte swizzle span.
constexpr int kConsumerWarps = 8;
constexpr int kThreads = 3 * 128;
constexpr int kGroupRows = 16;

// Which output tile and k slice work item `work` is. Consecutive items walk
// down a band of kGroupRows row tiles before moving to the next column tile,
// so the items in flight at once share their x and w tiles through L2.
struct WorkItem {
  int tile_m, tile_n, split, first_k_tile, k_tiles;
};

template <int kTileN>
__device__ __forceinline__ WorkItem Locate(int work, int m, int n, int k, int k_tiles_per_split) {
  const int tiles_m = (m + kTileM - 1) / kTileM, tiles_n = (n + kTileN - 1) / kTileN;
  const int tiles = tiles_m * tiles_n, tile = work % tiles, split = work / tiles;
  const int per_group = kGroupRows * tiles_n, group_first = tile / per_group * kGroupRows;
  const int group_rows = min(tiles_m - group_first, kGroupRows), in_group = tile % per_group;
  const int k_tiles = (k + kGemmTileK - 1) / kGemmTileK, first = split * k_tiles_per_split;
  return {(group_first + in_group % group_rows) * kTileM, in_group / group_rows * kTileN, split, first,
          min(k_tiles, first + k_tiles_per_split) - first};
}

// Persistent: each block takes work items blockIdx.x, + gridDim.x, ... The
// producer runs ahead into the next item while the consumers store this one,
// and the stage ring carries on across items (`step` counts k tiles over all
// of a block's items, which sets each stage's round and so its barrier parity).
template <typename T, int kTileN, int kStages>
__global__ void __launch_bounds__(kThreads, 1)
    WgmmaGemm(const __grid_constant__ CUtensorMap x_map, const __grid_constant__ CUtensorMap w_map,
              float* __restrict__ out, int m, int n, int k, int k_tiles_per_split, int work_items) {
  constexpr uint32_t kXBytes = kTileM * kRowBytes, kWBytes = kTileN * kRowBytes;
  extern __shared__ unsigned char shared_raw[];
  // 128-byte swizzling repeats every 1024 bytes; the descriptors assume each
  // tile starts on that period.
  unsigned char* shared = shared_raw + ((1024 - (SharedAddress(shared_raw) & 1023)) & 1023);
  unsigned char* x_tiles = shared;
  unsigned char* w_tiles = shared + kStages * kXBytes;
  uint64_t* full = reinterpret_cast<uint64_t*>(w_tiles + kStages * kWBytes);
  uint64_t* empty = full + kStages;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      BarrierInit(&full[s], 1);
      BarrierInit(&empty[s], kConsumerWarps);
    }
    FenceBarrierInit();
  }
  __syncthreads();

  const int warpgroup = threadIdx.x / 128;
  if (warpgroup == 0) {
    ReleaseRegisters<40>();
    if (threadIdx.x != 0) return;
    int step = 0;
    for (int work = blockIdx.x; work < work_items; work += gridDim.x) {
      const WorkItem item = Locate<kTileN>(work, m, n, k, k_tiles_per_split);
      for (int i = 0; i < item.k_tiles; ++i, ++step) {
        const int stage = step % kStages;
        // Round r of a stage waits for the consumers to free round r - 1.
        if (step >= kStages) BarrierWait(&empty[stage], (step / kStages + 1) & 1);
        BarrierArriveExpectBytes(&full[stage], kXBytes + kWBytes);
        const int k0 = (item.first_k_tile + i) * kGemmTileK;
        TmaLoad2d(x_tiles + stage * kXBytes, &x_map, &full[stage], k0, item.tile_m);
        TmaLoad2d(w_tiles + stage * kWBytes, &w_map, &full[stage], k0, item.tile_n);
      }
    }
    return;
  }

  ClaimRegisters<232>();
  const int consumer = warpgroup - 1, warp = (threadIdx.x % 128) / 32, lane = threadIdx.x % 32;
  constexpr int kHalves = kTileN / 128;
  float acc[kHalves][64];
  int step = 0;
  for (int work = blockIdx.x; work < work_items; work += gridDim.x) {
    const WorkItem item = Locate<kTileN>(work, m, n, k, k_tiles_per_split);
#pragma unroll
    for (int h = 0; h < kHalves; ++h) {
#pragma unroll
      for (int r = 0; r < 64; ++r) acc[h][r] = 0.0f;
    }
    for (int i = 0; i < item.k_tiles; ++i, ++step) {
      const int stage = step % kStages;
      BarrierWait(&full[stage], (step / kStages) & 1);
      const unsigned char* xs = x_tiles + stage * kXBytes + consumer * 64 * kRowBytes;
      const unsigned char* ws = w_tiles + stage * kWBytes;
      WgmmaFence();
#pragma unroll
      for (int kk = 0; kk < kGemmTileK / 16; ++kk) {
#pragma unroll
        for (int h = 0; h < kHalves; ++h) {
          WgmmaM64N128K16<T>(acc[h], SwizzledTileDescriptor(xs + kk * 32),
                             SwizzledTileDescriptor(ws + h * 128 * kRowBytes + kk * 32));
        }
      }
      WgmmaCommit();
      // Keep this tile's products in flight; the previous tile's are done, so
      // its stage can be refilled.
      WgmmaWait<1>();
#pragma unroll
      for (int h = 0; h < kHalves; ++h) {
#pragma unroll
        for (int r = 0; r < 64; ++r) PinRegister(acc[h][r]);
      }
      if (i > 0 && lane == 0) BarrierArrive(&empty[(step - 1) % kStages]);
    }
    WgmmaWait<0>();
#pragma unroll
    for (int h = 0; h < kHalves; ++h) {
#pragma unroll
      for (int r = 0; r < 64; ++r) PinRegister(acc[h][r]);
    }
    if (item.k_tiles > 0 && lane == 0) BarrierArrive(&empty[(step - 1) % kStages]);

    float* slice = out + static_cast<int64_t>(item.split) * m * n;
    const int row0 = item.tile_m + consumer * 64 + warp * 16 + lane / 4;
#pragma unroll
    for (int h = 0; h < kHalves; ++h) {
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        const int col = item.tile_n + h * 128 + j * 8 + (lane % 4) * 2;
        if (col >= n) continue;
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int row = row0 + half * 8;
          if (row < m) {
            *reinterpret_cast<float2*>(&slice[static_cast<int64_t>(row) * n + col]) =
                make_float2(acc[h][j * 4 + half * 2], acc[h][j * 4 + half * 2 + 1]);
          }
        }
      }
    }
  }
}

// cuTensorMapEncodeTiled is a driver call; the runtime hands out its address,
// so the build needs no libcuda to link against.
PFN_cuTensorMapEncodeTiled_v12000 TensorMapEncoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 encoder = [] {
    void* function = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &function, 12000, cudaEnableDefault, &found) !=
            cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      return static_cast<PFN_cuTensorMapEncodeTiled_v12000>(nullptr);
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(function);
  }();
  return encoder;
}

// A [rows, k] k-contiguous matrix read in boxes of box_rows × 64, swizzled
// for wgmma; boxes past the edges fill with zeros.
bool EncodeTiles(CUtensorMap* map, const void* base, int rows, int k, int box_rows, Elem elem) {
  const auto encode = TensorMapEncoder();
  if (!encode) return false;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(k), static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(k) * 2};
  const cuuint32_t box[2] = {kGemmTileK, static_cast<cuuint32_t>(box_rows)};
  const cuuint32_t element_strides[2] = {1, 1};
  return encode(map, elem == Elem::kBF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2,
                const_cast<void*>(base), dims, strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

template <typename T, int kTileN, int kStages>
gpuError_t LaunchTyped(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  constexpr size_t kSharedBytes = kStages * (kTileM + kTileN) * kRowBytes + 2 * kStages * sizeof(uint64_t) + 1024;
  static_assert(kSharedBytes <= 227 * 1024, "the pipeline must fit an H100's shared memory");
  CUtensorMap x_map, w_map;
  if (!EncodeTiles(&x_map, args.x, args.m, args.k, kTileM, args.elem) ||
      !EncodeTiles(&w_map, args.w, args.n, args.k, kTileN, args.elem)) {
    return gpuErrorInvalidValue;  // Misaligned operands: every caller's buffers are 256-byte aligned.
  }
  auto kernel = WgmmaGemm<T, kTileN, kStages>;
  static const gpuError_t opted_in =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(kSharedBytes));
  if (opted_in != gpuSuccess) return opted_in;
  const int tiles = ((args.m + kTileM - 1) / kTileM) * ((args.n + kTileN - 1) / kTileN);
  const int work_items = tiles * plan.splits;
  kernel<<<std::min(work_items, plan.blocks), kThreads, kSharedBytes, stream>>>(
      x_map, w_map, args.out, args.m, args.n, args.k, plan.k_tiles_per_split, work_items);
  return gpuGetLastError();
}

template <typename T>
gpuError_t LaunchForPlan(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  return plan.kernel == GemmKernel::kWgmmaWide
             ? LaunchTyped<T, TileOf(GemmKernel::kWgmmaWide).n, 4>(args, plan, stream)
             : LaunchTyped<T, TileOf(GemmKernel::kWgmmaNarrow).n, 6>(args, plan, stream);
}

}  // namespace

bool WgmmaGemmAvailable(int compute_major, int compute_minor) {
#if defined(GAUNTLET_GEMM_WGMMA)
  return compute_major == 9 && compute_minor == 0;
#else
  (void)compute_major, (void)compute_minor;
  return false;
#endif
}

gpuError_t LaunchWgmmaGemm(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  return args.elem == Elem::kBF16 ? LaunchForPlan<gpu_bf16>(args, plan, stream)
                                  : LaunchForPlan<gpu_half>(args, plan, stream);
}

}  // namespace gauntlet::worker::gpu
