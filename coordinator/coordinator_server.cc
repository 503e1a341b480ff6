#include "coordinator/coordinator_server.h"

#include <chrono>
#include <filesystem>

#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "coordinator/api/agent_service.h"
#include "coordinator/api/control_service.h"
#include "coordinator/api/http_server.h"
#include "coordinator/store/artifact_store.h"
#include "coordinator/exposure.h"
#include "coordinator/notifier.h"
#include "coordinator/serving_certificates.h"
#include "coordinator/store/database_lock.h"
#include "lib/rpc/message_policy.h"

namespace gauntlet {

namespace fs = std::filesystem;

namespace {

// Who holds the database, for the coordinator that is refused it.
std::string Holder(const std::string& grpc) {
  char host[256] = {};
  (void)gethostname(host, sizeof(host) - 1);
  return "the coordinator with pid " + std::to_string(getpid()) + " on " + host + " (gRPC " + grpc + ")";
}

}  // namespace

CoordinatorServer::CoordinatorServer(CoordinatorOptions options) : options_(std::move(options)) {
  // This server runs the scheduler loop, which commits every batch.
  options_.jobs.group_commit = true;
}

CoordinatorServer::~CoordinatorServer() { Stop(); }

Status CoordinatorServer::Start() {
  std::error_code ec;
  fs::path db_dir = fs::path(options_.db_path).parent_path();
  if (!db_dir.empty()) fs::create_directories(db_dir, ec);
  fs::create_directories(options_.artifacts_dir, ec);
  if (ec) return Status::Unavailable("cannot create " + options_.artifacts_dir + ": " + ec.message());

  if (options_.db_path != ":memory:") {
    auto lock = store::DatabaseLock::Acquire(options_.db_path, Holder(options_.grpc_address));
    if (!lock) return lock.error();
    db_lock_ = std::move(*lock);
  }
  auto store = store::Store::Open(options_.db_path);
  if (!store) return store.error().WithContext("--db " + options_.db_path);
  store_ = std::move(*store);
  artifacts_ = std::make_unique<store::ArtifactStore>(options_.artifacts_dir, options_.max_artifact_bytes);
  if (int stale = artifacts_->RemoveStaleTemporaries()) {
    spdlog::warn("removed {} partial artifact files left by an earlier coordinator", stale);
  }
  jobs_ = std::make_unique<JobManager>(*store_, clock_, options_.jobs);
  GAUNTLET_RETURN_IF_ERROR(jobs_->Recover());

  Exposure exposure;
  exposure.grpc_host = options_.grpc_address.substr(0, options_.grpc_address.rfind(':'));
  exposure.http_host = options_.http_port < 0 ? "" : options_.http_host;
  exposure.tls = options_.tls.identity();
  exposure.api_tokens = jobs_->TokensEnforced();
  exposure.agent_tokens = !options_.jobs.agent_tokens.empty();
  exposure.insecure_allowed = options_.insecure_allowed;
  if (std::string problem = ExposureProblem(exposure); !problem.empty()) {
    return Status::FailedPrecondition(problem);
  }
  insecure_exposed_ = BeyondLoopback(exposure) && !MissingProtection(exposure).empty();

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options_.tls.identity()) {
    // Private to this coordinator: it holds a copy of the key.
    const fs::path stage = (db_dir.empty() || options_.db_path == ":memory:" ? fs::path(options_.artifacts_dir) : db_dir) /
                           "tls-serving";
    auto certificates = ServingCertificates::Create(options_.tls, stage.string());
    if (!certificates) return certificates.error();
    certificates_ = std::move(*certificates);
    credentials = certificates_->GrpcCredentials();
  }
  agent_service_ = std::make_unique<api::AgentServiceImpl>(*jobs_, *artifacts_,
                                                            certificates_ && certificates_->verifies_clients());
  control_service_ = std::make_unique<api::ControlServiceImpl>(*jobs_, *artifacts_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.grpc_address, credentials, &grpc_port_);
  builder.RegisterService(agent_service_.get());
  builder.RegisterService(control_service_.get());
  rpc::ApplyTo(builder);
  // Bounded: a burst of calls queues for these threads instead of starting a
  // thread each until the host's pid limit.
  grpc::ResourceQuota quota("gauntlet-coordinator");
  quota.SetMaxThreads(constants::kMaxGrpcThreads);
  builder.SetResourceQuota(quota);
  // Keep enough threads polling that a burst does not start (and then end)
  // threads for every call.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 64);
  grpc_ = builder.BuildAndStart();
  if (!grpc_ || grpc_port_ == 0) {
    return Status::Unavailable("cannot listen for gRPC on " + options_.grpc_address +
                               "; is another coordinator running? pick another --grpc address");
  }
  if (options_.http_port >= 0) {
    api::HttpOptions http_options;
    http_options.board_public = options_.board_public;
    http_options.certificates = certificates_.get();
    http_ = std::make_unique<api::HttpServer>(*jobs_, *artifacts_, clock_, http_options);
    auto port = http_->Start(options_.http_host, options_.http_port);
    if (!port) return port.error();
    http_port_ = *port;
  }
  // The scheduler loop: a pass runs as soon as something asks for one (a job
  // became ready, devices were freed), batched with whatever else arrived
  // meanwhile, and at least every tick_ms for lease expiry.
  const std::string missing = MissingProtection(exposure);
  ticker_ = std::thread([this, missing] {
    auto last = std::chrono::steady_clock::now();
    auto warned = last;
    while (!stopping_) {
      if (insecure_exposed_ && std::chrono::steady_clock::now() - warned >= std::chrono::hours(1)) {
        warned = std::chrono::steady_clock::now();
        spdlog::warn("still listening beyond loopback without {} (--insecure)", missing);
      }
      jobs_->WaitForWork(options_.tick_ms);
      if (stopping_) break;
      // Lag: how much later than its longest wait this loop came round, i.e.
      // how long the last pass (or the host) held it up.
      const auto now = std::chrono::steady_clock::now();
      const int64_t late_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - last).count() - options_.tick_ms;
      if (late_ms > constants::kLagThresholdMs) jobs_->ExtendLeasesForLag(late_ms);
      last = now;
      jobs_->Tick();
    }
  });
  notifier_ = std::make_unique<Notifier>(*jobs_, constants::kNotifierPeriodMs);
  if (db_lock_) db_lock_->Describe(Holder("port " + std::to_string(grpc_port_)));
  spdlog::info("coordinator serving gRPC{} on port {} and HTTP{} on port {} (db {})", certificates_ ? " over TLS" : "",
               grpc_port_, certificates_ ? "S" : "", http_port_, options_.db_path);
  if (insecure_exposed_) {
    spdlog::warn("listening beyond loopback without {} (--insecure): anyone who reaches these ports can run "
                 "commands on every agent; said again every hour",
                 missing);
  } else if (!certificates_) {
    spdlog::info("no TLS: fine on loopback only; --tls-cert and --tls-key serve it (docs/security.md)");
  }
  if (!jobs_->TokensEnforced()) {
    spdlog::info("no API tokens yet: every caller is the admin, fine on loopback only; `gauntlet tokens create "
                 "--name NAME --role admin --save` starts using them (docs/security.md)");
  } else {
    spdlog::info("API tokens in force: every call needs one{}", options_.board_public ? " but the board's reads (--board-public)" : "");
  }
  if (options_.jobs.agent_tokens.empty()) {
    spdlog::warn("any agent may register: no --agent-tokens given (fine on loopback; see docs/security.md)");
  } else {
    spdlog::info("agents register with one of {} registration tokens", options_.jobs.agent_tokens.size());
  }
  return Status::Ok();
}

Status CoordinatorServer::ReloadCertificates() {
  if (!certificates_) return Status::FailedPrecondition("no TLS to reload: started without --tls-cert and --tls-key");
  return certificates_->Reload();
}

void CoordinatorServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (notifier_) notifier_->Stop();
  if (jobs_) jobs_->Shutdown();
  if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (http_) http_->Stop();
  if (ticker_.joinable()) ticker_.join();
}

}  // namespace gauntlet
