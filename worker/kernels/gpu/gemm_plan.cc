#include "worker/kernels/gpu/gemm_plan.h"

#include <algorithm>

namespace gauntlet::worker::gpu {
namespace {

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

int Tiles(int m, int n, GemmKernel kernel) { return CeilDiv(m, TileOf(kernel).m) * CeilDiv(n, TileOf(kernel).n); }

// The share of the SMs' time that `blocks` equal work items keep busy, one
// per SM at a time: the last round of 1.1 rounds leaves most SMs idle.
double RoundEfficiency(int blocks, int multiprocessors) {
  const int rounds = CeilDiv(blocks, multiprocessors);
  return static_cast<double>(blocks) / (static_cast<double>(rounds) * multiprocessors);
}

}  // namespace

GemmPlan PlanGemm(int m, int n, int k, const GemmTarget& target) {
  GemmPlan plan;
  // The tensor-core kernels load 16-byte chunks of k and store column pairs.
  if (!target.mma_sync || k % 8 != 0 || n % 2 != 0) return plan;
  const int k_tiles = CeilDiv(k, kGemmTileK);
  const int sms = std::max(1, target.multiprocessors);

  if (target.wgmma && m > 64) {
    // One persistent block per SM (its pipeline takes most of shared memory),
    // walking the tiles in rounds. Wide tiles read less per FLOP; narrow ones
    // win when wide ones would leave a round mostly empty (0.9: our estimate
    // of wide tiles' edge per FLOP).
    const bool wide = RoundEfficiency(Tiles(m, n, GemmKernel::kWgmmaWide), sms) >=
                      0.9 * RoundEfficiency(Tiles(m, n, GemmKernel::kWgmmaNarrow), sms);
    plan.kernel = wide ? GemmKernel::kWgmmaWide : GemmKernel::kWgmmaNarrow;
    // Split k only to fill a round: a partial extra round costs more than
    // the extra slices save.
    const int tiles = Tiles(m, n, plan.kernel);
    const int splits = std::clamp(sms / tiles, 1, std::max(1, k_tiles / 4));
    plan.k_tiles_per_split = CeilDiv(k_tiles, splits);
    plan.splits = CeilDiv(k_tiles, plan.k_tiles_per_split);
    plan.blocks = std::min(tiles * plan.splits, sms);
    return plan;
  }

  plan.kernel = m <= 16 ? GemmKernel::kMmaSmall : m <= 64 ? GemmKernel::kMmaMedium : GemmKernel::kMmaLarge;
  // Skinny products are bandwidth-bound: split k until there are blocks enough
  // to keep every SM's loads in flight (a few per SM), leaving each split at
  // least two k tiles so the pipeline has something to overlap.
  const int tiles = Tiles(m, n, plan.kernel);
  const int wanted_blocks = plan.kernel == GemmKernel::kMmaLarge ? sms : 4 * sms;
  const int splits = std::clamp(CeilDiv(wanted_blocks, tiles), 1, std::max(1, k_tiles / 2));
  plan.k_tiles_per_split = CeilDiv(k_tiles, splits);
  plan.splits = CeilDiv(k_tiles, plan.k_tiles_per_split);
  return plan;
}

}  // namespace gauntlet::worker::gpu
