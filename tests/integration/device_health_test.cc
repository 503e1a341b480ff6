// Devices that keep failing, on a real farm: a device whose attempts crash
// three times in a row leaves service and takes no new work; its sweep's
// health check runs on it; it comes back when a check passes (the default
// selftest, or the spec's own after an admin asks again) or when an admin
// heals it; and it stays out across a coordinator restart.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

v1::Device DeviceOf(Farm& farm, const std::string& agent, int index) {
  v1::ListAgentsResponse reply;
  grpc::ClientContext context;
  EXPECT_TRUE(farm.control().ListAgents(&context, v1::ListAgentsRequest(), &reply).ok());
  for (const auto& each : reply.agents()) {
    for (const auto& device : each.devices()) {
      if (each.name() == agent && device.index() == index) return device;
    }
  }
  ADD_FAILURE() << "no device " << index << " on " << agent;
  return {};
}

bool HealthIs(Farm& farm, const std::string& health) { return DeviceOf(farm, "node-a", 0).health() == health; }

// A sweep whose one job crashes by signal (an infrastructure failure) on
// each of its three attempts.
std::string CrashingSweep(const std::string& name, const std::string& health_check) {
  return "name: " + name + "\nmax_attempts: 3\n" + health_check +
         "jobs:\n  - {name: crash, kind: exec, command: \"kill -SEGV $$\"}\n";
}

TEST(DeviceHealthFarmTest, ThreeCrashesTakeADeviceOutAndItsHealthCheckBringsItBack) {
  Farm farm("device-health");
  farm.StartCoordinator("3s");
  farm.StartAgent("node-a", "cpu:1");
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.Cli({"agents"}).output.find("node-a") != std::string::npos; }));
  const std::string ok_file = farm.dir() + "/device-ok";

  // 1. The sweep's own health check fails while the file is missing.
  int64_t flaky = farm.Submit(CrashingSweep(
      "flaky", "health_check: {kind: exec, command: \"test -f " + ok_file + "\"}\n"));
  farm.WaitForSweep(flaky);
  v1::Job crashed = farm.Jobs(flaky).front();
  EXPECT_EQ(crashed.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(crashed.attempt_count(), 3) << "a crash by signal is retried";
  ASSERT_TRUE(Farm::WaitUntil([&] { return HealthIs(farm, "unhealthy"); }, std::chrono::seconds(30)))
      << farm.Cli({"agents"}).output;
  v1::Device out = DeviceOf(farm, "node-a", 0);
  EXPECT_EQ(out.failures_in_row(), 3);
  EXPECT_NE(out.health_reason().find("3 infrastructure failures in a row"), std::string::npos) << out.health_reason();
  EXPECT_NE(out.health_reason().find("health check job " + std::to_string(out.health_check_job()) + " failed"),
            std::string::npos)
      << out.health_reason();
  v1::Job first_check = farm.Job(out.health_check_job());
  EXPECT_EQ(first_check.state(), v1::JOB_STATE_FAILED);
  CliResult agents = farm.Cli({"agents"});
  EXPECT_NE(agents.output.find("device 0 unhealthy"), std::string::npos) << agents.output;
  CliResult json = farm.Cli({"agents", "--json"});
  EXPECT_NE(json.output.find("\"health\": \"unhealthy\""), std::string::npos) << json.output;
  EXPECT_NE(json.output.find("\"healthCheckJob\""), std::string::npos) << json.output;

  // 2. Out of service, it takes no new work, says why, and stays so
  // across a coordinator restart.
  farm.KillCoordinator();
  farm.StartCoordinator("3s");
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.Cli({"agents"}).output.find("up") != std::string::npos; }));
  EXPECT_TRUE(HealthIs(farm, "unhealthy"));
  int64_t waiting = farm.Submit("name: after\njobs:\n  - {name: work, kind: exec, command: \"true\"}\n");
  int64_t work = farm.Jobs(waiting).front().id();
  CliResult why = farm.Cli({"why", std::to_string(work)});
  EXPECT_NE(why.output.find("every device of kind any that could hold it is out of service: node-a device 0"),
            std::string::npos)
      << why.output;
  EXPECT_EQ(farm.Job(work).state(), v1::JOB_STATE_READY);
  CliResult page = Farm::Run({"curl", "-s", "http://127.0.0.1:" + std::to_string(farm.http_port()) + "/agents"},
                             farm.dir() + "/agents-page.log");
  EXPECT_NE(page.output.find("cpu0 unhealthy"), std::string::npos) << page.output;
  EXPECT_NE(page.output.find("/agents/node-a/devices/0/heal"), std::string::npos);

  // 3. An admin fixes the cause and asks again: the check passes, the
  // device returns, and the waiting job runs on it.
  std::ofstream(ok_file) << "fixed\n";
  CliResult check = farm.Cli({"agents", "check", "node-a", "--device", "0"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  farm.WaitForSweep(waiting);
  EXPECT_EQ(farm.Job(work).state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_TRUE(HealthIs(farm, "healthy")) << farm.Cli({"agents"}).output;
  EXPECT_EQ(DeviceOf(farm, "node-a", 0).failures_in_row(), 0);

  // 4. With no health_check: the worker's selftest brings it back by itself.
  int64_t again = farm.Submit(CrashingSweep("flaky-again", ""));
  farm.WaitForSweep(again);
  ASSERT_TRUE(Farm::WaitUntil(
      [&] {
        v1::Device device = DeviceOf(farm, "node-a", 0);
        return device.health() == "healthy" && device.health_check_job() == 0 &&
               farm.Cli({"agents"}).output.find(" ok") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << farm.Cli({"agents"}).output;
  CliResult sweeps = farm.Cli({"status"});
  EXPECT_NE(sweeps.output.find("health-check.node-a.0"), std::string::npos) << sweeps.output;

  // 5. An admin's heal returns a device whose check keeps failing.
  std::filesystem::remove(ok_file);
  int64_t third = farm.Submit(CrashingSweep(
      "flaky-third", "health_check: {kind: exec, command: \"test -f " + ok_file + "\"}\n"));
  farm.WaitForSweep(third);
  ASSERT_TRUE(Farm::WaitUntil([&] { return HealthIs(farm, "unhealthy"); }, std::chrono::seconds(30)));
  CliResult heal = farm.Cli({"agents", "heal", "node-a"});
  EXPECT_EQ(heal.exit_code, 0) << heal.output;
  EXPECT_EQ(heal.output, "agent node-a device 0: healthy\n");
  EXPECT_TRUE(HealthIs(farm, "healthy"));
  CliResult unknown = farm.Cli({"agents", "heal", "node-a", "--device", "5"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("agent node-a has no device 5"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace gauntlet::testing
