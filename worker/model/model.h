// What a generation loop needs from a model, whichever backend runs it: the
// CPU reference (LlamaModel) or a GPU (MakeGpuModel).
#pragma once

#include <vector>

#include "common/status.h"

namespace gauntlet::worker {

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
  virtual int vocab() const = 0;
};

}  // namespace gauntlet::worker
