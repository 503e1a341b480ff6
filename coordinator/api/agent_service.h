// gRPC AgentService: decodes, calls JobManager or the artifact store, encodes.
// Every call but Register carries the agent's session credential; each is
// refused UNAUTHENTICATED without a valid one, and one that acts on an
// attempt leased to another agent is refused PERMISSION_DENIED.
#pragma once

#include "coordinator/job_manager.h"
#include "coordinator/store/artifact_store.h"
#include "gauntlet/v1/agent.grpc.pb.h"

namespace gauntlet::api {

// Heartbeat and ReportAttempt are callback methods: a long poll or a report
// waiting for its batch commit holds no thread, so a thousand agents cost a
// thousand parked calls, not a thousand threads. The rest stay synchronous.
using AgentServiceBase = v1::AgentService::WithCallbackMethod_Heartbeat<
    v1::AgentService::WithCallbackMethod_ReportAttempt<v1::AgentService::Service>>;

class AgentServiceImpl final : public AgentServiceBase {
 public:
  // require_client_certificate: every call must come over mutual TLS with
  // a verified certificate (the coordinator's --tls-ca).
  AgentServiceImpl(JobManager& jobs, store::ArtifactStore& artifacts, bool require_client_certificate = false)
      : jobs_(jobs), artifacts_(artifacts), require_client_certificate_(require_client_certificate) {}

  grpc::Status Register(grpc::ServerContext*, const v1::RegisterRequest*, v1::RegisterResponse*) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext*, const v1::HeartbeatRequest*,
                                      v1::HeartbeatResponse*) override;
  grpc::ServerUnaryReactor* ReportAttempt(grpc::CallbackServerContext*, const v1::AttemptReport*,
                                          v1::ReportAttemptResponse*) override;
  grpc::Status UploadLog(grpc::ServerContext*, const v1::LogChunk*, v1::UploadLogResponse*) override;
  grpc::Status UploadArtifact(grpc::ServerContext*, grpc::ServerReader<v1::ArtifactChunk>*, v1::ArtifactRef*) override;
  grpc::Status DownloadArtifact(grpc::ServerContext*, const v1::DownloadArtifactRequest*,
                                grpc::ServerWriter<v1::ArtifactChunk>*) override;

 private:
  // The agent whose session the call carries, or UNAUTHENTICATED.
  StatusOr<std::string> Caller(const grpc::ServerContextBase& context) const;
  // UNAUTHENTICATED when a client certificate is required and the call has none.
  Status CheckCertificate(const grpc::ServerContextBase& context) const;

  JobManager& jobs_;
  store::ArtifactStore& artifacts_;
  const bool require_client_certificate_;
};

}  // namespace gauntlet::api
