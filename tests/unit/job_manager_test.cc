// JobManager over a real in-memory SQLite store and a fake clock: the state
// machine of sweeps, jobs, attempts and leases without sockets or sleeps.
#include "coordinator/job_manager.h"

#include <gtest/gtest.h>

namespace gauntlet {
namespace {

class JobManagerTest : public testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::Open(":memory:");
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    JobManagerOptions options;
    options.lease_ttl_ms = 10'000;
    options.agent_timeout_ms = 10'000;
    jobs_ = std::make_unique<JobManager>(*store_, clock_, options);
  }

  void AddAgent(const std::string& name, int devices, std::vector<int64_t> running = {}) {
    v1::RegisterRequest request;
    request.set_name(name);
    for (int i = 0; i < devices; ++i) {
      auto* device = request.add_devices();
      device->set_index(i);
      device->set_kind("cpu");
    }
    for (int64_t id : running) request.add_running_attempts(id);
    ASSERT_TRUE(jobs_->Register(request).has_value());
  }

  int64_t Submit(const std::string& text) {
    v1::SubmitSweepRequest request;
    request.set_spec_text(text);
    request.set_source("t.yaml");
    auto response = jobs_->SubmitSweep(request);
    EXPECT_TRUE(response.has_value()) << response.error().ToString();
    return response ? response->sweep().id() : 0;
  }

  v1::HeartbeatResponse Poll(const std::string& agent, std::vector<int64_t> running = {}) {
    v1::HeartbeatRequest request;
    request.set_name(agent);
    request.set_wait_ms(0);
    for (int64_t id : running) request.add_running_attempts(id);
    auto response = jobs_->Heartbeat(request);
    EXPECT_TRUE(response.has_value());
    return *response;
  }

  v1::ReportAttemptResponse Report(int64_t attempt, v1::AttemptState state, const std::string& reason = "") {
    v1::AttemptReport report;
    report.set_attempt_id(attempt);
    report.set_state(state);
    report.set_reason(reason);
    (*report.mutable_metrics())["score"] = 1.5;
    auto response = jobs_->ReportAttempt(report);
    EXPECT_TRUE(response.has_value()) << response.error().ToString();
    return *response;
  }

  v1::JobState StateOf(int64_t job) { return jobs_->GetJob(job)->state(); }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobManager> jobs_;
};

constexpr const char* kChain = R"(
name: chain
defaults: {max_attempts: 2}
jobs:
  - {name: a, kind: exec, command: x}
  - {name: b, kind: exec, command: y, depends_on: a}
  - {name: c, kind: exec, command: z, depends_on: b}
)";

TEST_F(JobManagerTest, RunsADagInOrder) {
  AddAgent("n1", 2);
  int64_t sweep = Submit(kChain);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_LEASED);
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_PENDING);

  auto poll = Poll("n1");
  ASSERT_EQ(poll.assignments_size(), 1);
  EXPECT_EQ(poll.assignments(0).job().name(), "a");
  int64_t attempt = poll.assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_RUNNING);
  Report(attempt, v1::ATTEMPT_STATE_SUCCEEDED);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_LEASED);

  for (int i = 0; i < 2; ++i) {
    auto next = Poll("n1");
    ASSERT_EQ(next.assignments_size(), 1);
    Report(next.assignments(0).attempt_id(), v1::ATTEMPT_STATE_SUCCEEDED);
  }
  auto done = jobs_->GetSweep(sweep);
  EXPECT_TRUE(done->finished());
  EXPECT_TRUE(done->succeeded());
}

TEST_F(JobManagerTest, ADuplicateReportIsStoredOnce) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  EXPECT_FALSE(Report(attempt, v1::ATTEMPT_STATE_SUCCEEDED).duplicate());
  EXPECT_TRUE(Report(attempt, v1::ATTEMPT_STATE_SUCCEEDED).duplicate());
  auto job = jobs_->GetJob(1);
  EXPECT_EQ(job->attempts_size(), 1);
  EXPECT_EQ(job->metrics().size(), 1u);
  EXPECT_EQ(job->state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(JobManagerTest, ALostLeaseRequeuesTheJobOnAnotherAgent) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x, max_attempts: 2}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  clock_.Advance(5'000);
  AddAgent("n2", 1);
  clock_.Advance(6'000);  // n1 is silent past the lease; n2 heartbeats.
  Poll("n2");
  jobs_->Tick();
  auto job = jobs_->GetJob(1);
  ASSERT_EQ(job->attempts_size(), 2);
  EXPECT_EQ(job->attempts(0).state(), v1::ATTEMPT_STATE_LOST);
  EXPECT_NE(job->attempts(0).reason().find("lease expired"), std::string::npos);
  EXPECT_EQ(job->attempts(1).agent(), "n2");
  // The late agent's result for the lost attempt is refused as stale.
  EXPECT_TRUE(Report(attempt, v1::ATTEMPT_STATE_SUCCEEDED).stale());
  auto poll = Poll("n2");
  ASSERT_EQ(poll.assignments_size(), 1);
  Report(poll.assignments(0).attempt_id(), v1::ATTEMPT_STATE_SUCCEEDED);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(JobManagerTest, FailuresRetryThenFailAndSkipDownstream) {
  AddAgent("n1", 1);
  Submit(kChain);
  for (int i = 0; i < 2; ++i) {
    auto poll = Poll("n1");
    ASSERT_EQ(poll.assignments_size(), 1) << "attempt " << i + 1;
    Report(poll.assignments(0).attempt_id(), v1::ATTEMPT_STATE_FAILED, "exited with code 1");
  }
  auto a = jobs_->GetJob(1);
  EXPECT_EQ(a->state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(a->attempt_count(), 2);
  EXPECT_EQ(a->reason(), "exited with code 1");
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_SKIPPED);
  EXPECT_EQ(StateOf(3), v1::JOB_STATE_SKIPPED);

  // Retry gives a fresh budget and un-skips the downstream jobs.
  auto retried = jobs_->Retry(2);
  ASSERT_FALSE(retried.has_value()) << "an upstream job failed";
  EXPECT_NE(retried.error().message().find("retry it first"), std::string::npos);
  ASSERT_TRUE(jobs_->Retry(1).has_value());
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_PENDING);
  auto poll = Poll("n1");
  ASSERT_EQ(poll.assignments_size(), 1);
  Report(poll.assignments(0).attempt_id(), v1::ATTEMPT_STATE_SUCCEEDED);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(jobs_->GetJob(1)->attempt_count(), 3);
}

TEST_F(JobManagerTest, CancelReachesTheAgentAndSkipsNothingTwice) {
  AddAgent("n1", 1);
  int64_t sweep = Submit(kChain);
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  v1::CancelRequest cancel;
  cancel.set_sweep_id(sweep);
  auto cancelled = jobs_->Cancel(cancel);
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(*cancelled, 3);
  auto poll = Poll("n1", {attempt});
  ASSERT_EQ(poll.cancel_attempts_size(), 1);
  EXPECT_EQ(poll.cancel_attempts(0), attempt);
  Report(attempt, v1::ATTEMPT_STATE_CANCELLED, "cancelled");
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_CANCELLED);
  EXPECT_TRUE(jobs_->GetSweep(sweep)->finished());
}

TEST_F(JobManagerTest, ARefusedSpecStoresNothing) {
  AddAgent("n1", 2);
  v1::SubmitSweepRequest request;
  request.set_spec_text("name: wide\njobs: [{name: a, kind: exec, command: x, devices: 4}]");
  request.set_source("wide.yaml");
  auto response = jobs_->SubmitSweep(request);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(response.error().message().find("wide.yaml: job 'a': devices: 4"), std::string::npos)
      << response.error().message();
  EXPECT_TRUE(jobs_->ListSweeps(10).empty());
}

TEST_F(JobManagerTest, DryRunStoresNothing) {
  v1::SubmitSweepRequest request;
  request.set_spec_text(kChain);
  request.set_dry_run(true);
  auto response = jobs_->SubmitSweep(request);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->jobs_size(), 3);
  EXPECT_TRUE(jobs_->ListSweeps(10).empty());
}

TEST_F(JobManagerTest, AnAgentThatRestartsWithoutItsAttemptLosesItAtOnce) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x, max_attempts: 2}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  AddAgent("n1", 1, /*running=*/{});
  auto job = jobs_->GetJob(1);
  EXPECT_EQ(job->attempts(0).state(), v1::ATTEMPT_STATE_LOST);
  EXPECT_EQ(job->state(), v1::JOB_STATE_LEASED) << "re-queued and leased again";
}

TEST_F(JobManagerTest, DrainedAgentsGetNoWork) {
  AddAgent("n1", 1);
  v1::DrainAgentRequest drain;
  drain.set_name("n1");
  ASSERT_TRUE(jobs_->DrainAgent(drain).has_value());
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  EXPECT_EQ(Poll("n1").assignments_size(), 0);
  drain.set_undrain(true);
  ASSERT_TRUE(jobs_->DrainAgent(drain).has_value());
  EXPECT_EQ(Poll("n1").assignments_size(), 1);
  drain.set_name("nobody");
  EXPECT_EQ(jobs_->DrainAgent(drain).error().code(), Status::Code::kNotFound);
}

TEST_F(JobManagerTest, UnknownAgentIsAskedToRegister) {
  EXPECT_TRUE(Poll("ghost").register_again());
}

TEST_F(JobManagerTest, LogsAppendOnlyAtTheStoredLength) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  v1::LogChunk chunk;
  chunk.set_attempt_id(attempt);
  chunk.set_data("hello ");
  EXPECT_EQ(*jobs_->AppendLog(chunk), 6);
  EXPECT_EQ(*jobs_->AppendLog(chunk), 6) << "a retried chunk is not stored twice";
  chunk.set_offset(6);
  chunk.set_data("world\n");
  EXPECT_EQ(*jobs_->AppendLog(chunk), 12);
  EXPECT_EQ(jobs_->ReadLog(attempt, 0, 100), "hello world\n");
  EXPECT_EQ(jobs_->ReadLog(attempt, 3, 4), "lo w");
}

}  // namespace
}  // namespace gauntlet
