// gauntlet-coordinator: owns the farm's state and serves agents, the CLI and the board.
#include <csignal>
#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/logging.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/flags.h"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto flags = gauntlet::ParseFlags(argc, argv, &exit_code);
  if (!flags) return exit_code;
  gauntlet::SetupLogging("coordinator", flags->log_level);
  const gauntlet::CoordinatorOptions& options = flags->options;
  const std::string& ready_file = flags->ready_file;

  // A full disk or a file-size limit must fail the write that hit it (the
  // caller answers "unavailable" and the agent retries), not kill the server.
  std::signal(SIGXFSZ, SIG_IGN);

  // Block the stop signals in every thread; main waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  gauntlet::CoordinatorServer server(options);
  if (auto status = server.Start(); !status.ok()) {
    spdlog::error("{}", status.ToString());
    return 1;
  }
  if (!ready_file.empty()) {
    std::ofstream out(ready_file + ".tmp");
    out << nlohmann::json{{"grpc", server.grpc_port()}, {"http", server.http_port()}}.dump() << "\n";
    out.close();
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  int received = 0;
  // SIGHUP reloads the TLS files; running jobs and open connections stay.
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    if (auto status = server.ReloadCertificates(); !status.ok()) {
      spdlog::error("SIGHUP: certificates not reloaded, the ones in use stay: {}", status.message());
    }
  }
  spdlog::info("signal {} received, stopping", received);
  server.Stop();
  return 0;
}
