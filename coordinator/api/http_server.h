// The coordinator's HTTP side: /healthz, the JSON API under /api/v1 (the
// protobuf JSON mapping of the gRPC API's messages; docs/api.md), Server-Sent
// Events at /api/v1/events, and the board (board/).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "coordinator/api/http_gate.h"
#include "coordinator/job_manager.h"
#include "coordinator/store/artifact_store.h"

namespace httplib {
class Server;
}

namespace gauntlet {
class ServingCertificates;
}

namespace gauntlet::api {

struct HttpOptions {
  // The board and the JSON API's reads need no token (--board-public);
  // changes always do, where tokens are in force.
  bool board_public = false;
  // Serves HTTPS with these (reloaded with them) when set; must outlive the server.
  ServingCertificates* certificates = nullptr;
};

class HttpServer {
 public:
  // `jobs`, `artifacts` and `clock` must outlive the server.
  HttpServer(JobManager& jobs, store::ArtifactStore& artifacts, const Clock& clock, HttpOptions options = {});
  ~HttpServer();

  // Binds host:port (port 0 picks a free one) and serves on threads of its
  // own. Returns the bound port.
  StatusOr<int> Start(const std::string& host, int port);
  // Ends event streams and stops serving.
  void Stop();

 private:
  void ApiRoutes();

  JobManager& jobs_;
  store::ArtifactStore& artifacts_;
  HttpGate gate_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace gauntlet::api
