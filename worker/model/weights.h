// A model's weights as one tensor-parallel rank holds them: attention heads
// and MLP columns split across ranks (column-parallel Q/K/V/gate/up,
// row-parallel O/down), everything else whole.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "worker/model/config.h"
#include "worker/model/dtype.h"

namespace gauntlet::worker {

struct LayerWeights {
  std::vector<float> attn_norm;     // [hidden]
  std::vector<float> wq, wk, wv;    // [local heads × head_dim, hidden]
  std::vector<float> wo;            // [hidden, local heads × head_dim]
  std::vector<float> ffn_norm;      // [hidden]
  std::vector<float> w_gate, w_up;  // [local intermediate, hidden]
  std::vector<float> w_down;        // [hidden, local intermediate]
};

struct ModelWeights {
  ModelConfig config;
  int tp_rank = 0;
  int tp_size = 1;
  std::vector<float> embed;       // [vocab, hidden]
  std::vector<float> final_norm;  // [hidden]
  std::vector<float> lm_head;     // [vocab, hidden]
  std::vector<LayerWeights> layers;

  int local_heads() const { return config.heads / tp_size; }
  int local_kv_heads() const { return config.kv_heads / tp_size; }
  int local_intermediate() const { return config.intermediate / tp_size; }
};

// Loads config.json and *.safetensors from `dir` (Hugging Face layout) for
// one rank. Every weight is rounded through `dtype`, which is what computing
// in that dtype does to the weights; fp32 leaves them as stored.
StatusOr<ModelWeights> LoadWeights(const std::string& dir, int tp_rank, int tp_size, DType dtype);

// Writes a small deterministic random model in that layout (for tests and the
// demo: no downloads exist on these machines).
Status WriteRandomModel(const std::string& dir, const ModelConfig& config, uint64_t seed, DType stored_as);

}  // namespace gauntlet::worker
