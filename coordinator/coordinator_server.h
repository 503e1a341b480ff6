// Wires one coordinator together: store, JobManager, gRPC services, HTTP
// server and the periodic tick (lease expiry, scheduling). The binary's main
// and the integration tests both use it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "coordinator/constants.h"
#include "coordinator/job_manager.h"
#include "lib/rpc/tls.h"

namespace grpc {
class Server;
}

namespace gauntlet {

namespace api {
class AgentServiceImpl;
class ControlServiceImpl;
class HttpServer;
}  // namespace api
namespace store {
class ArtifactStore;
class DatabaseLock;
}

struct CoordinatorOptions {
  std::string db_path = "gauntlet-data/gauntlet.db";
  std::string artifacts_dir = "gauntlet-data/artifacts";
  int64_t max_artifact_bytes = 0;  // 0: as much as the disk holds.
  std::string grpc_address = "127.0.0.1:7070";  // Port 0 picks a free one.
  std::string http_host = "127.0.0.1";
  int http_port = 8080;                          // 0 picks a free one; -1 disables HTTP.
  int64_t tick_ms = constants::kSchedulerIdleMs;
  // Listening beyond loopback without TLS, API tokens and agent tokens is
  // refused unless this is set (--insecure); then it warns every hour
  // (coordinator/exposure.h).
  bool insecure_allowed = false;
  // Served on gRPC and HTTPS when cert and key are set; ca requires agents'
  // client certificates.
  rpc::TlsFiles tls;
  bool board_public = false;  // Reads need no token (--board-public).
  JobManagerOptions jobs;
};

class Notifier;
class ServingCertificates;

class CoordinatorServer {
 public:
  explicit CoordinatorServer(CoordinatorOptions options);
  ~CoordinatorServer();

  Status Start();
  // Stops accepting calls, wakes long polls and joins every thread.
  void Stop();

  // Reads the TLS files again (SIGHUP); the pair in use stays on error.
  // Open connections and running jobs are not touched.
  Status ReloadCertificates();

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }

 private:
  CoordinatorOptions options_;
  SystemClock clock_;
  std::unique_ptr<store::DatabaseLock> db_lock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
  std::unique_ptr<ServingCertificates> certificates_;
  bool insecure_exposed_ = false;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<api::AgentServiceImpl> agent_service_;
  std::unique_ptr<api::ControlServiceImpl> control_service_;
  std::unique_ptr<api::HttpServer> http_;
  std::unique_ptr<grpc::Server> grpc_;
  std::thread ticker_;
  std::unique_ptr<Notifier> notifier_;
  std::atomic<bool> stopping_{false};
  int grpc_port_ = 0;
  int http_port_ = 0;
};

}  // namespace gauntlet
