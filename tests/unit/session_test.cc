// The agent's session against a gMock AgentService stub: it registers
// (retrying while the coordinator is down), runs what heartbeats assign, and
// registers again when told to, naming the attempts it still runs.
#include "agent/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <thread>

#include "gauntlet/v1/agent_mock.grpc.pb.h"

namespace gauntlet::agent {
namespace {

using ::testing::_;
using ::testing::Invoke;
using ::testing::NiceMock;

TEST(SessionTest, RegistersThroughAnOutageRunsItsAssignmentAndRegistersAgainWhenAsked) {
  auto owned = std::make_unique<NiceMock<v1::MockAgentServiceStub>>();
  auto& stub = *owned;
  std::mutex mu;
  std::condition_variable changed;
  int registrations = 0, refused_registrations = 0, heartbeats = 0;
  std::vector<v1::AttemptReport> reports;
  std::atomic<bool> stop{false};

  ON_CALL(stub, Register(_, _, _))
      .WillByDefault(Invoke([&](grpc::ClientContext*, const v1::RegisterRequest& request, v1::RegisterResponse* reply) {
        std::lock_guard lock(mu);
        EXPECT_EQ(request.name(), "node-a");
        EXPECT_EQ(request.devices_size(), 2);
        if (refused_registrations < 2) {
          ++refused_registrations;
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not yet");
        }
        ++registrations;
        reply->set_lease_ttl_ms(3000);
        return grpc::Status::OK;
      }));
  ON_CALL(stub, Heartbeat(_, _, _))
      .WillByDefault(Invoke([&](grpc::ClientContext*, const v1::HeartbeatRequest& request, v1::HeartbeatResponse* reply) {
        std::unique_lock lock(mu);
        ++heartbeats;
        if (heartbeats == 1) {
          auto* assignment = reply->add_assignments();
          assignment->set_attempt_id(11);
          assignment->add_device_indices(1);
          assignment->mutable_job()->set_id(5);
          assignment->mutable_job()->mutable_exec()->add_argv("true");
        } else if (reports.size() == 2 && registrations == 1) {
          reply->set_register_again(true);
        } else {
          EXPECT_LE(request.wait_ms(), 1000) << "a third of the lease at most";
          changed.wait_for(lock, std::chrono::milliseconds(20));
        }
        return grpc::Status::OK;
      }));
  ON_CALL(stub, ReportAttempt(_, _, _))
      .WillByDefault(Invoke([&](grpc::ClientContext*, const v1::AttemptReport& report, v1::ReportAttemptResponse*) {
        std::lock_guard lock(mu);
        reports.push_back(report);
        changed.notify_all();
        return grpc::Status::OK;
      }));
  ON_CALL(stub, UploadLog(_, _, _))
      .WillByDefault(Invoke([](grpc::ClientContext*, const v1::LogChunk& chunk, v1::UploadLogResponse* reply) {
        reply->set_stored_length(chunk.offset() + static_cast<int64_t>(chunk.data().size()));
        return grpc::Status::OK;
      }));

  AgentConfig config;
  config.name = "node-a";
  config.workdir = (std::filesystem::temp_directory_path() / "gauntlet-session-test").string();
  std::filesystem::remove_all(config.workdir);
  for (int i = 0; i < 2; ++i) {
    v1::Device device;
    device.set_index(i);
    device.set_kind("cpu");
    config.devices.push_back(device);
  }
  Session session(config, std::move(owned));
  std::thread run([&] { session.Run(stop); });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return registrations >= 2; }))
        << "registrations " << registrations << ", reports " << reports.size();
  }
  stop = true;
  run.join();
  EXPECT_EQ(refused_registrations, 2) << "it kept trying while the coordinator was down";
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].attempt_id(), 11);
  EXPECT_EQ(reports[0].state(), v1::ATTEMPT_STATE_RUNNING);
  EXPECT_EQ(reports[1].state(), v1::ATTEMPT_STATE_SUCCEEDED);
}

}  // namespace
}  // namespace gauntlet::agent
