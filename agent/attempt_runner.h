// Runs one attempt from start to acknowledged report: prepares its folder,
// launches the worker (under mpirun) or the exec command, streams its log,
// enforces the timeout, and uploads artifacts and the result, retrying until
// the coordinator has them. A coordinator outage delays a result; it never
// loses one.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "agent/agent_config.h"
#include "agent/launcher.h"
#include "gauntlet/v1/agent.grpc.pb.h"
#include "lib/contract/worker_contract.h"

namespace gauntlet::agent {

class AttemptRunner {
 public:
  // `config`, `stub` and `stopping` must outlive the runner. Any
  // implementation of the stub interface will do (tests pass a gMock one).
  AttemptRunner(const AgentConfig& config, v1::AgentService::StubInterface& stub, v1::Assignment assignment,
                const std::atomic<bool>& stopping);

  // Blocks until the attempt is reported (or the agent stops). Run it on a
  // thread of its own.
  void Run();
  // Asks the attempt to stop; it is then reported cancelled.
  void Cancel() { cancel_requested_ = true; }
  // True once the coordinator acknowledged the final report.
  bool done() const { return done_; }
  int64_t attempt_id() const { return assignment_.attempt_id(); }

 private:
  StatusOr<LaunchSpec> Prepare();
  // Fetches upstream jobs' artifacts into in/<folder>/, checking each digest.
  Status DownloadInputs();
  // Runs the process to its end; fills report_ with state, exit and reason.
  void Execute(const LaunchSpec& spec);
  void CollectResult();
  // Sends new log bytes; returns false if the coordinator did not take them.
  bool PumpLog();
  bool UploadArtifacts();
  bool SendReport(const v1::AttemptReport& report);
  void Backoff(int* delay_ms);

  const AgentConfig& config_;
  v1::AgentService::StubInterface& stub_;
  v1::Assignment assignment_;
  const std::atomic<bool>& stopping_;
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> done_{false};

  std::string dir_;
  std::string out_dir_;
  std::string log_path_;
  int64_t log_offset_ = 0;
  bool running_reported_ = false;
  v1::AttemptReport report_;
  contract::ProcessEnd end_;
};

}  // namespace gauntlet::agent
