// A model sweep end to end on CPU devices: a tiny model made by
// gauntlet-worker make-model goes through reference, compile, run (under
// mpirun for TP=2), validate and benchmark; a second submission reuses the
// cached references and compiles.
#include <fstream>

#include <gtest/gtest.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

TEST(LlmSweepTest, TinyModelPassesEveryStageAndReusesTheCache) {
  Farm farm("llm-sweep");
  CliResult made = Farm::Run({Farm::BinDir() + "/gauntlet-worker", "make-model", "--out", farm.dir() + "/tiny",
                              "--layers", "2", "--hidden", "128", "--heads", "8", "--kv-heads", "2", "--vocab", "512"},
                             farm.dir() + "/make-model.log");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::ofstream(farm.dir() + "/criteria.json")
      << R"({"programs": [{"max_batch": 2, "max_tkv": 512, "batch_granularity": 1, "tkv_granularity": 64}]})";
  std::string spec = farm.dir() + "/llm.yaml";
  std::ofstream(spec) << "name: tiny-llm\nmax_attempts: 1\ntimeout: 5m\n"
                         "models:\n  - {variant: " << farm.dir() << "/tiny, dtypes: [fp32, bf16], tp: [1, 2], "
                         "attention: [paged, paged_fp8]}\n"
                         "context_lengths: [{context: 512, max_batch: 2}]\n"
                         "programs: {criteria: criteria.json, select: [\"0:2,==192\"]}\n"
                         "datasets: [{type: sharegpt, path: " << GAUNTLET_SOURCE_DIR << "/examples/datasets/sharegpt-mini.json}]\n"
                         "test: {type: metrics, max_new_tokens: 4, cross_entropy_threshold: 10, failure_rate_threshold: 0.5}\n";
  farm.StartCoordinator("5s");
  farm.StartAgent("a", "cpu:2");
  farm.StartAgent("b", "cpu:2");
  CliResult first = farm.Cli({"submit", "--wait", spec});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // 1 reference + 8 compiles + 8 runs + 8 validations + 8 benchmarks.
  EXPECT_NE(first.output.find("succeeded=33"), std::string::npos) << first.output;

  bool saw_validate = false, saw_tp2 = false;
  for (const auto& listed : farm.Jobs(1)) {
    v1::Job job = farm.Job(listed.id());
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.name() << ": " << job.reason();
    if (job.stage() == "validate") {
      saw_validate = true;
      EXPECT_EQ(job.verdict(), "pass");
      EXPECT_EQ(job.metrics().at("steps"), 8) << "2 sequences × 4 tokens";
      EXPECT_LT(job.metrics().at("failure_rate"), 0.5);
    }
    if (job.stage() == "run" && job.labels().at("tp") == "2") {
      saw_tp2 = true;
      EXPECT_EQ(job.device_indices_size(), 2);
      EXPECT_GT(job.metrics().at("ttft_ms"), 0);
      bool has_logits = false;
      for (const auto& artifact : job.artifacts()) has_logits |= artifact.name() == "logits.npy";
      EXPECT_TRUE(has_logits);
    }
  }
  EXPECT_TRUE(saw_validate && saw_tp2);

  CliResult second = farm.Cli({"submit", "--wait", spec});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("cached=9"), std::string::npos) << "the reference and the 8 compiles: " << second.output;
}

}  // namespace
}  // namespace gauntlet::testing
