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
using gpu::PlanGemm;

TEST(GemmPlanTest, SlicesCoverEveryTileOfKExactlyOnce) {
  for (int m : {1, 8, 16, 17, 64, 65, 512, 8192}) {
    for (int k : {8, 64, 256, 2048, 5504, 8200}) {
      const GemmPlan plan = PlanGemm(m, 3072, k, 132, true);
      const int k_tiles = (k + gpu::kGemmTileK - 1) / gpu::kGemmTileK;
      ASSERT_GE(plan.splits, 1);
      // Every slice gets work and together they reach the last tile, no further.
      EXPECT_LT((plan.splits - 1) * plan.k_tiles_per_split, k_tiles) << m << "x" << k;
      EXPECT_GE(plan.splits * plan.k_tiles_per_split, k_tiles) << m << "x" << k;
    }
  }
}

TEST(GemmPlanTest, TileShapeFollowsRowsAndSkinnyProductsSplitK) {
  EXPECT_EQ(PlanGemm(1, 2048, 2048, 132, true).config, 0);
  EXPECT_EQ(PlanGemm(64, 2048, 2048, 132, true).config, 1);
  EXPECT_EQ(PlanGemm(65, 2048, 2048, 132, true).config, 2);
  // A decode step's 2048×2048 projection has 32 column tiles: it must split k
  // to reach a few blocks per SM; a prefill's fills the GPU on its own.
  const GemmPlan decode = PlanGemm(8, 2048, 2048, 132, true);
  EXPECT_GT(decode.splits, 4);
  EXPECT_GE(decode.k_tiles_per_split, 2) << "each slice overlaps at least two loads";
  EXPECT_EQ(PlanGemm(8192, 11008, 2048, 132, true).splits, 1);
}

TEST(GemmPlanTest, ShapesTheTensorCoresCannotTakeFallBack) {
  EXPECT_EQ(PlanGemm(8, 2048, 2050, 132, true).config, 3) << "k not a multiple of 8";
  EXPECT_EQ(PlanGemm(8, 2047, 2048, 132, true).config, 3) << "odd n";
  const GemmPlan hip = PlanGemm(8, 2048, 2048, 132, false);
  EXPECT_EQ(hip.config, 3);
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
