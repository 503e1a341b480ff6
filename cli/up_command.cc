// `gauntlet up`: a whole farm on one box in one command — a coordinator on
// a SQLite file under --data and local agents beside it, as processes of
// this one, stopped together on Ctrl-C. The coordinator and agents are the
// same binaries a lab runs on many nodes; nothing here is a second path.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"

extern char** environ;

namespace gauntlet::cli {
namespace {

namespace fs = std::filesystem;

fs::path BinDir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path(".") : self.parent_path();
}

// Starts argv with stdout and stderr in `log`; 0 when it could not start.
pid_t Spawn(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : 0;
}

std::string Tail(const fs::path& log) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string tail;
  for (size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i) tail += "  " + lines[i] + "\n";
  return tail;
}

bool Exited(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == pid; }

void StopAll(const std::vector<pid_t>& children) {
  // Agents first, so none reports to a coordinator that is gone.
  for (auto it = children.rbegin(); it != children.rend(); ++it) kill(*it, SIGTERM);
  for (auto it = children.rbegin(); it != children.rend(); ++it) waitpid(*it, nullptr, 0);
}

}  // namespace

int Up(const UpOptions& options) {
  const fs::path data = fs::absolute(options.data);
  std::error_code ec;
  fs::create_directories(data / "agents", ec);
  // The agents report what this folder holds, so a submit naming a model
  // that is not there is refused before anything runs.
  fs::create_directories(data / "models", ec);
  if (ec) {
    std::cerr << "error: --data " << options.data << ": " << ec.message() << "\n";
    return kExitUsage;
  }
  const fs::path bin = BinDir();
  const fs::path ready = data / "coordinator.ready";
  fs::remove(ready, ec);

  // Ctrl-C and kill reach this process; it stops the farm, then itself.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<pid_t> children;
  const fs::path coordinator_log = data / "coordinator.log";
  const pid_t coordinator = Spawn({(bin / "gauntlet-coordinator").string(), "--db", (data / "gauntlet.db").string(),
                                   "--artifacts", (data / "artifacts").string(), "--grpc", options.grpc, "--http",
                                   options.http, "--ready-file", ready.string()},
                                  coordinator_log);
  if (coordinator == 0) {
    std::cerr << "error: cannot start " << (bin / "gauntlet-coordinator").string() << "\n";
    return kExitFailed;
  }
  children.push_back(coordinator);
  // The coordinator says when it listens by writing its ready file.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(ready)) {
    if (Exited(coordinator) || std::chrono::steady_clock::now() > deadline) {
      std::cerr << "error: the coordinator did not start; " << coordinator_log.string() << " ends:\n"
                << Tail(coordinator_log);
      StopAll({});
      return kExitFailed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Port 0 asks for free ones: the ready file says which were taken.
  std::string grpc = options.grpc, http = options.http;
  try {
    std::ifstream in(ready);
    const auto ports = nlohmann::json::parse(in);
    grpc = grpc.substr(0, grpc.rfind(':') + 1) + std::to_string(ports.at("grpc").get<int>());
    http = http.substr(0, http.rfind(':') + 1) + std::to_string(ports.at("http").get<int>());
  } catch (const std::exception& e) {
    std::cerr << "error: cannot read " << ready.string() << ": " << e.what() << "\n";
    StopAll(children);
    return kExitFailed;
  }
  for (int i = 0; i < options.agents; ++i) {
    const std::string name = "node-" + std::string(1, static_cast<char>('a' + i % 26)) +
                             (i >= 26 ? std::to_string(i / 26) : "");
    const pid_t agent = Spawn({(bin / "gauntlet-agent").string(), "--coordinator", grpc, "--name", name,
                               "--devices", options.devices, "--workdir", (data / "agents" / name).string(),
                               "--models", (data / "models").string()},
                              data / (name + ".log"));
    if (agent == 0) {
      std::cerr << "error: cannot start " << (bin / "gauntlet-agent").string() << "\n";
      StopAll(children);
      return kExitFailed;
    }
    children.push_back(agent);
  }
  std::cout << "farm up: coordinator " << grpc << ", board http://" << http << "/, "
            << options.agents << " agents with " << options.devices << " each\n"
            << "state and logs in " << data.string() << "; Ctrl-C stops the farm\n"
            << std::flush;
  if (!options.ready_file.empty()) {
    // Two lines, for scripts: the gRPC address, then the board's.
    std::ofstream(options.ready_file + ".tmp") << grpc << "\n" << http << "\n";
    fs::rename(options.ready_file + ".tmp", options.ready_file, ec);
  }
  // Until a stop signal, or until a process of the farm ends by itself.
  const timespec second{1, 0};
  while (sigtimedwait(&signals, nullptr, &second) < 0) {
    for (pid_t child : children) {
      if (!Exited(child)) continue;
      std::cerr << "a process of the farm (pid " << child << ") ended; stopping the rest. Logs: " << data.string()
                << "\n";
      children.erase(std::find(children.begin(), children.end(), child));
      StopAll(children);
      return kExitFailed;
    }
  }
  StopAll(children);
  std::cout << "farm stopped\n";
  return 0;
}

}  // namespace gauntlet::cli
