// A real farm for integration tests: a gauntlet-coordinator process and
// gauntlet-agent processes on 127.0.0.1 with a SQLite file in a fresh folder,
// driven over the real gRPC API and the real CLI.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/launcher.h"
#include "gauntlet/v1/agent.grpc.pb.h"
#include "gauntlet/v1/control.grpc.pb.h"

namespace gauntlet::testing {

// The whole of a file; "" when it cannot be read.
std::string ReadFile(const std::string& path);

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together.
};

class Farm {
 public:
  // `name` names the test's folder under the build's test-tmp/.
  explicit Farm(const std::string& name);
  ~Farm();

  // Starts the coordinator (reusing the last gRPC port after a restart) and
  // waits until it listens.
  void StartCoordinator(const std::string& lease_ttl = "2s");
  // Extra flags for every later coordinator start, e.g. --agent-tokens FILE.
  void AddCoordinatorFlags(const std::vector<std::string>& flags) {
    coordinator_flags_.insert(coordinator_flags_.end(), flags.begin(), flags.end());
  }
  // The same under a file-size limit (ulimit -f), to play a full disk.
  void StartCoordinatorWithFileLimitKb(const std::string& lease_ttl, int limit_kb,
                                       const std::map<std::string, std::string>& env = {});
  // True once the coordinator process has ended (by itself: a test hook).
  bool CoordinatorExited();
  void KillCoordinator();
  // Its folder is dir()/agent-NAME unless flags give --workdir.
  void StartAgent(const std::string& name, const std::string& devices, const std::vector<std::string>& flags = {});
  void KillAgent(const std::string& name);  // kill -9

  v1::ControlService::Stub& control() { return *control_; }
  // The API token the farm's own calls (Submit, WaitForSweep, ...) carry,
  // once the coordinator has tokens in force.
  void UseApiToken(const std::string& token) { api_token_ = token; }
  // The farm's own calls and the CLI speak TLS, verified against this CA
  // file, from the next coordinator start on.
  void UseTlsCa(const std::string& ca_path) { tls_ca_ = ca_path; }
  void SignalCoordinator(int signal) { coordinator_->Signal(signal); }
  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  const std::string& dir() const { return dir_; }
  int http_port() const { return http_port_; }

  // Writes the spec to a file and submits it through the API.
  int64_t Submit(const std::string& spec_yaml);
  // Polls until the sweep is finished; fails the test after `timeout`.
  v1::Sweep WaitForSweep(int64_t sweep_id, std::chrono::seconds timeout = std::chrono::seconds(60));
  // Polls until `predicate` holds for the job.
  v1::Job WaitForJob(int64_t job_id, const std::function<bool(const v1::Job&)>& predicate,
                     std::chrono::seconds timeout = std::chrono::seconds(30));
  std::vector<v1::Job> Jobs(int64_t sweep_id);
  // Waits until `condition` holds, checking every 20 ms; false if it never
  // did within `timeout`. For events no RPC reports (a file appearing, a
  // line in a log), so no test stands a sleep in for them.
  static bool WaitUntil(const std::function<bool()>& condition,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // How many attempts of an agent wrote a result.json.
  int FinishedAttempts(const std::string& agent) const;
  std::string AgentLog(const std::string& agent) const;
  v1::Job Job(int64_t job_id);
  // Runs the gauntlet CLI against this farm.
  CliResult Cli(const std::vector<std::string>& args);
  // Runs any program to completion, capturing its output.
  static CliResult Run(const std::vector<std::string>& argv, const std::string& log_path);

  static std::string BinDir();

 private:
  std::string dir_;
  std::string tls_ca_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  int cli_runs_ = 0;
  std::string api_token_;
  std::optional<agent::Process> coordinator_;
  std::map<std::string, agent::Process> agents_;
  std::vector<std::string> coordinator_flags_;
  std::unique_ptr<v1::ControlService::Stub> control_;
};

}  // namespace gauntlet::testing
