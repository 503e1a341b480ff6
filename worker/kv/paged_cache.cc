#include "worker/kv/paged_cache.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace gauntlet::worker {

PagedKvCache::PagedKvCache(const KvCacheConfig& config)
    : config_(config), tables_(config.num_blocks, config.block_size, config.shuffle_seed) {
  const size_t slots = static_cast<size_t>(config.num_blocks) * config.layers * 2 * config.kv_heads *
                       config.block_size * config.head_dim;
  if (config.dtype == DType::kF8E4M3) {
    fp8_.assign(slots, 0);
    scales_.assign(static_cast<size_t>(config.num_blocks) * config.layers * 2 * config.kv_heads, 0.0f);
  } else {
    values_.assign(slots, 0.0f);
  }
}

Status PagedKvCache::Grow(int seq, int count) {
  std::vector<int> taken;
  GAUNTLET_RETURN_IF_ERROR(tables_.Grow(seq, count, &taken));
  // A reused block must not carry another sequence's fp8 scale.
  if (!scales_.empty()) {
    for (int block : taken) {
      for (int layer = 0; layer < config_.layers; ++layer) {
        for (int kv = 0; kv < 2; ++kv) {
          for (int head = 0; head < config_.kv_heads; ++head) scales_[ScaleIndex(block, layer, kv, head)] = 0.0f;
        }
      }
    }
  }
  return Status::Ok();
}

size_t PagedKvCache::SlotIndex(int block, int layer, int kv, int head, int offset) const {
  return ((((static_cast<size_t>(block) * config_.layers + layer) * 2 + kv) * config_.kv_heads + head) *
              config_.block_size + offset) * config_.head_dim;
}

size_t PagedKvCache::ScaleIndex(int block, int layer, int kv, int head) const {
  return ((static_cast<size_t>(block) * config_.layers + layer) * 2 + kv) * config_.kv_heads + head;
}

void PagedKvCache::StoreHead(int block, int layer, int kv, int head, int offset, const float* x) {
  const int d = config_.head_dim;
  uint8_t* slot = &fp8_[SlotIndex(block, layer, kv, head, offset)];
  float& scale = scales_[ScaleIndex(block, layer, kv, head)];
  float amax = 0;
  for (int i = 0; i < d; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float needed = amax / kF8E4M3Max;
  if (needed > scale) {
    // Re-quantize what the block already holds under the larger scale.
    if (scale > 0) {
      uint8_t* base = &fp8_[SlotIndex(block, layer, kv, head, 0)];
      for (int i = 0; i < config_.block_size * d; ++i) {
        base[i] = F32ToF8E4M3(F8E4M3ToF32(base[i]) * scale / needed);
      }
    }
    scale = needed;
  }
  for (int i = 0; i < d; ++i) slot[i] = scale > 0 ? F32ToF8E4M3(x[i] / scale) : 0;
}

void PagedKvCache::Store(int layer, int seq, int pos, const float* k, const float* v) {
  assert(pos < Length(seq) && "Grow the sequence before storing");
  const int block = tables_.Table(seq)[static_cast<size_t>(pos / config_.block_size)];
  const int offset = pos % config_.block_size;
  const int d = config_.head_dim;
  for (int kv = 0; kv < 2; ++kv) {
    const float* source = kv == 0 ? k : v;
    for (int head = 0; head < config_.kv_heads; ++head) {
      const float* x = source + static_cast<size_t>(head) * d;
      if (config_.dtype == DType::kF8E4M3) {
        StoreHead(block, layer, kv, head, offset, x);
      } else {
        float* slot = &values_[SlotIndex(block, layer, kv, head, offset)];
        for (int i = 0; i < d; ++i) slot[i] = RoundTrip(x[i], config_.dtype);
      }
    }
  }
}

void PagedKvCache::Load(int layer, int seq, int pos, int head, bool value, float* out) const {
  const int block = tables_.Table(seq)[static_cast<size_t>(pos / config_.block_size)];
  const int offset = pos % config_.block_size;
  const int kv = value ? 1 : 0;
  const size_t slot = SlotIndex(block, layer, kv, head, offset);
  if (config_.dtype == DType::kF8E4M3) {
    const float scale = scales_[ScaleIndex(block, layer, kv, head)];
    for (int i = 0; i < config_.head_dim; ++i) out[i] = F8E4M3ToF32(fp8_[slot + i]) * scale;
  } else {
    std::copy_n(&values_[slot], config_.head_dim, out);
  }
}

}  // namespace gauntlet::worker
