// Tensor-core GEMM for NVIDIA (sm_80 and later): cp.async multi-stage loads
// into XOR-swizzled shared memory, ldmatrix into registers, mma.sync
// m16n8k16 with fp32 accumulators. Both operands are k-contiguous, which is
// exactly mma's row.col form, so no operand is transposed on the way.
//
// A portable SIMT kernel covers HIP and shapes the tensor-core path does not
// take (k not a multiple of 8, odd n).
#include "worker/kernels/gpu/gemm.h"

#include "worker/kernels/gpu/chained_launch.h"
#include "worker/kernels/gpu/mma_sm80.h"
#if defined(GAUNTLET_GPU_CUDA)
#include "worker/kernels/gpu/gemm_sm90.h"
#include "worker/kernels/gpu/gemv.h"
#endif

#include <algorithm>
#include <utility>

namespace gauntlet::worker::gpu {
namespace {

constexpr int kTileK = kGemmTileK;  // 128 bytes of a row: eight 16-byte chunks.
constexpr int kChunks = kTileK / 8;

template <typename T>
__device__ __forceinline__ float ToFloat(T value) {
  return static_cast<float>(value);
}

// ---- Portable path: 16×16 output tile per block, k staged through shared memory.
template <typename T>
__global__ void __launch_bounds__(256) SimtGemm(const T* x, const T* w, float* out, int m, int n, int k) {
  __shared__ float xs[16][17], ws[16][17];
  const int row = blockIdx.y * 16 + threadIdx.y, col = blockIdx.x * 16 + threadIdx.x;
  float sum = 0;
  for (int k0 = 0; k0 < k; k0 += 16) {
    const int xr = blockIdx.y * 16 + threadIdx.y, wr = blockIdx.x * 16 + threadIdx.y, kk = k0 + threadIdx.x;
    xs[threadIdx.y][threadIdx.x] = xr < m && kk < k ? ToFloat(x[static_cast<int64_t>(xr) * k + kk]) : 0.0f;
    ws[threadIdx.y][threadIdx.x] = wr < n && kk < k ? ToFloat(w[static_cast<int64_t>(wr) * k + kk]) : 0.0f;
    __syncthreads();
#pragma unroll
    for (int i = 0; i < 16; ++i) sum += xs[threadIdx.y][i] * ws[threadIdx.x][i];
    __syncthreads();
  }
  if (row < m && col < n) out[static_cast<int64_t>(row) * n + col] = sum;
}

#if defined(GAUNTLET_GPU_CUDA)

template <typename T, int kTileM, int kTileN, int kWarpsM, int kWarpsN, int kStages>
__global__ void __launch_bounds__(kWarpsM* kWarpsN * 32)
    TensorCoreGemm(const T* __restrict__ x, const T* __restrict__ w, float* __restrict__ out, int m, int n, int k,
                   int k_tiles_per_split) {
  constexpr int kThreads = kWarpsM * kWarpsN * 32;
  constexpr int kWarpM = kTileM / kWarpsM, kWarpN = kTileN / kWarpsN;
  constexpr int kFragsM = kWarpM / 16, kFragsN = kWarpN / 8;
  static_assert(kFragsN % 2 == 0, "B fragments are loaded two at a time");
  extern __shared__ uint4 shared[];
  uint4* x_tiles = shared;                               // [stage][kTileM][kChunks]
  uint4* w_tiles = shared + kStages * kTileM * kChunks;  // [stage][kTileN][kChunks]

  const int tile_m = blockIdx.y * kTileM, tile_n = blockIdx.x * kTileN;
  const int k_tiles = (k + kTileK - 1) / kTileK;
  const int first = blockIdx.z * k_tiles_per_split, last = min(k_tiles, first + k_tiles_per_split);
  WaitForPredecessor();

  auto load = [&](int stage, int k_tile) {
    const int k0 = k_tile * kTileK;
    for (int c = threadIdx.x; c < kTileM * kChunks; c += kThreads) {
      const int row = c / kChunks, chunk = c % kChunks;
      const bool valid = tile_m + row < m && k0 + chunk * 8 < k;
      const T* source = valid ? x + static_cast<int64_t>(tile_m + row) * k + k0 + chunk * 8 : x;
      CopyAsync16(&x_tiles[stage * kTileM * kChunks + Swizzle<kChunks>(row, chunk)], source, valid);
    }
    for (int c = threadIdx.x; c < kTileN * kChunks; c += kThreads) {
      const int row = c / kChunks, chunk = c % kChunks;
      const bool valid = tile_n + row < n && k0 + chunk * 8 < k;
      const T* source = valid ? w + static_cast<int64_t>(tile_n + row) * k + k0 + chunk * 8 : w;
      CopyAsync16(&w_tiles[stage * kTileN * kChunks + Swizzle<kChunks>(row, chunk)], source, valid);
    }
  };

  int fetch = first;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (fetch < last) load(s, fetch);
    CommitAsync();  // Empty groups keep the wait count below uniform.
    ++fetch;
  }

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_row = (warp / kWarpsN) * kWarpM, warp_col = (warp % kWarpsN) * kWarpN;
  float acc[kFragsM][kFragsN][4] = {};

  for (int k_tile = first; k_tile < last; ++k_tile) {
    WaitAsync<kStages - 2>();
    __syncthreads();  // Tile k_tile is in; every warp is done with the stage reloaded next.
    if (fetch < last) load((fetch - first) % kStages, fetch);
    CommitAsync();
    ++fetch;
    const int stage = (k_tile - first) % kStages;
    const uint4* xs = x_tiles + stage * kTileM * kChunks;
    const uint4* ws = w_tiles + stage * kTileN * kChunks;
#pragma unroll
    for (int kk = 0; kk < kTileK / 16; ++kk) {
      uint32_t a[kFragsM][4], b[kFragsN][2];
#pragma unroll
      for (int i = 0; i < kFragsM; ++i) {
        const int row = warp_row + i * 16 + lane % 16;
        LoadMatrixX4(a[i], &xs[Swizzle<kChunks>(row, kk * 2 + lane / 16)]);
      }
#pragma unroll
      for (int j = 0; j < kFragsN; j += 2) {
        const int row = warp_col + j * 8 + lane % 8 + (lane / 16) * 8;
        uint32_t r[4];
        LoadMatrixX4(r, &ws[Swizzle<kChunks>(row, kk * 2 + (lane / 8) % 2)]);
        b[j][0] = r[0], b[j][1] = r[1], b[j + 1][0] = r[2], b[j + 1][1] = r[3];
      }
#pragma unroll
      for (int i = 0; i < kFragsM; ++i) {
#pragma unroll
        for (int j = 0; j < kFragsN; ++j) Mma<T>(acc[i][j], a[i], b[j]);
      }
    }
  }
  WaitAsync<0>();
  LetSuccessorLaunch();  // What is left is the stores.

  float* slice = out + static_cast<int64_t>(blockIdx.z) * m * n;
#pragma unroll
  for (int i = 0; i < kFragsM; ++i) {
#pragma unroll
    for (int j = 0; j < kFragsN; ++j) {
      const int col = tile_n + warp_col + j * 8 + (lane % 4) * 2;
      if (col >= n) continue;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = tile_m + warp_row + i * 16 + lane / 4 + half * 8;
        if (row < m) {
          *reinterpret_cast<float2*>(&slice[static_cast<int64_t>(row) * n + col]) =
              make_float2(acc[i][j][half * 2], acc[i][j][half * 2 + 1]);
        }
      }
    }
  }
}

template <typename T, GemmKernel kKernel, int kWarpsM, int kWarpsN, int kStages>
gpuError_t LaunchTensorCore(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  constexpr GemmTile tile = TileOf(kKernel);
  constexpr size_t kSharedBytes = static_cast<size_t>(kStages) * (tile.m + tile.n) * kTileK * 2;
  auto kernel = TensorCoreGemm<T, tile.m, tile.n, kWarpsM, kWarpsN, kStages>;
  static const gpuError_t opted_in =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(kSharedBytes));
  if (opted_in != gpuSuccess) return opted_in;
  const dim3 grid((args.n + tile.n - 1) / tile.n, (args.m + tile.m - 1) / tile.m, plan.splits);
  return LaunchChained(kernel, grid, dim3(kWarpsM * kWarpsN * 32), kSharedBytes, stream, static_cast<const T*>(args.x),
                       static_cast<const T*>(args.w), args.out, args.m, args.n, args.k, plan.k_tiles_per_split);
}

template <typename T>
gpuError_t LaunchTyped(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  switch (plan.kernel) {
    case GemmKernel::kMmaSmall: return LaunchTensorCore<T, GemmKernel::kMmaSmall, 1, 4, 4>(args, plan, stream);
    case GemmKernel::kMmaMedium: return LaunchTensorCore<T, GemmKernel::kMmaMedium, 2, 2, 4>(args, plan, stream);
    case GemmKernel::kMmaLarge: return LaunchTensorCore<T, GemmKernel::kMmaLarge, 2, 4, 3>(args, plan, stream);
    case GemmKernel::kWgmmaWide:
    case GemmKernel::kWgmmaNarrow: return LaunchWgmmaGemm(args, plan, stream);
    case GemmKernel::kGemv: return LaunchGemv(args, plan, stream);
    case GemmKernel::kSimt: break;
  }
  SimtGemm<T><<<dim3((args.n + 15) / 16, (args.m + 15) / 16), dim3(16, 16), 0, stream>>>(
      static_cast<const T*>(args.x), static_cast<const T*>(args.w), args.out, args.m, args.n, args.k);
  return gpuGetLastError();
}

#else  // HIP: the portable kernel only.

template <typename T>
gpuError_t LaunchTyped(const GemmArgs& args, const GemmPlan&, gpuStream_t stream) {
  SimtGemm<T><<<dim3((args.n + 15) / 16, (args.m + 15) / 16), dim3(16, 16), 0, stream>>>(
      static_cast<const T*>(args.x), static_cast<const T*>(args.w), args.out, args.m, args.n, args.k);
  return gpuGetLastError();
}

#endif

}  // namespace

gpuError_t QueryGemmTarget(int device, GemmTarget* target) {
  int major = 0, minor = 0;
  for (auto [value, attribute] : {std::pair{&target->multiprocessors, gpuDevAttrMultiProcessorCount},
                                  {&target->shared_bytes_per_sm, gpuDevAttrMaxSharedMemoryPerMultiprocessor},
                                  {&major, gpuDevAttrComputeCapabilityMajor},
                                  {&minor, gpuDevAttrComputeCapabilityMinor}}) {
    if (const gpuError_t error = gpuDeviceGetAttribute(value, attribute, device); error != gpuSuccess) return error;
  }
#if defined(GAUNTLET_GPU_CUDA)
  target->mma_sync = major >= 8;
  target->gemv = target->mma_sync;
  target->wgmma = WgmmaGemmAvailable(major, minor);
#endif
  return gpuSuccess;
}

gpuError_t LaunchGemm(const GemmArgs& args, const GemmPlan& plan, gpuStream_t stream) {
  if (args.m == 0 || args.n == 0) return gpuSuccess;
  return args.elem == Elem::kBF16 ? LaunchTyped<gpu_bf16>(args, plan, stream)
                                  : LaunchTyped<gpu_half>(args, plan, stream);
}

}  // namespace gauntlet::worker::gpu

// C entry points so benchmarks can call the GEMM on tensors they own; the
// plan is the one the model would use on the current device.
namespace {
const gauntlet::worker::gpu::GemmTarget& DeviceTarget() {
  using namespace gauntlet::worker::gpu;
  static const GemmTarget target = [] {
    int device = 0;
    (void)gpuGetDevice(&device);
    GemmTarget queried;
    (void)QueryGemmTarget(device, &queried);
    return queried;
  }();
  return target;
}
gauntlet::worker::gpu::GemmTarget& BenchTarget() {
  static gauntlet::worker::gpu::GemmTarget target = DeviceTarget();
  return target;
}
gauntlet::worker::gpu::GemmPlan BenchPlan(int m, int n, int k) { return PlanGemm(m, n, k, BenchTarget()); }
}  // namespace

// Which kernels the plan may take, to compare them on one shape: 0 the
// device's (the model's plan), 1 no GEMV (mma.sync's tiles, as before the
// GEMV existed), 2 the GEMV wherever it applies.
extern "C" void gauntlet_gemm_mode(int mode) {
  auto& target = BenchTarget();
  target = DeviceTarget();
  if (mode == 1) target.gemv = false;
  if (mode == 2) target.mma_sync = target.wgmma = false;
}

extern "C" int gauntlet_gemm(const void* x, const void* w, float* out, int m, int n, int k, int bf16, void* stream) {
  using namespace gauntlet::worker::gpu;
  GemmArgs args{x, w, out, m, n, k, bf16 ? Elem::kBF16 : Elem::kF16};
  return static_cast<int>(LaunchGemm(args, BenchPlan(m, n, k), static_cast<gpuStream_t>(stream)));
}

extern "C" int gauntlet_gemm_splits(int m, int n, int k) { return BenchPlan(m, n, k).splits; }

// The kernel the plan picks, for the benchmark's table.
extern "C" int gauntlet_gemm_kernel(int m, int n, int k) { return static_cast<int>(BenchPlan(m, n, k).kernel); }
