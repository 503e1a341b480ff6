// Results from the tools teams already run, ingested by a real agent: a real
// pytest --junitxml run whose flaky test a retry hides, a real ctest
// --output-junit run with a broken test, Google Benchmark JSON from one of
// this project's benchmark binaries, and a malformed report refused whole.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

const v1::TestCase* Case(const v1::Job& job, const std::string& name) {
  for (const auto& test : job.test_cases()) {
    if (test.name() == name) return &test;
  }
  return nullptr;
}

v1::Job Named(Farm& farm, int64_t sweep_id, const std::string& name) {
  for (const auto& job : farm.Jobs(sweep_id)) {
    if (job.name() == name) return farm.Job(job.id());
  }
  ADD_FAILURE() << "no job " << name;
  return {};
}

TEST(ResultsTest, PytestCtestAndGoogleBenchmarkReportsBecomeCasesAndMetrics) {
  Farm farm("results");
  const std::string dir = std::filesystem::absolute(farm.dir()).string();
  std::ofstream(dir + "/test_model.py") << R"(import os, pathlib, pytest

def test_shapes():
    assert [2, 8, 512] == [2, 8, 512]

def test_flaky():
    marker = pathlib.Path(os.environ["FLAKY_MARKER"])
    if not marker.exists():
        marker.write_text("seen")
        assert False, "fails on the first attempt only"

def test_gpu():
    pytest.skip("no GPU on this node")
)";
  std::filesystem::create_directories(dir + "/ctest");
  std::ofstream(dir + "/ctest/CMakeLists.txt") << R"(cmake_minimum_required(VERSION 3.20)
project(suite NONE)
enable_testing()
add_test(NAME steady COMMAND sh -c "exit 0")
add_test(NAME broken COMMAND sh -c "echo always broken; exit 2")
)";
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  int64_t sweep_id = farm.Submit(R"(
name: results
exec:
  - name: pytest
    max_attempts: 2
    env: {FLAKY_MARKER: ")" + dir + R"(/flaky.marker"}
    command: ")" GAUNTLET_PYTHON R"( -m pytest -q -p no:cacheprovider --junitxml=$GAUNTLET_OUT/report.xml )" + dir + R"(/test_model.py"
    results: [{format: junit, path: report.xml}]
  - name: ctest
    command: "cmake -S )" + dir + R"(/ctest -B build -G Ninja > /dev/null && ctest --test-dir build --output-junit $GAUNTLET_OUT/ctest.xml"
    results: [{format: junit, path: ctest.xml}]
  - name: gbench
    command: ")" + Farm::BinDir() + R"(/gauntlet_bench_tokenizer --benchmark_filter=HuggingFaceBpe/16384 --benchmark_repetitions=3 --benchmark_min_time=0.01 --benchmark_out=$GAUNTLET_OUT/gb.json --benchmark_out_format=json"
    results: [{format: google-benchmark, path: gb.json}]
    targets: {HuggingFaceBpe/16384.real_time_ms: 60000}
  - name: malformed
    command: "echo '<testsuite><testcase name=a>' > $GAUNTLET_OUT/r.xml"
    results: [{format: junit, path: r.xml}]
)");
  farm.WaitForSweep(sweep_id, std::chrono::seconds(120));

  // pytest failed on its first attempt (exit 1, retried) and passed on the second.
  const v1::Job pytest = Named(farm, sweep_id, "pytest");
  EXPECT_EQ(pytest.state(), v1::JOB_STATE_SUCCEEDED) << pytest.reason();
  ASSERT_EQ(pytest.attempts_size(), 2);
  EXPECT_NE(pytest.attempts(0).reason().find("1 of 2 tests failed: test_flaky (AssertionError: fails on the first attempt only"),
            std::string::npos)
      << pytest.attempts(0).reason();
  ASSERT_EQ(pytest.test_cases_size(), 3);
  ASSERT_NE(Case(pytest, "test_flaky"), nullptr);
  EXPECT_EQ(Case(pytest, "test_flaky")->status(), "passed");
  EXPECT_TRUE(Case(pytest, "test_flaky")->flaky()) << "it failed on the attempt before";
  EXPECT_FALSE(Case(pytest, "test_shapes")->flaky());
  EXPECT_EQ(Case(pytest, "test_gpu")->status(), "skipped");
  EXPECT_EQ(Case(pytest, "test_gpu")->message(), "no GPU on this node");

  const v1::Job ctest = Named(farm, sweep_id, "ctest");
  EXPECT_EQ(ctest.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(ctest.reason(), "1 of 2 tests failed: broken (always broken) (exited with code 8)");
  ASSERT_NE(Case(ctest, "broken"), nullptr);
  EXPECT_EQ(Case(ctest, "broken")->status(), "failed");

  const v1::Job gbench = Named(farm, sweep_id, "gbench");
  EXPECT_EQ(gbench.state(), v1::JOB_STATE_SUCCEEDED) << gbench.reason();
  EXPECT_GT(gbench.metrics().at("HuggingFaceBpe/16384.real_time_ms"), 0);
  EXPECT_NE(gbench.result_json().find("\"HuggingFaceBpe/16384.real_time_ms\":["), std::string::npos)
      << "the three repetitions are samples for change detection: " << gbench.result_json();

  const v1::Job malformed = Named(farm, sweep_id, "malformed");
  EXPECT_EQ(malformed.state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(malformed.reason().find("results[0] (junit, r.xml): not JUnit XML"), std::string::npos) << malformed.reason();
  EXPECT_EQ(malformed.test_cases_size(), 0) << "nothing of a malformed report is stored";
}

}  // namespace
}  // namespace gauntlet::testing
