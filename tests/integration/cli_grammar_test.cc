// One CLI grammar: every command answers --json, wherever on the line it
// stands, in the protobuf JSON mapping's lowerCamelCase; usage errors exit 2.
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace gauntlet::testing
