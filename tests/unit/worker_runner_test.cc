// The runner contract end to end in-process: the llm suite's reference on the
// built-in CPU backend, the run on the shipped numpy runner (a real python3
// process), validate on the farm's comparison. Each broken output the
// contract names is refused with the file and the flaw.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <mpi.h>
#include <nlohmann/json.hpp>

#include "lib/contract/runner_contract.h"
#include "worker/model/weights.h"
#include "worker/runner/stage_outputs.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RunnerContractTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gauntlet-runner-" + std::to_string(getpid()));
    fs::remove_all(root_);
    ModelConfig config;
    config.hidden = 64, config.layers = 2, config.heads = 4, config.kv_heads = 2, config.intermediate = 128;
    config.vocab = 320;
    ASSERT_TRUE(WriteRandomModel((root_ / "model").string(), config, 7, DType::kF32).ok());
    params_ = {{"model", (root_ / "model").string()}, {"dtype", "fp32"}, {"tp", 1}, {"max_new_tokens", 6},
               {"batch", 2}, {"prompt_len", 64},
               {"dataset", {{"type", "sharegpt"}, {"path", GAUNTLET_SOURCE_DIR "/examples/datasets/sharegpt-mini.json"}}},
               {"test_type", "metrics"}};
    // The reference stage, built in, as the farm runs it.
    SuiteResult reference = Stage("reference", "cpu", root_ / "in" / "reference");
    ASSERT_TRUE(reference.pass) << reference.reason;
  }
  void TearDown() override { fs::remove_all(root_); }

  SuiteResult Stage(const std::string& stage, const std::string& backend, const fs::path& out,
                    const std::string& fault = "", const json& runner = nullptr) {
    SuiteContext ctx;
    ctx.comm = MPI_COMM_SELF;
    ctx.backend = backend;
    ctx.out_dir = out.string();
    ctx.inputs_dir = (root_ / "in").string();
    fs::create_directories(out);
    ctx.params = params_;
    ctx.params["stage"] = stage;
    if (!runner.is_null()) {
      ctx.params["runner"] = runner;
    } else if (backend == "runner") {
      ctx.params["runner"] = {{"name", "numpy"},
                              {"command", GAUNTLET_PYTHON " " GAUNTLET_SOURCE_DIR "/examples/runners/numpy_runner.py --request {request}" +
                                              (fault.empty() ? "" : " --fault " + fault)},
                              {"launcher", "none"}};
    }
    return RunLlm(ctx);
  }

  // The run on the numpy runner, then the farm's validate of it.
  SuiteResult RunThenValidate(const std::string& fault = "") {
    fs::remove_all(root_ / "in" / "run");
    SuiteResult run = Stage("run", "runner", root_ / "in" / "run", fault);
    if (!run.pass) return run;
    json run_params = params_;
    params_ = {{"test_type", "metrics"}, {"cross_entropy_threshold", 10.0}, {"failure_rate_threshold", 0.01},
               {"top_k", 20}, {"kl_threshold", 1e-3}, {"run", run_params}};
    SuiteResult validate = Stage("validate", "cpu", root_ / "validate");
    params_ = run_params;
    return validate;
  }

  fs::path root_;
  json params_;
};

TEST_F(RunnerContractTest, TheNumpyRunnersRunPassesValidateAgainstTheCpuReference) {
  SuiteResult validate = RunThenValidate();
  ASSERT_TRUE(validate.pass) << validate.reason;
  EXPECT_LT(validate.metrics.at("max_kl"), 1e-4) << "numpy fp32 and the CPU reference agree closely";
  EXPECT_EQ(validate.metrics.at("top1_agreement"), 1.0);
  // What the runner was told, as the contract documents it.
  const json request = json::parse(std::ifstream(root_ / "in" / "run" / "runner.json"));
  EXPECT_EQ(request["version"], contract::kRunnerContractVersion);
  EXPECT_EQ(request["mode"], "metrics");
  EXPECT_EQ(request["golden_tokens"], (root_ / "in" / "reference" / "tokens.json").string());
  EXPECT_EQ(request["vocab_size"], 320);
  EXPECT_TRUE(fs::exists(root_ / "in" / "run" / "runner.log")) << "the runner's output is kept as an artifact";
}

TEST_F(RunnerContractTest, ARunnerThatPerturbsOneLogitRowFailsValidate) {
  SuiteResult validate = RunThenValidate("perturb");
  EXPECT_FALSE(validate.pass);
  EXPECT_EQ(validate.metrics.at("failed_steps"), 1) << validate.reason;
}

TEST_F(RunnerContractTest, TheRunnersTimingsAreItsOwn) {
  SuiteResult run = Stage("run", "runner", root_ / "in" / "run");
  ASSERT_TRUE(run.pass) << run.reason;
  EXPECT_GT(run.metrics.at("ttft_ms"), 0);
  EXPECT_GT(run.metrics.at("itl_ms"), 0);
  EXPECT_DOUBLE_EQ(run.metrics.at("tokens_per_s"), 1000.0 * 2 / run.metrics.at("itl_ms"))
      << "tokens/s is derived when the runner leaves it out";
  SuiteResult benchmark = Stage("benchmark", "runner", root_ / "benchmark");
  ASSERT_TRUE(benchmark.pass) << benchmark.reason;
  EXPECT_EQ(benchmark.samples.at("itl_ms").size(), 5u) << "one sample per decode step after the first token";
}

struct BrokenOutput {
  const char* fault;
  const char* reason;
};

class BrokenRunnerTest : public RunnerContractTest, public testing::WithParamInterface<BrokenOutput> {};

TEST_P(BrokenRunnerTest, IsRefusedNamingTheFileAndTheFlaw) {
  SuiteResult run = Stage("run", "runner", root_ / "in" / "run", GetParam().fault);
  EXPECT_FALSE(run.pass);
  EXPECT_EQ(run.reason, std::string("runner 'numpy' broke the contract: ") + GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, BrokenRunnerTest,
    testing::Values(
        BrokenOutput{"shape", "logits.npy: shape [2, 6, 319] but the contract needs [2, 6, 320] (batch, max_new_tokens, vocab)"},
        BrokenOutput{"nan", "logits.npy: NaN at [0, 1, 3]"},
        BrokenOutput{"missing", "logits.npy: missing; write [batch, steps, vocab] logits there"},
        BrokenOutput{"truncated", "logits.npy: data cut short: 7616 of 15360 bytes"}),
    [](const testing::TestParamInfo<BrokenOutput>& info) { return std::string(info.param.fault); });

TEST_F(RunnerContractTest, ARunnerThatExitsNonZeroFailsWithItsLastWords) {
  try {
    Stage("run", "runner", root_ / "in" / "run", "exit");
    FAIL() << "a failing runner must fail its stage";
  } catch (const RunnerFailed& e) {
    EXPECT_EQ(std::string(e.what()),
              "runner 'numpy' exited with code 4; last output: numpy runner: run (metrics) of " + (root_ / "model").string() +
                  " | numpy runner: giving up on purpose (--fault exit)");
  }
}

TEST_F(RunnerContractTest, AReferenceOnTheRunnerIsFedTheFarmsPromptsAndJudgesTheBuiltInRun) {
  fs::rename(root_ / "in" / "reference", root_ / "builtin-reference");
  SuiteResult reference = Stage("reference", "runner", root_ / "in" / "reference");
  ASSERT_TRUE(reference.pass) << reference.reason;
  // The farm picked the prompts, so a team's reference sees the same ones.
  EXPECT_EQ(json::parse(std::ifstream(root_ / "in" / "reference" / "prompts.json")),
            json::parse(std::ifstream(root_ / "builtin-reference" / "prompts.json")));
  EXPECT_EQ(json::parse(std::ifstream(root_ / "in" / "reference" / "tokens.json")),
            json::parse(std::ifstream(root_ / "builtin-reference" / "tokens.json")))
      << "numpy fp32 and the built-in fp32 reference pick the same tokens";
  SuiteResult run = Stage("run", "cpu", root_ / "in" / "run");
  ASSERT_TRUE(run.pass) << run.reason;
  json run_params = params_;
  params_ = {{"test_type", "metrics"}, {"cross_entropy_threshold", 10.0}, {"failure_rate_threshold", 0.01},
             {"top_k", 20}, {"kl_threshold", 1e-3}, {"run", run_params}};
  SuiteResult validate = Stage("validate", "cpu", root_ / "validate");
  EXPECT_TRUE(validate.pass) << validate.reason;
}

TEST_F(RunnerContractTest, WithTpTwoTheMpirunLauncherStartsTwoRanks) {
  // Rank 0 runs the numpy runner; every rank notes itself beside the request.
  const fs::path script = root_ / "ranks.sh";
  std::ofstream(script) << "echo \"rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE\" >> \"$1.ranks\"\n"
                        << "[ \"$OMPI_COMM_WORLD_RANK\" = 0 ] || exit 0\n"
                        << "exec " GAUNTLET_PYTHON " " GAUNTLET_SOURCE_DIR "/examples/runners/numpy_runner.py --request \"$1\"\n";
  // As the agent's launch does, so mpirun runs under root in CI.
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  params_["tp"] = 2;
  SuiteResult run = Stage("run", "runner", root_ / "in" / "run", "",
                          {{"name", "numpy"}, {"launcher", "mpirun"}, {"command", "sh " + script.string() + " {request}"}});
  ASSERT_TRUE(run.pass) << run.reason;
  std::ifstream ranks(root_ / "in" / "run" / "runner.json.ranks");
  std::vector<std::string> lines;
  for (std::string line; std::getline(ranks, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"rank 0 of 2", "rank 1 of 2"}));
}

TEST_F(RunnerContractTest, TheBuiltInBackendsOutputIsWhatTheContractAsks) {
  SuiteResult run = Stage("run", "cpu", root_ / "in" / "run");
  ASSERT_TRUE(run.pass) << run.reason;
  StageOutputs want;
  want.batch = 2, want.steps = 6, want.vocab = 320, want.tokens = want.logits = want.timings = true;
  EXPECT_EQ(CheckStageOutputs((root_ / "in" / "run").string(), want, run.metrics), "");
  want.steps = 7;
  EXPECT_EQ(CheckStageOutputs((root_ / "in" / "run").string(), want, run.metrics),
            "tokens.json: sequence 0 has 6 tokens, but max_new_tokens is 7");
  EXPECT_EQ(CheckStageOutputs((root_ / "in" / "run").string(), {.batch = 2, .steps = 6, .timings = true}, {}),
            "result.json: metrics has no ttft_ms; the stage must time itself");
}

TEST(RunnerCommand, PlaceholdersAreQuotedAndCheckedAndLaunchersPrefixed) {
  EXPECT_EQ(contract::RunnerPlaceholders("run {model} --tp {tp} ${HOME} {} {not closed"),
            (std::vector<std::string>{"model", "tp"}));
  auto line = contract::ExpandRunnerCommand("run --model {model} --out {out}",
                                            {{"model", "/models/my model's"}, {"out", "/o"}});
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "run --model '/models/my model'\\''s' --out '/o'");
  auto unknown = contract::ExpandRunnerCommand("run {modle}", {{"model", "m"}});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("'{modle}' is not a runner placeholder; use one of {stage}"), std::string::npos);
  EXPECT_EQ(contract::LaunchLine("torchrun", 4, "python3 r.py"),
            "torchrun --standalone --nproc-per-node 4 --no-python python3 r.py");
  EXPECT_EQ(contract::LaunchLine("mpirun", 2, "./r"), "mpirun -np 2 --oversubscribe --bind-to none ./r");
  EXPECT_EQ(contract::LaunchLine("torchrun", 1, "python3 r.py"), "python3 r.py") << "one rank needs no launcher";
}

}  // namespace
}  // namespace gauntlet::worker
