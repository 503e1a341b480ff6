// A model sweep end to end on CPU devices: a tiny model made by
// gauntlet-worker make-model goes through reference, compile, run (under
// mpirun for TP=2), validate and benchmark; a second submission reuses the
// cached references and compiles.
#include <fstream>
#include <map>
#include <set>
#include <iterator>
#include <string>

#include <httplib.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

// A random model in <farm>/tiny, and a criteria file of one program family.
void MakeTinyModel(const Farm& farm, const std::string& hidden, const std::string& heads, const std::string& vocab) {
  CliResult made = Farm::Run({Farm::BinDir() + "/gauntlet-worker", "make-model", "--out", farm.dir() + "/tiny",
                              "--layers", "2", "--hidden", hidden, "--heads", heads, "--kv-heads", "2", "--vocab", vocab},
                             farm.dir() + "/make-model.log");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::ofstream(farm.dir() + "/criteria.json")
      << R"({"programs": [{"max_batch": 2, "max_tkv": 512, "batch_granularity": 1, "tkv_granularity": 64}]})";
}

TEST(LlmSweepTest, TinyModelPassesEveryStageAndReusesTheCache) {
  Farm farm("llm-sweep");
  ASSERT_NO_FATAL_FAILURE(MakeTinyModel(farm, "128", "8", "512"));
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

// A team's runner beside the built-in backend: the shipped numpy runner takes
// compile, run and benchmark of the same model, is judged against the same
// CPU reference, and its TTFT and ITL sit beside the built-in's on the
// benchmark page; a runner that breaks the contract fails its run, naming
// the file.
TEST(LlmSweepTest, ARunnersStagesPassValidateBesideTheBuiltInBackend) {
  Farm farm("llm-runner");
  ASSERT_NO_FATAL_FAILURE(MakeTinyModel(farm, "64", "4", "320"));
  const std::string runner = std::string(GAUNTLET_PYTHON) + " " + GAUNTLET_SOURCE_DIR + "/examples/runners/numpy_runner.py --request {request}";
  std::string spec = farm.dir() + "/runner.yaml";
  std::ofstream(spec) << "name: tiny-runner\ntimeout: 5m\n"
                         "models:\n"
                         "  - {variant: " << farm.dir() << "/tiny, dtypes: [fp32]}\n"
                         "  - variant: " << farm.dir() << "/tiny\n"
                         "    dtypes: [fp32]\n"
                         "    runner: {name: numpy, command: \"" << runner << "\"}\n"
                         "  - variant: " << farm.dir() << "/tiny\n"
                         "    dtypes: [fp32]\n"
                         "    runner: {name: broken, stages: [run], command: \"" << runner << " --fault nan\"}\n"
                         "context_lengths: [{context: 512, max_batch: 2}]\n"
                         "programs: {criteria: criteria.json, select: [\"0:2,==128\"]}\n"
                         "datasets: [{type: sharegpt, path: " << GAUNTLET_SOURCE_DIR << "/examples/datasets/sharegpt-mini.json}]\n"
                         "test: {type: metrics, max_new_tokens: 4, cross_entropy_threshold: 10, kl_threshold: 0.001, failure_rate_threshold: 0.01}\n";
  farm.StartCoordinator("5s");
  farm.StartAgent("a", "cpu:2");
  CliResult submitted = farm.Cli({"submit", "--wait", spec});
  EXPECT_NE(submitted.exit_code, 0) << "the broken runner's run fails: " << submitted.output;

  std::map<std::string, v1::Job> by_model_stage;
  for (const auto& listed : farm.Jobs(1)) {
    v1::Job job = farm.Job(listed.id());
    by_model_stage[job.labels().at("model") + "/" + job.stage()] = job;
  }
  // One shared reference; the built-in's and numpy's compile, run, validate
  // and benchmark; the broken runner's run and validate (its other stages are
  // the built-in's own work, so they are the built-in's jobs).
  EXPECT_EQ(by_model_stage.size(), 1u + 4 + 4 + 2) << [&] {
    std::string names;
    for (const auto& [key, job] : by_model_stage) names += key + " ";
    return names;
  }();
  for (const char* stage : {"compile", "run", "validate", "benchmark"}) {
    const v1::Job& job = by_model_stage["tiny@numpy/" + std::string(stage)];
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.name() << ": " << job.reason();
  }
  EXPECT_EQ(by_model_stage["tiny@numpy/run"].labels().at("runner"), "numpy");
  EXPECT_LT(by_model_stage["tiny@numpy/validate"].metrics().at("max_kl"), 1e-3);
  const v1::Job& broken = by_model_stage["tiny@broken/run"];
  EXPECT_EQ(broken.state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(broken.reason().find("runner 'broken' broke the contract: logits.npy: NaN at [0, 1, 3]"), std::string::npos)
      << broken.reason();
  EXPECT_EQ(broken.failure_class(), v1::FAILURE_CLASS_VERDICT) << "a broken output is final, not retried";
  EXPECT_EQ(by_model_stage["tiny@broken/validate"].state(), v1::JOB_STATE_SKIPPED)
      << "validate judges the broken runner's own run, not the built-in's";

  // Both stacks' benchmarks on the benchmark page, one series each.
  httplib::Client http("127.0.0.1", farm.http_port());
  auto page = http.Get("/api/v1/benchmarks");
  ASSERT_TRUE(page && page->status == 200);
  std::set<std::string> models;
  for (const auto& point : nlohmann::json::parse(page->body).value("points", nlohmann::json::array())) {
    EXPECT_GT(point.value("itlMs", 0.0), 0) << point.dump();
    models.insert(point.value("model", ""));
  }
  EXPECT_EQ(models, (std::set<std::string>{"tiny", "tiny@numpy"})) << page->body;
}

}  // namespace
}  // namespace gauntlet::testing
