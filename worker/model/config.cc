#include "worker/model/config.h"

#include <cmath>

namespace gauntlet::worker {

float ModelConfig::attention_scale() const {
  return attention_multiplier > 0 ? attention_multiplier : 1.0f / std::sqrt(static_cast<float>(head_dim()));
}

StatusOr<ModelConfig> ParseConfig(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object()) return Err(Status::InvalidArgument(source + ": not a JSON object"));
  ModelConfig config;
  auto require = [&](const char* key, int* out) -> Status {
    if (!json.contains(key) || !json[key].is_number_integer() || json[key].get<int>() <= 0) {
      return Status::InvalidArgument(source + ": " + key + " must be a positive integer");
    }
    *out = json[key].get<int>();
    return Status::Ok();
  };
  GAUNTLET_RETURN_IF_ERROR(require("hidden_size", &config.hidden));
  GAUNTLET_RETURN_IF_ERROR(require("num_hidden_layers", &config.layers));
  GAUNTLET_RETURN_IF_ERROR(require("num_attention_heads", &config.heads));
  GAUNTLET_RETURN_IF_ERROR(require("intermediate_size", &config.intermediate));
  GAUNTLET_RETURN_IF_ERROR(require("vocab_size", &config.vocab));
  config.kv_heads = json.value("num_key_value_heads", config.heads);
  config.max_positions = json.value("max_position_embeddings", 4096);
  config.rms_eps = json.value("rms_norm_eps", 1e-5f);
  config.rope_theta = json.value("rope_theta", 10000.0f);
  config.tie_embeddings = json.value("tie_word_embeddings", false);
  config.embedding_multiplier = json.value("embedding_multiplier", 1.0f);
  config.residual_multiplier = json.value("residual_multiplier", 1.0f);
  config.attention_multiplier = json.value("attention_multiplier", 0.0f);
  config.logits_scaling = json.value("logits_scaling", 1.0f);
  if (config.hidden % config.heads != 0) {
    return Err(Status::InvalidArgument(source + ": hidden_size must be a multiple of num_attention_heads"));
  }
  if (config.kv_heads <= 0 || config.heads % config.kv_heads != 0) {
    return Err(Status::InvalidArgument(source + ": num_attention_heads must be a multiple of num_key_value_heads"));
  }
  return config;
}

nlohmann::json ConfigToJson(const ModelConfig& config) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", config.hidden},
          {"num_hidden_layers", config.layers},
          {"num_attention_heads", config.heads},
          {"num_key_value_heads", config.kv_heads},
          {"intermediate_size", config.intermediate},
          {"vocab_size", config.vocab},
          {"max_position_embeddings", config.max_positions},
          {"rms_norm_eps", config.rms_eps},
          {"rope_theta", config.rope_theta},
          {"tie_word_embeddings", config.tie_embeddings},
          {"torch_dtype", "float32"}};
}

}  // namespace gauntlet::worker
