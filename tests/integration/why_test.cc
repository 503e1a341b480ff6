// `gauntlet why` on a real farm: a job waiting on its upstream, a gang wider
// than the free devices, agents drained, and a job that is not waiting.
#include <gtest/gtest.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

TEST(WhyFarmTest, SaysWhyEachJobWaits) {
  Farm farm("why");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.Cli({"agents"}).output.find("node-a") != std::string::npos; }));
  // `hold` takes both devices until the sweep is cancelled.
  int64_t sweep = farm.Submit(R"(
name: why
jobs:
  - {name: hold, kind: exec, devices: 2, priority: 10, command: "sleep 300"}
  - {name: wide, kind: exec, devices: 2, command: "true"}
  - {name: after, kind: exec, depends_on: hold, command: "true"}
)");
  std::map<std::string, int64_t> id;
  for (const auto& job : farm.Jobs(sweep)) id[job.name()] = job.id();
  farm.WaitForJob(id["hold"], [](const v1::Job& job) { return job.state() == v1::JOB_STATE_RUNNING; });

  CliResult hold = farm.Cli({"why", std::to_string(id["hold"])});
  EXPECT_EQ(hold.exit_code, 0);
  EXPECT_NE(hold.output.find("is running since"), std::string::npos) << hold.output;
  EXPECT_NE(hold.output.find("it is not waiting"), std::string::npos) << hold.output;

  CliResult after = farm.Cli({"why", std::to_string(id["after"])});
  EXPECT_NE(after.output.find("is pending since"), std::string::npos) << after.output;
  EXPECT_NE(after.output.find("waiting on 1 upstream job: " + std::to_string(id["hold"]) + " 'hold' (running)"),
            std::string::npos)
      << after.output;

  CliResult wide = farm.Cli({"why", std::to_string(id["wide"])});
  EXPECT_NE(wide.output.find("needs a gang of 2 devices on one node; the widest free gang now is 0 (node-a)"),
            std::string::npos)
      << wide.output;
  EXPECT_NE(wide.output.find("node node-a is reserved for it and drains: 0 of the 2 devices it needs are free"),
            std::string::npos)
      << wide.output;

  ASSERT_EQ(farm.Cli({"drain", "node-a"}).exit_code, 0);
  CliResult drained = farm.Cli({"--json", "why", std::to_string(id["wide"])});
  EXPECT_NE(drained.output.find("every agent that could hold it is drained or offline: node-a (drained)"),
            std::string::npos)
      << drained.output << farm.Cli({"agents"}).output;

  // The job page says the same.
  CliResult page = Farm::Run({"curl", "-s", "http://127.0.0.1:" + std::to_string(farm.http_port()) + "/jobs/" +
                                                std::to_string(id["wide"])},
                             farm.dir() + "/page.log");
  EXPECT_NE(page.output.find("<h2>Why it waits</h2><ul id=why><li>every agent that could hold it is drained"),
            std::string::npos);

  CliResult missing = farm.Cli({"why", "9999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("no job 9999"), std::string::npos) << missing.output;
  CliResult cancelled = farm.Cli({"cancel", "--sweep", std::to_string(sweep)});
  EXPECT_EQ(cancelled.output, "cancelled 3 jobs\n");
  CliResult again = farm.Cli({"cancel", std::to_string(id["hold"])});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.output, "job " + std::to_string(id["hold"]) + " had already finished; nothing to cancel\n");
  CliResult sweep_again = farm.Cli({"cancel", "--sweep", std::to_string(sweep)});
  EXPECT_EQ(sweep_again.output, "sweep " + std::to_string(sweep) + " has no unfinished jobs; nothing to cancel\n");
  EXPECT_EQ(farm.Cli({"cancel", "9999"}).exit_code, 1) << "nothing matched";
}

}  // namespace
}  // namespace gauntlet::testing
