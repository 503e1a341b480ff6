// The agent's conversation with the coordinator: register, then long-poll
// heartbeats that renew leases, bring assignments and cancellations. Survives
// coordinator restarts by retrying with backoff and re-registering with the
// attempts it still runs.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/agent_config.h"
#include "agent/attempt_runner.h"
#include "gauntlet/v1/agent.grpc.pb.h"

namespace gauntlet::agent {

class Session {
 public:
  // Dials config.coordinator.
  explicit Session(AgentConfig config);
  // Talks through `stub` instead (tests pass a gMock one).
  Session(AgentConfig config, std::unique_ptr<v1::AgentService::StubInterface> stub);
  ~Session();

  // Runs until `stop` becomes true.
  void Run(const std::atomic<bool>& stop);

 private:
  bool Register();
  // Starts runners for new assignments, signals cancellations.
  void Apply(const v1::HeartbeatResponse& response);
  void ReapFinished();
  std::vector<int64_t> LiveAttempts();
  // Whether a rescan found the disks changed since the last registration.
  bool InventoryChanged();

  struct Running {
    std::unique_ptr<AttemptRunner> runner;
    std::thread thread;
  };

  AgentConfig config_;
  std::unique_ptr<v1::AgentService::StubInterface> stub_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::map<int64_t, Running> running_;
  // The inventory last reported, and when the disks were last looked at:
  // a model copied in later is reported at the next rescan.
  v1::Inventory inventory_;
  std::chrono::steady_clock::time_point scanned_at_{};
};

}  // namespace gauntlet::agent
