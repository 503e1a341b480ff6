// Starts a runner's command line and waits for it. Linux only, as the worker.
#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace gauntlet::worker {

struct CommandExit {
  int exit_code = 0;
  int signal = 0;
  std::string description;  // "exited with code 2", "killed by signal 9 (Killed)".
  std::string tail;         // Its last lines, for the reason.
};

// Runs `sh -c line` in `workdir` with `env` added. Its output streams into
// this process's stdout (the job's log) and into `log_path` (an artifact).
// It dies with the worker: a cancelled or timed-out job leaves no runner
// behind. MPI's variables are taken out of its environment, so a runner may
// start mpirun or torchrun of its own from inside a worker rank.
StatusOr<CommandExit> RunCommand(const std::string& line, const std::map<std::string, std::string>& env,
                                 const std::string& workdir, const std::string& log_path);

}  // namespace gauntlet::worker
