// gauntlet-agent: one per node. Offers the node's devices to the coordinator
// and runs the attempts it is given.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "agent/inventory.h"
#include "agent/session.h"
#include "common/logging.h"

namespace {

std::string DefaultWorkerPath() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "gauntlet-worker" : (self.parent_path() / "gauntlet-worker").string();
}

std::string DefaultName() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return host;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gauntlet-agent: runs Gauntlet jobs on this node's devices"};
  gauntlet::agent::AgentConfig config;
  config.name = DefaultName();
  config.worker_path = DefaultWorkerPath();
  std::string devices = "auto";
  std::string log_level = "info";
  app.add_option("--coordinator", config.coordinator, "Coordinator gRPC address host:port")
      ->envname("GAUNTLET_COORDINATOR");
  app.add_option("--name", config.name, "Agent name, unique in the farm (default: host name)");
  app.add_option("--devices", devices, "cpu:N, sim:N, gpu:N, gpu:0,1,3 or auto");
  app.add_option("--workdir", config.workdir, "Folder for attempt folders and logs");
  app.add_option("--tags", config.tags, "Node tags jobs can require (resources.tags), e.g. --tags mi300x,spx")
      ->delimiter(',');
  app.add_option("--worker", config.worker_path, "Path of gauntlet-worker");
  app.add_option("--mpirun", config.mpirun_path, "Path of mpirun");
  app.add_option("--kill-grace-ms", config.kill_grace_ms, "Milliseconds between SIGTERM and SIGKILL");
  app.add_option("--threads-per-device", config.threads_per_device,
                 "OMP_NUM_THREADS per device: each worker rank gets this many, an exec job this many per device "
                 "it holds, unless the job sets it (default: the node's cores over its devices; 0 leaves the "
                 "environment's)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  CLI11_PARSE(app, argc, argv);
  gauntlet::SetupLogging("agent", log_level);

  auto parsed = gauntlet::agent::ParseDeviceSpec(devices);
  if (!parsed) {
    spdlog::error("{}", parsed.error().message());
    return 2;
  }
  config.devices = *parsed;
  if (app.count("--threads-per-device") == 0 && !std::getenv("OMP_NUM_THREADS")) {
    config.threads_per_device = gauntlet::agent::ThreadsPerDevice(gauntlet::agent::UsableCores(),
                                                                   static_cast<int>(config.devices.size()));
  }
  std::error_code ec;
  std::filesystem::create_directories(config.workdir, ec);
  if (ec) {
    spdlog::error("--workdir {}: {}", config.workdir, ec.message());
    return 2;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::atomic<bool> stop{false};
  std::thread waiter([&] {
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("signal {} received, stopping", received);
    stop = true;
  });
  waiter.detach();

  spdlog::info("agent {} with {} devices ({}), {} CPU threads per device, coordinator {}", config.name,
               config.devices.size(), devices,
               config.threads_per_device ? std::to_string(config.threads_per_device) : std::string("environment's"),
               config.coordinator);
  gauntlet::agent::Session session(config);
  session.Run(stop);
  return 0;
}
