// The pure pieces the GPU path leans on, tested without a GPU: how the GEMM
// splits a shape, and the block tables both caches share.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "worker/kernels/gpu/gemm_plan.h"
#include "worker/kv/block_tables.h"

namespace gauntlet::worker {
namespace {

using gpu::GemmPlan;
using gpu::GemmKernel;
using gpu::PlanGemm;

constexpr gpu::GemmTarget kAmpere{108, true, false};
constexpr gpu::GemmTarget kHopper{132, true, true};
constexpr gpu::GemmTarget kPortable{132, false, false};
constexpr gpu::GemmTarget kHopperGemv{132, true, true, true};

TEST(GemmPlanTest, SlicesCoverEveryTileOfKExactlyOnce) {
  for (const gpu::GemmTarget& target : {kAmpere, kHopper, kHopperGemv}) {
    for (int m : {1, 8, 16, 17, 64, 65, 128, 512, 8192}) {
      for (int k : {8, 64, 256, 2048, 5504, 8200}) {
        const GemmPlan plan = PlanGemm(m, 3072, k, target);
        const int k_tiles = (k + gpu::kGemmTileK - 1) / gpu::kGemmTileK;
        ASSERT_GE(plan.splits, 1);
        // Every slice gets work and together they reach the last tile, no further.
        EXPECT_LT((plan.splits - 1) * plan.k_tiles_per_split, k_tiles) << m << "x" << k;
        EXPECT_GE(plan.splits * plan.k_tiles_per_split, k_tiles) << m << "x" << k;
      }
    }
  }
}

TEST(GemmPlanTest, TileShapeFollowsM) {
  EXPECT_EQ(PlanGemm(1, 2048, 2048, kAmpere).kernel, GemmKernel::kMmaSmall);
  EXPECT_EQ(PlanGemm(64, 2048, 2048, kAmpere).kernel, GemmKernel::kMmaMedium);
  EXPECT_EQ(PlanGemm(65, 2048, 2048, kAmpere).kernel, GemmKernel::kMmaLarge);
  // A decode step's 2048×2048 projection has 32 column tiles: it must split k
  // to reach a few blocks per SM; a prefill's fills the GPU on its own.
  const GemmPlan decode = PlanGemm(8, 2048, 2048, kAmpere);
  EXPECT_GT(decode.splits, 4);
  EXPECT_GE(decode.k_tiles_per_split, 2) << "each slice overlaps at least two loads";
  EXPECT_EQ(PlanGemm(8192, 11008, 2048, kAmpere).splits, 1);
}

TEST(GemmPlanTest, HopperTakesWgmmaForPrefillsOnly) {
  // Decode steps stay on the bandwidth-bound mma.sync kernels.
  EXPECT_EQ(PlanGemm(8, 2048, 2048, kHopper).kernel, GemmKernel::kMmaSmall);
  EXPECT_EQ(PlanGemm(64, 2048, 2048, kHopper).kernel, GemmKernel::kMmaMedium);
  // Large prefills fill many rounds: wide tiles, no k split.
  const GemmPlan large = PlanGemm(8192, 32000, 2048, kHopper);
  EXPECT_EQ(large.kernel, GemmKernel::kWgmmaWide);
  EXPECT_EQ(gpu::TileOf(large.kernel).n, 256);
  EXPECT_EQ(large.splits, 1);
  // 512 × 2048 has 32 wide tiles for 132 SMs: narrow tiles double the
  // blocks and a k split fills the rest of the round.
  const GemmPlan small = PlanGemm(512, 2048, 2048, kHopper);
  EXPECT_EQ(small.kernel, GemmKernel::kWgmmaNarrow);
  EXPECT_EQ(small.splits, 2);
  const int tiles = (512 / 128) * (2048 / 128);
  EXPECT_LE(tiles * small.splits, kHopper.multiprocessors) << "never a second, mostly empty round";
  EXPECT_EQ(small.blocks, tiles * small.splits);
  EXPECT_EQ(large.blocks, kHopper.multiprocessors) << "persistent: one block per SM";
}

TEST(GemmPlanTest, DecodeStepsTakeTheGemvWhereMmaTilesOverflowOneWave) {
  // granite-3.3-8b's projections. qkv, o and down: the 16 × 64 tiles' blocks
  // (576, 512, 576) all fit on 132 SMs at 5 each; gate_up's 800 do not, and
  // no mma.sync tile takes the odd vocabulary (49155).
  for (auto [n, k] : {std::pair{6144, 4096}, {4096, 4096}, {4096, 12800}}) {
    for (int m : {1, 8, 16}) EXPECT_EQ(PlanGemm(m, n, k, kHopperGemv).kernel, GemmKernel::kMmaSmall) << n << "x" << k;
  }
  for (auto [n, k] : {std::pair{25600, 4096}, {49155, 4096}}) {
    for (int m : {1, 4, 8, 9, 16}) {
      const GemmPlan plan = PlanGemm(m, n, k, kHopperGemv);
      ASSERT_EQ(plan.kernel, GemmKernel::kGemv) << m << "x" << n << "x" << k;
      const int k_tiles = (k + gpu::kGemmTileK - 1) / gpu::kGemmTileK;
      EXPECT_LT((plan.splits - 1) * plan.k_tiles_per_split, k_tiles);
      EXPECT_GE(plan.splits * plan.k_tiles_per_split, k_tiles);
      // Staged x (two batch tiles: 8 chunks of 16 bytes per k tile, up to 8 chunks of padding) fits.
      if (m > 8) {
        EXPECT_LE(m * (plan.k_tiles_per_split * 8 + 8) * 16, gpu::kGemvSharedBytes) << m << "x" << k;
      }
      const int row_blocks = (n + gpu::GemvRowsPerBlock(m) - 1) / gpu::GemvRowsPerBlock(m);
      EXPECT_EQ(plan.blocks, row_blocks * plan.splits);
      // Enough blocks to keep every SM's loads in flight, unless k is too short to split.
      EXPECT_TRUE(plan.blocks >= 2 * kHopperGemv.multiprocessors || plan.k_tiles_per_split <= 4)
          << m << "x" << n << "x" << k << ": " << plan.blocks << " blocks";
    }
  }
  EXPECT_EQ(PlanGemm(17, 25600, 4096, kHopperGemv).kernel, GemmKernel::kMmaMedium);
  // A part with less shared memory holds fewer blocks: the GEMV takes over sooner.
  gpu::GemmTarget small_shared = kHopperGemv;
  small_shared.shared_bytes_per_sm = 100 * 1024;
  EXPECT_EQ(PlanGemm(1, 6144, 4096, small_shared).kernel, GemmKernel::kGemv);
  // Without mma.sync's tiles at all, every decode shape the GEMV takes goes to it.
  EXPECT_EQ(PlanGemm(8, 4096, 4096, {132, false, false, true}).kernel, GemmKernel::kGemv);
  EXPECT_EQ(PlanGemm(8, 4096, 4100, kHopperGemv).kernel, GemmKernel::kSimt) << "k not a multiple of 8";
  // Without the GEMV (GAUNTLET_GPU_GEMV=0) decode steps plan as before.
  EXPECT_EQ(PlanGemm(8, 4096, 4096, kHopper).kernel, GemmKernel::kMmaSmall);
  EXPECT_EQ(PlanGemm(1, 49155, 4096, kHopper).kernel, GemmKernel::kSimt) << "odd n: no mma.sync tile takes it";
}

TEST(GemmPlanTest, ShapesTheTensorCoresCannotTakeFallBack) {
  for (const gpu::GemmTarget& target : {kAmpere, kHopper}) {
    EXPECT_EQ(PlanGemm(8, 2048, 2050, target).kernel, GemmKernel::kSimt) << "k not a multiple of 8";
    EXPECT_EQ(PlanGemm(512, 2047, 2048, target).kernel, GemmKernel::kSimt) << "odd n";
  }
  const GemmPlan hip = PlanGemm(8, 2048, 2048, kPortable);
  EXPECT_EQ(hip.kernel, GemmKernel::kSimt);
  EXPECT_EQ(hip.splits, 1);
}

TEST(BlockTablesTest, GrowTakesWholeBlocksAndReportsThem) {
  BlockTables tables(8, 16, 7);
  const int seq = tables.NewSequence();
  std::vector<int> taken;
  ASSERT_TRUE(tables.Grow(seq, 17, &taken).ok());
  EXPECT_EQ(taken.size(), 2u);
  EXPECT_EQ(tables.Table(seq), taken);
  taken.clear();
  ASSERT_TRUE(tables.Grow(seq, 15, &taken).ok());  // 32 tokens: still two blocks.
  EXPECT_TRUE(taken.empty());
  ASSERT_TRUE(tables.Grow(seq, 1, &taken).ok());
  EXPECT_EQ(taken.size(), 1u);
  EXPECT_EQ(tables.Length(seq), 33);
  EXPECT_EQ(tables.FreeBlocks(), 5);
}

TEST(BlockTablesTest, ExhaustionTakesNothingAndReleaseReturnsEverything) {
  BlockTables tables(4, 16, 3);
  const int a = tables.NewSequence(), b = tables.NewSequence();
  ASSERT_TRUE(tables.Grow(a, 48).ok());
  const Status refused = tables.Grow(b, 32);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("KV cache exhausted"), std::string::npos) << refused.message();
  EXPECT_EQ(tables.Length(b), 0);
  EXPECT_EQ(tables.FreeBlocks(), 1) << "a refused Grow takes no block";
  tables.Release(a);
  EXPECT_EQ(tables.FreeBlocks(), 4);
  ASSERT_TRUE(tables.Grow(b, 64).ok());
  const std::set<int> distinct(tables.Table(b).begin(), tables.Table(b).end());
  EXPECT_EQ(distinct.size(), 4u);
}

}  // namespace
}  // namespace gauntlet::worker
