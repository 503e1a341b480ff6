// Pre-flight's pure core: which agents could run a stage, which folders they
// scanned, and what a path missing from them means.
#include "coordinator/expand/preflight.h"

#include <gtest/gtest.h>

namespace gauntlet::expand {
namespace {

SweepPlan PlanReading(const std::string& model, const std::string& kind) {
  spec::SweepSpec spec;
  SweepPlan plan;
  PlannedJob job;
  job.name = "compile";
  job.stage = "compile";
  job.kind = spec::JobKind::kWorker;
  job.device_kind = kind;
  job.spec_json = nlohmann::json{{"suite", "llm"}, {"params", {{"model", model}}}}.dump();
  plan.jobs.push_back(job);
  return plan;
}

spec::SweepSpec SpecOf(const std::string& model) {
  spec::SweepSpec spec;
  spec::ModelMatrix matrix;
  matrix.variant = model;
  spec.models.push_back(matrix);
  return spec;
}

AgentFacts Agent(const std::string& name, const std::string& kind, std::vector<std::string> models) {
  AgentFacts agent{name, {kind}, {}};
  agent.model_roots = {"/models"};
  agent.models = std::move(models);
  return agent;
}

TEST(PreflightTest, OnlyAgentsAbleToRunTheStageCount) {
  const auto spec = SpecOf("/models/llama");
  const auto plan = PlanReading("/models/llama", "gpu");
  // A cpu agent holds it, but the compile stage needs a gpu.
  auto report = Preflight(spec, plan, {Agent("cpu-box", "cpu", {"/models/llama"}), Agent("gpu-box", "gpu", {})});
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0],
            "models[0].variant: '/models/llama' is on no agent that could run it (agents of kind 'gpu' hold: "
            "nothing); copy it there, fix the path, or submit with --no-preflight");
  report = Preflight(spec, plan, {Agent("gpu-box", "gpu", {"/models/llama"})});
  EXPECT_TRUE(report.problems.empty());
  EXPECT_TRUE(Preflight(spec, PlanReading("/models/llama/", "gpu"), {Agent("g", "gpu", {"/models/llama"})})
                  .problems.empty())
      << "a trailing slash is the same folder";
}

TEST(PreflightTest, WhatCannotBeCheckedIsSaidNotRefused) {
  const auto spec = SpecOf("/elsewhere/llama");
  auto report = Preflight(spec, PlanReading("/elsewhere/llama", "gpu"), {Agent("g", "gpu", {})});
  EXPECT_TRUE(report.problems.empty()) << "outside every scanned folder it may exist";
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("not checked"), std::string::npos);
  AgentFacts huge = Agent("g", "gpu", {});
  huge.truncated = true;
  report = Preflight(SpecOf("/models/x"), PlanReading("/models/x", "gpu"), {huge});
  EXPECT_TRUE(report.problems.empty()) << "an agent holding more than it reports may hold it";
  EXPECT_TRUE(Preflight(SpecOf("/models/x"), PlanReading("/models/x", "gpu"), {}).problems.empty())
      << "no agent yet: nothing to check against";
  EXPECT_TRUE(Preflight(SpecOf("ibm/granite"), PlanReading("ibm/granite", "gpu"), {Agent("g", "gpu", {})})
                  .problems.empty())
      << "a hub id is not a path";
}

}  // namespace
}  // namespace gauntlet::expand
