// A llama-style decoder's shape, read from a Hugging Face config.json.
// Granite's multipliers are honoured when present.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gauntlet::worker {

struct ModelConfig {
  int hidden = 0;
  int layers = 0;
  int heads = 0;
  int kv_heads = 0;
  int intermediate = 0;
  int vocab = 0;
  int max_positions = 4096;
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  bool tie_embeddings = false;
  // Granite: x = embed × embedding_multiplier; h += residual_multiplier × f(h);
  // attention scores × attention_multiplier; logits / logits_scaling.
  float embedding_multiplier = 1.0f;
  float residual_multiplier = 1.0f;
  float attention_multiplier = 0.0f;  // 0: 1/sqrt(head_dim).
  float logits_scaling = 1.0f;

  int head_dim() const { return hidden / heads; }
  float attention_scale() const;
};

// Refuses configs that name no size or sizes that do not divide.
StatusOr<ModelConfig> ParseConfig(const nlohmann::json& json, const std::string& source);
nlohmann::json ConfigToJson(const ModelConfig& config);

}  // namespace gauntlet::worker
