#include "worker/kv/block_tables.h"

#include <algorithm>
#include <random>

namespace gauntlet::worker {

BlockTables::BlockTables(int num_blocks, int block_size, uint64_t shuffle_seed)
    : num_blocks_(num_blocks), block_size_(block_size) {
  free_.resize(static_cast<size_t>(num_blocks));
  for (int i = 0; i < num_blocks; ++i) free_[static_cast<size_t>(i)] = i;
  std::shuffle(free_.begin(), free_.end(), std::mt19937_64(shuffle_seed));
}

int BlockTables::NewSequence() {
  tables_.emplace_back();
  lengths_.push_back(0);
  return static_cast<int>(tables_.size()) - 1;
}

Status BlockTables::Grow(int seq, int count, std::vector<int>* taken) {
  auto& table = tables_[static_cast<size_t>(seq)];
  int& length = lengths_[static_cast<size_t>(seq)];
  const int needed = (length + count + block_size_ - 1) / block_size_ - static_cast<int>(table.size());
  if (needed > static_cast<int>(free_.size())) {
    return Status::Unavailable("KV cache exhausted: " + std::to_string(needed) + " blocks needed, " +
                               std::to_string(free_.size()) + " free; compile for a larger context");
  }
  for (int i = 0; i < needed; ++i) {
    table.push_back(free_.back());
    if (taken) taken->push_back(free_.back());
    free_.pop_back();
  }
  length += count;
  return Status::Ok();
}

void BlockTables::Release(int seq) {
  for (int block : tables_[static_cast<size_t>(seq)]) free_.push_back(block);
  tables_[static_cast<size_t>(seq)].clear();
  lengths_[static_cast<size_t>(seq)] = 0;
}

}  // namespace gauntlet::worker
