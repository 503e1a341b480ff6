// How the GEMM tiles and splits a shape: pure arithmetic, shared by the
// kernels and the unit tests (which build without a GPU).
#pragma once

namespace gauntlet::worker::gpu {

struct GemmPlan {
  int config = 0;  // Tile shape: 0 small m, 1 medium m, 2 large m, 3 the portable fallback.
  int splits = 1;  // Slices of k; the output holds splits × m × n floats.
  int k_tiles_per_split = 0;
};

inline constexpr int kGemmTileK = 64;

// Tile rows and columns of each tensor-core configuration.
inline constexpr int kGemmTileM[3] = {16, 64, 128};
inline constexpr int kGemmTileN[3] = {64, 64, 128};

// `tensor_cores`: whether the build has the mma.sync kernels (NVIDIA).
GemmPlan PlanGemm(int m, int n, int k, int multiprocessors, bool tensor_cores);

}  // namespace gauntlet::worker::gpu
