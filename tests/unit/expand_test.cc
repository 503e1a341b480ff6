#include "coordinator/expand/expand.h"

#include <gtest/gtest.h>

#include "coordinator/spec/parser.h"

namespace gauntlet::expand {
namespace {

SweepPlan ExpandText(const std::string& text) {
  auto spec = spec::ParseSweepSpec(text, "t.yaml");
  EXPECT_TRUE(spec.has_value()) << spec.error().ToString();
  auto plan = Expand(*spec);
  EXPECT_TRUE(plan.has_value()) << plan.error().ToString();
  return *plan;
}

const PlannedJob& Find(const SweepPlan& plan, const std::string& name) {
  for (const auto& job : plan.jobs) {
    if (job.name == name) return job;
  }
  ADD_FAILURE() << "no job " << name;
  return plan.jobs.front();
}

TEST(ExpandTest, MultipliesMatrixAndSubstitutesTypedValues) {
  SweepPlan plan = ExpandText(R"(
name: m
jobs:
  - {name: run, kind: worker, suite: s, matrix: {n: [1, 2], dtype: [fp16, bf16]}, params: {n: "${n}", tag: "${dtype}-${n}"}}
)");
  ASSERT_EQ(plan.jobs.size(), 4u);
  const auto& job = Find(plan, "run[n=2,dtype=bf16]");
  EXPECT_EQ(job.spec()["params"]["n"], 2) << "a whole-string reference keeps the number type";
  EXPECT_EQ(job.spec()["params"]["tag"], "bf16-2");
  EXPECT_EQ(job.labels.at("dtype"), "bf16");
}

TEST(ExpandTest, VariableValuedFieldsTakeEachInstancesValue) {
  SweepPlan plan = ExpandText(R"(
name: m
exec:
  - name: bench
    command: "run --tp ${tp}"
    matrix: {tp: [1, 4], limit: [25, 40], kind: [gpu]}
    devices: ${tp}
    device_kind: ${kind}
    timeout: ${limit}
    targets: {itl_ms: '${limit}', tokens_per_s: {min: 100}}
)");
  ASSERT_EQ(plan.jobs.size(), 4u);
  const auto& job = Find(plan, "bench[tp=4,limit=40,kind=gpu]");
  EXPECT_EQ(job.devices, 4);
  EXPECT_EQ(job.device_kind, "gpu");
  EXPECT_DOUBLE_EQ(job.timeout_s, 40);
  EXPECT_EQ(job.spec()["targets"]["itl_ms"]["max"], 40) << "a whole ${var} keeps the number type";
  EXPECT_EQ(job.spec()["targets"]["tokens_per_s"]["min"], 100);
  EXPECT_EQ(Find(plan, "bench[tp=1,limit=25,kind=gpu]").devices, 1);
}

TEST(ExpandTest, LabelsTakeTheJobsOwnMatrixValues) {
  SweepPlan plan = ExpandText(R"(
name: m
jobs:
  - {name: bench, kind: exec, command: "true", matrix: {ctx: [4096, 8192]}, labels: {model: m, context: "${ctx}", note: "ctx ${ctx}"}}
)");
  ASSERT_EQ(plan.jobs.size(), 2u);
  EXPECT_EQ(Find(plan, "bench[ctx=4096]").labels.at("note"), "ctx 4096");
  EXPECT_EQ(Find(plan, "bench[ctx=8192]").labels.at("note"), "ctx 8192") << "two contexts, two labels";
  EXPECT_EQ(Find(plan, "bench[ctx=8192]").labels.at("context"), "8192");
}

TEST(ExpandTest, DependenciesFollowSharedMatrixValues) {
  SweepPlan plan = ExpandText(R"(
name: d
jobs:
  - {name: build, kind: exec, command: "make ${size}", matrix: {size: [s, l]}}
  - {name: run, kind: exec, command: "run ${size} ${seed}", depends_on: build, matrix: {size: [s, l], seed: [1, 2]}}
  - {name: report, kind: exec, command: report, depends_on: run}
)");
  ASSERT_EQ(plan.jobs.size(), 7u);
  const auto& run = Find(plan, "run[size=l,seed=2]");
  ASSERT_EQ(run.depends_on.size(), 1u);
  EXPECT_EQ(plan.jobs[run.depends_on[0]].name, "build[size=l]");
  EXPECT_EQ(Find(plan, "report").depends_on.size(), 4u) << "a job without the variables waits for all";
  // Upstream jobs come first, which the store relies on.
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    for (size_t dep : plan.jobs[i].depends_on) EXPECT_LT(dep, i);
  }
}

TEST(ExpandTest, ContentKeyCoversInputsNotSchedulingOrName) {
  SweepPlan a = ExpandText("name: a\njobs: [{name: x, kind: exec, command: 'echo 1', priority: 1, max_attempts: 2}]");
  SweepPlan b = ExpandText("name: b\njobs: [{name: y, kind: exec, command: 'echo 1', priority: 9}]");
  SweepPlan c = ExpandText("name: c\njobs: [{name: x, kind: exec, command: 'echo 2'}]");
  EXPECT_EQ(a.jobs[0].content_key, b.jobs[0].content_key);
  EXPECT_NE(a.jobs[0].content_key, c.jobs[0].content_key);
  EXPECT_EQ(a.jobs[0].content_key.size(), 64u);
}

TEST(ExpandTest, CheckFitsNamesTheJobAndTheLargestNode) {
  SweepPlan plan = ExpandText("name: f\njobs: [{name: wide, kind: exec, command: x, devices: 8}]");
  EXPECT_TRUE(CheckFits(plan, {}).ok()) << "with no agents known the jobs wait";
  EXPECT_TRUE(CheckFits(plan, {{"big", "gpu", 8}}).ok());
  Status status = CheckFits(plan, {{"a", "cpu", 4}, {"b", "cpu", 2}});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("job 'wide': devices: 8 devices"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("the largest agent, 'a', has 4"), std::string::npos) << status.message();
}

TEST(ExpandTest, CheckFitsHonoursDeviceKind) {
  SweepPlan plan = ExpandText("name: f\njobs: [{name: g, kind: exec, command: x, devices: 2, device_kind: gpu}]");
  Status status = CheckFits(plan, {{"a", "cpu", 8}, {"b", "gpu", 1}});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("of kind 'gpu'"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace gauntlet::expand
