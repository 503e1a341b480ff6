// Faults with real processes: an agent killed mid-job, a coordinator killed
// and restarted mid-sweep, a worker that crashes or overruns its timeout, and
// a result reported twice.
#include <signal.h>

#include <filesystem>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

using namespace std::chrono_literals;

TEST(FaultTest, AgentKilledMidJobLosesTheAttemptAndTheJobRunsElsewhere) {
  Farm farm("agent-kill");
  farm.StartCoordinator("2s");
  farm.StartAgent("doomed", "cpu:1");
  int64_t sweep_id = farm.Submit(R"(
name: kill
jobs:
  - {name: slow, kind: worker, suite: selftest, params: {mode: sleep, sleep_s: 3}, max_attempts: 3, timeout: 60s}
)");
  farm.WaitForJob(1, [](const v1::Job& job) { return job.state() == v1::JOB_STATE_RUNNING; });
  farm.KillAgent("doomed");
  farm.StartAgent("survivor", "cpu:1");
  v1::Sweep sweep = farm.WaitForSweep(sweep_id, 60s);
  EXPECT_TRUE(sweep.succeeded());
  v1::Job job = farm.Job(1);
  ASSERT_EQ(job.attempts_size(), 2);
  EXPECT_EQ(job.attempts(0).agent(), "doomed");
  EXPECT_EQ(job.attempts(0).state(), v1::ATTEMPT_STATE_LOST);
  EXPECT_NE(job.attempts(0).reason().find("lease expired"), std::string::npos) << job.attempts(0).reason();
  EXPECT_EQ(job.attempts(1).agent(), "survivor");
  EXPECT_EQ(job.attempts(1).state(), v1::ATTEMPT_STATE_SUCCEEDED);
}

// The sweep succeeds and each of its jobs did so in its first attempt.
void ExpectEveryJobSucceededOnce(Farm& farm, int64_t sweep_id) {
  v1::Sweep sweep = farm.WaitForSweep(sweep_id, 60s);
  EXPECT_TRUE(sweep.succeeded()) << sweep.ShortDebugString();
  for (const auto& listed : farm.Jobs(sweep_id)) {
    v1::Job job = farm.Job(listed.id());
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.name();
    EXPECT_EQ(job.attempts_size(), 1) << job.name() << " ran more than once: " << job.ShortDebugString();
  }
}

TEST(FaultTest, CoordinatorRestartMidSweepLosesNothing) {
  Farm farm("coordinator-restart");
  farm.StartCoordinator("3s");
  farm.StartAgent("a", "cpu:2");
  farm.StartAgent("b", "cpu:2");
  int64_t sweep_id = farm.Submit(R"(
name: restart
jobs:
  - {name: first, kind: worker, suite: selftest, matrix: {i: [1, 2, 3, 4]}, params: {mode: sleep, sleep_s: 2}}
  - {name: second, kind: exec, depends_on: first, matrix: {i: [1, 2, 3, 4]}, command: "sleep 0.5; echo second ${i}"}
)");
  farm.WaitForJob(1, [](const v1::Job& job) { return job.state() == v1::JOB_STATE_RUNNING; });
  farm.KillCoordinator();
  // An attempt finishes while the coordinator is down: its result must wait
  // on the agent and arrive once, not be run again.
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.FinishedAttempts("a") + farm.FinishedAttempts("b") >= 1; }))
      << "no attempt finished during the outage";
  farm.StartCoordinator("3s");
  // Every result that finished during the outage was delivered, not redone.
  ExpectEveryJobSucceededOnce(farm, sweep_id);
  CliResult logs = farm.Cli({"logs", "1"});
  EXPECT_NE(logs.output.find("verdict pass"), std::string::npos) << logs.output;
}

// The coordinator is killed (SIGKILL, by a test hook) just before it commits
// its third batch of reports. Reports of that batch were never acknowledged,
// so their agents send them again; every acknowledged one must be there after
// the restart, and no job may run twice.
TEST(FaultTest, AKillInTheMiddleOfABatchCommitLosesNoAcknowledgedReport) {
  Farm farm("batch-crash");
  farm.StartCoordinatorWithFileLimitKb("3s", 0, {{"GAUNTLET_TEST_CRASH_BEFORE_BATCH", "3"}});
  farm.StartAgent("a", "cpu:4");
  int64_t sweep_id = farm.Submit(R"(
name: batches
jobs:
  - {name: quick, kind: exec, command: "echo ${i}", matrix: {i: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}}
)");
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.CoordinatorExited(); }, 60s))
      << "the test hook never fired";
  farm.StartCoordinator("3s");
  ExpectEveryJobSucceededOnce(farm, sweep_id);
}

TEST(FaultTest, WorkerCrashFailsTheAttemptWithTheReasonAndRetries) {
  Farm farm("worker-crash");
  farm.StartCoordinator();
  farm.StartAgent("a", "cpu:2");
  int64_t sweep_id = farm.Submit(R"(
name: crash
jobs:
  - {name: crash, kind: worker, suite: selftest, devices: 2, params: {mode: crash}, max_attempts: 2}
  - {name: wrong, kind: worker, suite: selftest, params: {mode: wrong}, max_attempts: 1}
  - {name: after, kind: exec, depends_on: crash, command: "true"}
)");
  v1::Sweep sweep = farm.WaitForSweep(sweep_id, 60s);
  EXPECT_FALSE(sweep.succeeded());
  v1::Job crash = farm.Job(1);
  EXPECT_EQ(crash.state(), v1::JOB_STATE_FAILED);
  ASSERT_EQ(crash.attempts_size(), 2) << "retried up to max_attempts";
  for (const auto& attempt : crash.attempts()) {
    EXPECT_EQ(attempt.state(), v1::ATTEMPT_STATE_FAILED);
    EXPECT_NE(attempt.exit_code(), 0);
    EXPECT_NE(attempt.reason().find("exited with code"), std::string::npos) << attempt.reason();
  }
  v1::Job wrong = farm.Job(2);
  EXPECT_EQ(wrong.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(wrong.verdict(), "fail");
  EXPECT_NE(wrong.reason().find("allreduce sum"), std::string::npos) << wrong.reason();
  v1::Job after = farm.Job(3);
  EXPECT_EQ(after.state(), v1::JOB_STATE_SKIPPED);
  EXPECT_NE(after.reason().find("upstream job 1 failed"), std::string::npos) << after.reason();
}

TEST(FaultTest, TimeoutKillsTheWorkerAndSaysSo) {
  Farm farm("timeout");
  farm.StartCoordinator();
  farm.StartAgent("a", "cpu:1");
  int64_t sweep_id = farm.Submit(R"(
name: timeout
jobs:
  - {name: overrun, kind: worker, suite: selftest, params: {mode: sleep, sleep_s: 60}, timeout: 1s, max_attempts: 2}
  - {name: hang, kind: exec, command: "sleep 60", timeout: 1s}
)");
  auto start = std::chrono::steady_clock::now();
  v1::Sweep sweep = farm.WaitForSweep(sweep_id, 60s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "timeouts must end attempts early";
  for (int64_t id : {1, 2}) {
    v1::Job job = farm.Job(id);
    EXPECT_EQ(job.state(), v1::JOB_STATE_FAILED) << job.name();
    EXPECT_NE(job.reason().find("timed out after 1s"), std::string::npos) << job.reason();
  }
  EXPECT_EQ(farm.Job(1).attempts_size(), 2);
}

TEST(FaultTest, ResultReportedTwiceIsStoredOnce) {
  Farm farm("duplicate");
  farm.StartCoordinator();
  // This test is the agent: it speaks AgentService itself.
  auto channel = grpc::CreateChannel(farm.address(), grpc::InsecureChannelCredentials());
  auto agent = v1::AgentService::NewStub(channel);
  v1::RegisterRequest registration;
  registration.set_name("manual");
  registration.add_devices()->set_kind("cpu");
  v1::RegisterResponse registered;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(agent->Register(&context, registration, &registered).ok());
  }
  ASSERT_EQ(registered.session().size(), 64u) << "a session credential comes back";
  auto authorize = [&](grpc::ClientContext& context) {
    context.AddMetadata("authorization", "Bearer " + registered.session());
  };
  farm.Submit("name: dup\njobs: [{name: a, kind: exec, command: x}]");
  v1::HeartbeatRequest heartbeat;
  heartbeat.set_name("manual");
  heartbeat.set_wait_ms(2000);
  v1::HeartbeatResponse assignments;
  {
    grpc::ClientContext context;
    authorize(context);
    ASSERT_TRUE(agent->Heartbeat(&context, heartbeat, &assignments).ok());
  }
  ASSERT_EQ(assignments.assignments_size(), 1);
  v1::AttemptReport report;
  report.set_attempt_id(assignments.assignments(0).attempt_id());
  report.set_state(v1::ATTEMPT_STATE_SUCCEEDED);
  (*report.mutable_metrics())["ttft_ms"] = 12.5;
  for (bool expect_duplicate : {false, true, true}) {
    grpc::ClientContext context;
    authorize(context);
    v1::ReportAttemptResponse reply;
    ASSERT_TRUE(agent->ReportAttempt(&context, report, &reply).ok());
    EXPECT_EQ(reply.duplicate(), expect_duplicate);
  }
  v1::Job job = farm.Job(1);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job.attempts_size(), 1);
  EXPECT_EQ(job.metrics().size(), 1u);
  EXPECT_EQ(job.metrics().at("ttft_ms"), 12.5);
}

}  // namespace
}  // namespace gauntlet::testing

namespace gauntlet::testing {
namespace {

// A full disk: the coordinator runs under a file-size limit, so its artifact
// and database writes fail (EFBIG) once they grow. Nothing may be lost: the
// agent keeps the finished attempt's result and retries until a coordinator
// with room takes it.
TEST(FaultTest, AFullDiskDelaysResultsWithoutLosingThem) {
  Farm farm("full-disk");
  farm.StartCoordinator("4s");
  farm.StartAgent("a", "cpu:1");
  // Warm the database so its file exists at its working size first.
  farm.Submit("name: warm\njobs: [{name: w, kind: exec, command: 'true'}]");
  ASSERT_TRUE(farm.WaitForSweep(1, 30s).succeeded());
  farm.KillCoordinator();
  // 2 MB of limit: the database fits, the 5 MB artifact does not.
  farm.StartCoordinatorWithFileLimitKb("4s", 2048);
  int64_t sweep_id = farm.Submit(R"(
name: big-output
jobs:
  - {name: writer, kind: exec, command: "head -c 5000000 /dev/urandom > $GAUNTLET_OUT/big.bin; echo wrote"}
)");
  // The attempt finishes on the agent but its upload keeps failing.
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.AgentLog("a").find("upload of") != std::string::npos; }))
      << "the agent never tried the upload: " << farm.AgentLog("a");
  v1::Job stuck = farm.Job(2);
  EXPECT_NE(stuck.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_NE(stuck.state(), v1::JOB_STATE_FAILED) << "a full disk is not the job's failure: " << stuck.reason();
  // Room again: the same result arrives, once.
  farm.KillCoordinator();
  farm.StartCoordinator("4s");
  v1::Sweep sweep = farm.WaitForSweep(sweep_id, 60s);
  EXPECT_TRUE(sweep.succeeded()) << sweep.ShortDebugString();
  v1::Job job = farm.Job(2);
  EXPECT_EQ(job.attempts_size(), 1) << "the result was kept, not recomputed";
  ASSERT_EQ(job.artifacts_size(), 1);
  EXPECT_EQ(job.artifacts(0).name(), "big.bin");
  EXPECT_EQ(job.artifacts(0).size(), 5000000);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(farm.dir() + "/artifacts")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace gauntlet::testing

namespace gauntlet::testing {
namespace {

TEST(FaultTest, FollowingALogContinuesIntoTheRetry) {
  Farm farm("follow-retry");
  farm.StartCoordinator();
  farm.StartAgent("a", "cpu:1");
  farm.Submit(R"(
name: flaky
jobs:
  - {name: flaky, kind: exec, max_attempts: 2, command: "echo try $GAUNTLET_ATTEMPT_ID; sleep 1; test $GAUNTLET_ATTEMPT_ID != 1"}
)");
  CliResult follow = farm.Cli({"logs", "-f", "1"});
  EXPECT_EQ(follow.exit_code, 0) << follow.output;
  EXPECT_NE(follow.output.find("try 1"), std::string::npos) << follow.output;
  EXPECT_NE(follow.output.find("try 2"), std::string::npos) << "the second attempt's log: " << follow.output;
}

}  // namespace
}  // namespace gauntlet::testing
