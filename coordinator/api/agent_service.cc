#include "coordinator/api/agent_service.h"

#include <fstream>

#include <spdlog/spdlog.h>

#include "coordinator/api/access_gate.h"
#include "coordinator/api/artifact_stream.h"
#include "coordinator/api/status_mapping.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::api {
namespace {

std::string Metadata(const grpc::ServerContextBase& context, const char* key) {
  auto found = context.client_metadata().find(key);
  return found == context.client_metadata().end() ? "" : std::string(found->second.data(), found->second.size());
}

}  // namespace

Status AgentServiceImpl::CheckCertificate(const grpc::ServerContextBase& context) const {
  if (!require_client_certificate_) return Status::Ok();
  auto auth = context.auth_context();
  // gRPC fills the peer identity only from a certificate it verified
  // against --tls-ca; an unverifiable one fails the handshake before this.
  if (auth && auth->IsPeerAuthenticated()) return Status::Ok();
  spdlog::warn("refused an agent call from {} without a client certificate", context.peer());
  return Status::Unauthenticated(
      "this coordinator requires agents to present a client certificate signed by its --tls-ca: start the agent "
      "with --tls-cert and --tls-key");
}

StatusOr<std::string> AgentServiceImpl::Caller(const grpc::ServerContextBase& context) const {
  GAUNTLET_RETURN_IF_ERROR(CheckCertificate(context));
  const std::string token = rpc::BearerToken(Metadata(context, rpc::kAuthorizationKey));
  if (token.empty()) return Err(Status::Unauthenticated("no agent session credential: register first"));
  std::string agent = jobs_.AuthenticatedAgent(token);
  if (agent.empty()) {
    return Err(Status::Unauthenticated("agent session credential not recognised (revoked, or replaced by a newer "
                                       "registration of the name): register again"));
  }
  return agent;
}

grpc::Status AgentServiceImpl::Register(grpc::ServerContext* context, const v1::RegisterRequest* request,
                                        v1::RegisterResponse* reply) {
  if (Status certificate = CheckCertificate(*context); !certificate.ok()) return ToGrpc(certificate);
  core::AgentManager::Presented presented;
  presented.session = rpc::BearerToken(Metadata(*context, rpc::kAuthorizationKey));
  presented.registration_token = Metadata(*context, rpc::kRegistrationTokenKey);
  presented.peer = PeerHost(context->peer());
  return Answer(jobs_.Register(*request, presented), reply);
}

grpc::ServerUnaryReactor* AgentServiceImpl::Heartbeat(grpc::CallbackServerContext* context,
                                                      const v1::HeartbeatRequest* request,
                                                      v1::HeartbeatResponse* reply) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto caller = Caller(*context);
  if (!caller) {
    reactor->Finish(ToGrpc(caller.error()));
    return reactor;
  }
  if (*caller != request->name()) {
    spdlog::warn("refused agent {}'s heartbeat as agent {}", *caller, request->name());
    reactor->Finish(ToGrpc(Status::PermissionDenied("heartbeat: this session belongs to agent " + *caller)));
    return reactor;
  }
  jobs_.HeartbeatAsync(*request, [reactor, reply](StatusOr<v1::HeartbeatResponse> response) {
    reactor->Finish(Answer(std::move(response), reply));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AgentServiceImpl::ReportAttempt(grpc::CallbackServerContext* context,
                                                          const v1::AttemptReport* request,
                                                          v1::ReportAttemptResponse* reply) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto caller = Caller(*context);
  if (!caller) {
    reactor->Finish(ToGrpc(caller.error()));
    return reactor;
  }
  jobs_.ReportAttemptAsync(*request, *caller, [reactor, reply](StatusOr<v1::ReportAttemptResponse> response) {
    reactor->Finish(Answer(std::move(response), reply));
  });
  return reactor;
}

grpc::Status AgentServiceImpl::UploadLog(grpc::ServerContext* context, const v1::LogChunk* request,
                                         v1::UploadLogResponse* reply) {
  auto caller = Caller(*context);
  if (!caller) return ToGrpc(caller.error());
  auto stored = jobs_.AppendLog(*request, {*caller, Metadata(*context, rpc::kJobTokenKey)});
  if (!stored) {
    if (stored.error().code() == Status::Code::kUnavailable || stored.error().code() == Status::Code::kInternal) {
      jobs_.NoteStorageTrouble(request->attempt_id(), "log store: " + stored.error().message());
    }
    return ToGrpc(stored.error());
  }
  reply->set_stored_length(*stored);
  return grpc::Status::OK;
}

grpc::Status AgentServiceImpl::UploadArtifact(grpc::ServerContext* context,
                                              grpc::ServerReader<v1::ArtifactChunk>* reader, v1::ArtifactRef* reply) {
  auto caller = Caller(*context);
  if (!caller) return ToGrpc(caller.error());
  v1::ArtifactChunk chunk;
  if (!reader->Read(&chunk)) return {grpc::StatusCode::INVALID_ARGUMENT, "upload: empty stream"};
  const std::string sha256 = chunk.sha256();
  const int64_t attempt_id = chunk.attempt_id();
  // Before a byte is stored: only an attempt's own agent adds to the store.
  if (Status holder = jobs_.CheckUploader(attempt_id, {*caller, Metadata(*context, rpc::kJobTokenKey)}); !holder.ok()) {
    return ToGrpc(holder);
  }
  // A full or failing store must be visible where people look: the job's
  // reason, the coordinator's log, /metrics. The agent keeps retrying.
  auto trouble = [&](const Status& status) {
    if (status.code() != Status::Code::kInvalidArgument) jobs_.NoteStorageTrouble(attempt_id, status.message());
    return ToGrpc(status);
  };
  auto writer = artifacts_.Begin(sha256);
  if (!writer) return trouble(writer.error());
  do {
    Status appended = (*writer)->Append(chunk.data());
    if (!appended.ok()) return trouble(appended);
  } while (reader->Read(&chunk));
  auto size = (*writer)->Commit();
  if (!size) return trouble(size.error());
  Status recorded = jobs_.RecordArtifact(sha256, *size);
  if (!recorded.ok()) return ToGrpc(recorded);
  reply->set_sha256(sha256);
  reply->set_size(*size);
  return grpc::Status::OK;
}

grpc::Status AgentServiceImpl::DownloadArtifact(grpc::ServerContext* context,
                                                const v1::DownloadArtifactRequest* request,
                                                grpc::ServerWriter<v1::ArtifactChunk>* writer) {
  auto caller = Caller(*context);
  if (!caller) return ToGrpc(caller.error());
  if (!store::IsSha256Hex(request->sha256())) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "download: '" + request->sha256() + "' is not a SHA-256 digest"};
  }
  return StreamArtifact(artifacts_, request->sha256(), writer);
}

}  // namespace gauntlet::api
