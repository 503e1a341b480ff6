// Exec jobs as first-class as the built-in suite, on a real coordinator and
// agent: matrix variables in devices and targets, a failing command's own
// words in its reason, and its result.json metrics on the benchmark page.
#include <httplib.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

const v1::Job& Named(const std::vector<v1::Job>& jobs, const std::string& name) {
  for (const auto& job : jobs) {
    if (job.name() == name) return job;
  }
  ADD_FAILURE() << "no job " << name;
  return jobs.front();
}

TEST(ExecJobsTest, DevicesTargetsAndReasonsFollowTheMatrix) {
  Farm farm("exec-jobs");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:4");
  int64_t sweep_id = farm.Submit(R"(
name: exec-first-class
exec:
  - name: serve
    matrix: {tp: [1, 4], itl: [5, 50]}
    devices: ${tp}
    labels: {model: vllm-tiny, dtype: bf16, tp: '${tp}', context: '4096'}
    targets: {itl_ms: '${itl}', tokens_per_s: {min: 10}}
    command: >
      n=$(echo $GAUNTLET_DEVICES | tr ',' ' ' | wc -w);
      echo "{\"verdict\":\"pass\",\"metrics\":{\"ttft_ms\":3.5,\"itl_ms\":$((10 * n)),\"tokens_per_s\":100,\"ranks\":$n}}"
      > $GAUNTLET_OUT/result.json
  - name: broken
    command: "echo starting; echo 'ImportError: no module named vllm' >&2; exit 3"
)");
  v1::Sweep sweep = farm.WaitForSweep(sweep_id);
  const auto jobs = farm.Jobs(sweep_id);
  ASSERT_EQ(jobs.size(), 5u);

  // devices: ${tp} gave each instance its own device count.
  const v1::Job tp4 = farm.Job(Named(jobs, "serve[tp=4,itl=50]").id());
  EXPECT_EQ(tp4.devices(), 4);
  EXPECT_EQ(tp4.state(), v1::JOB_STATE_SUCCEEDED) << tp4.reason();
  EXPECT_EQ(tp4.metrics().at("ranks"), 4);
  // tp 4 takes 40 ms per token: over the 5 ms target, under the 50 ms one.
  const v1::Job missed = farm.Job(Named(jobs, "serve[tp=4,itl=5]").id());
  EXPECT_EQ(missed.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(missed.reason(), "target missed: itl_ms 40 is over the target 5");
  EXPECT_EQ(missed.failure_class(), v1::FAILURE_CLASS_VERDICT) << "a missed target is final, not retried";
  EXPECT_EQ(farm.Job(Named(jobs, "serve[tp=1,itl=5]").id()).reason(), "target missed: itl_ms 10 is over the target 5");

  const v1::Job broken = farm.Job(Named(jobs, "broken").id());
  EXPECT_EQ(broken.state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(broken.reason().find("exited with code 3"), std::string::npos) << broken.reason();
  EXPECT_NE(broken.reason().find("ImportError: no module named vllm"), std::string::npos) << broken.reason();

  // The passing instances are on the benchmark page under their labels, with
  // their targets.
  httplib::Client http("127.0.0.1", farm.http_port());
  auto page = http.Get("/api/v1/benchmarks");
  ASSERT_TRUE(page && page->status == 200);
  const auto points = nlohmann::json::parse(page->body);
  int placed = 0;
  for (const auto& point : points.value("points", nlohmann::json::array())) {
    if (point.value("model", "") != "vllm-tiny") continue;
    ++placed;
    EXPECT_EQ(point.value("dtype", ""), "bf16");
    EXPECT_EQ(point.value("context", ""), "4096");
    EXPECT_EQ(point.value("itlTargetMs", 0.0), 50) << point.dump();
  }
  EXPECT_EQ(placed, 2) << "the two passing instances: " << page->body;
}

}  // namespace
}  // namespace gauntlet::testing
