// A moe kernel entry at submit: its swept parameters checked by the worker's
// rules, and usebest wired to an autotune job of the same shapes.
#include <gtest/gtest.h>

#include "coordinator/expand/expand.h"
#include "coordinator/spec/parser.h"

namespace gauntlet::spec {
namespace {

TEST(MoeKernelSpecTest, BadCombinationsAreRefusedNamingTheirValues) {
  auto spec = ParseSweepSpec("name: m\nkernels:\n  - suite: moe\n    params: {experts: [8, 128], topk: [2, 16]}\n", "m.yaml");
  ASSERT_FALSE(spec.has_value());
  EXPECT_NE(spec.error().message().find("m.yaml:4:13: kernels[0]: params.topk: 16 is more than experts (8); a token picks "
                                        "at most every expert once (experts=8, topk=16)"),
            std::string::npos)
      << spec.error().message();
  auto method = ParseSweepSpec("name: m\nkernels:\n  - {suite: moe, params: {method: [cpu, aiter]}}\n", "m.yaml");
  ASSERT_FALSE(method.has_value());
  EXPECT_NE(method.error().message().find("'aiter' is not a method"), std::string::npos) << method.error().message();
  auto dtype = ParseSweepSpec("name: m\nkernels:\n  - {suite: moe, params: {dtype: fp16}}\n", "m.yaml");
  ASSERT_FALSE(dtype.has_value());
  EXPECT_NE(dtype.error().message().find("params.dtype: 'fp16' is not one of bfloat16, float8_e4m3fn"), std::string::npos);
}

TEST(MoeKernelSpecTest, UsebestDependsOnAnAutotuneOfTheSameShapes) {
  auto spec = ParseSweepSpec(
      "name: m\nkernels:\n  - suite: moe\n    params: {mode: benchmark, usebest: true, input_token: [1, 1024], "
      "experts: [8, 128], topk: 2, inter_dim: 96, hidden_size: 2048}\n",
      "m.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  auto plan = expand::Expand(*spec);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  ASSERT_EQ(plan->jobs.size(), 6u) << "an autotune per expert count, then 2 × 2 benchmarks";
  const auto& tune = plan->jobs[0];
  EXPECT_EQ(tune.name, "kernel-moe-autotune[experts=8]");
  EXPECT_EQ(tune.stage, "autotune");
  EXPECT_TRUE(tune.cacheable) << "tuned once, reused across nights until --force=autotune";
  const auto params = tune.spec()["params"];
  EXPECT_EQ(params["mode"], "autotune");
  EXPECT_EQ(params["input_token"], "1,1024") << "every token count the benchmarks use";
  EXPECT_FALSE(params.contains("usebest"));
  for (size_t i = 2; i < plan->jobs.size(); ++i) {
    const auto& job = plan->jobs[i];
    ASSERT_EQ(job.depends_on.size(), 1u) << job.name;
    EXPECT_EQ(plan->jobs[job.depends_on[0]].labels.at("experts"), job.labels.at("experts")) << job.name;
  }
  auto no_cache = ParseSweepSpec("name: m\ncache: [reference]\nkernels:\n  - {suite: moe, params: {usebest: true}}\n", "m.yaml");
  ASSERT_TRUE(no_cache.has_value());
  EXPECT_FALSE(expand::Expand(*no_cache)->jobs[0].cacheable);
  auto given = ParseSweepSpec("name: m\nkernels:\n  - {suite: moe, params: {usebest: true, config_dir: /srv/moe}}\n", "m.yaml");
  ASSERT_TRUE(given.has_value());
  EXPECT_EQ(expand::Expand(*given)->jobs.size(), 1u) << "a folder of tuned files needs no tuning";
}

}  // namespace
}  // namespace gauntlet::spec
