// One CLI grammar: every command answers --json, wherever on the line it
// stands, in the protobuf JSON mapping's lowerCamelCase; usage errors exit 2.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

using nlohmann::json;

// Keys whose values are maps of the user's or the worker's own names.
const std::set<std::string> kFreeFormMaps = {"labels", "metrics", "jobsByStage", "jobsByModel", "jobsByState",
                                             "params", "env", "files"};

void ExpectCamelCase(const json& value, const std::string& where, std::vector<std::string>* bad) {
  static const std::regex camel("^[a-z][A-Za-z0-9]*$");
  if (value.is_array()) {
    for (const auto& item : value) ExpectCamelCase(item, where, bad);
    return;
  }
  if (!value.is_object()) return;
  for (const auto& [key, child] : value.items()) {
    if (!std::regex_match(key, camel)) bad->push_back(where + ": " + key);
    if (!kFreeFormMaps.contains(key)) ExpectCamelCase(child, where, bad);
  }
}

TEST(CliGrammarTest, EveryCommandAnswersJsonWhereverTheFlagStands) {
  Farm farm("cli-grammar");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  const int64_t sweep = farm.Submit(
      "name: grammar\nmax_attempts: 1\njobs:\n  - {name: ok, kind: exec, command: \"echo '{\\\"verdict\\\": \\\"pass\\\", "
      "\\\"metrics\\\": {\\\"ttft_ms\\\": 12.5}}' > $GAUNTLET_OUT/result.json\"}\n"
      "  - {name: bad, kind: exec, command: \"exit 1\"}\n");
  ASSERT_TRUE(farm.WaitForSweep(sweep).finished());
  int64_t bad_job = 0, ok_job = 0;
  for (const auto& job : farm.Jobs(sweep)) (job.name() == "bad" ? bad_job : ok_job) = job.id();
  const std::string spec = farm.dir() + "/dry.yaml";
  { std::ofstream(spec) << "name: dry\njobs: [{name: a, kind: exec, command: \"true\"}]\n"; }
  const std::string examples = std::string(GAUNTLET_SOURCE_DIR) + "/examples/";
  const std::string s = std::to_string(sweep), bad = std::to_string(bad_job), ok = std::to_string(ok_job);

  const std::vector<std::vector<std::string>> commands = {
      {"status"},
      {"status", s},
      {"jobs", "--sweep", s},
      {"results", s},
      {"why", ok},
      {"matrix", s},
      {"artifacts", ok},
      {"agents"},
      {"cancel", ok},
      {"retry", "--sweep", s, "--failed"},
      {"drain", "node-a"},
      {"drain", "node-a", "--undo"},
      {"annotate", "--sweep", s, "https://bugs.example/1"},
      {"submit", "--dry-run", spec},
      {"programs", "--criteria", examples + "programs/dpp-4k.json", "--select", "*:0,<8192", "--max-batch", "4",
       "--context", "4096"},
  };
  for (const auto& command : commands) {
    for (bool first : {true, false}) {
      std::vector<std::string> args = command;
      args.insert(first ? args.begin() : args.end(), "--json");
      std::string line;
      for (const auto& arg : args) line += arg + " ";
      CliResult result = farm.Cli(args);
      ASSERT_EQ(result.exit_code, 0) << line << "\n" << result.output;
      const json parsed = json::parse(result.output, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(parsed.is_discarded()) << line << " printed no JSON document:\n" << result.output;
      std::vector<std::string> bad_keys;
      ExpectCamelCase(parsed, line, &bad_keys);
      EXPECT_TRUE(bad_keys.empty()) << ::testing::PrintToString(bad_keys);
    }
  }
  // retry of one job answers JSON too (once: the job then runs again).
  CliResult retried = farm.Cli({"retry", bad, "--json"});
  ASSERT_EQ(retried.exit_code, 0) << retried.output;
  EXPECT_EQ(json::parse(retried.output)["id"], bad);
  // `status SWEEP` says when it was submitted and counts each stage's jobs.
  CliResult status = farm.Cli({"status", s});
  EXPECT_NE(status.output.find("submitted 20"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("(free-form)"), std::string::npos) << status.output;
  EXPECT_EQ(json::parse(farm.Cli({"status", s, "--json"}).output)["stages"][0]["jobsByState"].size(), 2u)
      << "the passed job's state and the retried one's";
  // `results` reads each row's metrics; `jobs` shows a page and says there is more.
  CliResult results = farm.Cli({"results", s});
  ASSERT_EQ(results.exit_code, 0) << results.output;
  EXPECT_NE(results.output.find("TTFT MS"), std::string::npos) << results.output;
  EXPECT_NE(results.output.find("12.5"), std::string::npos) << results.output;
  CliResult page = farm.Cli({"jobs", "--sweep", s, "--limit", "1"});
  EXPECT_NE(page.output.find("more jobs: --limit N"), std::string::npos) << page.output;
  EXPECT_EQ(json::parse(farm.Cli({"jobs", "--sweep", s, "--all", "--json"}).output)["jobs"].size(), 2u);
  // logs --attempt counts the job's own attempts.
  CliResult first_attempt = farm.Cli({"logs", bad, "--attempt", "1"});
  EXPECT_EQ(first_attempt.exit_code, 0) << first_attempt.output;
  CliResult no_such = farm.Cli({"logs", bad, "--attempt", "9"});
  EXPECT_EQ(no_such.exit_code, 2);
  EXPECT_NE(no_such.output.find("--attempt 9: job " + bad + " has"), std::string::npos) << no_such.output;
  // Usage errors exit 2 with the same words wherever the flag stands.
  EXPECT_EQ(farm.Cli({"jobs", "--json", "--state", "weird"}).exit_code, 2);
  EXPECT_EQ(farm.Cli({"--json", "retry", "--sweep", s}).exit_code, 2);
  EXPECT_EQ(farm.Cli({"status", "--no-such-flag"}).exit_code, 2);
}

// `gauntlet artifacts` lists a job's outputs and downloads one checked
// against its digest, across chunk boundaries.
TEST(CliGrammarTest, ArtifactsListAndDownloadByName) {
  Farm farm("cli-artifacts");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1");
  const int64_t sweep = farm.Submit(
      "name: out\njobs: [{name: out, kind: exec, command: \"mkdir -p $GAUNTLET_OUT/sub && head -c 3000000 "
      "/dev/urandom > $GAUNTLET_OUT/sub/data.bin\"}]");
  ASSERT_TRUE(farm.WaitForSweep(sweep).succeeded());
  const v1::Job job = farm.Job(farm.Jobs(sweep).at(0).id());
  ASSERT_EQ(job.artifacts_size(), 1);
  const std::string id = std::to_string(job.id());

  CliResult listed = farm.Cli({"artifacts", id});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("sub/data.bin  3000000  " + job.artifacts(0).sha256()), std::string::npos)
      << listed.output;
  const std::string out = farm.dir() + "/fetched.bin";
  CliResult fetched = farm.Cli({"artifacts", id, "sub/data.bin", "--out", out});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  auto digest = Sha256File(out);
  ASSERT_TRUE(digest.has_value());
  EXPECT_EQ(*digest, job.artifacts(0).sha256()) << "three chunks, byte for byte";
  EXPECT_EQ(std::filesystem::file_size(out), 3000000u);
  CliResult missing = farm.Cli({"artifacts", id, "nope.txt"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("has no artifact 'nope.txt'; it has sub/data.bin"), std::string::npos)
      << missing.output;
  EXPECT_FALSE(std::filesystem::exists(farm.dir() + "/nope.txt.partial")) << "nothing half-written is left";
}

}  // namespace
}  // namespace gauntlet::testing
