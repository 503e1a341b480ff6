// The CPU model against a naive straight-line implementation written here
// from the definitions (contiguous cache, no paging, no threads), on a tiny
// random model in the Hugging Face layout.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <mpi.h>

#include "worker/model/gpu_model.h"
#include "worker/model/llama.h"
#include "worker/model/weights.h"

namespace gauntlet::worker {
namespace {

ModelConfig Tiny() {
  ModelConfig config;
  config.hidden = 64;
  config.layers = 2;
  config.heads = 8;
  config.kv_heads = 2;
  config.intermediate = 96;
  config.vocab = 300;
  config.max_positions = 512;
  return config;
}

// Straight from the definitions: all positions recomputed from scratch.
std::vector<float> NaiveLastLogits(const ModelWeights& w, const std::vector<int>& tokens) {
  const ModelConfig& c = w.config;
  const int n = static_cast<int>(tokens.size()), d = c.hidden, hd = c.head_dim();
  std::vector<std::vector<float>> x(static_cast<size_t>(n), std::vector<float>(static_cast<size_t>(d)));
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < d; ++i) x[t][i] = w.embed[static_cast<size_t>(tokens[t]) * d + i];
  }
  auto norm = [&](const std::vector<float>& v, const std::vector<float>& g) {
    double s = 0;
    for (float a : v) s += a * a;
    float r = 1.0f / std::sqrt(static_cast<float>(s / v.size()) + c.rms_eps);
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] * r * g[i];
    return out;
  };
  auto linear = [](const std::vector<float>& v, const std::vector<float>& m, int rows) {
    std::vector<float> out(static_cast<size_t>(rows), 0);
    for (int r = 0; r < rows; ++r) {
      for (size_t i = 0; i < v.size(); ++i) out[r] += v[i] * m[r * v.size() + i];
    }
    return out;
  };
  auto rope = [&](std::vector<float>& v, int heads, int pos) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < hd / 2; ++i) {
        double angle = pos * std::pow(c.rope_theta, -2.0 * i / hd);
        float a = v[h * hd + i], b = v[h * hd + i + hd / 2];
        v[h * hd + i] = a * std::cos(angle) - b * std::sin(angle);
        v[h * hd + i + hd / 2] = b * std::cos(angle) + a * std::sin(angle);
      }
    }
  };
  for (int l = 0; l < c.layers; ++l) {
    const LayerWeights& L = w.layers[l];
    std::vector<std::vector<float>> q(n), k(n), v(n);
    for (int t = 0; t < n; ++t) {
      auto h = norm(x[t], L.attn_norm);
      q[t] = linear(h, L.wq, c.heads * hd);
      k[t] = linear(h, L.wk, c.kv_heads * hd);
      v[t] = linear(h, L.wv, c.kv_heads * hd);
      rope(q[t], c.heads, t);
      rope(k[t], c.kv_heads, t);
    }
    for (int t = 0; t < n; ++t) {
      std::vector<float> attn(static_cast<size_t>(c.heads * hd), 0);
      for (int h = 0; h < c.heads; ++h) {
        int g = h / (c.heads / c.kv_heads);
        std::vector<double> scores;
        double mx = -1e30;
        for (int s = 0; s <= t; ++s) {
          double dot = 0;
          for (int i = 0; i < hd; ++i) dot += q[t][h * hd + i] * k[s][g * hd + i];
          scores.push_back(dot / std::sqrt(hd));
          mx = std::max(mx, scores.back());
        }
        double z = 0;
        for (double& s : scores) z += (s = std::exp(s - mx));
        for (int s = 0; s <= t; ++s) {
          for (int i = 0; i < hd; ++i) attn[h * hd + i] += static_cast<float>(scores[s] / z) * v[s][g * hd + i];
        }
      }
      auto o = linear(attn, L.wo, d);
      for (int i = 0; i < d; ++i) x[t][i] += o[i];
      auto h2 = norm(x[t], L.ffn_norm);
      auto gate = linear(h2, L.w_gate, c.intermediate), up = linear(h2, L.w_up, c.intermediate);
      for (int i = 0; i < c.intermediate; ++i) gate[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
      auto down = linear(gate, L.w_down, d);
      for (int i = 0; i < d; ++i) x[t][i] += down[i];
    }
  }
  return linear(norm(x[n - 1], w.final_norm), w.lm_head, c.vocab);
}

class ModelTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("gauntlet-model-" + std::to_string(getpid()))).string();
    ASSERT_TRUE(WriteRandomModel(dir_, Tiny(), 1, DType::kF32).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ModelTest, PagedModelMatchesTheNaiveImplementation) {
  auto weights = LoadWeights(dir_, 0, 1, DType::kF32);
  ASSERT_TRUE(weights.has_value()) << weights.error().ToString();
  LlamaModel model(*weights, MPI_COMM_SELF, KvCacheConfig{0, 0, 0, 16, 64, DType::kF32, 9});
  std::vector<int> prompt = {5, 17, 200, 3, 99, 42, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};  // Crosses a block.
  int seq = model.NewSequence();
  auto logits = model.Prefill(seq, prompt);
  ASSERT_TRUE(logits.has_value());
  auto naive = NaiveLastLogits(*weights, prompt);
  for (int i = 0; i < Tiny().vocab; ++i) ASSERT_NEAR((*logits)[i], naive[i], 2e-3f) << i;
  // Decoding two more tokens equals recomputing everything from scratch.
  for (int next : {77, 123}) {
    prompt.push_back(next);
    auto step = model.Decode({seq}, {next});
    ASSERT_TRUE(step.has_value());
    auto expected = NaiveLastLogits(*weights, prompt);
    for (int i = 0; i < Tiny().vocab; ++i) ASSERT_NEAR((*step)[i], expected[i], 2e-3f) << i;
  }
}

TEST_F(ModelTest, BatchedDecodeEqualsOneSequenceAtATime) {
  auto weights = LoadWeights(dir_, 0, 1, DType::kF32);
  ASSERT_TRUE(weights.has_value());
  LlamaModel batched(*weights, MPI_COMM_SELF, KvCacheConfig{0, 0, 0, 16, 64, DType::kF32, 1});
  LlamaModel single(*weights, MPI_COMM_SELF, KvCacheConfig{0, 0, 0, 16, 64, DType::kF32, 2});
  int a = batched.NewSequence(), b = batched.NewSequence();
  ASSERT_TRUE(batched.Prefill(a, {1, 2, 3}).has_value());
  ASSERT_TRUE(batched.Prefill(b, {9, 8, 7, 6, 5}).has_value());
  auto both = batched.Decode({a, b}, {4, 4});
  int s = single.NewSequence();
  ASSERT_TRUE(single.Prefill(s, {9, 8, 7, 6, 5}).has_value());
  auto alone = single.Decode({s}, {4});
  for (int i = 0; i < Tiny().vocab; ++i) ASSERT_NEAR((*both)[Tiny().vocab + i], (*alone)[i], 1e-4f);
}

TEST_F(ModelTest, GreedyStepPicksEachSequencesArgmax) {
  auto weights = LoadWeights(dir_, 0, 1, DType::kF32);
  ASSERT_TRUE(weights.has_value());
  LlamaModel logits_model(*weights, MPI_COMM_SELF, KvCacheConfig{0, 0, 0, 16, 64, DType::kF32, 1});
  LlamaModel greedy_model(*weights, MPI_COMM_SELF, KvCacheConfig{0, 0, 0, 16, 64, DType::kF32, 1});
  std::vector<int> seqs;
  for (const std::vector<int>& prompt : {std::vector<int>{1, 2, 3}, std::vector<int>{40, 50, 60, 70}}) {
    seqs.push_back(logits_model.NewSequence());
    greedy_model.NewSequence();
    ASSERT_TRUE(logits_model.Prefill(seqs.back(), prompt).has_value());
    ASSERT_TRUE(greedy_model.Prefill(seqs.back(), prompt).has_value());
  }
  auto logits = logits_model.Decode(seqs, {7, 8});
  auto next = greedy_model.DecodeGreedy(seqs, {7, 8});
  ASSERT_TRUE(logits.has_value() && next.has_value());
  ASSERT_EQ(next->size(), 2u);
  for (size_t row = 0; row < 2; ++row) {
    const float* begin = logits->data() + row * Tiny().vocab;
    EXPECT_EQ((*next)[row], std::max_element(begin, begin + Tiny().vocab) - begin) << row;
  }
}

#if !defined(GAUNTLET_GPU_CUDA) && !defined(GAUNTLET_GPU_HIP)
TEST_F(ModelTest, ACpuOnlyWorkerRefusesTheGpuBackendSayingHowToBuildOne) {
  auto weights = LoadWeights(dir_, 0, 1, DType::kBF16);
  ASSERT_TRUE(weights.has_value());
  auto model = MakeGpuModel(*weights, DType::kBF16, MPI_COMM_SELF, KvCacheConfig{}, {});
  ASSERT_FALSE(model.has_value());
  EXPECT_NE(model.error().message().find("-DGAUNTLET_GPU=cuda"), std::string::npos) << model.error().message();
}
#endif

TEST_F(ModelTest, ReducedPrecisionStaysCloseToFp32) {
  auto exact = LoadWeights(dir_, 0, 1, DType::kF32);
  auto half = LoadWeights(dir_, 0, 1, DType::kBF16);
  ASSERT_TRUE(exact.has_value() && half.has_value());
  LlamaModel a(*exact, MPI_COMM_SELF, KvCacheConfig{0, 0, 0, 16, 64, DType::kF32, 1});
  LlamaModel b(*half, MPI_COMM_SELF, KvCacheConfig{0, 0, 0, 16, 64, DType::kF8E4M3, 1});
  auto la = a.Prefill(a.NewSequence(), {1, 2, 3, 4, 5, 6, 7, 8});
  auto lb = b.Prefill(b.NewSequence(), {1, 2, 3, 4, 5, 6, 7, 8});
  double diff = 0, scale = 0;
  for (int i = 0; i < Tiny().vocab; ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs((*la)[i] - (*lb)[i])));
    scale = std::max(scale, static_cast<double>(std::fabs((*la)[i])));
  }
  EXPECT_GT(diff, 0) << "bf16 weights and an fp8 cache must change something";
  EXPECT_LT(diff, 0.1 * scale) << "but not much";
}

TEST_F(ModelTest, RefusesATensorParallelSizeThatDoesNotDivide) {
  auto weights = LoadWeights(dir_, 0, 3, DType::kF32);
  ASSERT_FALSE(weights.has_value());
  EXPECT_NE(weights.error().message().find("tensor-parallel size 3 must divide"), std::string::npos);
}

}  // namespace
}  // namespace gauntlet::worker
