// The model matrix expands into reference → compile → run → validate →
// benchmark, sharing references and merging identical jobs.
#include <gtest/gtest.h>

#include "coordinator/expand/expand.h"
#include "coordinator/spec/parser.h"
#include "coordinator/spec/warnings.h"

namespace gauntlet::expand {
namespace {

constexpr const char* kCriteria = R"({"programs": [
  {"max_batch": 1, "max_tkv": 8192, "batch_granularity": 1, "tkv_granularity": 64},
  {"max_batch": 4, "max_tkv": 8192, "batch_granularity": 4, "tkv_granularity": 256}]})";

constexpr const char* kSpec = R"(
name: llm
resources: {device_kind: gpu, tags: [mi300x]}
models:
  - {variant: org/llama-8b, dtypes: [fp16, bf16], tp: [1, 4], attention: [paged]}
context_lengths: [4096, {context: 8192, max_batch: 4, batch_tkv_limit: 131072}]
programs: {criteria: dpp.json, select: ["*:0,<8192"]}
datasets: [{type: sharegpt, path: /data/sg.json}]
test: {type: metrics, max_new_tokens: 8}
)";

StatusOr<SweepPlan> ExpandSpec(const std::string& text) {
  auto spec = spec::ParseSweepSpec(text, "llm.yaml", {{"dpp.json", kCriteria}});
  if (!spec) return Err(spec.error());
  return Expand(*spec);
}

std::map<std::string, int> CountByStage(const SweepPlan& plan) {
  std::map<std::string, int> counts;
  for (const auto& job : plan.jobs) counts[job.stage]++;
  return counts;
}

TEST(ModelStagesTest, ExpandsTheMatrixIntoStages) {
  auto plan = ExpandSpec(kSpec);
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  auto counts = CountByStage(*plan);
  // 2 dtypes × 2 TP × 1 attention × 2 contexts compiles; 2 programs selected per context.
  EXPECT_EQ(counts["compile"], 8);
  EXPECT_EQ(counts["run"], 16);
  EXPECT_EQ(counts["validate"], 16);
  EXPECT_EQ(counts["benchmark"], 16);
  // References depend on model and prompt shape only; shapes repeat across contexts.
  EXPECT_LE(counts["reference"], 4);
  EXPECT_GE(counts["reference"], 2);
}

TEST(ModelStagesTest, AMeanDiffThresholdReachesValidationOnlyWhenSet) {
  auto plain = ExpandSpec(kSpec);
  std::string text = kSpec;
  text.replace(text.find("test: {type: metrics,"), 21, "test: {type: metrics, mean_diff_threshold: 0.001,");
  auto strict = ExpandSpec(text);
  ASSERT_TRUE(plain.has_value() && strict.has_value()) << (strict ? "" : strict.error().ToString());
  for (const auto& job : plain->jobs) EXPECT_FALSE(job.spec()["params"].contains("mean_diff_threshold"));
  int validations = 0;
  for (const auto& job : strict->jobs) {
    if (job.stage != "validate") continue;
    EXPECT_DOUBLE_EQ(job.spec()["params"]["mean_diff_threshold"].get<double>(), 0.001);
    ++validations;
  }
  EXPECT_EQ(validations, 16);
  auto bad_text = std::string(kSpec);
  bad_text.replace(bad_text.find("test: {type: metrics,"), 21, "test: {type: metrics, mean_diff_threshold: 2,");
  auto bad = ExpandSpec(bad_text);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("test.mean_diff_threshold"), std::string::npos) << bad.error().message();
}

TEST(ModelStagesTest, CpuNodesKeepEveryStageOnTheCpuBackend) {
  std::string text = kSpec;
  text.replace(text.find("device_kind: gpu"), 16, "device_kind: cpu");
  auto plan = ExpandSpec(text);
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  for (const auto& job : plan->jobs) {
    EXPECT_NE(job.spec()["backend"], "gpu") << job.name;
  }
}

TEST(ModelStagesTest, WiresDependenciesDevicesAndEnvironment) {
  auto plan = ExpandSpec(kSpec);
  ASSERT_TRUE(plan.has_value());
  for (const auto& job : plan->jobs) {
    EXPECT_EQ(job.tags, std::vector<std::string>{"mi300x"});
    if (job.stage == "run") {
      ASSERT_EQ(job.depends_on.size(), 2u);
      EXPECT_EQ(plan->jobs[job.depends_on[0]].stage, "compile");
      EXPECT_EQ(plan->jobs[job.depends_on[1]].stage, "reference");
      EXPECT_EQ(job.devices, std::stoi(job.labels.at("tp")));
      EXPECT_EQ(job.device_kind, "gpu");
      EXPECT_EQ(job.spec()["env"]["VLLM_DT_MAX_CONTEXT_LEN"], job.labels.at("context"));
      EXPECT_EQ(job.spec()["backend"], "gpu") << "GPU nodes run the device stages on the GPU backend";
      EXPECT_FALSE(job.cacheable);
    }
    if (job.stage == "compile") EXPECT_EQ(job.spec()["backend"], "gpu");
    if (job.stage == "validate") {
      EXPECT_EQ(job.spec()["backend"], "cpu") << "the comparison is the CPU's";
      ASSERT_EQ(job.depends_on.size(), 2u);
      EXPECT_EQ(plan->jobs[job.depends_on[0]].stage, "run");
      EXPECT_EQ(plan->jobs[job.depends_on[1]].stage, "reference");
      EXPECT_EQ(job.devices, 1);
    }
    if (job.stage == "reference") {
      EXPECT_TRUE(job.depends_on.empty());
      EXPECT_EQ(job.spec()["backend"], "cpu");
      EXPECT_TRUE(job.cacheable);
      EXPECT_FALSE(job.labels.contains("dtype")) << "references are shared by every dtype";
    }
    if (job.stage == "benchmark") {
      EXPECT_EQ(job.spec()["backend"], "gpu");
      EXPECT_EQ(plan->jobs[job.depends_on[1]].stage, "run") << "benchmarks do not wait for validate to pass";
    }
  }
}

TEST(ModelStagesTest, ARunnerTakesItsStagesBesideTheBuiltInBackend) {
  auto plan = ExpandSpec(R"(
name: llm
resources: {device_kind: gpu}
models:
  - {variant: org/llama-8b, dtypes: [bf16], tp: [4]}
  - variant: org/llama-8b
    dtypes: [bf16]
    tp: [4]
    runner:
      name: vllm
      command: "python3 run_vllm.py --request {request}"
      launcher: torchrun
      env: {VLLM_USE_V1: "1"}
      results: [{format: vllm-bench, path: vllm.json}]
context_lengths: [4096]
programs: {criteria: dpp.json, select: ["*:0,<8192"]}
datasets: [{type: sharegpt, path: /data/sg.json}]
)");
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  std::map<std::string, const PlannedJob*> by_name;
  for (const auto& job : plan->jobs) by_name[job.labels.at("model") + "/" + job.stage] = &job;
  // One reference per program for both stacks; everything after it twice.
  auto counts = CountByStage(*plan);
  const int programs = counts["reference"];
  ASSERT_GT(programs, 0);
  EXPECT_EQ(counts, (std::map<std::string, int>{{"reference", programs}, {"compile", 2}, {"run", 2 * programs},
                                                {"validate", 2 * programs}, {"benchmark", 2 * programs}}));
  const PlannedJob& run = *by_name.at("llama-8b@vllm/run");
  EXPECT_EQ(run.spec()["backend"], "runner");
  EXPECT_EQ(run.spec()["params"]["runner"]["launcher"], "torchrun");
  EXPECT_EQ(run.spec()["env"]["VLLM_USE_V1"], "1");
  EXPECT_EQ(run.spec()["env"]["VLLM_DT_MAX_CONTEXT_LEN"], "4096") << "the context's environment as for any run";
  EXPECT_EQ(run.devices, 4);
  EXPECT_EQ(run.labels.at("runner"), "vllm");
  EXPECT_EQ(run.spec()["results"][0]["format"], "vllm-bench") << "the runner's own reports are read like an exec job's";
  EXPECT_FALSE(by_name.at("llama-8b@vllm/validate")->spec().contains("results"));
  EXPECT_EQ(by_name.at("llama-8b/run")->spec()["backend"], "gpu");
  const PlannedJob& validate = *by_name.at("llama-8b@vllm/validate");
  EXPECT_EQ(validate.spec()["backend"], "cpu") << "validate is always the farm's";
  EXPECT_EQ(validate.spec()["params"]["run_runner"], "vllm");
  EXPECT_NE(validate.content_key, by_name.at("llama-8b/validate")->content_key);
  EXPECT_EQ(by_name.count("llama-8b@vllm/reference"), 0u) << "the runner does not take the reference by default";
}

TEST(ModelStagesTest, NamesAreUniqueAndKeysDistinct) {
  auto plan = ExpandSpec(kSpec);
  ASSERT_TRUE(plan.has_value());
  std::set<std::string> names, keys;
  for (const auto& job : plan->jobs) {
    EXPECT_TRUE(names.insert(job.name).second) << job.name;
    EXPECT_TRUE(keys.insert(job.content_key).second) << job.name;
  }
}

TEST(ModelStagesTest, ReferenceKeysDoNotDependOnDtypeOrContext) {
  auto a = ExpandSpec(kSpec);
  std::string other = kSpec;
  other.replace(other.find("dtypes: [fp16, bf16]"), 20, "dtypes: [fp8]");
  auto b = ExpandSpec(other);
  ASSERT_TRUE(a.has_value() && b.has_value());
  std::set<std::string> refs_a, refs_b;
  for (const auto& job : a->jobs) if (job.stage == "reference") refs_a.insert(job.content_key);
  for (const auto& job : b->jobs) if (job.stage == "reference") refs_b.insert(job.content_key);
  EXPECT_EQ(refs_a, refs_b);
}

TEST(ModelStagesTest, ASelectorThatMatchesNothingIsAnErrorUnlessAllowed) {
  std::string none = kSpec;
  none.replace(none.find("\"*:0,<8192\""), 11, "\"1:8,>=64\"");
  auto plan = ExpandSpec(none);
  ASSERT_FALSE(plan.has_value());
  EXPECT_NE(plan.error().message().find("llm.yaml:7:"), std::string::npos) << plan.error().message();
  EXPECT_NE(plan.error().message().find("programs.select: [1:8,>=64] matches no program"), std::string::npos)
      << plan.error().message();
  std::string allowed = none;
  allowed.replace(allowed.find("select:"), 7, "allow_empty: true, select:");
  auto empty = ExpandSpec(allowed);
  ASSERT_TRUE(empty.has_value()) << empty.error().ToString();
  EXPECT_TRUE(empty->jobs.empty());
}

TEST(ModelStagesTest, SpecErrorsNameTheFieldAndFix) {
  struct Case { std::string from, to, message; };
  std::vector<Case> cases = {
      {"dtypes: [fp16, bf16]", "dtypes: [fp16, fp12]", "models[0].dtypes[1]: 'fp12' is not one of bf16, fp16, fp32, fp8"},
      {"tp: [1, 4]", "tp: [1, x]", "models[0].tp[1]: 'x' must be an integer from 1 to 64"},
      {"criteria: dpp.json", "criteria: missing.json", "programs.criteria: 'missing.json' was not sent with the spec"},
      {"\"*:0,<8192\"", "\"0:4,<=x\"", "programs.select[0]: '0:4,<=x' — seq_len constraint must be an int or <op><int>"},
      {"\"*:0,<8192\"", "\"7:1,1\"", "'7:1,1' — program 7 does not exist; dpp.json defines programs 0..1"},
      {"type: sharegpt", "type: alpaca", "datasets[0].type: 'alpaca' is not one of rag_factoid, sharegpt"},
      {"type: metrics", "type: vibes", "test.type: 'vibes' is not one of metrics, tokens"},
      {"max_new_tokens: 8", "max_new_tokns: 8", "test.max_new_tokns: unknown field; did you mean 'max_new_tokens'?"},
  };
  for (const auto& c : cases) {
    std::string text = kSpec;
    ASSERT_NE(text.find(c.from), std::string::npos) << c.from;
    text.replace(text.find(c.from), c.from.size(), c.to);
    auto plan = ExpandSpec(text);
    ASSERT_FALSE(plan.has_value()) << c.to;
    EXPECT_NE(plan.error().message().find(c.message), std::string::npos) << plan.error().message();
    EXPECT_EQ(plan.error().message().rfind("llm.yaml:", 0), 0u) << plan.error().message();
  }
}

TEST(ModelStagesTest, KernelsBecomeMatrixJobs) {
  auto spec = spec::ParseSweepSpec(
      "name: k\nkernels: [{suite: moe, params: {method: [cpu, reference], input_token: [1, 1024], experts: 128}}]", "k.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  auto plan = Expand(*spec);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->jobs.size(), 4u);
  EXPECT_EQ(plan->jobs[3].name, "kernel-moe[method=reference,input_token=1024]");
  EXPECT_EQ(plan->jobs[3].spec()["suite"], "kernel.moe");
  EXPECT_EQ(plan->jobs[3].spec()["params"]["input_token"], 1024);
  EXPECT_EQ(plan->jobs[3].spec()["params"]["experts"], 128);
}

}  // namespace
}  // namespace gauntlet::expand

namespace gauntlet::expand {
namespace {

std::string WithTest(const std::string& test) {
  std::string spec = kSpec;
  return spec.replace(spec.find("test: {type: metrics, max_new_tokens: 8}"), 40, test);
}

TEST(ModelStagesTest, ValidateCarriesEveryThresholdThatIsSet) {
  auto plan = ExpandSpec(WithTest("test: {type: metrics, cross_entropy_threshold: 9, kl_threshold: 0.05, "
                                  "top1_threshold: 0.9}"));
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  int validates = 0;
  for (const auto& job : plan->jobs) {
    if (job.stage != "validate") continue;
    ++validates;
    const auto params = job.spec()["params"];
    EXPECT_DOUBLE_EQ(params["kl_threshold"].get<double>(), 0.05);
    EXPECT_DOUBLE_EQ(params["top1_threshold"].get<double>(), 0.9);
    EXPECT_FALSE(params.contains("mean_diff_threshold")) << "unset thresholds stay out of the content key";
  }
  EXPECT_GT(validates, 0);
  auto unset = ExpandSpec(kSpec);
  ASSERT_TRUE(unset.has_value());
  for (const auto& job : unset->jobs) EXPECT_FALSE(job.spec()["params"].contains("kl_threshold"));
}

TEST(SpecWarningsTest, ACrossEntropyThresholdBelowAFlatTopKsEntropyIsWarnedOf) {
  auto seed = spec::ParseSweepSpec(WithTest("test: {type: metrics, cross_entropy_threshold: 2.44}"), "llm.yaml",
                                   {{"dpp.json", kCriteria}});
  ASSERT_TRUE(seed.has_value()) << seed.error().ToString();
  const auto warnings = spec::SpecWarnings(*seed);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("test.cross_entropy_threshold: 2.44 is below ln(top_k) = ln 20 = 3 nats"),
            std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("test.kl_threshold"), std::string::npos) << warnings[0];
  // Above ln(top_k), or with fewer candidates, or judging tokens: nothing to say.
  for (const char* test : {"test: {type: metrics, cross_entropy_threshold: 3.1}",
                           "test: {type: metrics, cross_entropy_threshold: 2.44, top_k: 10}",
                           "test: {type: tokens, cross_entropy_threshold: 2.44}"}) {
    auto spec = spec::ParseSweepSpec(WithTest(test), "llm.yaml", {{"dpp.json", kCriteria}});
    ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
    EXPECT_TRUE(spec::SpecWarnings(*spec).empty()) << test;
  }
  auto out_of_range = spec::ParseSweepSpec(WithTest("test: {type: metrics, top1_threshold: 2}"), "llm.yaml",
                                           {{"dpp.json", kCriteria}});
  ASSERT_FALSE(out_of_range.has_value());
  EXPECT_NE(out_of_range.error().message().find("test.top1_threshold"), std::string::npos)
      << out_of_range.error().message();
}

}  // namespace
}  // namespace gauntlet::expand
