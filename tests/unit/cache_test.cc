// The content-key cache through JobManager: a result computed once satisfies
// identical jobs of later sweeps, unless forced.
#include <gtest/gtest.h>

#include "coordinator/job_manager.h"

namespace gauntlet {
namespace {

constexpr const char* kCriteria = R"({"programs": [{"max_batch": 1, "max_tkv": 4096, "batch_granularity": 1, "tkv_granularity": 64}]})";

constexpr const char* kSpec = R"(
name: cached
models: [{variant: org/tiny, dtypes: [fp16], tp: [1]}]
context_lengths: [4096]
programs: {criteria: c.json, select: ["0:1,==1024"]}
datasets: [{type: sharegpt, path: sg.json}]
)";

class CacheTest : public testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::Open(":memory:"));
    jobs_ = std::make_unique<JobManager>(*store_, clock_, JobManagerOptions{});
    v1::RegisterRequest agent;
    agent.set_name("n");
    agent.add_devices()->set_kind("cpu");
    ASSERT_TRUE(jobs_->Register(agent).has_value());
  }

  StatusOr<v1::SubmitSweepResponse> Submit(bool dry_run, std::vector<std::string> force = {}) {
    v1::SubmitSweepRequest request;
    request.set_spec_text(kSpec);
    request.set_source("cached.yaml");
    request.set_dry_run(dry_run);
    (*request.mutable_files())["c.json"] = kCriteria;
    for (const auto& stage : force) request.add_force(stage);
    return jobs_->SubmitSweep(request);
  }

  // Runs every job the agent is given to success.
  void Drain() {
    for (int i = 0; i < 50; ++i) {
      v1::HeartbeatRequest poll;
      poll.set_name("n");
      jobs_->Tick();
      auto response = jobs_->Heartbeat(poll);
      if (response->assignments_size() == 0) return;
      for (const auto& assignment : response->assignments()) {
        v1::AttemptReport report;
        report.set_attempt_id(assignment.attempt_id());
        report.set_state(v1::ATTEMPT_STATE_SUCCEEDED);
        (*report.mutable_metrics())["ttft_ms"] = 10;
        ASSERT_TRUE(jobs_->ReportAttempt(report).has_value());
      }
    }
  }

  std::map<std::string, v1::JobState> States(int64_t sweep) {
    v1::ListJobsRequest request;
    request.set_sweep_id(sweep);
    std::map<std::string, v1::JobState> out;
    auto listed = jobs_->ListJobs(request);
    for (const auto& job : listed.value().jobs()) out[job.stage()] = job.state();
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(CacheTest, ReferencesAndCompilesAreReusedByLaterSweeps) {
  auto dry = Submit(/*dry_run=*/true);
  ASSERT_TRUE(dry.has_value()) << dry.error().ToString();
  EXPECT_EQ(dry->summary().cache_hits(), 0);
  EXPECT_EQ(dry->summary().jobs_by_stage().at("run"), 1);

  auto first = Submit(false);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  Drain();
  EXPECT_TRUE(jobs_->GetSweep(first->sweep().id())->succeeded());

  auto dry_again = Submit(true);
  EXPECT_EQ(dry_again->summary().cache_hits(), 2) << "reference and compile";

  auto second = Submit(false);
  ASSERT_TRUE(second.has_value());
  auto states = States(second->sweep().id());
  EXPECT_EQ(states["reference"], v1::JOB_STATE_CACHED);
  EXPECT_EQ(states["compile"], v1::JOB_STATE_CACHED);
  EXPECT_EQ(states["run"], v1::JOB_STATE_READY) << "runs are never cached by default; it is ready at once";
  v1::ListJobsRequest request;
  request.set_sweep_id(second->sweep().id());
  auto listed = jobs_->ListJobs(request);
  for (const auto& job : listed.value().jobs()) {
    if (job.stage() != "reference") continue;
    auto full = jobs_->GetJob(job.id());
    EXPECT_NE(full->cached_from(), 0);
    EXPECT_EQ(full->metrics().at("ttft_ms"), 10) << "a cached job shows the result it reuses";
  }
  Drain();
  EXPECT_TRUE(jobs_->GetSweep(second->sweep().id())->succeeded());
}

TEST_F(CacheTest, ForceBypassesTheCacheForAllOrSomeStages) {
  ASSERT_TRUE(Submit(false).has_value());
  Drain();
  auto forced_compile = Submit(false, {"compile"});
  auto states = States(forced_compile->sweep().id());
  EXPECT_EQ(states["reference"], v1::JOB_STATE_CACHED);
  EXPECT_NE(states["compile"], v1::JOB_STATE_CACHED);
  Drain();
  auto forced_all = Submit(false, {"*"});
  states = States(forced_all->sweep().id());
  EXPECT_NE(states["reference"], v1::JOB_STATE_CACHED);
  EXPECT_NE(states["compile"], v1::JOB_STATE_CACHED);
  auto bad = Submit(false, {"lunch"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("--force: 'lunch' is not a stage"), std::string::npos);
}

}  // namespace
}  // namespace gauntlet
