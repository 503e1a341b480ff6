// The seeds' workflow through the real CLI and coordinator: check a selector
// with `gauntlet programs`, preview a nightly sweep with --dry-run (the
// criteria file is read relative to the spec), submit it, and see a second
// submission reuse the cached stages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

std::string Example(const std::string& path) { return std::string(GAUNTLET_SOURCE_DIR) + "/examples/" + path; }

TEST(SpecCliTest, ProgramsShowsWhatASelectorPicks) {
  Farm farm("programs-cli");
  CliResult result = farm.Cli({"--json", "programs", "--criteria", Example("programs/dpp-4k.json"), "--select",
                               "*:0,<8192", "--max-batch", "4", "--context", "4096", "--homogeneous", "--dataset",
                               Example("datasets/sharegpt-mini.json")});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto picked = nlohmann::json::parse(result.output);
  ASSERT_EQ(picked.size(), 4u) << "one shape for each of the four programs";
  for (const auto& program : picked) {
    EXPECT_EQ(program["promptSizes"][0], program["promptLen"]);
    EXPECT_EQ(program["promptSizes"].size(), program["batch"].get<size_t>()) << program.dump();
    EXPECT_FALSE(program["datasetPrompts"].empty());
  }
  CliResult bad = farm.Cli({"programs", "--criteria", Example("programs/dpp-4k.json"), "--select", "0:4,<=x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("'0:4,<=x' — seq_len constraint must be an int or <op><int>"), std::string::npos)
      << bad.output;
}

TEST(SpecCliTest, DryRunOfTheNightlySweepStoresNothing) {
  Farm farm("dry-run");
  farm.StartCoordinator();
  CliResult result = farm.Cli({"--json", "submit", "--dry-run", Example("sweeps/granite-nightly.yaml")});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto reply = nlohmann::json::parse(result.output);
  const auto& by_stage = reply["summary"]["jobsByStage"];
  EXPECT_GT(by_stage["run"].get<int>(), 0);
  EXPECT_EQ(by_stage["run"], by_stage["validate"]);
  EXPECT_EQ(by_stage["run"], by_stage["benchmark"]);
  EXPECT_EQ(by_stage["kernel"], 4);
  EXPECT_EQ(reply["summary"]["jobsByModel"].size(), 3u) << "two models and the kernels";
  EXPECT_GT(reply["summary"]["deviceHours"].get<double>(), 0);

  EXPECT_EQ(reply["summary"]["estimatedByGuess"], reply["sweep"]["totalJobs"]) << "nothing has run yet";
  CliResult table = farm.Cli({"submit", "--dry-run", Example("sweeps/granite-nightly.yaml")});
  EXPECT_NE(table.output.find("dry run, nothing stored"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("guessed at 60 s (all a guess: nothing like them has run yet)"), std::string::npos)
      << table.output;
  EXPECT_NE(table.output.find("STAGE"), std::string::npos) << table.output;
  bool found = false;
  for (const auto& job : reply["jobs"]) {
    found |= job["name"] == "compile[model=granite-3.3-8b-instruct,dtype=bf16,tp=4,attention=paged_fp8,context=16384]";
  }
  EXPECT_TRUE(found);
  CliResult status = farm.Cli({"--json", "status"});
  EXPECT_EQ(status.output.find("\"id\""), std::string::npos) << status.output;
}

TEST(SpecCliTest, ACriteriaFileThatIsMissingIsNamed) {
  Farm farm("missing-criteria");
  farm.StartCoordinator();
  std::string spec = farm.dir() + "/sweep.yaml";
  std::ofstream(spec) << "name: x\nmodels: [m]\ncontext_lengths: [4096]\n"
                         "programs: {criteria: nowhere.json}\ndatasets: [{path: d.json}]\n";
  CliResult result = farm.Cli({"submit", spec});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("sweep.yaml:4:22: programs.criteria: 'nowhere.json' was not sent with the spec"),
            std::string::npos)
      << result.output;
}

TEST(SpecCliTest, AFreeFormJobRunsAgainInASecondIdenticalSweep) {
  Farm farm("cache-e2e");
  farm.StartCoordinator();
  farm.StartAgent("a", "cpu:2");
  // Only the model stages named in cache: are reused; a free-form job may
  // depend on the world outside its spec, so it always runs.
  std::string spec = farm.dir() + "/sweep.yaml";
  std::ofstream(spec) << "name: twice\njobs:\n  - {name: a, kind: worker, suite: selftest, params: {n: 1000}}\n";
  CliResult first = farm.Cli({"submit", "--wait", spec});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // The estimate now comes from that run of the same job, not a guess.
  CliResult estimate = farm.Cli({"submit", "--dry-run", spec});
  EXPECT_NE(estimate.output.find("estimate: 1 jobs timed by an earlier run of the same job, 0 by their stage and "
                                 "model, 0 by their stage, 0 guessed at 60 s\n"),
            std::string::npos)
      << estimate.output;
  CliResult second = farm.Cli({"submit", "--wait", spec});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("succeeded=1"), std::string::npos) << "free-form jobs run again: " << second.output;
}

}  // namespace
}  // namespace gauntlet::testing

namespace gauntlet::testing {
namespace {

TEST(SpecCliTest, WorkerHelpListsEverySubCommand) {
  Farm farm("worker-help");
  CliResult help = Farm::Run({Farm::BinDir() + "/gauntlet-worker", "--help"}, farm.dir() + "/help.log");
  EXPECT_EQ(help.exit_code, 0) << "--help is no error: " << help.output;
  for (const char* command : {"make-model", "tokenize", "suites"}) {
    EXPECT_NE(help.output.find(std::string("  ") + command + " "), std::string::npos) << command << "\n" << help.output;
  }
}

}  // namespace
}  // namespace gauntlet::testing
