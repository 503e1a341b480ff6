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

// w is read once at the memory's speed, so what matters is that enough
// blocks are resident to keep its loads in flight and that the last of them
// ends with the rest: k is split until there are four blocks per SM (more
// measured no better on an H200), each slice at least four k tiles long and,
// where x is staged, small enough for shared memory.
GemmPlan PlanGemv(int m, int n, int k, int sms) {
  GemmPlan plan;
  plan.kernel = GemmKernel::kGemv;
  const int k_tiles = CeilDiv(k, kGemmTileK);
  const int row_blocks = CeilDiv(n, GemvRowsPerBlock(m));
  // Staged x is m × (8 chunks per k tile + up to 8 of padding) × 16 bytes.
  const int max_tiles = m <= 8 ? k_tiles : std::max(1, kGemvSharedBytes / (m * kGemmTileK * 2) - 1);
  const int splits = std::clamp(CeilDiv(4 * sms, row_blocks), 1, std::max(1, k_tiles / 4));
  plan.k_tiles_per_split = std::min(CeilDiv(k_tiles, splits), max_tiles);
  plan.splits = CeilDiv(k_tiles, plan.k_tiles_per_split);
  plan.blocks = row_blocks * plan.splits;
  return plan;
}

// How many kMmaSmall blocks an SM holds at once: each takes 4 stages of
// 16 + 64 rows × 64 elements of shared memory (40 KB) plus the 1 KB the
// hardware reserves per block.
int MmaSmallBlocksPerSm(const GemmTarget& target) {
  constexpr int kBlockBytes = 4 * (16 + 64) * kGemmTileK * 2 + 1024;
  return std::max(1, target.shared_bytes_per_sm / kBlockBytes);
}

}  // namespace

GemmPlan PlanGemm(int m, int n, int k, const GemmTarget& target) {
  GemmPlan plan;
  const int sms = std::max(1, target.multiprocessors);
  const bool gemv = target.gemv && m <= TileOf(GemmKernel::kGemv).m && k % 8 == 0;
  // The tensor-core kernels load 16-byte chunks of k and store column pairs.
  if (!target.mma_sync || k % 8 != 0 || n % 2 != 0) return gemv ? PlanGemv(m, n, k, sms) : plan;
  const int k_tiles = CeilDiv(k, kGemmTileK);

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
  // Measured on an H200 (bench/RESULTS.md): the 16 × 64 tiles stream w at
  // 0.76–0.86 of copy bandwidth while all their blocks are resident at once,
  // 0.06–0.1 more than the GEMV; beyond that the second, mostly empty wave
  // costs them a third (gate_up: 0.66 against the GEMV's 0.91).
  if (gemv && tiles * plan.splits > MmaSmallBlocksPerSm(target) * sms) return PlanGemv(m, n, k, sms);
  return plan;
}

}  // namespace gauntlet::worker::gpu
