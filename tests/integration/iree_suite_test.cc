// An IREE model test suite in pytest-iree's own JSON format, run by a real
// farm with the stand-in IREE tools: marker selection, the compile cache
// across sweeps (a hit when nothing changed; a recompile on a changed flag,
// MLIR byte or --force=compile), every verdict passing and failing, files
// fetched by URL, and a node without the tools.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

namespace fs = std::filesystem;

const std::string kStandins = GAUNTLET_SOURCE_DIR "/tests/iree_standins";

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

int64_t SweepId(const CliResult& result) {
  std::smatch match;
  if (!std::regex_search(result.output, match, std::regex("submitted sweep (\\d+)"))) {
    ADD_FAILURE() << "no sweep id in: " << result.output;
    return 0;
  }
  return std::stoll(match[1]);
}

class IreeSuiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    farm_ = std::make_unique<Farm>("iree-suite");
    root_ = fs::absolute(farm_->dir());
    const fs::path external = root_ / "test_suite_files";
    Write(external / "mlp/model.mlir", Mlir(3));
    Write(external / "mlp/scheduler.mlir", "// standin: function=step output=1xf32=0.5 time_ms=1.0\n"
                                           "func.func @step() { return }\n");
    Write(external / "mlp/input0.bin", "raw input bytes");
    Write(external / "mlp/expected_output.txt", "1x4xf32=1 2 3 4");
    Write(external / "mlp/wrong_output.txt", "1x4xf32=1 2 3 5");
    Write(external / "mlp/weights.irpa", "parameter archive");
    // The seed's layout: tests under ./examples, module names relative to ./.
    const fs::path suite = root_ / "torch_models";
    Write(suite / "examples/modules/mlp_cpu.json", ModuleJson("--iree-opt-level=O3"));
    Write(suite / "examples/modules/scheduler_cpu.json", R"({
  "type": "azure",
  "mlir": "file://)" + (external / "mlp/scheduler.mlir").string() + R"(",
  "compiler_flags": ["--iree-hal-target-device=local", "--iree-llvmcpu-target-cpu=host"]
})");
    Write(suite / "examples/modules/mlp_hip.json", R"({
  "mlir": "mlp/model.mlir",
  "compiler_flags": ["--iree-hal-target-device=hip", "--iree-hip-target=gfx942"]
})");
    Write(suite / "examples/mlp_cpu_quality.json", Quality("mlp/expected_output.txt"));
    Write(suite / "examples/mlp_cpu_quality_wrong.json", Quality("mlp/wrong_output.txt"));
    // Best of the repeats is 10.1 ms: within 3 % of 10.0, which pytest-iree
    // fails; 12.0 % over 9.0 fails here too.
    Write(suite / "examples/mlp_cpu_benchmark.json", Benchmark(10.0));
    Write(suite / "examples/mlp_cpu_benchmark_slow.json", Benchmark(9.0));
    Write(suite / "examples/mlp_cpu_compstat.json", Compstat(5, 30000));
    Write(suite / "examples/mlp_cpu_random_benchmark.json", R"({"type": "benchmark", "markers": ["cpu", "quick"],
  "modules": ["examples/modules/mlp_cpu"],
  "weights": [{"type": "random", "scope": "model", "module": "examples/modules/mlp_cpu", "seed": 42}],
  "inputs": [{"value": "1x4xf32"}], "run_args": ["--device=local-task", "--function=main"]})");
    Write(suite / "examples/mlp_cpu_compstat_over.json", Compstat(2, 1000));
    Write(suite / "examples/mlp_hip_benchmark.json", R"({"type": "benchmark", "markers": ["hip", "gfx942"],
  "modules": ["examples/modules/mlp_hip"], "inputs": [{"value": "1x4xf32"}], "run_args": ["--device=hip"],
  "golden_time_ms": 1.0})");
    spec_ = (root_ / "iree.yaml").string();
    Write(spec_, "name: iree-models\ntimeout: 2m\nsuite:\n  type: iree\n  tests: torch_models/examples\n"
                 "  modules: torch_models\n  external: " + external.string() + "\n  markers: \"cpu and not slow\"\n"
                 "  repetitions: 5\n  tools:\n    iree-compile: " + kStandins + "/iree-compile\n"
                 "    iree-run-module: " + kStandins + "/iree-run-module\n"
                 "    iree-benchmark-module: " + kStandins + "/iree-benchmark-module\n"
                 "    python3: " GAUNTLET_PYTHON "\n");
    // Random weights go through IREE's Python bindings: the stand-in's here.
    setenv("PYTHONPATH", (kStandins + "/python").c_str(), 1);
  }

  static std::string Mlir(int dispatches) {
    return "// standin: function=main output=1x4xf32=1 2 3 4 time_ms=10.1\n"
           "// standin: dispatches=" + std::to_string(dispatches) + " binary_bytes=20000\n"
           "util.global private @weight = #stream.parameter.named<\"model\"::\"mlp.weight\"> : tensor<4x4xf32>\n"
           "util.global private @steps = #stream.parameter.named<\"model\"::\"mlp.steps\"> : tensor<2xi32>\n"
           "func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> { return %x : tensor<1x4xf32> }\n";
  }
  static std::string ModuleJson(const std::string& extra_flag) {
    return R"({
  "mlir": "mlp/model.mlir",
  "compiler_flags": ["--iree-hal-target-device=local", "--iree-llvmcpu-target-cpu=host", ")" + extra_flag + R"("]
})";
  }
  std::string Url(const std::string& relative) const { return "file://" + (root_ / "test_suite_files" / relative).string(); }
  std::string Quality(const std::string& expected) const {
    return R"({
  "type": "quality",
  "markers": ["cpu"],
  "modules": ["examples/modules/mlp_cpu", "examples/modules/scheduler_cpu"],
  "weights": [{"type": "url", "scope": "model", "url": ")" + Url("mlp/weights.irpa") + R"("}],
  "inputs": [{"url": ")" + Url("mlp/input0.bin") + R"(", "value": "1x4xf32"}, {"value": "1xf32=0"}],
  "outputs": [{"value": "@out0.npy"}],
  "expected_outputs": [{"url": ")" + Url(expected) + R"("}],
  "run_args": ["--device=local-task", "--function=main"]
})";
  }
  static std::string Benchmark(double golden) {
    return R"({"type": "benchmark", "markers": ["cpu"], "modules": ["examples/modules/mlp_cpu"],
  "inputs": [{"value": "1x4xf32"}], "run_args": ["--device=local-task", "--function=main"],
  "golden_time_ms": )" + std::to_string(golden) + "}";
  }
  static std::string Compstat(int dispatches, int bytes) {
    return R"({"type": "compstat", "markers": ["cpu"], "module": "examples/modules/mlp_cpu",
  "golden_dispatch_count": )" + std::to_string(dispatches) + R"(, "golden_binary_size": )" + std::to_string(bytes) + "}";
  }

  std::map<std::string, v1::Job> Run(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"submit"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(spec_);
    const int64_t sweep_id = SweepId(farm_->Cli(args));
    farm_->WaitForSweep(sweep_id, std::chrono::seconds(120));
    std::map<std::string, v1::Job> jobs;
    for (const auto& listed : farm_->Jobs(sweep_id)) jobs[listed.name()] = farm_->Job(listed.id());
    return jobs;
  }

  std::unique_ptr<Farm> farm_;
  fs::path root_;
  std::string spec_;
};

TEST_F(IreeSuiteTest, SeedFormatSuiteRunsJudgesAndReusesCompiledModules) {
  farm_->StartCoordinator();
  farm_->StartAgent("node-a", "cpu:2");

  // pytest's --collect-only: what the markers select, without running.
  CliResult collected = farm_->Cli({"submit", "--collect-only", spec_});
  ASSERT_EQ(collected.exit_code, 0) << collected.output;
  EXPECT_NE(collected.output.find("7 tests selected"), std::string::npos) << collected.output;
  EXPECT_NE(collected.output.find("torch_models/examples/mlp_cpu_benchmark_slow.json"), std::string::npos);
  EXPECT_EQ(collected.output.find("mlp_hip_benchmark.json  "), std::string::npos) << collected.output;
  EXPECT_NE(collected.output.find("'cpu and not slow' selects 7 of 8 tests; 1 deselected: "
                                  "torch_models/examples/mlp_hip_benchmark.json"),
            std::string::npos)
      << collected.output;

  // The suite that ships in examples/, as its README says to list it.
  CliResult example = farm_->Cli({"submit", "--collect-only", GAUNTLET_SOURCE_DIR "/examples/sweeps/iree-torch-models.yaml"});
  EXPECT_EQ(example.exit_code, 0) << example.output;
  EXPECT_NE(example.output.find("3 tests selected"), std::string::npos) << example.output;

  auto jobs = Run();
  ASSERT_EQ(jobs.size(), 9u) << "2 compiles and 7 tests";
  for (const char* compile : {"compile.mlp_cpu", "compile.scheduler_cpu"}) {
    EXPECT_EQ(jobs[compile].state(), v1::JOB_STATE_SUCCEEDED) << compile << ": " << jobs[compile].reason();
    EXPECT_EQ(jobs[compile].metrics().at("cache_hit"), 0) << compile;
  }
  EXPECT_EQ(jobs["compile.mlp_cpu"].metrics().at("binary_size_bytes"), 20000);

  const v1::Job& quality = jobs["mlp_cpu_quality"];
  EXPECT_EQ(quality.state(), v1::JOB_STATE_SUCCEEDED) << quality.reason();
  const v1::Job& wrong = jobs["mlp_cpu_quality_wrong"];
  EXPECT_EQ(wrong.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(wrong.verdict(), "fail");
  EXPECT_NE(wrong.reason().find("[FAILED] result[0]: contents does not match; expected 1x4xf32=1 2 3 5"),
            std::string::npos)
      << wrong.reason();

  const v1::Job& benchmark = jobs["mlp_cpu_benchmark"];
  EXPECT_EQ(benchmark.state(), v1::JOB_STATE_SUCCEEDED) << benchmark.reason();
  EXPECT_DOUBLE_EQ(benchmark.metrics().at("time_ms"), 10.1);
  EXPECT_NEAR(benchmark.metrics().at("over_golden_pct"), 1.0, 1e-6);
  EXPECT_NE(benchmark.result_json().find("\"time_ms\": ["), std::string::npos) << "every repeat, for nightly detection";
  const v1::Job& slow = jobs["mlp_cpu_benchmark_slow"];
  EXPECT_EQ(slow.state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(slow.reason().find("best of 5 repeats 10.10 ms"), std::string::npos) << slow.reason();
  EXPECT_NE(slow.reason().find("is over golden_time_ms 9.00 + 3.0% (9.27 ms): 12.2% over golden"), std::string::npos)
      << slow.reason();

  // Random weights: the module's named parameters, generated once per MLIR
  // and seed into the node's cache, and passed as --parameters.
  const v1::Job& random = jobs["mlp_cpu_random_benchmark"];
  EXPECT_EQ(random.state(), v1::JOB_STATE_SUCCEEDED) << random.reason();
  std::smatch archive;
  ASSERT_TRUE(std::regex_search(random.result_json(), archive, std::regex("--parameters=model=([^ \"']*param_42\\.irpa)")))
      << random.result_json();
  const std::string generated = ReadFile(archive[1]);
  EXPECT_EQ(generated.rfind("STANDIN-IRPA\n", 0), 0u);
  EXPECT_NE(generated.find("\"name\": \"mlp.weight\", \"shape\": [4, 4], \"dtype\": \"float32\""), std::string::npos)
      << generated.substr(0, 300);
  EXPECT_NE(generated.find("\"name\": \"mlp.steps\", \"shape\": [2], \"dtype\": \"int32\""), std::string::npos);

  EXPECT_EQ(jobs["mlp_cpu_compstat"].state(), v1::JOB_STATE_SUCCEEDED) << jobs["mlp_cpu_compstat"].reason();
  EXPECT_EQ(jobs["mlp_cpu_compstat"].metrics().at("dispatch_count"), 3);
  const v1::Job& over = jobs["mlp_cpu_compstat_over"];
  EXPECT_EQ(over.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(over.reason(), "verdict fail: dispatch count 3 is over golden_dispatch_count 2; binary size 20000 bytes is over "
                           "golden_binary_size 1000");

  // Nothing changed: both modules come from the node's cache.
  jobs = Run();
  EXPECT_EQ(jobs["compile.mlp_cpu"].metrics().at("cache_hit"), 1);
  EXPECT_EQ(jobs["compile.scheduler_cpu"].metrics().at("cache_hit"), 1);
  EXPECT_EQ(jobs["mlp_cpu_quality"].state(), v1::JOB_STATE_SUCCEEDED) << jobs["mlp_cpu_quality"].reason();

  // A changed flag recompiles that module only.
  Write(root_ / "torch_models/examples/modules/mlp_cpu.json", ModuleJson("--iree-opt-level=O2"));
  jobs = Run();
  EXPECT_EQ(jobs["compile.mlp_cpu"].metrics().at("cache_hit"), 0);
  EXPECT_EQ(jobs["compile.scheduler_cpu"].metrics().at("cache_hit"), 1);

  // A changed MLIR byte, at the same path, recompiles and is measured anew.
  Write(root_ / "test_suite_files/mlp/model.mlir", Mlir(4));
  jobs = Run();
  EXPECT_EQ(jobs["compile.mlp_cpu"].metrics().at("cache_hit"), 0);
  EXPECT_EQ(jobs["mlp_cpu_compstat"].metrics().at("dispatch_count"), 4);

  // pytest-iree's --force-recompile.
  jobs = Run({"--force=compile"});
  EXPECT_EQ(jobs["compile.mlp_cpu"].metrics().at("cache_hit"), 0);
  EXPECT_EQ(jobs["compile.scheduler_cpu"].metrics().at("cache_hit"), 0);
}

TEST_F(IreeSuiteTest, ANodeWithoutTheToolsSaysWhichIsMissingAndHowToPointToIt) {
  // The same suite with no tools: paths, on an agent whose PATH has no IREE.
  std::string text = ReadFile(spec_);
  text = text.substr(0, text.find("  tools:"));
  Write(spec_, text);
  farm_->StartCoordinator();
  farm_->StartAgent("node-a", "cpu:1");
  auto jobs = Run();
  const v1::Job& compile = jobs["compile.mlp_cpu"];
  EXPECT_EQ(compile.state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(compile.reason().find("iree-compile is not installed on this node"), std::string::npos) << compile.reason();
  EXPECT_NE(compile.reason().find("point suite.tools.iree-compile at it"), std::string::npos) << compile.reason();
  EXPECT_EQ(compile.attempts_size(), 1) << "a configuration error is final";
  EXPECT_EQ(jobs["mlp_cpu_benchmark"].state(), v1::JOB_STATE_SKIPPED);
}

}  // namespace
}  // namespace gauntlet::testing
