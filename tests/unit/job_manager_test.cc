// JobManager over a real in-memory SQLite store and a fake clock: the state
// machine of sweeps, jobs, attempts and leases without sockets or sleeps.
#include "coordinator/job_manager.h"

#include <gtest/gtest.h>

#include "tests/unit/test_util.h"

namespace gauntlet {
namespace {

class JobManagerTest : public testing_util::ManagerTest {};

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
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_READY) << "placing it is the scheduler loop's";
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_PENDING);
  jobs_->Tick();
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_LEASED);

  auto poll = Poll("n1");
  ASSERT_EQ(poll.assignments_size(), 1);
  EXPECT_EQ(poll.assignments(0).job().name(), "a");
  int64_t attempt = poll.assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_RUNNING);
  Report(attempt, v1::ATTEMPT_STATE_SUCCEEDED);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_READY);

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
  EXPECT_TRUE(jobs_->ListSweeps(10)->empty());
}

TEST_F(JobManagerTest, DryRunStoresNothing) {
  v1::SubmitSweepRequest request;
  request.set_spec_text(kChain);
  request.set_dry_run(true);
  auto response = jobs_->SubmitSweep(request);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->jobs_size(), 3);
  EXPECT_TRUE(jobs_->ListSweeps(10)->empty());
}

TEST_F(JobManagerTest, AnAgentThatRestartsWithoutItsAttemptLosesItAtOnce) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x, max_attempts: 2}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  AddAgent("n1", 1, /*running=*/{});
  jobs_->Tick();
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

TEST_F(JobManagerTest, OnlyFailuresThatCanHealAreRetried) {
  AddAgent("n1", 1);
  Submit("name: two\njobs: [{name: a, kind: exec, command: x, max_attempts: 3}, "
         "{name: b, kind: exec, command: y, max_attempts: 3}]");
  auto poll = Poll("n1");
  ASSERT_EQ(poll.assignments_size(), 1);
  Report(poll.assignments(0).attempt_id(), v1::ATTEMPT_STATE_FAILED, "verdict fail: 3 of 8 steps",
         v1::FAILURE_CLASS_VERDICT);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_FAILED) << "a numerics failure is final at once";
  EXPECT_EQ(jobs_->GetJob(1)->attempt_count(), 1);
  EXPECT_EQ(jobs_->GetJob(1)->attempts(0).failure_class(), v1::FAILURE_CLASS_VERDICT);
  poll = Poll("n1");
  ASSERT_EQ(poll.assignments_size(), 1);
  Report(poll.assignments(0).attempt_id(), v1::ATTEMPT_STATE_FAILED, "killed by signal 9",
         v1::FAILURE_CLASS_INFRASTRUCTURE);
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_READY) << "a crash is retried";
  EXPECT_EQ(Poll("n1").assignments_size(), 1);
}

TEST_F(JobManagerTest, AJobsDurationIsItsAttemptsRunningNotTheWaitsBetween) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x, max_attempts: 2}]");
  auto first = Poll("n1");
  ASSERT_EQ(first.assignments_size(), 1);
  int64_t attempt = first.assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  clock_.Advance(2'000);
  Report(attempt, v1::ATTEMPT_STATE_FAILED, "killed by signal 9", v1::FAILURE_CLASS_INFRASTRUCTURE);
  auto retry = Poll("n1");
  ASSERT_EQ(retry.assignments_size(), 1);
  attempt = retry.assignments(0).attempt_id();
  clock_.Advance(3'000);  // Leased, not yet running: the wait between attempts.
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  clock_.Advance(1'500);
  EXPECT_EQ(jobs_->GetJob(1)->running_ms(), 3'500) << "a running attempt counts up to now";
  Report(attempt, v1::ATTEMPT_STATE_SUCCEEDED);
  clock_.Advance(10'000);
  const v1::Job job = *jobs_->GetJob(1);
  EXPECT_EQ(job.running_ms(), 3'500) << "2 s and 1.5 s ran; the 3 s between did not";
  EXPECT_EQ(job.finished_at_ms() - job.started_at_ms(), 6'500);
  v1::ListJobsRequest request;
  EXPECT_EQ(jobs_->ListJobs(request)->jobs(0).running_ms(), 3'500) << "lists carry it too";
}

TEST_F(JobManagerTest, NoLeaseExpiresForTheCoordinatorsOwnLag) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  // The coordinator stalls for 25 s (twice the TTL): the agent could not be
  // heard, and the loop reports the stall before its next pass.
  clock_.Advance(25'000);
  jobs_->ExtendLeasesForLag(25'000);
  jobs_->Tick();
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(jobs_->Stats().lease_extensions_for_lag, 1);
  // An agent that really is silent still loses it.
  clock_.Advance(11'000);
  jobs_->Tick();
  EXPECT_EQ(jobs_->GetJob(1)->attempts(0).state(), v1::ATTEMPT_STATE_LOST);
}

TEST_F(JobManagerTest, HeartbeatsThatChangeNothingWriteNothing) {
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  Report(attempt, v1::ATTEMPT_STATE_RUNNING);
  auto events_before = jobs_->LatestEventId();
  ASSERT_TRUE(events_before.has_value());
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(1'000);
    v1::HeartbeatRequest request;
    request.set_name("n1");
    request.add_running_attempts(attempt);
    ASSERT_TRUE(jobs_->Heartbeat(request).has_value());
  }
  // 20 s of heartbeats against a 10 s lease: renewed in memory, nothing lost.
  jobs_->Tick();
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(*jobs_->LatestEventId(), *events_before);
  auto agents = jobs_->ListAgents();
  ASSERT_TRUE(agents.has_value());
  EXPECT_TRUE(agents->at(0).alive());
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
  EXPECT_EQ(*jobs_->ReadLog(attempt, 0, 100), "hello world\n");
  EXPECT_EQ(*jobs_->ReadLog(attempt, 3, 4), "lo w");
}

}  // namespace
}  // namespace gauntlet

namespace gauntlet {
namespace {

class AsyncTest : public testing_util::ManagerTest {
 protected:
  // As the server runs it: reports wait for the loop's commit.
  void OpenWithGroupCommit() {
    JobManagerOptions options{10'000, 10'000, 10'000};
    options.group_commit = true;
    Open(options);
  }
};

// The callback server's forms: a poll without news parks until news for its
// own agent or its wait ends (on the injected clock); a report is answered
// once its batch is durable.
TEST_F(AsyncTest, AParkedPollWakesOnItsOwnNewsOrItsDeadline) {
  AddAgent("n1", 1);
  AddAgent("n2", 1);
  std::vector<v1::HeartbeatResponse> answered_n1, answered_n2;
  auto park = [&](const std::string& agent, std::vector<v1::HeartbeatResponse>* into) {
    v1::HeartbeatRequest request;
    request.set_name(agent);
    request.set_wait_ms(5'000);
    jobs_->HeartbeatAsync(request, [into](StatusOr<v1::HeartbeatResponse> response) {
      ASSERT_TRUE(response.has_value());
      into->push_back(*response);
    });
  };
  park("n1", &answered_n1);
  park("n2", &answered_n2);
  jobs_->Tick();  // The loop runs the queued calls.
  EXPECT_TRUE(answered_n1.empty() && answered_n2.empty()) << "no news: both park";
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  jobs_->Tick();  // The pass places the job on n1 (first by name) and wakes n1 alone.
  ASSERT_EQ(answered_n1.size(), 1u);
  EXPECT_EQ(answered_n1[0].assignments_size(), 1);
  EXPECT_TRUE(answered_n2.empty()) << "news for n1 must not wake n2";
  clock_.Advance(4'000);
  jobs_->Tick();
  EXPECT_TRUE(answered_n2.empty()) << "its wait has not ended";
  clock_.Advance(1'500);
  jobs_->Tick();
  ASSERT_EQ(answered_n2.size(), 1u) << "answered, empty, when its wait ends";
  EXPECT_EQ(answered_n2[0].assignments_size(), 0);
}

TEST_F(AsyncTest, AReportIsAnsweredOnlyOnceDurable) {
  OpenWithGroupCommit();
  AddAgent("n1", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  int64_t attempt = Poll("n1").assignments(0).attempt_id();
  v1::AttemptReport report;
  report.set_attempt_id(attempt);
  report.set_state(v1::ATTEMPT_STATE_SUCCEEDED);
  int answers = 0;
  jobs_->ReportAttemptAsync(report, "", [&](StatusOr<v1::ReportAttemptResponse> response) {
    EXPECT_TRUE(response.has_value());
    ++answers;
  });
  EXPECT_EQ(answers, 0) << "not before its batch commits";
  jobs_->Tick();  // The loop's pass commits the batch.
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_SUCCEEDED);
  // A repeat changes nothing and needs no commit.
  jobs_->ReportAttemptAsync(report, "", [&](StatusOr<v1::ReportAttemptResponse> response) {
    EXPECT_TRUE(response->duplicate());
    ++answers;
  });
  jobs_->Tick();
  EXPECT_EQ(answers, 2);
}

// Reports carried on a heartbeat (HeartbeatRequest.reports): one call per
// round. The answer waits for the commit that makes them durable and brings
// the jobs the same pass placed on the devices they freed.
TEST_F(AsyncTest, AHeartbeatCarryingReportsIsAnsweredOnceDurableWithTheNextJobs) {
  OpenWithGroupCommit();
  AddAgent("n1", 2);
  Submit("name: four\njobs: [{name: t, kind: exec, command: 'x ${i}', matrix: {i: [1, 2, 3, 4]}}]");
  v1::HeartbeatResponse first = Poll("n1");
  ASSERT_EQ(first.assignments_size(), 2);

  v1::HeartbeatRequest request;
  request.set_name("n1");
  request.set_wait_ms(5'000);
  for (const auto& assignment : first.assignments()) {
    auto* report = request.add_reports();
    report->set_attempt_id(assignment.attempt_id());
    report->set_state(v1::ATTEMPT_STATE_SUCCEEDED);
  }
  auto* unknown = request.add_reports();
  unknown->set_attempt_id(999);
  unknown->set_state(v1::ATTEMPT_STATE_SUCCEEDED);
  std::vector<v1::HeartbeatResponse> answers;
  jobs_->HeartbeatAsync(request, [&](StatusOr<v1::HeartbeatResponse> response) {
    ASSERT_TRUE(response.has_value()) << response.error().ToString();
    answers.push_back(*response);
  });
  EXPECT_TRUE(answers.empty()) << "queued for the loop";
  jobs_->Tick();  // Runs the call, places the two waiting jobs, commits, answers.
  ASSERT_EQ(answers.size(), 1u);
  const v1::HeartbeatResponse& answer = answers[0];
  ASSERT_EQ(answer.acks_size(), 3) << "one ack per report, in order";
  EXPECT_EQ(answer.acks(0).attempt_id(), first.assignments(0).attempt_id());
  EXPECT_EQ(answer.acks(0).error_code(), 0);
  EXPECT_FALSE(answer.acks(1).response().duplicate());
  EXPECT_EQ(answer.acks(2).error_code(), 5) << "NOT_FOUND for an attempt that does not exist";
  EXPECT_NE(answer.acks(2).error().find("999"), std::string::npos) << answer.acks(2).error();
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(StateOf(2), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(answer.assignments_size(), 2) << "the freed devices' next jobs ride on the same answer";

  // Sent again (its answer lost): acknowledged as duplicates, nothing changes.
  request.clear_reports();
  request.add_reports();
  request.mutable_reports(0)->set_attempt_id(first.assignments(0).attempt_id());
  request.mutable_reports(0)->set_state(v1::ATTEMPT_STATE_FAILED);
  for (const auto& assignment : answer.assignments()) request.add_running_attempts(assignment.attempt_id());
  jobs_->HeartbeatAsync(request, [&](StatusOr<v1::HeartbeatResponse> response) {
    ASSERT_TRUE(response.has_value());
    answers.push_back(*response);
  });
  jobs_->Tick();
  ASSERT_EQ(answers.size(), 2u);
  ASSERT_EQ(answers[1].acks_size(), 1);
  EXPECT_TRUE(answers[1].acks(0).response().duplicate() || answers[1].acks(0).response().stale());
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_SUCCEEDED) << "a late failure report does not undo a success";
}

// One loop window runs a bounded share of the queued calls, so the pass
// that fills freed devices follows their reports closely; the rest waits.
TEST_F(AsyncTest, ALoopWindowRunsABoundedShareOfTheQueue) {
  AddAgent("n1", 1);
  const int calls = constants::kLoopWindowCalls + 10;
  int answered = 0;
  for (int i = 0; i < calls; ++i) {
    v1::HeartbeatRequest request;
    request.set_name("n1");
    request.set_wait_ms(0);  // Answered as soon as it runs.
    jobs_->HeartbeatAsync(request, [&](StatusOr<v1::HeartbeatResponse> response) {
      EXPECT_TRUE(response.has_value());
      ++answered;
    });
  }
  jobs_->Tick();
  EXPECT_EQ(answered, constants::kLoopWindowCalls);
  jobs_->Tick();
  EXPECT_EQ(answered, calls);
}

// Overload: an agent's heartbeat that waits in the loop's queue past its
// lease's end proves the agent alive; the lease is not lost for the
// coordinator's own backlog.
TEST_F(AsyncTest, ALeaseDoesNotExpireWhileItsAgentsHeartbeatWaitsInTheQueue) {
  AddAgent("busy", 1);
  AddAgent("chatty", 1);
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  const int64_t attempt = Poll("busy").assignments(0).attempt_id();
  ASSERT_GT(attempt, 0);
  auto post = [&](const std::string& agent, std::vector<int64_t> running) {
    v1::HeartbeatRequest request;
    request.set_name(agent);
    request.set_wait_ms(0);
    for (int64_t id : running) request.add_running_attempts(id);
    jobs_->HeartbeatAsync(request, [](StatusOr<v1::HeartbeatResponse>) {});
  };
  for (int i = 0; i < constants::kLoopWindowCalls; ++i) post("chatty", {});
  post("busy", {attempt});  // Behind a full window.
  clock_.Advance(10'001);   // Past the lease's end (ttl 10 s).
  jobs_->Tick();            // Runs chatty's window, then looks for expired leases.
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_LEASED) << "busy's heartbeat is queued: not lost";
  EXPECT_EQ(jobs_->Stats().leases_expired_by_cause.count("agent_silent"), 0u);
  jobs_->Tick();  // Runs busy's heartbeat, which renews the lease.
  clock_.Advance(5'000);
  jobs_->Tick();
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_LEASED);
  clock_.Advance(20'000);  // Now busy is silent.
  jobs_->Tick();
  EXPECT_EQ(jobs_->Stats().leases_expired_by_cause["agent_silent"], 1) << "a silent agent's lease still expires";
}

// The hot path reads through indexes: with a long attempt history, handing
// out an assignment and taking its report scan no table (the leased-attempt
// lookup once scanned every attempt ever made, 0.7 ms at 20k attempts).
TEST_F(AsyncTest, AssignmentsAndReportsScanNoTableAsHistoryGrows) {
  AddAgent("n1", 1);
  Submit("name: many\njobs: [{name: t, kind: exec, command: 'x ${i}', matrix: {i: " + [] {
    std::string values = "[";
    for (int i = 0; i < 300; ++i) values += (i ? "," : "") + std::to_string(i);
    return values + "]";
  }() + "}}]");
  int64_t scans_on_hot_path = 0;
  for (int i = 0; i < 300; ++i) {
    jobs_->Tick();
    const int64_t before = store_->FullScanSteps();
    const v1::HeartbeatResponse poll = Poll("n1");
    ASSERT_EQ(poll.assignments_size(), 1) << "job " << i;
    Report(poll.assignments(0).attempt_id(), v1::ATTEMPT_STATE_SUCCEEDED);
    scans_on_hot_path += store_->FullScanSteps() - before;
  }
  EXPECT_EQ(scans_on_hot_path, 0);
}

}  // namespace
}  // namespace gauntlet
