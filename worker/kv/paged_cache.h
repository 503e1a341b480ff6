// A paged KV cache in host memory: fixed-size blocks (16 tokens by default)
// from one pool, a block table per sequence (BlockTables).
//
// Storage is the model's dtype (values rounded through it) or fp8 e4m3 with a
// scale per block, layer, K/V and head: a block's scale follows its largest
// magnitude, and a token that raises it re-quantizes the block's earlier
// tokens, so every stored value keeps fp8's relative precision.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "worker/kv/block_tables.h"
#include "worker/model/dtype.h"

namespace gauntlet::worker {

struct KvCacheConfig {
  int layers = 1;
  int kv_heads = 1;
  int head_dim = 64;
  int block_size = 16;
  int num_blocks = 256;
  DType dtype = DType::kF32;  // kF8E4M3 selects the fp8 layout.
  uint64_t shuffle_seed = 42;
};

class PagedKvCache {
 public:
  explicit PagedKvCache(const KvCacheConfig& config);

  int NewSequence() { return tables_.NewSequence(); }
  // Makes room for `count` more tokens; fails when the pool is exhausted.
  Status Grow(int seq, int count);
  int Length(int seq) const { return tables_.Length(seq); }
  const std::vector<int>& BlockTable(int seq) const { return tables_.Table(seq); }
  int FreeBlocks() const { return tables_.FreeBlocks(); }
  // Returns a sequence's blocks to the pool.
  void Release(int seq) { tables_.Release(seq); }

  // Stores one token's K and V, each [kv_heads × head_dim].
  void Store(int layer, int seq, int pos, const float* k, const float* v);
  // Loads one head of one token, dequantized.
  void Load(int layer, int seq, int pos, int head, bool value, float* out) const;

  const KvCacheConfig& config() const { return config_; }

 private:
  size_t SlotIndex(int block, int layer, int kv, int head, int offset) const;
  size_t ScaleIndex(int block, int layer, int kv, int head) const;
  void StoreHead(int block, int layer, int kv, int head, int offset, const float* x);

  KvCacheConfig config_;
  std::vector<float> values_;     // Model-dtype layout.
  std::vector<uint8_t> fp8_;      // fp8 layout.
  std::vector<float> scales_;     // fp8: per block, layer, K/V, head.
  BlockTables tables_;
};

}  // namespace gauntlet::worker
