// The llm suite's checks on a job's parameters, run in-process: a bad
// request fails with the field, the value and the fix, before any work.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <mpi.h>

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

}  // namespace
}  // namespace gauntlet::worker
