// The agent's attempt runner against a gMock AgentService stub: real
// processes, the coordinator faked at the RPC boundary. What it reports, in
// which order, and that a result survives a coordinator that is down.
#include "agent/attempt_runner.h"

#include <gmock/gmock.h>
#include <grpcpp/test/mock_stream.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "gauntlet/v1/agent_mock.grpc.pb.h"

namespace gauntlet::agent {
namespace {

using ::testing::_;
using ::testing::Invoke;
using ::testing::NiceMock;
using ::testing::Return;

// Records what the runner sends; answers like a healthy coordinator unless
// told otherwise.
class FakeCoordinator {
 public:
  explicit FakeCoordinator(v1::MockAgentServiceStub& stub) {
    ON_CALL(stub, UploadLog(_, _, _))
        .WillByDefault(Invoke([this](grpc::ClientContext*, const v1::LogChunk& chunk, v1::UploadLogResponse* reply) {
          std::lock_guard lock(mu);
          if (chunk.offset() == static_cast<int64_t>(log.size())) log += chunk.data();
          reply->set_stored_length(static_cast<int64_t>(log.size()));
          return grpc::Status::OK;
        }));
    ON_CALL(stub, ReportAttempt(_, _, _))
        .WillByDefault(Invoke([this](grpc::ClientContext*, const v1::AttemptReport& report,
                                     v1::ReportAttemptResponse* reply) {
          std::lock_guard lock(mu);
          if (unavailable_reports > 0 && report.state() != v1::ATTEMPT_STATE_RUNNING) {
            --unavailable_reports;
            return grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator down");
          }
          reports.push_back(report);
          reply->set_stale(stale_after_running && report.state() == v1::ATTEMPT_STATE_RUNNING);
          return grpc::Status::OK;
        }));
    ON_CALL(stub, UploadArtifactRaw(_, _)).WillByDefault(Invoke([this](grpc::ClientContext*, v1::ArtifactRef* ref) {
      auto* writer = new NiceMock<grpc::testing::MockClientWriter<v1::ArtifactChunk>>();
      ON_CALL(*writer, Write(_, _)).WillByDefault(Invoke([this, ref](const v1::ArtifactChunk& chunk, grpc::WriteOptions) {
        std::lock_guard lock(mu);
        if (!chunk.sha256().empty()) uploads.push_back(chunk.sha256());
        ref->set_size(ref->size() + static_cast<int64_t>(chunk.data().size()));
        return true;
      }));
      ON_CALL(*writer, WritesDone()).WillByDefault(Return(true));
      ON_CALL(*writer, Finish()).WillByDefault(Return(grpc::Status::OK));
      return writer;
    }));
  }

  std::mutex mu;
  std::string log;
  std::vector<v1::AttemptReport> reports;
  std::vector<std::string> uploads;
  int unavailable_reports = 0;
  bool stale_after_running = false;
};

class AttemptRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.workdir = (std::filesystem::temp_directory_path() /
                       ("gauntlet-runner-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())))
                          .string();
    std::filesystem::remove_all(config_.workdir);
    config_.kill_grace_ms = 200;
  }

  v1::Assignment Exec(const std::string& command, int64_t attempt_id = 7) {
    v1::Assignment assignment;
    assignment.set_attempt_id(attempt_id);
    assignment.add_device_indices(0);
    auto* job = assignment.mutable_job();
    job->set_id(3);
    job->set_name("t");
    job->mutable_exec()->add_argv("sh");
    job->mutable_exec()->add_argv("-c");
    job->mutable_exec()->add_argv(command);
    return assignment;
  }

  AgentConfig config_;
  NiceMock<v1::MockAgentServiceStub> stub_;
  FakeCoordinator coordinator_{stub_};
  std::atomic<bool> stopping_{false};
};

TEST_F(AttemptRunnerTest, ReportsRunningThenSucceededWithItsLogAndArtifacts) {
  AttemptRunner runner(config_, stub_, Exec("echo hello; echo 42 > $GAUNTLET_OUT/answer.txt"), stopping_);
  runner.Run();
  ASSERT_TRUE(runner.done());
  ASSERT_EQ(coordinator_.reports.size(), 2u);
  EXPECT_EQ(coordinator_.reports[0].state(), v1::ATTEMPT_STATE_RUNNING);
  const v1::AttemptReport& final = coordinator_.reports[1];
  EXPECT_EQ(final.state(), v1::ATTEMPT_STATE_SUCCEEDED) << final.reason();
  EXPECT_EQ(final.failure_class(), v1::FAILURE_CLASS_UNSPECIFIED);
  ASSERT_EQ(final.artifacts_size(), 1);
  EXPECT_EQ(final.artifacts(0).name(), "answer.txt");
  EXPECT_EQ(final.artifacts(0).size(), 3);
  EXPECT_EQ(coordinator_.uploads.size(), 1u) << "uploaded once, before the report";
  EXPECT_EQ(coordinator_.log, "hello\n") << "the whole log reached the coordinator before the report";
}

TEST_F(AttemptRunnerTest, AnExecFailureNamesItsExitCodeAndIsRetryable) {
  AttemptRunner runner(config_, stub_, Exec("echo oops >&2; exit 3"), stopping_);
  runner.Run();
  ASSERT_EQ(coordinator_.reports.size(), 2u);
  const v1::AttemptReport& final = coordinator_.reports[1];
  EXPECT_EQ(final.state(), v1::ATTEMPT_STATE_FAILED);
  EXPECT_EQ(final.exit_code(), 3);
  EXPECT_EQ(final.failure_class(), v1::FAILURE_CLASS_COMMAND);
  EXPECT_NE(final.reason().find("3"), std::string::npos) << final.reason();
}

TEST_F(AttemptRunnerTest, AResultWritingVerdictFailIsAVerdictNotACrash) {
  AttemptRunner runner(
      config_, stub_,
      Exec(R"(echo '{"verdict": "fail", "reason": "itl 9.1 ms over target 8", "metrics": {"itl_ms": 9.1}}' > $GAUNTLET_OUT/result.json)"),
      stopping_);
  runner.Run();
  const v1::AttemptReport& final = coordinator_.reports.back();
  EXPECT_EQ(final.state(), v1::ATTEMPT_STATE_FAILED);
  EXPECT_EQ(final.failure_class(), v1::FAILURE_CLASS_VERDICT) << "retrying cannot change a verdict";
  EXPECT_EQ(final.metrics().at("itl_ms"), 9.1);
  EXPECT_NE(final.reason().find("over target"), std::string::npos) << final.reason();
}

TEST_F(AttemptRunnerTest, TheFinalReportIsRetriedUntilTheCoordinatorTakesIt) {
  coordinator_.unavailable_reports = 2;
  EXPECT_CALL(stub_, ReportAttempt(_, _, _)).Times(4);  // running, 2 refused, accepted.
  AttemptRunner runner(config_, stub_, Exec("true"), stopping_);
  runner.Run();
  ASSERT_TRUE(runner.done());
  ASSERT_EQ(coordinator_.reports.size(), 2u);
  EXPECT_EQ(coordinator_.reports[1].state(), v1::ATTEMPT_STATE_SUCCEEDED) << "the result waited, it was not lost";
}

TEST_F(AttemptRunnerTest, AStaleAnswerStopsTheProcess) {
  coordinator_.stale_after_running = true;
  AttemptRunner runner(config_, stub_, Exec("sleep 30"), stopping_);
  const auto started = std::chrono::steady_clock::now();
  runner.Run();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20)) << "it did not run its 30 s";
  EXPECT_EQ(coordinator_.reports.back().state(), v1::ATTEMPT_STATE_CANCELLED);
}

}  // namespace
}  // namespace gauntlet::agent
