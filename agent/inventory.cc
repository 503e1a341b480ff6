#include "agent/inventory.h"

#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace gauntlet::agent {

namespace {
const std::set<std::string>& KnownKinds() {
  static const std::set<std::string> kinds = {"cpu", "sim", "gpu", "aiu"};
  return kinds;
}

bool ParseNonNegative(const std::string& text, int* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= 0;
}
}  // namespace

StatusOr<std::vector<v1::Device>> ParseDeviceSpec(const std::string& spec) {
  const std::string usage = "; use cpu:4, sim:8, gpu:8, gpu:0,1,3 or auto";
  if (spec == "auto") return DetectDevices();
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return Err(Status::InvalidArgument("--devices '" + spec + "' has no kind" + usage));
  std::string kind = spec.substr(0, colon);
  std::string rest = spec.substr(colon + 1);
  if (!KnownKinds().contains(kind)) {
    return Err(Status::InvalidArgument("--devices '" + spec + "': unknown kind '" + kind + "'" + usage));
  }
  std::vector<int> indices;
  if (rest.find(',') == std::string::npos) {
    // A single number is a count (gpu:8); a list names indices (gpu:0,2).
    int count = 0;
    if (!ParseNonNegative(rest, &count) || count < 1 || count > 1024) {
      return Err(Status::InvalidArgument("--devices '" + spec + "': count '" + rest + "' must be 1..1024" + usage));
    }
    for (int i = 0; i < count; ++i) indices.push_back(i);
  } else {
    std::set<int> seen;
    size_t start = 0;
    while (start <= rest.size()) {
      size_t comma = rest.find(',', start);
      std::string item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      int index = 0;
      if (!ParseNonNegative(item, &index)) {
        return Err(Status::InvalidArgument("--devices '" + spec + "': index '" + item + "' is not a number" + usage));
      }
      if (!seen.insert(index).second) {
        return Err(Status::InvalidArgument("--devices '" + spec + "': index " + item + " is listed twice"));
      }
      indices.push_back(index);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::vector<v1::Device> devices;
  for (int index : indices) {
    v1::Device device;
    device.set_index(index);
    device.set_kind(kind);
    devices.push_back(device);
  }
  return devices;
}

std::vector<v1::Device> DetectDevices() {
  std::vector<v1::Device> devices = DetectGpus();
  if (devices.empty()) {
    const int cores = UsableCores();
    for (int i = 0; i < cores; ++i) {
      v1::Device device;
      device.set_index(i);
      device.set_kind("cpu");
      devices.push_back(device);
    }
  }
  return devices;
}

Status CheckGpusPresent(const std::vector<v1::Device>& offered, const std::vector<v1::Device>& present) {
  std::set<int> indices;
  std::string found;
  for (const auto& device : present) {
    if (device.kind() != "gpu") continue;
    indices.insert(device.index());
    found += (found.empty() ? "" : ",") + std::to_string(device.index());
  }
  for (const auto& device : offered) {
    if (device.kind() != "gpu" || indices.contains(device.index())) continue;
    return Status::InvalidArgument(
        "GPU " + std::to_string(device.index()) + " is offered but this node has " + std::to_string(indices.size()) +
        " GPU(s)" + (found.empty() ? "" : " (" + found + ")") + "; offer " +
        (found.empty() ? std::string("cpu or sim devices instead") : "gpu:" + found + " or fewer"));
  }
  return Status::Ok();
}

std::vector<v1::Device> DetectGpus() {
  std::vector<v1::Device> devices;
  std::error_code ec;
  static const std::regex nvidia("nvidia([0-9]+)");
  for (const auto& entry : std::filesystem::directory_iterator("/dev", ec)) {
    std::smatch match;
    std::string name = entry.path().filename().string();
    if (std::regex_match(name, match, nvidia)) {
      v1::Device device;
      device.set_index(std::stoi(match[1]));
      device.set_kind("gpu");
      devices.push_back(device);
    }
  }
  if (devices.empty() && std::filesystem::exists("/dev/kfd", ec)) {
    int index = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/class/kfd/kfd/topology/nodes", ec)) {
      // Nodes with a GPU id of 0 are CPUs.
      std::ifstream gpu_id(entry.path() / "gpu_id");
      int id = 0;
      if (gpu_id >> id && id != 0) {
        v1::Device device;
        device.set_index(index++);
        device.set_kind("gpu");
        devices.push_back(device);
      }
    }
  }
  std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a.index() < b.index(); });
  return devices;
}

int UsableCores() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) return std::max(1, CPU_COUNT(&mask));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int ThreadsPerDevice(int cores, int devices) {
  assert(cores > 0 && devices > 0);
  return std::max(1, cores / devices);
}

}  // namespace gauntlet::agent

namespace gauntlet::agent {

StatusOr<std::vector<std::string>> WorkerSuites(const std::string& worker_path) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return Err(Status::Internal("pipe: " + std::string(std::strerror(errno))));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::string command = "suites";
  char* argv[] = {const_cast<char*>(worker_path.c_str()), command.data(), nullptr};
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, worker_path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    return Err(Status::NotFound("--worker " + worker_path + ": " + std::strerror(spawned)));
  }
  std::string output;
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) output.append(buffer, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Err(Status::Internal("--worker " + worker_path + " suites did not exit 0"));
  }
  std::vector<std::string> suites;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) suites.push_back(line);
  }
  return suites;
}

}  // namespace gauntlet::agent
