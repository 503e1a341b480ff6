#include "worker/kernels/gpu/gemm_plan.h"

#include <algorithm>

namespace gauntlet::worker::gpu {

GemmPlan PlanGemm(int m, int n, int k, int multiprocessors, bool tensor_cores) {
  GemmPlan plan;
  // The tensor-core path loads 16-byte chunks of k and stores column pairs.
  if (!tensor_cores || k % 8 != 0 || n % 2 != 0) {
    plan.config = 3;
    return plan;
  }
  plan.config = m <= 16 ? 0 : m <= 64 ? 1 : 2;
  const int tile_m = kGemmTileM[plan.config], tile_n = kGemmTileN[plan.config];
  const int tiles = ((m + tile_m - 1) / tile_m) * ((n + tile_n - 1) / tile_n);
  const int k_tiles = (k + kGemmTileK - 1) / kGemmTileK;
  // Skinny products are bandwidth-bound: split k until there are blocks enough
  // to keep every SM's loads in flight (a few per SM), leaving each split at
  // least two k tiles so the pipeline has something to overlap.
  const int wanted_blocks = plan.config == 2 ? multiprocessors : 4 * multiprocessors;
  const int splits = std::clamp((wanted_blocks + tiles - 1) / tiles, 1, std::max(1, k_tiles / 2));
  plan.k_tiles_per_split = (k_tiles + splits - 1) / splits;
  plan.splits = (k_tiles + plan.k_tiles_per_split - 1) / plan.k_tiles_per_split;
  return plan;
}

}  // namespace gauntlet::worker::gpu
