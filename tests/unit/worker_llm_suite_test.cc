// The llm suite's checks on a job's parameters, run in-process: a bad
// request fails with the field, the value and the fix, before any work.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <mpi.h>
#include <nlohmann/json.hpp>

#include "worker/model/byte_level_bpe.h"
#include "worker/model/weights.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker {
namespace {

namespace fs = std::filesystem;

class LlmSuiteTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gauntlet-llm-suite-" + std::to_string(getpid()));
    ModelConfig config;
    config.hidden = 32, config.layers = 1, config.heads = 4, config.kv_heads = 2, config.intermediate = 64;
    config.vocab = 300;
    ASSERT_TRUE(WriteRandomModel((root_ / "model").string(), config, 1, DType::kF32).ok());
    fs::create_directories(root_ / "in" / "reference");
    // One 100-token prompt, as a reference stage would have written it.
    std::ofstream(root_ / "in" / "reference" / "prompts.json") << "{\"prompts\": [[" << [] {
      std::string tokens;
      for (int i = 0; i < 100; ++i) tokens += (i ? "," : "") + std::to_string(3 + i);
      return tokens;
    }() << "]]}";
    ctx_.comm = MPI_COMM_SELF;
    ctx_.out_dir = (root_ / "out").string();
    ctx_.inputs_dir = (root_ / "in").string();
    fs::create_directories(ctx_.out_dir);
    ctx_.params = {{"stage", "benchmark"}, {"model", (root_ / "model").string()}, {"dtype", "fp32"},
                   {"max_new_tokens", 8}, {"batch", 1}, {"prompt_len", 100}};
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  SuiteContext ctx_;
};

TEST_F(LlmSuiteTest, PromptsThatOverflowTheContextAreRefusedNamingTheField) {
  ctx_.params["context"] = 64;
  try {
    RunLlm(ctx_);
    FAIL() << "a 108-token run in a 64-token context must be refused";
  } catch (const BadParams& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("params.context: 64"), std::string::npos) << message;
    EXPECT_NE(message.find("108 tokens"), std::string::npos) << message;
    EXPECT_NE(message.find("raise the context"), std::string::npos) << message;
  }
}

TEST_F(LlmSuiteTest, AContextThatFitsRuns) {
  ctx_.params["context"] = 4096;
  SuiteResult result = RunLlm(ctx_);
  EXPECT_TRUE(result.pass) << result.reason;
  EXPECT_GT(result.metrics.at("tokens_per_s"), 0);
}

TEST_F(LlmSuiteTest, TheGpuBackendRefusesFp32) {
  ctx_.backend = "gpu";
  ctx_.params["context"] = 4096;
  try {
    RunLlm(ctx_);
    FAIL() << "fp32 on the gpu backend must be refused";
  } catch (const BadParams& e) {
    // A CPU-only build says how to get a GPU build; a GPU build names the dtype.
    const std::string message = e.what();
    EXPECT_TRUE(message.find("-DGAUNTLET_GPU") != std::string::npos || message.find("params.dtype") != std::string::npos)
        << message;
  }
}

TEST_F(LlmSuiteTest, AModelFolderWithTokenizerJsonTokenizesItsPromptsThroughIt) {
  // A Hugging Face folder ships tokenizer.json, not gauntlet_tokenizer: the
  // reference stage must read the dataset's text through it, BOS and all.
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[bpe::BytesToSymbols(std::string(1, static_cast<char>(b)))] = b;
  nlohmann::json tokenizer = {
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"added_tokens", {{{"id", 299}, {"content", "<|bos|>"}, {"special", true}}}},
      {"post_processor", nlohmann::json::parse(R"({"type": "TemplateProcessing",
           "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
           "special_tokens": {"<|bos|>": {"id": "<|bos|>", "ids": [299]}}})")},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array({"l l"})}}}};
  vocab["ll"] = 256;
  tokenizer["model"]["vocab"] = vocab;
  std::ofstream(root_ / "model" / "tokenizer.json") << tokenizer.dump();
  std::ofstream(root_ / "chats.json")
      << R"([{"conversations": [{"from": "human", "value": "Hello world"}, {"from": "gpt", "value": "hi"}]}])";
  ctx_.params["stage"] = "reference";
  ctx_.params["context"] = 4096;
  ctx_.params["prompt_len"] = 64;
  ctx_.params["dataset"] = {{"path", (root_ / "chats.json").string()}, {"type", "sharegpt"}};
  SuiteResult result = RunLlm(ctx_);
  ASSERT_TRUE(result.pass) << result.reason;
  std::ifstream written(fs::path(ctx_.out_dir) / "prompts.json");
  const auto prompts = nlohmann::json::parse(written).at("prompts");
  ASSERT_EQ(prompts.size(), 1u);
  // BOS, then bytes ('l','l' merged), the space as GPT-2's "Ġ" (byte 32).
  EXPECT_EQ(prompts[0].get<std::vector<int>>(), (std::vector<int>{299, 'H', 'e', 256, 'o', ' ', 'w', 'o', 'r', 'l', 'd'}));
}

}  // namespace
}  // namespace gauntlet::worker
