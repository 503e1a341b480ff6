// The worker's iree suite: its verdicts (pure), and its compile stage's
// cache driven against the stand-in iree-compile, as a node runs it.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "worker/suites/iree/node_files.h"
#include "worker/suites/iree/stages.h"
#include "worker/suites/iree/verdicts.h"

namespace gauntlet::worker::iree {
namespace {

namespace fs = std::filesystem;

TEST(IreeVerdictTest, BenchmarkPassesWithinTheToleranceAndSaysTheMargin) {
  // iree#19442: 80.4 against a golden 80.0 failed under pytest-iree.
  Verdict noisy = JudgeBenchmark({80.9, 80.4, 81.2}, 80.0, 0.03);
  EXPECT_TRUE(noisy.pass);
  EXPECT_DOUBLE_EQ(noisy.metrics["time_ms"], 80.4);
  EXPECT_DOUBLE_EQ(noisy.metrics["time_ms_median"], 80.9);
  EXPECT_NEAR(noisy.metrics["over_golden_pct"], 0.5, 1e-9);
  EXPECT_EQ(noisy.reason, "best of 3 repeats 80.40 ms (median 80.90) is within golden_time_ms 80.00 + 3.0% (82.40 ms): "
                          "0.5% over golden");

  Verdict slow = JudgeBenchmark({83.0, 84.0}, 80.0, 0.03);
  EXPECT_FALSE(slow.pass);
  EXPECT_EQ(slow.reason, "best of 2 repeats 83.00 ms (median 83.50) is over golden_time_ms 80.00 + 3.0% (82.40 ms): "
                         "3.8% over golden");
  EXPECT_FALSE(JudgeBenchmark({80.1}, 80.0, 0.0).pass) << "tolerance 0 is pytest-iree's rule";
  EXPECT_TRUE(JudgeBenchmark({5}, std::nullopt, 0.03).pass) << "no golden time: recorded, not judged";
  EXPECT_FALSE(JudgeBenchmark({}, 80.0, 0.03).pass);
}

TEST(IreeVerdictTest, CompileStatisticsAreAtMostTheirGoldenValues) {
  const auto statistics = nlohmann::json::parse(R"({"stream-aggregate": {"execution": {"dispatch-count": 1450}}})");
  ASSERT_EQ(DispatchCount(statistics), 1450);
  EXPECT_FALSE(DispatchCount(nlohmann::json::parse(R"({"stream-aggregate": {"execution": {}}})")));
  EXPECT_FALSE(DispatchCount(nlohmann::json::parse(R"({"stream-aggregate": 3})")));

  Verdict over = JudgeCompileStatistics(1450, 2'100'000, 1400, 2'000'000);
  EXPECT_FALSE(over.pass);
  EXPECT_EQ(over.reason, "dispatch count 1450 is over golden_dispatch_count 1400; binary size 2100000 bytes is over "
                         "golden_binary_size 2000000");
  EXPECT_EQ(over.metrics["dispatch_count"], 1450);
  EXPECT_TRUE(JudgeCompileStatistics(1400, 2'000'000, 1400, 2'000'000).pass);
  EXPECT_FALSE(JudgeCompileStatistics(std::nullopt, 10, 1400, std::nullopt).pass);
  EXPECT_TRUE(JudgeCompileStatistics(std::nullopt, 10, std::nullopt, std::nullopt).pass);
}

TEST(IreeVerdictTest, CompileKeyChangesWithEachPart) {
  const std::string base = CompileKey("abc", {"--a", "--b"}, "hip:gfx942", "IREE 3.4");
  EXPECT_EQ(base, CompileKey("abc", {"--a", "--b"}, "hip:gfx942", "IREE 3.4"));
  EXPECT_NE(base, CompileKey("abd", {"--a", "--b"}, "hip:gfx942", "IREE 3.4"));
  EXPECT_NE(base, CompileKey("abc", {"--b", "--a"}, "hip:gfx942", "IREE 3.4"));
  EXPECT_NE(base, CompileKey("abc", {"--a--b"}, "hip:gfx942", "IREE 3.4"));
  EXPECT_NE(base, CompileKey("abc", {"--a", "--b"}, "hip:gfx1201", "IREE 3.4"));
  EXPECT_NE(base, CompileKey("abc", {"--a", "--b"}, "hip:gfx942", "IREE 3.5"));
}

class IreeCompileStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gauntlet-iree-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "external");
    setenv("GAUNTLET_CACHE", (root_ / "cache").c_str(), 1);
    unsetenv("IREE_STANDIN_VERSION");
    WriteMlir("// standin: dispatches=7 binary_bytes=5000\nfunc.func @main() { return }\n");
  }
  void TearDown() override {
    unsetenv("GAUNTLET_CACHE");
    unsetenv("IREE_STANDIN_VERSION");
    fs::remove_all(root_);
  }

  void WriteMlir(const std::string& text) { std::ofstream(root_ / "external" / "model.mlir") << text; }

  SuiteResult CompileOnce(const std::vector<std::string>& flags, bool force = false) {
    SuiteContext ctx;
    ctx.out_dir = (root_ / ("out" + std::to_string(runs_++))).string();
    fs::create_directories(ctx.out_dir);
    ctx.params = {{"stage", "compile"}, {"module", "examples/modules/mlp"}, {"mlir", "model.mlir"},
                  {"compiler_flags", flags}, {"target", "local:host"}, {"external", (root_ / "external").string()},
                  {"tools", {{"iree-compile", GAUNTLET_SOURCE_DIR "/tests/iree_standins/iree-compile"}}},
                  {"force", force}};
    last_out_ = ctx.out_dir;
    return Compile(ctx);
  }

  fs::path root_;
  std::string last_out_;
  int runs_ = 0;
};

TEST_F(IreeCompileStageTest, ReusesTheModuleUntilTheMlirFlagsCompilerOrForceChange) {
  const std::vector<std::string> flags = {"--iree-hal-target-device=local"};
  SuiteResult first = CompileOnce(flags);
  ASSERT_TRUE(first.pass) << first.reason;
  EXPECT_EQ(first.metrics["cache_hit"], 0);
  EXPECT_EQ(first.metrics["binary_size_bytes"], 5000);
  const fs::path module = fs::path(last_out_) / "modules/examples/modules/mlp";
  EXPECT_TRUE(fs::exists(module / "module.vmfb"));
  EXPECT_TRUE(fs::exists(module / "compilation_info.json"));

  EXPECT_EQ(CompileOnce(flags).metrics["cache_hit"], 1);
  EXPECT_TRUE(fs::exists(fs::path(last_out_) / "modules/examples/modules/mlp/module.vmfb"));
  EXPECT_EQ(CompileOnce({"--iree-hal-target-device=local", "--iree-opt-level=O3"}).metrics["cache_hit"], 0);
  EXPECT_EQ(CompileOnce(flags, /*force=*/true).metrics["cache_hit"], 0);
  EXPECT_EQ(CompileOnce(flags).metrics["cache_hit"], 1);
  WriteMlir("// standin: dispatches=8 binary_bytes=5000\nfunc.func @main() { return }\n");
  EXPECT_EQ(CompileOnce(flags).metrics["cache_hit"], 0);
  setenv("IREE_STANDIN_VERSION", "IREE compiler version 3.5.0\n", 1);
  EXPECT_EQ(CompileOnce(flags).metrics["cache_hit"], 0);
  EXPECT_EQ(CompileOnce(flags).metrics["cache_hit"], 1);
}

TEST_F(IreeCompileStageTest, ACompileErrorIsTheVerdictAndLeavesNoCacheEntry) {
  WriteMlir("// standin: fail='linalg.generic' op unsupported on this target\n");
  SuiteResult failed = CompileOnce({"--iree-hal-target-device=local"});
  EXPECT_FALSE(failed.pass);
  EXPECT_NE(failed.reason.find("iree-compile exited with code 1 on examples/modules/mlp"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("op unsupported on this target"), std::string::npos) << failed.reason;
  EXPECT_FALSE(fs::exists(root_ / "cache/iree/modules") && !fs::is_empty(root_ / "cache/iree/modules"));
}

TEST_F(IreeCompileStageTest, AMissingToolOrFileIsAConfigurationErrorSayingTheFix) {
  SuiteContext ctx;
  ctx.out_dir = root_.string();
  ctx.params = {{"stage", "compile"}, {"module", "m"}, {"mlir", "model.mlir"}, {"compiler_flags", nlohmann::json::array()},
                {"target", "local"}, {"external", (root_ / "external").string()}, {"tools", nlohmann::json::object()}};
  const std::string path = getenv("PATH") ? getenv("PATH") : "";
  setenv("PATH", "/nonexistent", 1);
  try {
    Compile(ctx);
    ADD_FAILURE() << "no BadParams";
  } catch (const BadParams& e) {
    EXPECT_NE(std::string(e.what()).find("iree-compile is not installed on this node"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("suite.tools.iree-compile"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("resources.tags"), std::string::npos) << e.what();
  }
  setenv("PATH", path.c_str(), 1);
  ctx.params["tools"] = {{"iree-compile", GAUNTLET_SOURCE_DIR "/tests/iree_standins/iree-compile"}};
  ctx.params["mlir"] = "missing.mlir";
  try {
    Compile(ctx);
    ADD_FAILURE() << "no BadParams";
  } catch (const BadParams& e) {
    EXPECT_NE(std::string(e.what()).find("'missing.mlir' is not a file on this node"), std::string::npos) << e.what();
  }
  ctx.params["mlir"] = "file://" + (root_ / "nowhere.mlir").string();
  EXPECT_THROW(Compile(ctx), RunnerFailed) << "a download that fails may heal elsewhere";
}

TEST_F(IreeCompileStageTest, AUrlIsFetchedOnceAndAgainOnlyWhenItsSourceChanges) {
  const fs::path source = root_ / "weights.irpa";
  std::ofstream(source) << "first";
  const std::string url = "file://" + source.string();
  const std::string log_dir = root_.string();
  const std::string kept = LocalFile(url, (root_ / "external").string(), log_dir);
  EXPECT_EQ(kept.find((root_ / "cache/iree/downloads").string()), 0u) << kept;
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(read(kept), "first");
  // Unchanged: the same copy, not fetched again.
  const auto fetched_at = fs::last_write_time(kept);
  EXPECT_EQ(LocalFile(url, (root_ / "external").string(), log_dir), kept);
  EXPECT_EQ(fs::last_write_time(kept), fetched_at);
  // Changed behind the same URL: fetched again.
  std::ofstream(source) << "second";
  fs::last_write_time(source, fetched_at + std::chrono::hours(1));
  EXPECT_EQ(LocalFile(url, (root_ / "external").string(), log_dir), kept);
  EXPECT_EQ(read(kept), "second");
  // Relative paths resolve against the external folder; absolute ones stand.
  std::ofstream(root_ / "external" / "in.bin") << "x";
  EXPECT_EQ(LocalFile("in.bin", (root_ / "external").string(), log_dir), (root_ / "external" / "in.bin").string());
}

TEST(IreeBenchmarkJsonTest, RepeatsComeFromTheIterationRunsNotTheAggregates) {
  const std::string json = R"({"benchmarks": [
    {"name": "BM_main/process_time/real_time", "run_name": "BM_main/process_time/real_time", "run_type": "iteration",
     "repetitions": 3, "repetition_index": 0, "iterations": 1, "real_time": 10.5, "cpu_time": 9, "time_unit": "ms"},
    {"name": "BM_main/process_time/real_time", "run_name": "BM_main/process_time/real_time", "run_type": "iteration",
     "repetitions": 3, "repetition_index": 1, "iterations": 1, "real_time": 10200, "cpu_time": 9, "time_unit": "us"},
    {"name": "BM_main/process_time/real_time", "run_name": "BM_main/process_time/real_time", "run_type": "iteration",
     "repetitions": 3, "repetition_index": 2, "iterations": 1, "real_time": 10.9, "cpu_time": 9, "time_unit": "ms"},
    {"name": "BM_main/process_time/real_time_mean", "run_name": "BM_main/process_time/real_time", "run_type": "aggregate",
     "aggregate_name": "mean", "iterations": 3, "real_time": 1.0, "cpu_time": 9, "time_unit": "ms"}]})";
  auto repeats = BenchmarkRepeatsMs(json, "benchmark.json");
  ASSERT_TRUE(repeats.has_value()) << repeats.error().message();
  ASSERT_EQ(repeats->size(), 3u);
  EXPECT_DOUBLE_EQ((*repeats)[0], 10.5);
  EXPECT_NEAR((*repeats)[1], 10.2, 1e-9) << "microseconds become milliseconds";
  EXPECT_DOUBLE_EQ((*repeats)[2], 10.9);
  EXPECT_FALSE(BenchmarkRepeatsMs("{\"benchmarks\": [{\"name\": \"BM_x\", \"error_occurred\": true, "
                                  "\"error_message\": \"device lost\"}]}", "b.json")
                   .has_value());
  EXPECT_FALSE(BenchmarkRepeatsMs("not json", "b.json").has_value());
}

}  // namespace
}  // namespace gauntlet::worker::iree
