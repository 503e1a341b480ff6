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
  kSimt,         // Portable: HIP, and shapes the tensor-core kernels cannot take.
};

// What the device and the build offer.
struct GemmTarget {
  int multiprocessors = 1;
  bool mma_sync = false;  // NVIDIA sm_80 or later.
  bool wgmma = false;     // An sm_90 device and a build with sm_90a code.
};

// Each tensor-core kernel's output tile, in GemmKernel's order: the plan
// counts tiles with it and the kernels are instantiated from it.
struct GemmTile {
  int m, n;
};
inline constexpr GemmTile kGemmTiles[] = {{16, 64}, {64, 64}, {128, 128}, {128, 256}, {128, 128}};
constexpr GemmTile TileOf(GemmKernel kernel) { return kGemmTiles[static_cast<int>(kernel)]; }

struct GemmPlan {
  GemmKernel kernel = GemmKernel::kSimt;
  int splits = 1;  // Slices of k; the output holds splits × m × n floats.
  int k_tiles_per_split = 0;
  int blocks = 0;  // The wgmma kernels are persistent: blocks launched, one per SM.
};

inline constexpr int kGemmTileK = 64;

GemmPlan PlanGemm(int m, int n, int k, const GemmTarget& target);

}  // namespace gauntlet::worker::gpu
