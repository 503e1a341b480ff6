// A llama-style decoder on the CPU backend: RMSNorm, RoPE, grouped-query
// attention over the paged KV cache, SwiGLU MLP, granite multipliers.
// Tensor parallel over an MPI communicator: each rank holds its shard of the
// weights (ModelWeights) and the partial outputs of the O and down
// projections are summed with MPI_Allreduce, so every rank ends with the
// same hidden states and logits.
#pragma once

#include <vector>

#include <mpi.h>

#include "common/status.h"
#include "worker/kv/paged_cache.h"
#include "worker/model/model.h"
#include "worker/model/weights.h"

namespace gauntlet::worker {

class LlamaModel final : public Model {
 public:
  // `weights` must outlive the model; every rank of `comm` calls every method.
  LlamaModel(const ModelWeights& weights, MPI_Comm comm, KvCacheConfig cache);

  int NewSequence() override { return cache_.NewSequence(); }
  StatusOr<std::vector<float>> Prefill(int seq, const std::vector<int>& tokens) override;
  StatusOr<std::vector<float>> Decode(const std::vector<int>& seqs, const std::vector<int>& tokens) override;
  int vocab() const override { return weights_.config.vocab; }

  const PagedKvCache& cache() const { return cache_; }

 private:
  // Runs rows (token, sequence, position) through every layer; returns the
  // logits of the rows in `want`.
  std::vector<float> Forward(const std::vector<int>& tokens, const std::vector<int>& seqs,
                             const std::vector<int>& positions, const std::vector<int>& want);
  void AllReduce(std::vector<float>& values);

  const ModelWeights& weights_;
  MPI_Comm comm_;
  PagedKvCache cache_;
};

}  // namespace gauntlet::worker
