// The bookkeeping half of a paged KV cache: a pool of fixed-size blocks and
// a block table per sequence. The CPU cache and the GPU model share it; each
// keeps the blocks' contents its own way.
//
// Blocks are handed out in a shuffled order, as real allocators end up doing,
// so nothing may assume a sequence's blocks are contiguous.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace gauntlet::worker {

class BlockTables {
 public:
  BlockTables(int num_blocks, int block_size, uint64_t shuffle_seed);

  int NewSequence();
  // Makes room for `count` more tokens; fails, taking nothing, when the pool
  // is exhausted. Blocks taken are appended to `taken` when given.
  Status Grow(int seq, int count, std::vector<int>* taken = nullptr);
  // Returns a sequence's blocks to the pool.
  void Release(int seq);

  int Length(int seq) const { return lengths_[static_cast<size_t>(seq)]; }
  const std::vector<int>& Table(int seq) const { return tables_[static_cast<size_t>(seq)]; }
  int FreeBlocks() const { return static_cast<int>(free_.size()); }
  int block_size() const { return block_size_; }
  int num_blocks() const { return num_blocks_; }

 private:
  int num_blocks_;
  int block_size_;
  std::vector<int> free_;
  std::vector<std::vector<int>> tables_;
  std::vector<int> lengths_;
};

}  // namespace gauntlet::worker
