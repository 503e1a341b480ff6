// gauntlet-agent: one per node. Offers the node's devices to the coordinator
// and runs the attempts it is given.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "agent/flags.h"
#include "agent/inventory.h"
#include "agent/session.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto flags = gauntlet::agent::ParseFlags(argc, argv, &exit_code);
  if (!flags) return exit_code;
  gauntlet::SetupLogging("agent", flags->log_level);
  gauntlet::agent::AgentConfig& config = flags->config;
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

  spdlog::info("agent {} with {} devices, {} CPU threads per device, coordinator {}", config.name,
               config.devices.size(),
               config.threads_per_device ? std::to_string(config.threads_per_device) : std::string("environment's"),
               config.coordinator);
  if (config.run_as) {
    spdlog::info("jobs run as user {} (uid {})", config.run_as->name, config.run_as->uid);
  } else if (::geteuid() == 0) {
    spdlog::warn("jobs run as root, with this agent's powers: give --run-as USER on a shared farm (docs/security.md)");
  }
  if (!config.channel_credentials) spdlog::info("no TLS to the coordinator: fine on loopback; --tls-ca turns it on");
  if (auto suites = gauntlet::agent::WorkerSuites(config.worker_path)) {
    config.suites = *suites;
  } else {
    // Not fatal: the coordinator then cannot refuse unknown suites at submit,
    // and such jobs fail when they run, as they would anyway.
    spdlog::warn("cannot list the worker's suites: {}", suites.error().message());
  }
  gauntlet::agent::Session session(config);
  session.Run(stop);
  return 0;
}
