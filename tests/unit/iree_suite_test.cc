// The IREE suite's pure parts on the coordinator: pytest's marker
// expressions, the JSON definitions with their positions, and the DAG a
// `suite:` block expands to.
#include <gtest/gtest.h>

#include "coordinator/expand/expand.h"
#include "coordinator/sched/initial_states.h"
#include "coordinator/spec/iree/definitions.h"
#include "coordinator/spec/iree/marker_expression.h"
#include "coordinator/spec/parser.h"
#include "coordinator/spec/warnings.h"

namespace gauntlet::spec {
namespace {

using iree::MarkerExpression;

bool Selects(const std::string& expression, std::set<std::string> markers) {
  auto parsed = MarkerExpression::Parse(expression);
  EXPECT_TRUE(parsed.has_value()) << expression << ": " << parsed.error().message();
  return parsed && parsed->Matches(markers);
}

// The cases of pytest's testing/test_mark_expression.py that apply to -m.
TEST(MarkerExpressionTest, FollowsPytestSemantics) {
  EXPECT_TRUE(Selects("hip", {"hip", "gfx942"}));
  EXPECT_FALSE(Selects("hip", {"cpu"}));
  EXPECT_TRUE(Selects("hip and benchmark", {"hip", "benchmark"}));
  EXPECT_FALSE(Selects("hip and benchmark", {"hip", "quality"}));
  EXPECT_TRUE(Selects("hip or cpu", {"cpu"}));
  EXPECT_TRUE(Selects("not slow", {"cpu"}));
  EXPECT_FALSE(Selects("not slow", {"slow"}));
  EXPECT_TRUE(Selects("not not slow", {"slow"}));
  // and binds tighter than or; not tighter than and.
  EXPECT_TRUE(Selects("a or b and c", {"a"}));
  EXPECT_FALSE(Selects("(a or b) and c", {"a"}));
  EXPECT_TRUE(Selects("not a and b", {"b"}));
  EXPECT_FALSE(Selects("not (a and b)", {"a", "b"}));
  EXPECT_TRUE(Selects("  ( ( hip ) )  ", {"hip"}));
  // pytest's ident characters, and True/False as plain names.
  EXPECT_TRUE(Selects("gfx1201:O3", {"gfx1201:O3"}));
  EXPECT_TRUE(Selects("a.b-c+d/e[f]", {"a.b-c+d/e[f]"}));
  EXPECT_TRUE(Selects("True", {"True"}));
  EXPECT_FALSE(Selects("True", {}));
  // Keywords are whole words only.
  EXPECT_TRUE(Selects("notable", {"notable"}));
  EXPECT_TRUE(Selects("android", {"android"}));
  // No expression: no -m filter.
  EXPECT_TRUE(Selects("", {}));
  EXPECT_TRUE(Selects("   ", {"x"}));
}

TEST(MarkerExpressionTest, ErrorsSayTheColumnAndWhatWasExpected) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"hip and", "at column 8: expected not OR left parenthesis OR identifier; got end of input"},
      {"(hip", "at column 5: expected right parenthesis; got end of input"},
      {"hip cpu", "at column 5: expected end of input; got identifier"},
      {"and hip", "at column 1: expected not OR left parenthesis OR identifier; got and"},
      {"hip & cpu", "at column 5: unexpected character \"&\""},
      {"hip(arch=1)", "keyword arguments"},
  };
  for (const auto& c : cases) {
    auto parsed = MarkerExpression::Parse(c.text);
    ASSERT_FALSE(parsed.has_value()) << c.text;
    EXPECT_NE(parsed.error().message().find(c.message), std::string::npos) << c.text << ": " << parsed.error().message();
  }
}

TEST(IreeDefinitionsTest, TargetsComeFromTheCompilerFlags) {
  auto hip = iree::TargetOf({"--iree-hal-target-device=hip", "--iree-hip-target=gfx942"});
  ASSERT_TRUE(hip);
  EXPECT_EQ(hip->Name(), "hip:gfx942");
  auto rocm = iree::TargetOf({"--iree-hal-target-backends=rocm", "--iree-rocm-target=gfx1201"});
  ASSERT_TRUE(rocm);
  EXPECT_EQ(rocm->Name(), "hip:gfx1201");
  auto cpu = iree::TargetOf({"--iree-hal-target-device=local", "--iree-llvmcpu-target-cpu=host"});
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->Name(), "local:host");
  EXPECT_EQ(iree::TargetOf({"--iree-hal-target-device=hip[0]"})->Name(), "hip");
  EXPECT_FALSE(iree::TargetOf({"--iree-opt-level=O3"}));
}

// A seed-format suite: the same files pytest-iree reads.
std::map<std::string, std::string> SeedSuite() {
  return {
      {"suite.modules:examples/modules/unet_cpu.json", R"({
  "mlir": "unet/model.mlir",
  "compiler_flags": ["--iree-hal-target-device=local", "--iree-llvmcpu-target-cpu=host"]
})"},
      {"suite.modules:examples/modules/unet_hip.json", R"({
  "type": "azure",
  "mlir": "https://example.blob.core.windows.net/unet/model.mlir",
  "compiler_flags": ["--iree-hal-target-device=hip", "--iree-hip-target=gfx942"]
})"},
      {"suite.modules:examples/modules/scheduler_hip.json", R"({
  "mlir": "scheduler/model.mlir",
  "compiler_flags": ["--iree-hal-target-device=hip", "--iree-hip-target=gfx942"]
})"},
      {"suite.tests:unet_cpu_quality.json", R"({
  "type": "quality",
  "markers": ["cpu"],
  "modules": ["examples/modules/unet_cpu"],
  "weights": [{"type": "url", "scope": "model", "url": "https://example.com/w.irpa"}],
  "inputs": [{"url": "https://example.com/in0.bin", "value": "1x4xf16"}, {"value": "1xf16"}],
  "expected_outputs": [{"url": "https://example.com/out.npy"}],
  "run_args": ["--device=local-task", "--function=main"]
})"},
      {"suite.tests:unet_hip_benchmark.json", R"({
  "type": "benchmark",
  "markers": ["hip", "gfx942"],
  "modules": ["examples/modules/unet_hip", "examples/modules/scheduler_hip"],
  "inputs": [{"value": "1x4xf16"}],
  "run_args": ["--device=hip", "--function=run"],
  "golden_time_ms": 550.0
})"},
      {"suite.tests:unet_hip_compstat.json", R"({
  "type": "compstat",
  "markers": ["hip", "gfx942"],
  "module": "examples/modules/unet_hip",
  "golden_dispatch_count": 1400,
  "golden_binary_size": 2000000
})"},
      // Module definitions under the tests folder are skipped, as pytest-iree does.
      {"suite.tests:modules/unet_cpu.json", R"({"mlir": "x.mlir", "compiler_flags": []})"},
  };
}

StatusOr<SweepSpec> ParseSuite(const std::string& suite_yaml, const std::map<std::string, std::string>& files) {
  return ParseSweepSpec("name: iree\nsuite:\n" + suite_yaml, "iree.yaml", files);
}

const char* kSuite = R"(  type: iree
  tests: ./examples
  modules: ./
  external: /srv/test_suite_files
  markers: "hip"
  tools: {iree-compile: /opt/iree/bin/iree-compile}
  targets: {"hip:gfx942": {tags: [mi300x]}}
)";

const expand::PlannedJob* Find(const expand::SweepPlan& plan, const std::string& name) {
  for (const auto& job : plan.jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

TEST(IreeSuiteTest, ExpandsToOneCompilePerModuleThenOneJobPerSelectedTest) {
  auto spec = ParseSuite(kSuite, SeedSuite());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->suite.selected, (std::vector<std::string>{"./examples/unet_hip_benchmark.json",
                                                            "./examples/unet_hip_compstat.json"}));
  EXPECT_EQ(spec->suite.deselected, (std::vector<std::string>{"./examples/unet_cpu_quality.json"}));
  auto plan = expand::Expand(*spec);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  std::vector<std::string> names;
  for (const auto& job : plan->jobs) names.push_back(job.name);
  EXPECT_EQ(names, (std::vector<std::string>{"compile.unet_hip", "compile.scheduler_hip", "unet_hip_benchmark",
                                             "unet_hip_compstat"}));

  const auto* compile = Find(*plan, "compile.unet_hip");
  EXPECT_EQ(compile->stage, "compile");
  EXPECT_EQ(compile->device_kind, "gpu");
  EXPECT_EQ(compile->tags, (std::vector<std::string>{"mi300x"}));
  EXPECT_TRUE(compile->node_cached);
  EXPECT_FALSE(compile->cacheable) << "the coordinator cannot see the node's compiler version";
  nlohmann::json params = compile->spec()["params"];
  EXPECT_EQ(params["mlir"], "https://example.blob.core.windows.net/unet/model.mlir");
  EXPECT_EQ(params["target"], "hip:gfx942");
  EXPECT_EQ(params["external"], "/srv/test_suite_files");
  EXPECT_EQ(params["tools"]["iree-compile"], "/opt/iree/bin/iree-compile");

  const auto* benchmark = Find(*plan, "unet_hip_benchmark");
  EXPECT_EQ(benchmark->stage, "benchmark");
  EXPECT_EQ(benchmark->device_kind, "gpu");
  EXPECT_EQ(benchmark->depends_on.size(), 2u);
  params = benchmark->spec()["params"];
  EXPECT_EQ(params["golden_time_ms"], 550.0);
  EXPECT_EQ(params["tolerance"], 0.03);
  EXPECT_EQ(params["repetitions"], 10);
  EXPECT_EQ(params["modules"], nlohmann::json({"examples/modules/unet_hip", "examples/modules/scheduler_hip"}));
  EXPECT_EQ(benchmark->labels.at("markers"), "hip,gfx942");
  EXPECT_EQ(benchmark->labels.at("test_file"), "./examples/unet_hip_benchmark.json");

  const auto* compstat = Find(*plan, "unet_hip_compstat");
  EXPECT_EQ(compstat->device_kind, "") << "compile statistics are files any node can read";
  EXPECT_EQ(compstat->depends_on, std::vector<size_t>{0});
  EXPECT_EQ(compstat->spec()["params"]["golden_dispatch_count"], 1400);

  // The deselection is said at submit, as pytest says "1 deselected".
  auto warnings = SpecWarnings(*spec);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "suite.markers: 'hip' selects 2 of 3 tests; 1 deselected: ./examples/unet_cpu_quality.json");
}

TEST(IreeSuiteTest, TheTestTypeIsAMarkerAndCpuTargetsRunOnCpus) {
  auto spec = ParseSuite(std::string(kSuite).replace(std::string(kSuite).find("\"hip\""), 5, "\"quality\""), SeedSuite());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  auto plan = expand::Expand(*spec);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->jobs.size(), 2u);
  EXPECT_EQ(plan->jobs[0].device_kind, "cpu");
  const nlohmann::json params = plan->jobs[1].spec()["params"];
  EXPECT_EQ(params["stage"], "quality");
  EXPECT_EQ(params["weights"][0], nlohmann::json({{"type", "url"}, {"scope", "model"}, {"url", "https://example.com/w.irpa"}}));
  EXPECT_EQ(params["inputs"][0], nlohmann::json({{"url", "https://example.com/in0.bin"}, {"value", "1x4xf16"}}));
  EXPECT_EQ(params["expected_outputs"][0]["url"], "https://example.com/out.npy");
  EXPECT_EQ(params["run_args"], nlohmann::json({"--device=local-task", "--function=main"}));
}

TEST(IreeSuiteTest, ForceCompileReachesTheNodeCacheAndLeavesTheKey) {
  auto spec = ParseSuite(kSuite, SeedSuite());
  ASSERT_TRUE(spec.has_value());
  auto plan = expand::Expand(*spec);
  ASSERT_TRUE(plan.has_value());
  const std::string key = plan->jobs[0].content_key;
  sched::PassForceToNodeCaches({"benchmark"}, &*plan);
  EXPECT_FALSE(plan->jobs[0].spec()["params"].contains("force"));
  sched::PassForceToNodeCaches({"compile"}, &*plan);
  EXPECT_EQ(plan->jobs[0].spec()["params"]["force"], true);
  EXPECT_EQ(plan->jobs[0].content_key, key);
  EXPECT_FALSE(plan->jobs[2].spec()["params"].contains("force")) << "tests keep no cache of their own";
}

struct BadCase {
  std::string file;      // Key in the files map to replace ("" adds none).
  std::string content;
  std::string suite;     // Replaces kSuite when not empty.
  std::string message;   // Expected in the error.
};

TEST(IreeSuiteTest, BadDefinitionsAreRefusedWithFileLineAndField) {
  const std::vector<BadCase> cases = {
      {"suite.tests:unet_hip_benchmark.json", "{\n  \"type\": \"benchmark\",\n  \"markers\": \"hip\",\n  \"modules\": []\n}", "",
       "./examples/unet_hip_benchmark.json:3:14: markers: 'hip' must be a list of strings"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"benchmark\", \"markers\": [\"hip\"],\n \"modules\": [\"examples/modules/unet_hip\"], \"inputs\": [], \"golden_time\": 5}", "",
       "./examples/unet_hip_benchmark.json:2:58: golden_time: unknown field; allowed fields: type, markers, modules, "
       "weights, inputs, outputs, run_args, golden_time_ms"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"perf\", \"markers\": [\"hip\"]}", "",
       "./examples/unet_hip_benchmark.json:1:10: type: 'perf' is not a test type; use quality, benchmark or compstat"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"benchmark\", \"markers\": [\"hip\"],\n  \"modules\": [\"examples/modules/missing\"], \"inputs\": [{}]}", "",
       "inputs[0]: has neither url nor value"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"benchmark\", \"markers\": [\"hip\"],\n  \"modules\": [\"examples/modules/missing\"], \"inputs\": []}", "",
       "./examples/unet_hip_benchmark.json:2:14: modules: 'examples/modules/missing' has no definition: no "
       "./examples/modules/missing.json under suite.modules './'"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"benchmark\", \"markers\": [\"hip\"], \"modules\": [\"m\"],\n"
       "  \"inputs\": [], \"weights\": [{\"type\": \"random\", \"scope\": \"model\", \"module\": \"m\"}]}", "",
       "weights[0].seed: missing"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"benchmark\", \"markers\": [\"hip\"],\n"
       "  \"modules\": [\"../../etc/x\"], \"inputs\": []}", "",
       "./examples/unet_hip_benchmark.json:2:14: modules: '../../etc/x' must be a path under suite.modules './'"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"benchmark\", \"markers\": [\"hip\"], \"modules\": [\"m\"],\n"
       "  \"inputs\": [], \"weights\": [{\"type\": \"url\", \"url\": \"u\"}]}", "",
       "weights[0].scope: missing"},
      {"suite.tests:unet_hip_benchmark.json", "{\"type\": \"benchmark\", \"markers\": [\"hip\"],", "",
       "./examples/unet_hip_benchmark.json:1:"},
      {"suite.modules:examples/modules/scheduler_hip.json", "{\"mlir\": \"s.mlir\", \"compiler_flags\": [\"--iree-opt-level=O3\"]}", "",
       "./examples/modules/scheduler_hip.json:1:38: compiler_flags: names no target; add --iree-hal-target-device=hip"},
      {"suite.modules:examples/modules/scheduler_hip.json", "{\"mlir\": \"s.mlir\", \"compiler_flags\": [\"--iree-hal-target-device=metal\"]}", "",
       "./examples/modules/scheduler_hip.json: compiler_flags: target device 'metal' has no known device kind; say where "
       "it runs with suite.targets"},
      {"", "", "  type: iree\n  tests: ./examples\n  modules: ./\n  external: relative/files\n",
       "iree.yaml:6:13: suite.external: 'relative/files' must be an absolute path on the nodes"},
      {"", "", "  type: iree\n  tests: ./examples\n  modules: ./\n  external: /x\n  markers: \"hip and\"\n",
       "iree.yaml:7:12: suite.markers: 'hip and' at column 8: expected not OR left parenthesis OR identifier; got end of input"},
      {"", "", "  type: iree\n  tests: ./examples\n  modules: ./\n  external: /x\n  markers: \"rocm\"\n",
       "suite.markers: 'rocm' selects none of the 3 tests; their markers are benchmark, compstat, cpu, gfx942, hip, quality"},
      {"", "", "  type: pytest\n", "iree.yaml:3:9: suite.type: 'pytest' is not a suite type; use iree"},
      {"", "", "  type: iree\n  tests: ./examples\n  modules: ./\n", "iree.yaml:3:3: suite.external: missing"},
      {"", "", "  type: iree\n  tests: ./examples\n  modules: ./\n  external: /x\n  tolerance: 5\n",
       "suite.tolerance"},
  };
  for (const auto& c : cases) {
    auto files = SeedSuite();
    if (!c.file.empty()) files[c.file] = c.content;
    auto spec = ParseSuite(c.suite.empty() ? kSuite : c.suite, files);
    ASSERT_FALSE(spec.has_value()) << c.message;
    EXPECT_NE(spec.error().message().find(c.message), std::string::npos)
        << "want: " << c.message << "\ngot:  " << spec.error().message();
  }
}

TEST(IreeSuiteTest, NoFilesFromTheTestsFolderSaysSo) {
  auto spec = ParseSuite(kSuite, {});
  ASSERT_FALSE(spec.has_value());
  EXPECT_NE(spec.error().message().find("suite.tests: no JSON files came from './examples'"), std::string::npos)
      << spec.error().message();
}

}  // namespace
}  // namespace gauntlet::spec
