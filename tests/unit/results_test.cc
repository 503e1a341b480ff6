// The `results:` parsers on the formats tools write: JUnit XML from pytest,
// ctest and gtest; Google Benchmark, vLLM's and pytest-benchmark's JSON.
#include "lib/results/results.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace gauntlet::results {
namespace {

// As pytest 7 writes it (--junitxml), a rerun of test_flaky appended the way
// pytest-rerunfailures and Surefire do.
constexpr const char* kPytest = R"(<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4" time="0.05">
<testcase classname="test_model" name="test_logits" time="0.012"><failure message="AssertionError: assert 0.81 &lt; 0.5">def test_logits():
&gt;       assert kl &lt; 0.5
E       AssertionError</failure></testcase>
<testcase classname="test_model" name="test_shapes" time="0.001" />
<testcase classname="test_model" name="test_gpu" time="0.000"><skipped type="pytest.skip" message="no GPU here">skip</skipped></testcase>
<testcase classname="test_model" name="test_rerun" time="0.002"><rerunFailure message="timeout">t</rerunFailure></testcase>
<testcase classname="test_model" name="test_twice" time="0.001"><failure message="first"/></testcase>
<testcase classname="test_model" name="test_twice" time="0.001" />
</testsuite></testsuites>)";

TEST(JunitTest, EveryTestcaseIsACaseWithItsStatusTimeAndText) {
  auto parsed = Parse("junit", kPytest, "report.xml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->cases.size(), 5u) << "a rerun is the same case";
  const TestCase& logits = parsed->cases[0];
  EXPECT_EQ(logits.suite, "test_model");
  EXPECT_EQ(logits.name, "test_logits");
  EXPECT_EQ(logits.status, CaseStatus::kFailed);
  EXPECT_DOUBLE_EQ(logits.time_s, 0.012);
  EXPECT_EQ(logits.message, "AssertionError: assert 0.81 < 0.5");
  EXPECT_EQ(parsed->cases[2].status, CaseStatus::kSkipped);
  EXPECT_EQ(parsed->cases[2].message, "no GPU here");
  EXPECT_TRUE(parsed->cases[3].flaky) << "a pass beside a recorded rerun failure";
  EXPECT_EQ(parsed->cases[4].status, CaseStatus::kPassed);
  EXPECT_TRUE(parsed->cases[4].flaky) << "failed, then passed when run again in the same file";
  EXPECT_FALSE(parsed->cases[1].flaky);
  EXPECT_EQ(FailureSummary(parsed->cases), "1 of 4 tests failed: test_logits (AssertionError: assert 0.81 < 0.5)");
}

TEST(JunitTest, CtestsEmptyMessageFallsBackToTheTestsOutput) {
  auto parsed = Parse("junit", R"xml(<testsuite name="(empty)" tests="2">
    <testcase name="steady" classname="steady" time="0.01" status="run"><system-out></system-out></testcase>
    <testcase name="broken" classname="broken" time="0.004" status="fail"><failure message=""/>
      <system-out>always broken
</system-out></testcase></testsuite>)xml", "ctest.xml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->cases.size(), 2u);
  EXPECT_EQ(parsed->cases[1].message, "always broken");
}

TEST(JunitTest, MalformedOrForeignXmlIsRefusedNamingTheFile) {
  auto broken = Parse("junit", "<testsuites><testsuite><testcase name='a'></testsuite>", "results[0] (junit, r.xml)");
  ASSERT_FALSE(broken.has_value());
  EXPECT_NE(broken.error().message().find("results[0] (junit, r.xml): not JUnit XML: "), std::string::npos)
      << broken.error().message();
  EXPECT_NE(broken.error().message().find("at byte"), std::string::npos);
  auto foreign = Parse("junit", "<html><body/></html>", "r.xml");
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().message(), "r.xml: not JUnit XML: the root element is <html>, not <testsuites> or <testsuite>");
}

TEST(GoogleBenchmarkTest, RepetitionsAreSamplesAndAggregatesAreMetrics) {
  auto parsed = Parse("google-benchmark", R"({"context": {"library_build_type": "release"}, "benchmarks": [
    {"name": "BM_Gemv/4096", "run_name": "BM_Gemv/4096", "run_type": "iteration", "repetitions": 3,
     "repetition_index": 0, "iterations": 100, "real_time": 10.0, "cpu_time": 9.0, "time_unit": "us",
     "bytes_per_second": 2.0e12},
    {"name": "BM_Gemv/4096", "run_name": "BM_Gemv/4096", "run_type": "iteration", "repetitions": 3,
     "repetition_index": 1, "iterations": 100, "real_time": 12.0, "cpu_time": 11.0, "time_unit": "us",
     "bytes_per_second": 1.8e12},
    {"name": "BM_Gemv/4096", "run_name": "BM_Gemv/4096", "run_type": "iteration", "repetitions": 3,
     "repetition_index": 2, "iterations": 100, "real_time": 14.0, "cpu_time": 13.0, "time_unit": "us",
     "bytes_per_second": 1.6e12},
    {"name": "BM_Gemv/4096_median", "run_name": "BM_Gemv/4096", "run_type": "aggregate", "aggregate_name": "median",
     "real_time": 12.0, "cpu_time": 11.0, "time_unit": "us"},
    {"name": "BM_Broken", "run_name": "BM_Broken", "run_type": "iteration", "error_occurred": true,
     "error_message": "device lost", "real_time": 0, "cpu_time": 0, "time_unit": "ns"}]})", "gb.json");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_DOUBLE_EQ(parsed->metrics.at("BM_Gemv/4096.real_time_ms"), 0.012);
  EXPECT_DOUBLE_EQ(parsed->metrics.at("BM_Gemv/4096.real_time_ms_median"), 0.012);
  EXPECT_DOUBLE_EQ(parsed->metrics.at("BM_Gemv/4096.bytes_per_second"), 1.8e12);
  EXPECT_EQ(parsed->samples.at("BM_Gemv/4096.real_time_ms"), (std::vector<double>{0.01, 0.012, 0.014}));
  ASSERT_EQ(parsed->cases.size(), 2u);
  EXPECT_EQ(parsed->cases[1].status, CaseStatus::kFailed);
  EXPECT_EQ(parsed->cases[1].message, "device lost");
  auto no_list = Parse("google-benchmark", R"({"context": {}})", "gb.json");
  ASSERT_FALSE(no_list.has_value());
  EXPECT_NE(no_list.error().message().find("--benchmark_format=json"), std::string::npos);
}

TEST(VllmBenchTest, TheSummaryAndPerRequestLatencies) {
  auto parsed = Parse("vllm-bench", R"({"backend": "vllm", "completed": 3, "duration": 4.5,
    "request_throughput": 0.66, "output_throughput": 140.5, "mean_ttft_ms": 35.0, "median_ttft_ms": 30.0,
    "p99_ttft_ms": 80.0, "mean_tpot_ms": 7.5, "mean_itl_ms": 7.4, "p99_itl_ms": 9.0,
    "ttfts": [0.03, 0.025, 0.05], "itls": [[0.007, 0.008], [0.0075]], "generated_texts": ["a", "b", "c"]})",
                      "vllm.json");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_DOUBLE_EQ(parsed->metrics.at("ttft_ms"), 35.0);
  EXPECT_DOUBLE_EQ(parsed->metrics.at("itl_ms"), 7.4);
  EXPECT_DOUBLE_EQ(parsed->metrics.at("p99_ttft_ms"), 80.0);
  EXPECT_DOUBLE_EQ(parsed->metrics.at("tokens_per_s"), 140.5);
  EXPECT_EQ(parsed->samples.at("ttft_ms").size(), 3u);
  EXPECT_DOUBLE_EQ(parsed->samples.at("itl_ms")[2], 7.5);
  EXPECT_EQ(parsed->cases.at(0).status, CaseStatus::kPassed);
  EXPECT_FALSE(Parse("vllm-bench", R"({"completed": 3})", "v.json").has_value());
}

TEST(PytestBenchmarkTest, StatsInMillisecondsAndRoundsAsSamples) {
  auto parsed = Parse("pytest-benchmark", R"({"benchmarks": [{"group": null, "name": "test_decode",
    "fullname": "bench/test_decode.py::test_decode", "stats": {"min": 0.001, "max": 0.003, "mean": 0.002,
    "stddev": 0.0005, "median": 0.002, "rounds": 3, "ops": 500.0, "total": 0.006, "data": [0.001, 0.002, 0.003]}}]})",
                      "pb.json");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_DOUBLE_EQ(parsed->metrics.at("bench/test_decode.py::test_decode.mean_ms"), 2.0);
  EXPECT_DOUBLE_EQ(parsed->metrics.at("bench/test_decode.py::test_decode.ops"), 500.0);
  EXPECT_EQ(parsed->samples.at("bench/test_decode.py::test_decode.time_ms"), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(parsed->cases.at(0).suite, "pb.json");
}

TEST(ResultsFileTest, AMissingOrOversizedFileIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("gauntlet-results-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto missing = ParseFile("junit", (dir / "none.xml").string(), "results[0] (junit, none.xml)");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "results[0] (junit, none.xml): the job wrote no " + (dir / "none.xml").string());
  const auto huge = dir / "huge.xml";
  std::ofstream(huge) << "<testsuite>";
  std::filesystem::resize_file(huge, kMaxFileBytes + 1);  // Sparse: no 64 MiB written.
  auto oversized = ParseFile("junit", huge.string(), "results[1] (junit, huge.xml)");
  ASSERT_FALSE(oversized.has_value());
  EXPECT_EQ(oversized.error().message(), "results[1] (junit, huge.xml): 64 MiB, over the 64 MiB a results file may hold");
  std::filesystem::remove_all(dir);
}

TEST(FlakyTest, APassAfterAFailedAttemptIsFlaky) {
  TestCase failed{"s", "test_a", CaseStatus::kFailed, 0, "boom", false};
  TestCase passed{"s", "test_a", CaseStatus::kPassed, 0, "", false};
  TestCase other{"s", "test_b", CaseStatus::kPassed, 0, "", false};
  auto latest = LatestWithFlaky({{1, {failed, other}}, {2, {passed, other}}});
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_TRUE(latest[0].flaky);
  EXPECT_FALSE(latest[1].flaky);
  EXPECT_FALSE(LatestWithFlaky({{1, {failed}}, {2, {failed}}})[0].flaky) << "failing twice is a failure, not flaky";
  EXPECT_TRUE(LatestWithFlaky({}).empty());
}

}  // namespace
}  // namespace gauntlet::results
