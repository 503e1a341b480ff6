#include "worker/model/weights.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "worker/model/safetensors.h"

namespace gauntlet::worker {
namespace fs = std::filesystem;

namespace {

std::string LayerName(int layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

// Finds which file holds each tensor (models come in one or many shards).
class WeightFiles {
 public:
  static StatusOr<WeightFiles> Open(const std::string& dir) {
    WeightFiles files;
    std::error_code ec;
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".safetensors") paths.push_back(entry.path());
    }
    if (paths.empty()) return Err(Status::NotFound(dir + ": no *.safetensors files"));
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
      auto file = SafetensorsFile::Open(path.string());
      if (!file) return Err(file.error());
      files.files_.push_back(std::move(*file));
    }
    return files;
  }

  StatusOr<Tensor> Read(const std::string& name, int64_t row_begin = 0, int64_t row_end = -1, int64_t col_begin = 0,
                        int64_t col_end = -1) const {
    for (const auto& file : files_) {
      if (file.Has(name)) return file.Read(name, row_begin, row_end, col_begin, col_end);
    }
    return Err(Status::NotFound("no tensor " + name + " in the model's safetensors files"));
  }

 private:
  std::vector<SafetensorsFile> files_;
};

Status Take(StatusOr<Tensor> tensor, DType dtype, std::vector<float>* out) {
  if (!tensor) return tensor.error();
  *out = std::move(tensor->data);
  if (dtype != DType::kF32) {
    std::vector<float>& values = *out;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < values.size(); ++i) values[i] = RoundTrip(values[i], dtype);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<ModelWeights> LoadWeights(const std::string& dir, int tp_rank, int tp_size, DType dtype) {
  std::ifstream config_file(dir + "/config.json");
  if (!config_file) return Err(Status::NotFound(dir + "/config.json: cannot open; is this a Hugging Face model folder?"));
  auto config = ParseConfig(nlohmann::json::parse(config_file, nullptr, false), dir + "/config.json");
  if (!config) return Err(config.error());
  if (config->heads % tp_size != 0 || config->kv_heads % tp_size != 0 || config->intermediate % tp_size != 0) {
    return Err(Status::InvalidArgument("tensor-parallel size " + std::to_string(tp_size) + " must divide the heads (" +
                                       std::to_string(config->heads) + "), KV heads (" + std::to_string(config->kv_heads) +
                                       ") and intermediate size (" + std::to_string(config->intermediate) + ")"));
  }
  auto files = WeightFiles::Open(dir);
  if (!files) return Err(files.error());
  ModelWeights weights;
  weights.config = *config;
  weights.tp_rank = tp_rank;
  weights.tp_size = tp_size;
  const int64_t head_dim = config->head_dim();
  const int64_t q_rows = weights.local_heads() * head_dim, kv_rows = weights.local_kv_heads() * head_dim;
  const int64_t inter = weights.local_intermediate();

  GAUNTLET_RETURN_IF_ERROR(Take(files->Read("model.embed_tokens.weight"), dtype, &weights.embed));
  GAUNTLET_RETURN_IF_ERROR(Take(files->Read("model.norm.weight"), dtype, &weights.final_norm));
  if (config->tie_embeddings) {
    weights.lm_head = weights.embed;
  } else {
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read("lm_head.weight"), dtype, &weights.lm_head));
  }
  weights.layers.resize(static_cast<size_t>(config->layers));
  for (int l = 0; l < config->layers; ++l) {
    LayerWeights& layer = weights.layers[static_cast<size_t>(l)];
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "input_layernorm.weight")), dtype, &layer.attn_norm));
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "post_attention_layernorm.weight")), dtype, &layer.ffn_norm));
    // Column-parallel: this rank's output rows.
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "self_attn.q_proj.weight"), tp_rank * q_rows,
                                              (tp_rank + 1) * q_rows), dtype, &layer.wq));
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "self_attn.k_proj.weight"), tp_rank * kv_rows,
                                              (tp_rank + 1) * kv_rows), dtype, &layer.wk));
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "self_attn.v_proj.weight"), tp_rank * kv_rows,
                                              (tp_rank + 1) * kv_rows), dtype, &layer.wv));
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "mlp.gate_proj.weight"), tp_rank * inter,
                                              (tp_rank + 1) * inter), dtype, &layer.w_gate));
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "mlp.up_proj.weight"), tp_rank * inter,
                                              (tp_rank + 1) * inter), dtype, &layer.w_up));
    // Row-parallel: this rank's input columns.
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "self_attn.o_proj.weight"), 0, -1, tp_rank * q_rows,
                                              (tp_rank + 1) * q_rows), dtype, &layer.wo));
    GAUNTLET_RETURN_IF_ERROR(Take(files->Read(LayerName(l, "mlp.down_proj.weight"), 0, -1, tp_rank * inter,
                                              (tp_rank + 1) * inter), dtype, &layer.w_down));
  }
  return weights;
}

Status WriteRandomModel(const std::string& dir, const ModelConfig& config, uint64_t seed, DType stored_as) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create " + dir + ": " + ec.message());
  std::mt19937_64 random(seed);
  // Scaled like a trained model's init so activations stay in range over
  // layers. Each matrix draws in chunks of its own seeding, so an 8B-shaped
  // model fills on every core and is the same for any number of them.
  auto matrix = [&](int64_t rows, int64_t cols) {
    constexpr int64_t kChunk = 1 << 16;
    const uint64_t matrix_seed = random();
    const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
    Tensor tensor{{rows, cols}, std::vector<float>(static_cast<size_t>(rows * cols))};
    const int64_t size = rows * cols, chunks = (size + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      std::seed_seq seeds{static_cast<uint32_t>(matrix_seed), static_cast<uint32_t>(matrix_seed >> 32),
                          static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32)};
      std::mt19937_64 chunk_random(seeds);
      std::normal_distribution<float> normal(0.0f, scale);
      for (int64_t i = c * kChunk; i < std::min(size, (c + 1) * kChunk); ++i) {
        tensor.data[static_cast<size_t>(i)] = normal(chunk_random);
      }
    }
    return tensor;
  };
  auto norm = [&](int64_t size) {
    std::uniform_real_distribution<float> uniform(0.8f, 1.2f);
    Tensor tensor{{size}, std::vector<float>(static_cast<size_t>(size))};
    for (float& value : tensor.data) value = uniform(random);
    return tensor;
  };
  const int64_t head_dim = config.head_dim();
  std::map<std::string, Tensor> tensors;
  tensors["model.embed_tokens.weight"] = matrix(config.vocab, config.hidden);
  std::vector<float>& embed = tensors["model.embed_tokens.weight"].data;
  const float embed_scale = std::sqrt(static_cast<float>(config.hidden));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < embed.size(); ++i) embed[i] *= embed_scale;
  for (int l = 0; l < config.layers; ++l) {
    tensors[LayerName(l, "input_layernorm.weight")] = norm(config.hidden);
    tensors[LayerName(l, "post_attention_layernorm.weight")] = norm(config.hidden);
    tensors[LayerName(l, "self_attn.q_proj.weight")] = matrix(config.heads * head_dim, config.hidden);
    tensors[LayerName(l, "self_attn.k_proj.weight")] = matrix(config.kv_heads * head_dim, config.hidden);
    tensors[LayerName(l, "self_attn.v_proj.weight")] = matrix(config.kv_heads * head_dim, config.hidden);
    tensors[LayerName(l, "self_attn.o_proj.weight")] = matrix(config.hidden, config.heads * head_dim);
    tensors[LayerName(l, "mlp.gate_proj.weight")] = matrix(config.intermediate, config.hidden);
    tensors[LayerName(l, "mlp.up_proj.weight")] = matrix(config.intermediate, config.hidden);
    tensors[LayerName(l, "mlp.down_proj.weight")] = matrix(config.hidden, config.intermediate);
  }
  tensors["model.norm.weight"] = norm(config.hidden);
  if (!config.tie_embeddings) tensors["lm_head.weight"] = matrix(config.vocab, config.hidden);
  GAUNTLET_RETURN_IF_ERROR(WriteSafetensors(dir + "/model.safetensors", tensors, stored_as));
  nlohmann::json config_json = ConfigToJson(config);
  config_json["gauntlet_tokenizer"] = "bytes";
  std::ofstream(dir + "/config.json") << config_json.dump(2) << "\n";
  return Status::Ok();
}

}  // namespace gauntlet::worker
