// Starts a job's process in its own process group with stdout and stderr in
// a log file, and stops the whole group on timeout or cancel. The child dies
// with the agent (PR_SET_PDEATHSIG) so a killed agent leaves no orphan holding
// a device.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/job_user.h"
#include "common/status.h"

namespace gauntlet::agent {

struct LaunchSpec {
  std::vector<std::string> argv;             // argv[0] is looked up in PATH.
  std::map<std::string, std::string> env;    // Added to the agent's environment.
  std::string workdir;
  std::string log_path;                      // Appended to.
  // Run as this user (its groups, HOME, USER) instead of the agent's.
  std::optional<JobUser> user;
};

struct ExitInfo {
  int exit_code = 0;   // Valid when signal == 0.
  int signal = 0;      // The signal that killed it, or 0.
  bool ok() const { return signal == 0 && exit_code == 0; }
  // "exited with code 3", "killed by signal 9 (Killed)".
  std::string Describe() const;
};

class Process {
 public:
  // Fails when the program cannot be started (not found, not executable),
  // naming the program and the reason.
  static StatusOr<Process> Start(const LaunchSpec& spec);

  // Returns the exit once the process has ended; never blocks.
  std::optional<ExitInfo> Poll();
  // Signals the whole process group.
  void Signal(int signal);
  pid_t pid() const { return pid_; }

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

}  // namespace gauntlet::agent
