#include "agent/inventory.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <fstream>
#include <filesystem>
#include <regex>
#include <set>
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
  if (devices.empty()) {
    const int cores = UsableCores();
    for (int i = 0; i < cores; ++i) {
      v1::Device device;
      device.set_index(i);
      device.set_kind("cpu");
      devices.push_back(device);
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
