// Two nights of a schedule on a real farm, the second with one benchmark
// regression, one numerics regression, one flaky job and one metric that
// only moves within its noise: `gauntlet compare` classifies each, on the
// table, in JSON, and in its exit code.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string KindOf(const nlohmann::json& reply, const std::string& job, const std::string& metric = "") {
  for (const auto& finding : reply["findings"]) {
    if (finding.value("job", "") == job && finding.value("metric", "") == metric) return finding.value("kind", "");
  }
  return "(none)";
}

TEST(NightlyCompareTest, ClassifiesEachChangeOfTheSecondNight) {
  Farm farm("nightly-compare");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  const std::string dir = farm.dir();
  // Each script reads which night it is from a file the test writes.
  const std::string night_is = "[ \"$(cat " + dir + "/night)\" = 2 ]";
  Write(dir + "/bench.sh", "if " + night_is + R"sh(; then itl="12.0, 12.1, 11.9, 12.2, 12.0"; tps="100, 99, 101, 100";
else itl="10.0, 10.2, 9.9, 10.1, 10.0"; tps="100, 101, 99, 100"; fi
printf '{"verdict": "pass", "metrics": {"itl_ms": 11}, "samples": {"itl_ms": [%s], "tokens_per_s": [%s]}}' \
  "$itl" "$tps" > "$GAUNTLET_OUT/result.json"
)sh");
  Write(dir + "/numerics.sh", "if " + night_is + R"sh(; then
  printf '{"verdict": "fail", "reason": "cross entropy 3.1 over 2.5"}' > "$GAUNTLET_OUT/result.json"; exit 1; fi
)sh");
  // Fails its first attempt on night two only, then passes its retry.
  Write(dir + "/flaky.sh", "if " + night_is + " && [ ! -f " + dir + "/flaked ]; then touch " + dir +
                               "/flaked; exit 7; fi\n");
  Write(dir + "/nightly.yaml", R"(
name: nightly
schedule: {cron: "0 2 * * *", timezone: UTC}
jobs:
  - {name: bench, kind: exec, command: "sh )" + dir + R"(/bench.sh"}
  - {name: numerics, kind: exec, command: "sh )" + dir + R"(/numerics.sh"}
  - {name: flaky, kind: exec, max_attempts: 2, command: "sh )" + dir + R"(/flaky.sh"}
  - {name: steady, kind: exec, command: "true"}
)");
  ASSERT_EQ(farm.Cli({"submit", dir + "/nightly.yaml"}).exit_code, 0);

  std::vector<int64_t> sweeps;
  for (const char* night : {"1", "2"}) {
    Write(dir + "/night", night);
    CliResult fired = farm.Cli({"--json", "schedules", "run-now", "nightly"});
    ASSERT_EQ(fired.exit_code, 0) << fired.output;
    const int64_t sweep = std::stoll(nlohmann::json::parse(fired.output).value("sweepId", "0"));
    ASSERT_NE(sweep, 0) << fired.output;
    farm.WaitForSweep(sweep);
    sweeps.push_back(sweep);
  }

  CliResult table = farm.Cli({"compare", "--schedule", "nightly"});
  EXPECT_EQ(table.exit_code, 3) << "regressions gate a pipeline: " << table.output;
  for (const char* expected : {"bench_regression", "regression", "flaky", "unchanged", "tokens_per_s",
                               "Welch t-test, 5 vs 5 samples", "+19.9%"}) {
    EXPECT_NE(table.output.find(expected), std::string::npos) << expected << " in\n" << table.output;
  }

  CliResult json = farm.Cli({"--json", "compare", std::to_string(sweeps[0]), std::to_string(sweeps[1])});
  EXPECT_EQ(json.exit_code, 3) << json.output;
  const auto reply = nlohmann::json::parse(json.output);
  EXPECT_EQ(KindOf(reply, "bench", "itl_ms"), "bench_regression");
  EXPECT_EQ(KindOf(reply, "bench", "tokens_per_s"), "unchanged");
  EXPECT_EQ(KindOf(reply, "numerics"), "regression");
  EXPECT_EQ(KindOf(reply, "flaky"), "flaky");
  EXPECT_EQ(KindOf(reply, "steady"), "unchanged");
  EXPECT_TRUE(reply.value("hasRegressions", false));

  // Pinned to night two itself, the comparison has nothing to say.
  ASSERT_EQ(farm.Cli({"baseline", "pin", "nightly", std::to_string(sweeps[1])}).exit_code, 0);
  CliResult same = farm.Cli({"compare", std::to_string(sweeps[1]), std::to_string(sweeps[1])});
  EXPECT_EQ(same.exit_code, 0) << same.output;
  ASSERT_EQ(farm.Cli({"baseline", "unpin", "nightly"}).exit_code, 0);
}

}  // namespace
}  // namespace gauntlet::testing
