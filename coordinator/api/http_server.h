// The coordinator's HTTP side: /healthz, the JSON API under /api/v1 (protobuf
// JSON mapping of the same messages the gRPC API returns) and a plain,
// server-rendered overview at / until the board lands.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "coordinator/job_manager.h"

namespace httplib {
class Server;
}

namespace gauntlet::api {

class HttpServer {
 public:
  explicit HttpServer(JobManager& jobs);
  ~HttpServer();

  // Binds host:port (port 0 picks a free one) and serves on a thread of its own.
  // Returns the bound port.
  StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  void Routes();

  JobManager& jobs_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace gauntlet::api
