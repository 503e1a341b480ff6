// Nightly schedules on a real farm: a spec's `schedule:` through the CLI,
// two firings run by hand and run to the end, their history across a
// coordinator restart, and a second coordinator on the same database
// refused, naming the first.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

TEST(ScheduleFarmTest, FiresRecordsAndSurvivesARestart) {
  Farm farm("schedules");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1");
  const std::string spec = farm.dir() + "/nightly.yaml";
  std::ofstream(spec) << R"(
name: nightly
schedule: {cron: "0 3 * * *", timezone: Europe/Zurich, concurrency: forbid}
jobs: [{name: check, kind: exec, command: "true"}]
)";
  CliResult submitted = farm.Cli({"submit", spec});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  EXPECT_NE(submitted.output.find("schedule nightly set: 0 3 * * * in Europe/Zurich; next firing "), std::string::npos)
      << submitted.output;

  std::vector<int64_t> sweeps;
  for (int night = 0; night < 2; ++night) {
    v1::ScheduleRef ref;
    ref.set_name("nightly");
    v1::Firing firing;
    grpc::ClientContext context;
    ASSERT_TRUE(farm.control().RunScheduleNow(&context, ref, &firing).ok());
    ASSERT_NE(firing.sweep_id(), 0) << firing.detail();
    EXPECT_EQ(farm.WaitForSweep(firing.sweep_id()).succeeded(), true);
    sweeps.push_back(firing.sweep_id());
  }

  CliResult status = farm.Cli({"--json", "status", std::to_string(sweeps[1])});
  EXPECT_NE(status.output.find("\"schedule\": \"nightly\""), std::string::npos) << status.output;

  // A second coordinator on the same file is refused and says who holds it.
  CliResult second = Farm::Run({Farm::BinDir() + "/gauntlet-coordinator", "--db", farm.dir() + "/gauntlet.db",
                                "--artifacts", farm.dir() + "/artifacts2", "--grpc", "127.0.0.1:0", "--http",
                                "127.0.0.1:0"},
                               farm.dir() + "/second.log");
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.output.find("is in use by the coordinator with pid"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("stop that coordinator first, or give this one another --db"), std::string::npos);

  farm.KillCoordinator();
  farm.StartCoordinator();
  CliResult history = farm.Cli({"schedules", "history", "nightly"});
  ASSERT_EQ(history.exit_code, 0) << history.output;
  size_t run_now = 0;
  for (size_t at = history.output.find("run_now"); at != std::string::npos; at = history.output.find("run_now", at + 1)) {
    ++run_now;
  }
  EXPECT_EQ(run_now, 2u) << history.output;
  EXPECT_NE(history.output.find("succeeded"), std::string::npos) << history.output;

  CliResult list = farm.Cli({"schedules", "list"});
  EXPECT_NE(list.output.find("nightly"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("Europe/Zurich"), std::string::npos) << list.output;
  EXPECT_EQ(farm.Cli({"schedules", "pause", "nightly"}).exit_code, 0);
  EXPECT_NE(farm.Cli({"schedules", "show", "nightly"}).output.find("next firing  - (paused)"), std::string::npos);

  CliResult bad = farm.Cli({"schedules", "add", "broken", "--cron", "0 25 * * *", "--spec", spec});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("hour \"25\" is out of range 0-23"), std::string::npos) << bad.output;
  CliResult deleted = farm.Cli({"schedules", "delete", "nightly"});
  EXPECT_NE(deleted.output.find("deleted; its sweeps stay"), std::string::npos) << deleted.output;
  EXPECT_EQ(farm.Cli({"schedules", "show", "nightly"}).exit_code, 1);
}

}  // namespace
}  // namespace gauntlet::testing
