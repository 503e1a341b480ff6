// What a generation loop needs from a model, whichever backend runs it: the
// CPU reference (LlamaModel) or a GPU (MakeGpuModel).
#pragma once

#include <algorithm>
#include <vector>

#include "common/status.h"

namespace gauntlet::worker {

// The index of the largest logit (the first, on ties): a greedy pick.
inline int Argmax(const float* logits, int vocab) {
  return static_cast<int>(std::max_element(logits, logits + vocab) - logits);
}

class Model {
 public:
  virtual ~Model() = default;
  // A new, empty sequence in the model's paged KV cache.
  virtual int NewSequence() = 0;
  // Runs a prompt through the model, filling the sequence's cache, and
  // returns the logits of its last position ([vocab]).
  virtual StatusOr<std::vector<float>> Prefill(int seq, const std::vector<int>& tokens) = 0;
  // One decode step: one token per sequence; returns [sequences × vocab].
  virtual StatusOr<std::vector<float>> Decode(const std::vector<int>& seqs, const std::vector<int>& tokens) = 0;
  // One greedy step: each sequence's most likely next token, for callers that
  // do not keep the logits (benchmarks); a GPU picks them on the device.
  virtual StatusOr<std::vector<int>> DecodeGreedy(const std::vector<int>& seqs, const std::vector<int>& tokens) {
    auto logits = Decode(seqs, tokens);
    if (!logits) return Err(logits.error());
    std::vector<int> next(seqs.size());
    for (size_t i = 0; i < seqs.size(); ++i) next[i] = Argmax(logits->data() + i * static_cast<size_t>(vocab()), vocab());
    return next;
  }
  virtual int vocab() const = 0;
};

}  // namespace gauntlet::worker
