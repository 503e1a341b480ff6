// The moe suite's pure core: routing, the expert alignment, the cpu method
// against the per-token reference on ragged shapes, fp8 within its bound, and
// the best-config files' names and lookups; then the suite itself, with a
// fault in one expert and bad parameters.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "lib/moe/moe_params.h"
#include "worker/suites/moe/moe_layer.h"
#include "worker/suites/moe/tuned_configs.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::moe {
namespace {

namespace fs = std::filesystem;

TEST(MoeRoutingTest, TopKOfTheSoftmaxRenormalisedWithTiesToTheLowerExpert) {
  // Token 0: experts 2 and 0 tie below 3; token 1: all equal.
  const std::vector<float> logits = {1.0f, 0.0f, 1.0f, 2.0f, 0.5f, 0.5f, 0.5f, 0.5f};
  Routing routing = Route(logits, 2, 4, 2);
  EXPECT_EQ(routing.experts, (std::vector<int>{3, 0, 0, 1}));
  // softmax(2)/(softmax(2)+softmax(1)) = e/(e+1).
  EXPECT_NEAR(routing.weights[0], std::exp(1.0) / (std::exp(1.0) + 1.0), 1e-6);
  EXPECT_NEAR(routing.weights[0] + routing.weights[1], 1.0, 1e-6);
  EXPECT_NEAR(routing.weights[2], 0.5, 1e-6);

  // Against a naive top-k: for random logits, the chosen weights are the
  // largest probabilities and sum to one.
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-3, 3);
  std::vector<float> many(50 * 16);
  for (auto& v : many) v = uniform(random);
  Routing wide = Route(many, 50, 16, 5);
  for (int t = 0; t < 50; ++t) {
    std::vector<std::pair<float, int>> ranked;
    for (int e = 0; e < 16; ++e) ranked.push_back({-many[static_cast<size_t>(t * 16 + e)], e});
    std::sort(ranked.begin(), ranked.end());
    double total = 0;
    for (int s = 0; s < 5; ++s) {
      EXPECT_EQ(wide.experts[static_cast<size_t>(t * 5 + s)], ranked[static_cast<size_t>(s)].second);
      total += wide.weights[static_cast<size_t>(t * 5 + s)];
    }
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
}

TEST(MoeAlignTest, EachExpertsSlotsArePaddedToTheBlockAndEmptyExpertsLeftOut) {
  Routing routing;
  routing.topk = 2;
  routing.experts = {0, 2, 2, 0, 2, 3};  // 3 tokens; expert 1 gets none.
  routing.weights.assign(6, 0.5f);
  Alignment alignment = AlignByExpert(routing, 3, 4, 4);
  const int pad = 6;
  EXPECT_EQ(alignment.sorted_slots, (std::vector<int>{0, 3, pad, pad, 1, 2, 4, pad, 5, pad, pad, pad}));
  EXPECT_EQ(alignment.block_experts, (std::vector<int>{0, 2, 3}));
}

MoeWeights RandomWeights(const MoeShape& shape, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-0.1f, 0.1f);
  MoeWeights weights;
  weights.w1.resize(static_cast<size_t>(shape.experts) * 2 * shape.inter * shape.hidden);
  weights.w2.resize(static_cast<size_t>(shape.experts) * shape.hidden * shape.inter);
  for (auto& w : weights.w1) w = uniform(random);
  for (auto& w : weights.w2) w = uniform(random);
  return weights;
}

double Relative(const std::vector<float>& got, const std::vector<float>& want) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  return worst / scale;
}

TEST(MoeCpuMethodTest, MatchesTheReferenceOnRaggedShapes) {
  struct Case {
    MoeShape shape;
    int block_m;
  } cases[] = {
      {{13, 24, 40, 8, 2}, 4},     // tokens not a multiple of the block
      {{3, 16, 32, 64, 2}, 16},    // most experts get no token
      {{5, 8, 16, 4, 4}, 2},       // topk = experts
      {{1, 96, 128, 128, 8}, 16},  // the seed's decode row, narrowed
      {{64, 32, 48, 8, 2}, 128},   // one block holds every token of an expert
  };
  for (const auto& c : cases) {
    std::mt19937 random(11);
    std::uniform_real_distribution<float> uniform(-1, 1);
    std::vector<float> x(static_cast<size_t>(c.shape.tokens) * c.shape.hidden), logits(static_cast<size_t>(c.shape.tokens) * c.shape.experts);
    for (auto& v : x) v = uniform(random);
    for (auto& v : logits) v = uniform(random);
    const Routing routing = Route(logits, c.shape.tokens, c.shape.experts, c.shape.topk);
    const MoeWeights weights = RandomWeights(c.shape, 3);
    const auto reference = ReferenceMoe(x, weights, routing, c.shape);
    const auto cpu = CpuMoe(x, weights, routing, c.shape, c.block_m);
    EXPECT_LT(Relative(cpu, reference), 1e-5) << c.shape.tokens << " tokens, " << c.shape.experts << " experts";
  }
}

TEST(MoeConfigFileTest, NamesAndNearestKeysFollowVllm) {
  EXPECT_EQ(ConfigFileName(128, 96, "AMD Instinct MI308X", false), "E=128,N=96,device_name=AMD_Instinct_MI308X.json");
  EXPECT_EQ(ConfigFileName(8, 14336, "NVIDIA H200", true), "E=8,N=14336,device_name=NVIDIA_H200,dtype=fp8_w8a8.json");
  const auto file = nlohmann::json::parse(R"({"1": {"BLOCK_SIZE_M": 16}, "64": {"BLOCK_SIZE_M": 32},
                                               "1024": {"BLOCK_SIZE_M": 64}, "note": "ignored"})");
  int key = 0;
  EXPECT_EQ((*NearestConfig(file, 2, &key))["BLOCK_SIZE_M"], 16);
  EXPECT_EQ(key, 1);
  EXPECT_EQ((*NearestConfig(file, 544, &key))["BLOCK_SIZE_M"], 32) << "544 is 480 from 64 and from 1024: a tie";
  EXPECT_EQ(key, 64) << "a tie goes to the smaller key";
  EXPECT_EQ((*NearestConfig(file, 8192, &key))["BLOCK_SIZE_M"], 64);
  EXPECT_FALSE(NearestConfig(nlohmann::json::parse(R"({"x": 1})"), 4));
  EXPECT_EQ(DefaultConfig(1, 128)["BLOCK_SIZE_M"], 16);
  EXPECT_EQ(DefaultConfig(4096, 128)["BLOCK_SIZE_M"], 64);
}

class MoeSuiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gauntlet-moe-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  SuiteResult Run(nlohmann::json params, const std::string& name) {
    SuiteContext ctx;
    ctx.params = std::move(params);
    ctx.out_dir = (root_ / name).string();
    ctx.inputs_dir = (root_ / "in").string();
    fs::create_directories(ctx.out_dir);
    return RunMoe(ctx);
  }

  nlohmann::json Small() const {
    return {{"experts", 8}, {"topk", 2}, {"inter_dim", 32}, {"hidden_size", 64}, {"repeats", 2}};
  }

  fs::path root_;
};

TEST_F(MoeSuiteTest, Fp8StaysWithinItsBoundAndAFaultyExpertFails) {
  for (const char* scale : {"per_tensor", "per_channel"}) {
    auto params = Small();
    params.update({{"input_token", 33}, {"dtype", "float8_e4m3fn"}, {"scale", scale}});
    SuiteResult fp8 = Run(params, std::string("fp8-") + scale);
    EXPECT_TRUE(fp8.pass) << fp8.reason;
    EXPECT_GT(fp8.metrics["relative_error"], 1e-3) << "fp8 rounds: the error is real";
    EXPECT_LT(fp8.metrics["relative_error"], 0.1);
  }
  auto params = Small();
  params.update({{"input_token", 16}, {"fault", "expert"}});
  SuiteResult faulty = Run(params, "fault");
  EXPECT_FALSE(faulty.pass);
  EXPECT_NE(faulty.reason.find("cpu at 16 tokens is off the reference by"), std::string::npos) << faulty.reason;
}

TEST_F(MoeSuiteTest, AutotuneWritesTheVllmFileAndUsebestReadsTheNearestEntry) {
  auto params = Small();
  params.update({{"mode", "autotune"}, {"input_token", "1,48"}});
  SuiteResult tuned = Run(params, "tune");
  ASSERT_TRUE(tuned.pass) << tuned.reason;
  const std::string name = tuned.details["config_file_name"];
  EXPECT_EQ(name.rfind("E=8,N=32,device_name=", 0), 0u) << name;
  std::ifstream in(root_ / "tune" / name);
  const auto file = nlohmann::json::parse(in);
  ASSERT_TRUE(file.contains("1") && file.contains("48")) << file.dump();
  for (const char* key : {"BLOCK_SIZE_M", "time_ms", "spread_ms", "default_time_ms"}) EXPECT_TRUE(file["48"].contains(key)) << key;
  EXPECT_EQ(file["48"]["runner"]["gauntlet"], "0.1.0");
  EXPECT_GT(tuned.metrics["t48.speedup_over_default"], 0);

  // usebest without the file: the default, and the paths it looked at.
  params = Small();
  params.update({{"input_token", 40}, {"usebest", true}});
  SuiteResult fallback = Run(params, "no-file");
  ASSERT_TRUE(fallback.pass) << fallback.reason;
  EXPECT_TRUE(fallback.details["rows"][0]["config_source"]["config_file"].is_null());

  // With the autotune job's artifact among the inputs: the entry for 48.
  fs::create_directories(root_ / "in" / "autotune");
  fs::copy_file(root_ / "tune" / name, root_ / "in" / "autotune" / name);
  SuiteResult best = Run(params, "best");
  ASSERT_TRUE(best.pass) << best.reason;
  EXPECT_EQ(best.details["rows"][0]["config_source"]["config_tokens"], 48);
  EXPECT_EQ(best.details["rows"][0]["config"]["BLOCK_SIZE_M"], file["48"]["BLOCK_SIZE_M"]);
}

TEST_F(MoeSuiteTest, BenchmarkPrintsTheSeedsTableWithEveryMethodChecked) {
  auto params = Small();
  params.update({{"mode", "benchmark"}, {"input_token", "1,17"}, {"method", "cpu,reference"}});
  SuiteResult table = Run(params, "bench");
  ASSERT_TRUE(table.pass) << table.reason;
  for (const char* metric : {"cpu.t1.time_ms", "cpu.t17.time_ms", "reference.t17.time_ms", "cpu.t17.relative_error"}) {
    EXPECT_TRUE(table.metrics.contains(metric)) << metric;
  }
  std::ifstream in(root_ / "bench" / "moe_benchmark.txt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.rfind("moe-benchmark:\n   input_token        cpu  reference\n0          1.0 ", 0), 0u) << text;
}

TEST(MoeParamsTest, BadParametersAreRefusedNamingTheFix) {
  struct Case {
    nlohmann::json params;
    std::string message;
  } cases[] = {
      {{{"topk", 9}, {"experts", 8}}, "params.topk: 9 is more than experts (8)"},
      {{{"method", "aiter"}}, "params.method: 'aiter' is not a method; use reference, cpu or (backend gpu) naive or fused"},
      {{{"method", "fused"}}, "'fused' runs on the GPU; give the kernel entry backend: gpu"},
      {{{"method", "naive"}}, "'naive' runs on the GPU; give the kernel entry backend: gpu"},
      {{{"dtype", "float16"}}, "params.dtype: 'float16' is not one of bfloat16, float8_e4m3fn"},
      {{{"mode", "tune"}}, "params.mode: 'tune' is not one of autotune, benchmark, run"},
      {{{"input_token", "1,x"}}, "params.input_token: '1,x' must be a token count or a list"},
      {{{"blocks", 4}}, "params.blocks: unknown parameter of suite moe"},
      {{{"method", "cpu,reference"}}, "mode run takes one method"},
  };
  for (const auto& c : cases) {
    auto read = gauntlet::moe::ReadMoeParams(c.params, false);
    ASSERT_FALSE(read.has_value()) << c.message;
    EXPECT_NE(read.error().message().find(c.message), std::string::npos) << read.error().message();
  }
  auto seed = gauntlet::moe::ReadMoeParams({{"mode", "benchmark"}}, false);
  ASSERT_TRUE(seed.has_value());
  EXPECT_EQ(seed->tokens, (std::vector<int>{1, 1024, 2048, 4096, 8192})) << "the seed's rows";
  EXPECT_EQ(seed->experts, 128);
  EXPECT_EQ(seed->inter, 96);
  EXPECT_EQ(seed->hidden, 2048);
}

}  // namespace
}  // namespace gauntlet::worker::moe
