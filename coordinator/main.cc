// gauntlet-coordinator: owns the farm's state and serves agents, the CLI and the board.
#include <csignal>
#include <fstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/logging.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/spec/parser.h"

namespace {

// Splits "host:port" for the HTTP listener.
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  try {
    size_t used = 0;
    *port = std::stoi(address.substr(colon + 1), &used);
    return used == address.size() - colon - 1 && *port >= 0 && *port < 65536;
  } catch (...) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gauntlet-coordinator: schedules sweeps onto agents and serves the board"};
  gauntlet::CoordinatorOptions options;
  std::string http = "127.0.0.1:8080";
  std::string lease_ttl = "15s";
  std::string ready_file;
  std::string log_level = "info";
  app.add_option("--db", options.db_path, "SQLite database file (created if missing)");
  app.add_option("--artifacts", options.artifacts_dir, "Folder for content-addressed artifacts");
  app.add_option("--grpc", options.grpc_address, "gRPC listen address host:port (port 0: any free port)");
  app.add_option("--http", http, "HTTP listen address host:port for the board and JSON API; 'off' disables it");
  app.add_option("--lease-ttl", lease_ttl, "How long an attempt survives without a heartbeat, e.g. 15s");
  app.add_option("--ready-file", ready_file, "Write {\"grpc\":PORT,\"http\":PORT} here once listening");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  CLI11_PARSE(app, argc, argv);

  gauntlet::SetupLogging("coordinator", log_level);
  if (http == "off") {
    options.http_port = -1;
  } else if (!SplitHostPort(http, &options.http_host, &options.http_port)) {
    spdlog::error("--http '{}' must be host:port, e.g. 127.0.0.1:8080, or 'off'", http);
    return 2;
  }
  auto ttl = gauntlet::spec::ParseDuration(lease_ttl);
  if (!ttl || *ttl <= 0) {
    spdlog::error("--lease-ttl '{}' must be a positive duration such as 15s", lease_ttl);
    return 2;
  }
  options.jobs.lease_ttl_ms = static_cast<int64_t>(*ttl * 1000);
  options.jobs.agent_timeout_ms = options.jobs.lease_ttl_ms;

  // A full disk or a file-size limit must fail the write that hit it (the
  // caller answers "unavailable" and the agent retries), not kill the server.
  std::signal(SIGXFSZ, SIG_IGN);

  // Block the stop signals in every thread; main waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
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
  sigwait(&signals, &received);
  spdlog::info("signal {} received, stopping", received);
  server.Stop();
  return 0;
}
