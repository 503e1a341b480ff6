// How the GEMM tiles and splits a shape: pure arithmetic, shared by the
// kernels and the unit tests (which build without a GPU).
#pragma once

namespace gauntlet::worker::gpu {

enum class GemmKernel {
  kMmaSmall,     // mma.sync, 16 × 64 tiles: decode steps (m ≤ 16).
  kMmaMedium,    // mma.sync, 64 × 64.
  kMmaLarge,     // mma.sync, 128 × 128: prefills where wgmma is absent.
  kWgmmaWide,    // Hopper wgmma + TMA, 128 × 256 tiles.
  kWgmmaNarrow,  // The same at 128 × 128, for shapes with few wide tiles.
  kGemv,         // mma.sync with w as the A operand, w streamed once: decode steps (m ≤ 16)
                 // where kMmaSmall's tiles would not all be resident at once.
  kSimt,         // Portable: HIP, and shapes the tensor-core kernels cannot take.
};

// What the device and the build offer.
struct GemmTarget {
  int multiprocessors = 1;
  bool mma_sync = false;  // NVIDIA sm_80 or later.
  bool wgmma = false;     // An sm_90 device and a build with sm_90a code.
  bool gemv = false;      // As mma_sync; off only to compare (GAUNTLET_GPU_GEMV=0).
  int shared_bytes_per_sm = 228 * 1024;  // An sm_90's; the device's own from QueryGemmTarget.
};

// Each tensor-core kernel's output tile, in GemmKernel's order: the plan
// counts tiles with it and the kernels are instantiated from it.
struct GemmTile {
  int m, n;
};
// kGemv's m is the most rows of x it takes; its blocks' rows of w depend on m (GemvRowsPerBlock).
inline constexpr GemmTile kGemmTiles[] = {{16, 64}, {64, 64}, {128, 128}, {128, 256}, {128, 128}, {16, 64}};
constexpr GemmTile TileOf(GemmKernel kernel) { return kGemmTiles[static_cast<int>(kernel)]; }

struct GemmPlan {
  GemmKernel kernel = GemmKernel::kSimt;
  int splits = 1;  // Slices of k; the output holds splits × m × n floats.
  int k_tiles_per_split = 0;
  int blocks = 0;  // The wgmma kernels are persistent: blocks launched, one per SM.
};

inline constexpr int kGemmTileK = 64;

// The GEMV's block: a warp per 16 rows of w, four warps for one batch tile
// of x (m ≤ 8), eight for two. With two, x's k slice is staged in shared
// memory, m × (slice + up to 8 chunks of padding) × 2 bytes, within what a
// launch gets without opting in to more.
constexpr int GemvRowsPerBlock(int m) { return m <= 8 ? 64 : 128; }
inline constexpr int kGemvSharedBytes = 48 * 1024;

GemmPlan PlanGemm(int m, int n, int k, const GemmTarget& target);

}  // namespace gauntlet::worker::gpu
