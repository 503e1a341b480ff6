// The moe suite on a real farm: the example sweep autotunes each shape, then
// benchmarks with the tuned file its autotune job left among its inputs; a
// second submit reuses the tuning from the cache, --force=autotune redoes it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

TEST(MoeKernelsTest, TheSweepTunesOnceAndBenchmarksWithTheTunedConfigs) {
  Farm farm("moe-kernels");
  farm.StartCoordinator("5s");
  farm.StartAgent("node-a", "cpu:2");
  const std::string spec = GAUNTLET_SOURCE_DIR "/examples/sweeps/moe-kernels.yaml";
  for (int night = 1; night <= 3; ++night) {
    std::vector<std::string> args = {"submit", "--wait"};
    if (night == 3) args.push_back("--force=autotune");
    args.push_back(spec);
    CliResult submitted = farm.Cli(args);
    ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
    int tunes = 0, benchmarks = 0;
    for (const auto& listed : farm.Jobs(night)) {
      const v1::Job job = farm.Job(listed.id());
      if (job.stage() == "autotune") {
        ++tunes;
        // Night 2 reuses night 1's tuning; night 3 forces it again.
        EXPECT_EQ(job.state(), night == 2 ? v1::JOB_STATE_CACHED : v1::JOB_STATE_SUCCEEDED) << job.name();
        continue;
      }
      ++benchmarks;
      EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.name() << ": " << job.reason();
      EXPECT_GT(job.metrics().at("cpu.t256.time_ms"), 0);
      EXPECT_LT(job.metrics().at("cpu.t64.relative_error"), job.labels().at("dtype") == "bfloat16" ? 1e-4 : 0.1);
      const auto result = nlohmann::json::parse(job.result_json());
      const auto& source = result["details"]["rows"][0]["config_source"];
      EXPECT_TRUE(source["config_file"].is_string()) << job.name() << " on night " << night << ": " << source.dump();
      EXPECT_NE(source.value("config_file", "").find("/in/autotune/E=" + job.labels().at("experts") + ",N=64,"),
                std::string::npos)
          << source.dump();
    }
    EXPECT_EQ(tunes, 4) << "2 expert counts × 2 dtypes";
    // The seed's table, on the board.
    httplib::Client http("127.0.0.1", farm.http_port());
    for (const auto& listed : farm.Jobs(night)) {
      if (listed.stage() == "autotune") continue;
      auto page = http.Get("/jobs/" + std::to_string(listed.id()));
      ASSERT_TRUE(page);
      EXPECT_NE(page->body.find("<th>input_token</th><th>cpu ms</th><th>reference ms</th>"), std::string::npos);
      break;
    }
    EXPECT_EQ(benchmarks, 4);
  }
}

}  // namespace
}  // namespace gauntlet::testing
