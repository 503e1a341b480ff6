// Bad input through the real CLI and a real coordinator: one clear message
// naming the field and the fix, a usage exit code, and nothing stored.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

struct Case {
  const char* name;
  const char* spec;
  const char* message;
};

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    farm_ = new Farm("bad-input");
    farm_->StartCoordinator();
    farm_->StartAgent("small", "cpu:2");
    // Wait for the agent so device checks have something to check against.
    ASSERT_TRUE(Farm::WaitUntil([] { return farm_->Cli({"agents"}).output.find("small") != std::string::npos; }));
  }
  static void TearDownTestSuite() { delete farm_; }

  CliResult SubmitFile(const std::string& name, const std::string& text) {
    std::string path = farm_->dir() + "/" + name + ".yaml";
    std::ofstream(path) << text;
    return farm_->Cli({"submit", path});
  }

  static Farm* farm_;
};

Farm* BadInputTest::farm_ = nullptr;

TEST_F(BadInputTest, EachBadSpecIsRefusedClearlyAndNothingIsStored) {
  const Case cases[] = {
      {"malformed", "name: x\njobs: [{name: a", "malformed.yaml:2:1: not valid YAML or JSON"},
      {"unknown_field", "name: x\njobs:\n  - name: a\n    kind: exec\n    command: x\n    retries: 3\n",
       "unknown_field.yaml:6:5: jobs[0].retries: unknown field"},
      {"cycle",
       "name: x\njobs:\n- {name: a, kind: exec, command: x, depends_on: b}\n- {name: b, kind: exec, command: x, depends_on: a}\n",
       "depends_on: cycle a -> b -> a; remove one of these dependencies"},
      {"too_wide", "name: x\njobs: [{name: wide, kind: worker, suite: selftest, devices: 8}]",
       "too_wide.yaml: job 'wide': devices: 8 devices are needed on one node but the largest agent, 'small', has 2"},
  };
  for (const auto& c : cases) {
    CliResult result = SubmitFile(c.name, c.spec);
    EXPECT_EQ(result.exit_code, 2) << c.name << ": " << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << c.name << ": " << result.output;
    EXPECT_EQ(result.output.find('\n'), result.output.size() - 1) << c.name << ": one line: " << result.output;
  }
  CliResult status = farm_->Cli({"--json", "status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.output.find("\"id\""), std::string::npos) << "nothing stored: " << status.output;
}

TEST_F(BadInputTest, BadFlagsAreRefusedByEveryProgram) {
  CliResult agent = Farm::Run({Farm::BinDir() + "/gauntlet-agent", "--devices", "tpu:4"}, farm_->dir() + "/agent-flag.log");
  EXPECT_EQ(agent.exit_code, 2);
  EXPECT_NE(agent.output.find("--devices 'tpu:4': unknown kind 'tpu'; use cpu:4"), std::string::npos) << agent.output;
  // More GPUs than any node here has: refused at start-up with the count found.
  CliResult gpus = Farm::Run({Farm::BinDir() + "/gauntlet-agent", "--devices", "gpu:64"}, farm_->dir() + "/agent-gpus.log");
  EXPECT_EQ(gpus.exit_code, 2);
  EXPECT_NE(gpus.output.find("--devices gpu:64: GPU "), std::string::npos) << gpus.output;
  EXPECT_NE(gpus.output.find("is offered but this node has "), std::string::npos) << gpus.output;

  CliResult coordinator = Farm::Run({Farm::BinDir() + "/gauntlet-coordinator", "--lease-ttl", "soon"},
                                    farm_->dir() + "/coordinator-flag.log");
  EXPECT_EQ(coordinator.exit_code, 2);
  EXPECT_NE(coordinator.output.find("--lease-ttl 'soon' must be a positive duration"), std::string::npos)
      << coordinator.output;

  const std::string worker = Farm::BinDir() + "/gauntlet-worker";
  CliResult no_tokenizer = Farm::Run({worker, "tokenize", "--model", farm_->dir(), "--text", "hi"},
                                     farm_->dir() + "/tokenize-model.log");
  EXPECT_EQ(no_tokenizer.exit_code, 2);
  EXPECT_NE(no_tokenizer.output.find("no tokenizer.model (SentencePiece) or tokenizer.json"), std::string::npos)
      << no_tokenizer.output;
  const std::string not_a_list = farm_->dir() + "/texts.json";
  std::ofstream(not_a_list) << R"({"text": "hi"})";
  CliResult bad_texts = Farm::Run({worker, "tokenize", "--model", farm_->dir(), "--texts", not_a_list},
                                  farm_->dir() + "/tokenize-texts.log");
  EXPECT_EQ(bad_texts.exit_code, 2);
  EXPECT_NE(bad_texts.output.find("not a JSON array of strings; write it as"), std::string::npos) << bad_texts.output;

  CliResult state = farm_->Cli({"jobs", "--state", "done"});
  EXPECT_EQ(state.exit_code, 2);
  EXPECT_NE(state.output.find("--state 'done' is not a job state"), std::string::npos) << state.output;

  CliResult unknown = farm_->Cli({"frobnicate"});
  EXPECT_NE(unknown.exit_code, 0);

  CliResult missing = farm_->Cli({"logs", "999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("no job 999"), std::string::npos) << missing.output;
}

TEST_F(BadInputTest, HttpApiAnswersBadIdsWithErrorsNotCrashes) {
  CliResult curl = Farm::Run({"curl", "-s", "-w", " %{http_code}",
                              "http://127.0.0.1:" + std::to_string(farm_->http_port()) + "/api/v1/jobs/abc"},
                             farm_->dir() + "/curl.log");
  EXPECT_NE(curl.output.find("job id 'abc' must be a positive integer"), std::string::npos) << curl.output;
  EXPECT_NE(curl.output.find(" 400"), std::string::npos) << curl.output;
  CliResult missing = Farm::Run({"curl", "-s", "-w", " %{http_code}",
                                 "http://127.0.0.1:" + std::to_string(farm_->http_port()) + "/api/v1/sweeps/42"},
                                farm_->dir() + "/curl2.log");
  EXPECT_NE(missing.output.find(" 404"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace gauntlet::testing
