#include "agent/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace gauntlet::agent {

std::string ExitInfo::Describe() const {
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exited with code " + std::to_string(exit_code);
}

StatusOr<Process> Process::Start(const LaunchSpec& spec) {
  if (spec.argv.empty()) return Err(Status::InvalidArgument("empty command"));
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls are allowed.
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string item(*entry);
    size_t eq = item.find('=');
    if (eq != std::string::npos) env[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (spec.user) {
    env["HOME"] = spec.user->home;
    env["USER"] = spec.user->name;
    env["LOGNAME"] = spec.user->name;
  }
  for (const auto& [key, value] : spec.env) env[key] = value;
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& item : env_strings) envp.push_back(item.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (auto& item : argv_strings) argv.push_back(item.data());
  argv.push_back(nullptr);

  int log_fd = open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Err(Status::Unavailable("cannot open log " + spec.log_path + ": " + std::strerror(errno)));
  // The child writes errno here if exec fails; a successful exec closes it.
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    close(log_fd);
    return Err(Status::Unavailable(std::string("pipe: ") + std::strerror(errno)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    close(error_pipe[0]);
    close(error_pipe[1]);
    return Err(Status::Unavailable(std::string("fork: ") + std::strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // The agent died before prctl took hold.
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    // Groups first: once the uid is dropped they cannot be changed.
    if (spec.user && (setgroups(spec.user->groups.size(), spec.user->groups.data()) != 0 ||
                      setgid(spec.user->gid) != 0 || setuid(spec.user->uid) != 0)) {
      int error = errno;
      [[maybe_unused]] ssize_t n = write(error_pipe[1], &error, sizeof(error));
      _exit(127);
    }
    if (!spec.workdir.empty() && chdir(spec.workdir.c_str()) != 0) {
      int error = errno;
      [[maybe_unused]] ssize_t n = write(error_pipe[1], &error, sizeof(error));
      _exit(127);
    }
    execvpe(argv[0], argv.data(), envp.data());
    int error = errno;
    [[maybe_unused]] ssize_t n = write(error_pipe[1], &error, sizeof(error));
    _exit(127);
  }
  close(log_fd);
  close(error_pipe[1]);
  int child_errno = 0;
  ssize_t got = read(error_pipe[0], &child_errno, sizeof(child_errno));
  close(error_pipe[0]);
  if (got == sizeof(child_errno)) {
    waitpid(pid, nullptr, 0);
    return Err(Status::InvalidArgument("cannot run '" + spec.argv[0] + "'" +
                                       (spec.user ? " as " + spec.user->name : std::string()) + " in " +
                                       (spec.workdir.empty() ? std::string(".") : spec.workdir) + ": " +
                                       std::strerror(child_errno)));
  }
  return Process(pid);
}

std::optional<ExitInfo> Process::Poll() {
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done != pid_) return std::nullopt;
  ExitInfo info;
  if (WIFSIGNALED(status)) info.signal = WTERMSIG(status);
  if (WIFEXITED(status)) info.exit_code = WEXITSTATUS(status);
  // Whatever the leader's fate, leave nothing of the group behind.
  kill(-pid_, SIGKILL);
  return info;
}

void Process::Signal(int signal) { kill(-pid_, signal); }

}  // namespace gauntlet::agent
