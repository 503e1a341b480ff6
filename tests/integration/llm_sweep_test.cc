// A model sweep end to end on CPU devices: a tiny model made by
// gauntlet-worker make-model goes through reference, compile, run (under
// mpirun for TP=2), validate and benchmark; a second submission reuses the
// cached references and compiles.
#include <fstream>
#include <iterator>
#include <string>

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
      // The device's own error, beside the reference's entropy it must not be confused with.
      EXPECT_GE(job.metrics().at("mean_kl"), 0);
      EXPECT_LT(job.metrics().at("mean_kl"), 0.5) << job.name();
      EXPECT_GT(job.metrics().at("mean_reference_entropy"), 0);
      EXPECT_GE(job.metrics().at("top1_agreement"), 0.5) << job.name();
      // The per-step table and both token streams, for the job page.
      EXPECT_NE(job.result_json().find("\"reference_entropy\""), std::string::npos);
      EXPECT_NE(job.result_json().find("\"device_tokens\""), std::string::npos);
      EXPECT_NE(job.result_json().find("\"reference_text\""), std::string::npos) << "the model's tokenizer is here";
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

  // The seed's threshold on this random model: warned of before anything runs.
  std::string seed_spec = farm.dir() + "/seed.yaml";
  {
    std::ifstream in(spec);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("cross_entropy_threshold: 10"), 27, "cross_entropy_threshold: 2.44");
    std::ofstream(seed_spec) << text;
  }
  CliResult dry = farm.Cli({"submit", "--dry-run", seed_spec});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("warning: test.cross_entropy_threshold: 2.44 is below ln(top_k)"), std::string::npos)
      << dry.output;

  CliResult second = farm.Cli({"submit", "--wait", spec});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("cached=9"), std::string::npos) << "the reference and the 8 compiles: " << second.output;

  // Submitted anyway, its validations (all that is not cached) say why every step failed.
  CliResult trapped = farm.Cli({"submit", "--wait", seed_spec});
  EXPECT_NE(trapped.exit_code, 0) << trapped.output;
  int explained = 0;
  for (const auto& listed : farm.Jobs(3)) {
    v1::Job job = farm.Job(listed.id());
    if (job.stage() != "validate") continue;
    EXPECT_EQ(job.state(), v1::JOB_STATE_FAILED) << job.name();
    explained += job.reason().find("cross_entropy_threshold 2.44 lies below the reference's own entropy") !=
                 std::string::npos;
  }
  EXPECT_EQ(explained, 8) << "every validation names the threshold, not the device";
}

}  // namespace
}  // namespace gauntlet::testing
