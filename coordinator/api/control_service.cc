#include "coordinator/api/control_service.h"

#include <chrono>
#include <thread>

#include "coordinator/api/artifact_stream.h"
#include "coordinator/api/status_mapping.h"
#include "coordinator/constants.h"
#include "lib/jobs/job_state.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::api {

namespace {

constexpr auto kFollowPoll = std::chrono::milliseconds(200);

std::string TokenOf(const grpc::ServerContext& context) {
  auto found = context.client_metadata().find(rpc::kAuthorizationKey);
  if (found == context.client_metadata().end()) return "";
  return rpc::BearerToken(std::string_view(found->second.data(), found->second.size()));
}

}  // namespace

// Who the call is from, or the refusal to answer with: every method starts
// here, by its own name (__func__), so its policy in auth/roles.cc applies.
#define GAUNTLET_ADMIT(context, principal)   \
  auto principal = Admit(*(context), __func__); \
  if (!principal) return ToGrpc(principal.error())

StatusOr<auth::Principal> ControlServiceImpl::Admit(const grpc::ServerContext& context, std::string_view method) {
  auto policy = auth::ControlMethodPolicy(method);
  // A method without a policy is refused rather than open (and the policy
  // test names it).
  if (!policy) return Err(Status::Internal(std::string(method) + " has no access policy; refused"));
  return gate_.Admit(TokenOf(context), PeerHost(context.peer()), policy->role, method, policy->audited);
}

grpc::Status ControlServiceImpl::CreateToken(grpc::ServerContext* context, const v1::CreateTokenRequest* request,
                                             v1::CreateTokenResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, "token " + request->name() + " (" + request->role() + ")",
                        jobs_.CreateToken(*request, *by)),
                reply);
}

grpc::Status ControlServiceImpl::ListTokens(grpc::ServerContext* context, const v1::ListTokensRequest*,
                                            v1::ListTokensResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  auto tokens = jobs_.ListTokens();
  if (!tokens) return ToGrpc(tokens.error());
  for (auto& token : *tokens) *reply->add_tokens() = std::move(token);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::RevokeToken(grpc::ServerContext* context, const v1::RevokeTokenRequest* request,
                                             v1::ApiToken* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, "token " + request->name(), jobs_.RevokeToken(request->name())), reply);
}

grpc::Status ControlServiceImpl::WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest*, v1::ApiToken* reply) {
  GAUNTLET_ADMIT(context, by);
  reply->set_name(by->name);
  reply->set_role(std::string(auth::RoleName(by->role)));
  reply->set_anonymous(by->anonymous);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListAuditEvents(grpc::ServerContext* context,
                                                 const v1::ListAuditEventsRequest* request,
                                                 v1::ListAuditEventsResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  auto events = jobs_.AuditEvents(*request);
  if (!events) return ToGrpc(events.error());
  for (auto& event : *events) *reply->add_events() = std::move(event);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::SubmitSweep(grpc::ServerContext* context, const v1::SubmitSweepRequest* request,
                                             v1::SubmitSweepResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, request->dry_run() ? "dry run" : "sweep",
                        jobs_.SubmitSweep(*request, *by)),
                reply);
}

grpc::Status ControlServiceImpl::GetSweep(grpc::ServerContext* context, const v1::GetSweepRequest* request, v1::Sweep* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.GetSweep(request->id()), reply);
}

grpc::Status ControlServiceImpl::ListSweeps(grpc::ServerContext* context, const v1::ListSweepsRequest* request,
                                            v1::ListSweepsResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.ListSweeps(*request), reply);
}

grpc::Status ControlServiceImpl::ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                                          v1::ListJobsResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.ListJobs(*request), reply);
}

grpc::Status ControlServiceImpl::Why(grpc::ServerContext* context, const v1::GetJobRequest* request, v1::WhyResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.Why(request->id()), reply);
}

grpc::Status ControlServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request, v1::Job* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.GetJob(request->id()), reply);
}

grpc::Status ControlServiceImpl::Cancel(grpc::ServerContext* context, const v1::CancelRequest* request,
                                        v1::CancelResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  auto cancelled = Audited(*context, *by, __func__,
                           request->sweep_id() ? "sweep " + std::to_string(request->sweep_id())
                                               : "job " + std::to_string(request->job_id()),
                           jobs_.Cancel(*request));
  if (!cancelled) return ToGrpc(cancelled.error());
  reply->set_cancelled(*cancelled);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::Retry(grpc::ServerContext* context, const v1::RetryRequest* request, v1::Job* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, "job " + std::to_string(request->job_id()), jobs_.Retry(request->job_id())),
                reply);
}

grpc::Status ControlServiceImpl::RetrySweep(grpc::ServerContext* context, const v1::RetrySweepRequest* request,
                                            v1::RetrySweepResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, "sweep " + std::to_string(request->sweep_id()),
                        jobs_.RetrySweep(request->sweep_id())),
                reply);
}

grpc::Status ControlServiceImpl::GetArtifact(grpc::ServerContext* context, const v1::GetArtifactRequest* request,
                                             grpc::ServerWriter<v1::ArtifactChunk>* writer) {
  GAUNTLET_ADMIT(context, by);
  auto job = jobs_.GetJob(request->job_id());
  if (!job) return ToGrpc(job.error());
  std::string names;
  for (const auto& artifact : job->artifacts()) {
    if (artifact.name() == request->name()) return StreamArtifact(artifacts_, artifact.sha256(), writer);
    names += (names.empty() ? "" : ", ") + artifact.name();
  }
  return ToGrpc(Status::NotFound("job " + std::to_string(request->job_id()) + " has no artifact '" + request->name() +
                                 "'; it has " + (names.empty() ? std::string("none") : names)));
}

grpc::Status ControlServiceImpl::TailLogs(grpc::ServerContext* context, const v1::TailLogsRequest* request,
                                          grpc::ServerWriter<v1::LogChunk>* writer) {
  GAUNTLET_ADMIT(context, by);
  auto attempt_id = jobs_.LogAttempt(request->job_id(), request->attempt_id());
  if (!attempt_id) return ToGrpc(attempt_id.error());
  int64_t offset = request->offset();
  while (!context->IsCancelled()) {
    // A job waiting for its first attempt has no log yet; follow waits for one.
    if (*attempt_id == 0) {
      if (!request->follow()) return grpc::Status::OK;
      std::this_thread::sleep_for(kFollowPoll);
      attempt_id = jobs_.LogAttempt(request->job_id(), 0);
      if (!attempt_id) return ToGrpc(attempt_id.error());
      continue;
    }
    // Read "finished" before the data so the last bytes are never missed.
    auto finished_or = jobs_.AttemptFinished(*attempt_id);
    if (!finished_or) return ToGrpc(finished_or.error());
    const bool finished = *finished_or;
    auto read = jobs_.ReadLog(*attempt_id, offset, constants::kLogChunkBytes);
    if (!read) return ToGrpc(read.error());
    std::string data = std::move(*read);
    if (!data.empty()) {
      v1::LogChunk chunk;
      chunk.set_attempt_id(*attempt_id);
      chunk.set_offset(offset);
      offset += static_cast<int64_t>(data.size());
      chunk.set_data(std::move(data));
      if (!writer->Write(chunk)) return grpc::Status::OK;
      continue;
    }
    if (!request->follow()) return grpc::Status::OK;
    if (finished) {
      // Follow a retry into its new attempt; stop once the job is done.
      if (request->attempt_id() != 0) return grpc::Status::OK;
      auto job = jobs_.GetJob(request->job_id());
      if (!job || jobs::IsTerminal(job->state())) return grpc::Status::OK;
      auto latest = jobs_.LogAttempt(request->job_id(), 0);
      if (latest && *latest != *attempt_id && *latest != 0) {
        attempt_id = latest;
        offset = 0;
        continue;
      }
    }
    std::this_thread::sleep_for(kFollowPoll);
  }
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListAgents(grpc::ServerContext* context, const v1::ListAgentsRequest*,
                                            v1::ListAgentsResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  auto agents = jobs_.ListAgents();
  if (!agents) return ToGrpc(agents.error());
  for (auto& agent : *agents) *reply->add_agents() = std::move(agent);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::DrainAgent(grpc::ServerContext* context, const v1::DrainAgentRequest* request,
                                            v1::Agent* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, request->undrain() ? "UndrainAgent" : __func__, "agent " + request->name(),
                        jobs_.DrainAgent(*request)),
                reply);
}

grpc::Status ControlServiceImpl::SetDeviceHealth(grpc::ServerContext* context,
                                                 const v1::SetDeviceHealthRequest* request, v1::Agent* reply) {
  GAUNTLET_ADMIT(context, by);
  const bool heal = request->action() == v1::SetDeviceHealthRequest::ACTION_HEAL;
  return Answer(Audited(*context, *by, heal ? "HealDevice" : "CheckDevice",
                        "agent " + request->agent() + " device " +
                            (request->device_index() < 0 ? std::string("all") : std::to_string(request->device_index())),
                        jobs_.SetDeviceHealth(*request)),
                reply);
}

grpc::Status ControlServiceImpl::RevokeAgent(grpc::ServerContext* context, const v1::RevokeAgentRequest* request,
                                             v1::Agent* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, request->undo() ? "UnrevokeAgent" : __func__, "agent " + request->name(),
                        jobs_.RevokeAgent(*request)),
                reply);
}

grpc::Status ControlServiceImpl::Annotate(grpc::ServerContext* context, const v1::Annotation* request, v1::Annotation* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, request->scope() + " " + request->target(), jobs_.Annotate(*request)),
                reply);
}

grpc::Status ControlServiceImpl::AddSchedule(grpc::ServerContext* context, const v1::AddScheduleRequest* request,
                                             v1::Schedule* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, "schedule " + request->name(), jobs_.AddSchedule(*request)), reply);
}

grpc::Status ControlServiceImpl::ListSchedules(grpc::ServerContext* context, const v1::ListSchedulesRequest*,
                                               v1::ListSchedulesResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  auto schedules = jobs_.ListSchedules();
  if (!schedules) return ToGrpc(schedules.error());
  for (auto& schedule : *schedules) *reply->add_schedules() = std::move(schedule);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetSchedule(grpc::ServerContext* context, const v1::ScheduleRef* request,
                                             v1::Schedule* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.GetSchedule(request->name()), reply);
}

grpc::Status ControlServiceImpl::PauseSchedule(grpc::ServerContext* context, const v1::PauseScheduleRequest* request,
                                               v1::Schedule* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, request->resume() ? "ResumeSchedule" : __func__, "schedule " + request->name(),
                        jobs_.PauseSchedule(request->name(), request->resume())),
                reply);
}

grpc::Status ControlServiceImpl::RunScheduleNow(grpc::ServerContext* context, const v1::ScheduleRef* request,
                                                v1::Firing* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, "schedule " + request->name(), jobs_.RunScheduleNow(request->name())),
                reply);
}

grpc::Status ControlServiceImpl::DeleteSchedule(grpc::ServerContext* context, const v1::ScheduleRef* request,
                                                v1::Schedule* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__, "schedule " + request->name(), jobs_.DeleteSchedule(request->name())),
                reply);
}

grpc::Status ControlServiceImpl::ScheduleHistory(grpc::ServerContext* context, const v1::ScheduleHistoryRequest* request,
                                                 v1::ScheduleHistoryResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  auto firings = jobs_.ScheduleHistory(request->name(), request->limit());
  if (!firings) return ToGrpc(firings.error());
  for (auto& firing : *firings) *reply->add_firings() = std::move(firing);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::Compare(grpc::ServerContext* context, const v1::CompareRequest* request,
                                         v1::CompareResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.Compare(*request), reply);
}

grpc::Status ControlServiceImpl::TestHistory(grpc::ServerContext* context, const v1::TestHistoryRequest* request,
                                             v1::TestHistoryResponse* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(jobs_.TestHistory(*request), reply);
}

grpc::Status ControlServiceImpl::PinBaseline(grpc::ServerContext* context, const v1::PinBaselineRequest* request,
                                             v1::Schedule* reply) {
  GAUNTLET_ADMIT(context, by);
  return Answer(Audited(*context, *by, __func__,
                        "schedule " + request->schedule() + " sweep " + std::to_string(request->sweep_id()),
                        jobs_.PinBaseline(request->schedule(), request->sweep_id())),
                reply);
}

}  // namespace gauntlet::api
