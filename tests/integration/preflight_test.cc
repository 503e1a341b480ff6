// Pre-flight on a real farm: agents report the model folders and datasets
// they hold (--models, --datasets); a submit naming a model folder or a
// dataset no agent able to run it holds is refused, one line per problem,
// with nothing stored; --no-preflight stores it anyway; a dry run with no
// agent at all still answers.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

namespace fs = std::filesystem;

std::string Spec(const std::string& model, const std::string& dataset) {
  return "name: preflight\nmodels:\n  - {variant: \"" + model +
         "\", dtypes: [fp32], tp: [1]}\ncontext_lengths:\n  - {context: 256, max_batch: 1}\n"
         "programs:\n  criteria: {programs: [{max_batch: 1, max_tkv: 256, batch_granularity: 1, tkv_granularity: 64}]}\n"
         "  select: [\"0:1,==64\"]\ndatasets:\n  - {type: sharegpt, path: \"" + dataset + "\"}\n";
}

std::string WriteSpec(Farm& farm, const std::string& name, const std::string& text) {
  const std::string path = farm.dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(PreflightFarmTest, AModelFolderNoAgentHoldsIsRefusedWithNothingStored) {
  Farm farm("preflight");
  farm.StartCoordinator();
  const std::string dataset = std::string(GAUNTLET_SOURCE_DIR) + "/examples/datasets/sharegpt-mini.json";
  const fs::path models = fs::path(farm.dir()) / "models";
  fs::create_directories(models / "tiny");
  std::ofstream((models / "tiny" / "config.json").string()) << "{}";

  // No agent yet: a dry run still answers, and checks nothing.
  const std::string missing = WriteSpec(farm, "missing.yaml", Spec((models / "gone").string(), dataset));
  CliResult lonely = farm.Cli({"submit", missing, "--dry-run"});
  EXPECT_EQ(lonely.exit_code, 0) << lonely.output;
  EXPECT_NE(lonely.output.find("dry run, nothing stored"), std::string::npos) << lonely.output;

  fs::create_directories(farm.dir() + "/datasets");
  farm.StartAgent("node-a", "cpu:1", {"--models", models.string(), "--datasets", farm.dir() + "/datasets"});
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.Cli({"agents"}).output.find("node-a") != std::string::npos; }));
  CliResult inventory = farm.Cli({"agents", "--json"});
  EXPECT_NE(inventory.output.find((models / "tiny").string()), std::string::npos) << inventory.output;

  const std::string gone_dataset = farm.dir() + "/datasets/gone.json";
  const std::string both = WriteSpec(farm, "both.yaml", Spec((models / "gone").string(), gone_dataset));
  CliResult refused = farm.Cli({"submit", both});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("refused before storing anything (2 problems)"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("models[0].variant: '" + (models / "gone").string() +
                                "' is on no agent that could run it"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("node-a:" + (models / "tiny").string()), std::string::npos)
      << "it says what the agents do hold: " << refused.output;
  EXPECT_NE(refused.output.find("datasets[0].path: '" + gone_dataset + "' is on no agent"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("--no-preflight"), std::string::npos) << refused.output;
  EXPECT_NE(farm.Cli({"submit", both, "--dry-run"}).exit_code, 0) << "a dry run says what the submit would";
  CliResult status = farm.Cli({"status", "--json"});
  EXPECT_EQ(status.output.find("preflight"), std::string::npos) << "nothing stored: " << status.output;

  // The folder it holds passes; skipping the checks stores the bad one.
  const std::string good = WriteSpec(farm, "good.yaml", Spec((models / "tiny").string(), dataset));
  CliResult checked = farm.Cli({"submit", good, "--dry-run"});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("pre-flight: datasets[0].path: '" + dataset + "' not checked: it is under no folder"),
            std::string::npos)
      << "a path outside every reported folder may well exist: " << checked.output;
  CliResult skipped = farm.Cli({"submit", missing, "--no-preflight"});
  EXPECT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_NE(farm.Cli({"status"}).output.find("preflight"), std::string::npos);
}

}  // namespace
}  // namespace gauntlet::testing
