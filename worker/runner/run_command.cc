#include "worker/runner/run_command.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string_view>
#include <vector>

extern char** environ;

namespace gauntlet::worker {
namespace {

// Variables the outer mpirun gave this rank; an inner launcher that saw them
// would join the outer job instead of starting its own.
bool IsLauncherVariable(std::string_view entry) {
  if (entry.starts_with("OMPI_ALLOW_RUN_AS_ROOT")) return false;
  for (std::string_view prefix : {"OMPI_", "PMIX_", "PRTE_", "OPAL_", "HYDRA_", "PMI_"}) {
    if (entry.starts_with(prefix)) return true;
  }
  return false;
}

[[noreturn]] void ExecChild(const std::string& line, const std::map<std::string, std::string>& env,
                            const std::string& workdir, int output) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  dup2(output, STDOUT_FILENO);
  dup2(output, STDERR_FILENO);
  close(output);
  std::vector<std::string> names;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    if (IsLauncherVariable(text)) names.emplace_back(text.substr(0, text.find('=')));
  }
  for (const auto& name : names) unsetenv(name.c_str());
  for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
  if (!workdir.empty() && chdir(workdir.c_str()) != 0) {
    std::fprintf(stderr, "gauntlet-worker: cannot enter %s: %s\n", workdir.c_str(), std::strerror(errno));
    _exit(127);
  }
  execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
  std::fprintf(stderr, "gauntlet-worker: cannot run /bin/sh: %s\n", std::strerror(errno));
  _exit(127);
}

}  // namespace

StatusOr<CommandExit> RunCommand(const std::string& line, const std::map<std::string, std::string>& env,
                                 const std::string& workdir, const std::string& log_path) {
  std::ofstream log(log_path, std::ios::binary);
  if (!log) return Err(Status::Unavailable("cannot write " + log_path + " (disk full?)"));
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return Err(Status::Unavailable(std::string("pipe: ") + std::strerror(errno)));
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return Err(Status::Unavailable(std::string("fork: ") + std::strerror(errno)));
  if (pid == 0) {
    close(pipe_fds[0]);
    ExecChild(line, env, workdir, pipe_fds[1]);
  }
  close(pipe_fds[1]);
  // The last lines, kept as they stream past, for a failure's reason.
  std::deque<std::string> last_lines;
  std::string partial;
  char buffer[8192];
  while (true) {
    const ssize_t got = read(pipe_fds[0], buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    std::fwrite(buffer, 1, static_cast<size_t>(got), stdout);
    log.write(buffer, got);
    partial.append(buffer, static_cast<size_t>(got));
    for (size_t newline; (newline = partial.find('\n')) != std::string::npos; partial.erase(0, newline + 1)) {
      if (newline > 0) last_lines.push_back(partial.substr(0, std::min<size_t>(newline, 300)));
      if (last_lines.size() > 4) last_lines.pop_front();
    }
  }
  std::fflush(stdout);
  close(pipe_fds[0]);
  if (!partial.empty()) last_lines.push_back(partial.substr(0, 300));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  CommandExit exit;
  for (const auto& text : last_lines) exit.tail += (exit.tail.empty() ? "" : " | ") + text;
  if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
    exit.exit_code = 128 + exit.signal;
    exit.description = "killed by signal " + std::to_string(exit.signal) + " (" + strsignal(exit.signal) + ")";
  } else {
    exit.exit_code = WEXITSTATUS(status);
    exit.description = "exited with code " + std::to_string(exit.exit_code);
  }
  log.flush();
  if (!log) return Err(Status::Unavailable("cannot write " + log_path + " (disk full?)"));
  return exit;
}

}  // namespace gauntlet::worker
