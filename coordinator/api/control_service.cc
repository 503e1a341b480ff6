#include "coordinator/api/control_service.h"

#include <chrono>
#include <thread>

#include "coordinator/api/status_mapping.h"
#include "coordinator/constants.h"
#include "lib/jobs/job_state.h"

namespace gauntlet::api {

namespace {

constexpr auto kFollowPoll = std::chrono::milliseconds(200);
}  // namespace

grpc::Status ControlServiceImpl::SubmitSweep(grpc::ServerContext*, const v1::SubmitSweepRequest* request,
                                             v1::SubmitSweepResponse* reply) {
  return Answer(jobs_.SubmitSweep(*request), reply);
}

grpc::Status ControlServiceImpl::GetSweep(grpc::ServerContext*, const v1::GetSweepRequest* request, v1::Sweep* reply) {
  return Answer(jobs_.GetSweep(request->id()), reply);
}

grpc::Status ControlServiceImpl::ListSweeps(grpc::ServerContext*, const v1::ListSweepsRequest* request,
                                            v1::ListSweepsResponse* reply) {
  return Answer(jobs_.ListSweeps(*request), reply);
}

grpc::Status ControlServiceImpl::ListJobs(grpc::ServerContext*, const v1::ListJobsRequest* request,
                                          v1::ListJobsResponse* reply) {
  return Answer(jobs_.ListJobs(*request), reply);
}

grpc::Status ControlServiceImpl::Why(grpc::ServerContext*, const v1::GetJobRequest* request, v1::WhyResponse* reply) {
  return Answer(jobs_.Why(request->id()), reply);
}

grpc::Status ControlServiceImpl::GetJob(grpc::ServerContext*, const v1::GetJobRequest* request, v1::Job* reply) {
  return Answer(jobs_.GetJob(request->id()), reply);
}

grpc::Status ControlServiceImpl::Cancel(grpc::ServerContext*, const v1::CancelRequest* request,
                                        v1::CancelResponse* reply) {
  auto cancelled = jobs_.Cancel(*request);
  if (!cancelled) return ToGrpc(cancelled.error());
  reply->set_cancelled(*cancelled);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::Retry(grpc::ServerContext*, const v1::RetryRequest* request, v1::Job* reply) {
  return Answer(jobs_.Retry(request->job_id()), reply);
}

grpc::Status ControlServiceImpl::RetrySweep(grpc::ServerContext*, const v1::RetrySweepRequest* request,
                                            v1::RetrySweepResponse* reply) {
  return Answer(jobs_.RetrySweep(request->sweep_id()), reply);
}

grpc::Status ControlServiceImpl::TailLogs(grpc::ServerContext* context, const v1::TailLogsRequest* request,
                                          grpc::ServerWriter<v1::LogChunk>* writer) {
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

grpc::Status ControlServiceImpl::ListAgents(grpc::ServerContext*, const v1::ListAgentsRequest*,
                                            v1::ListAgentsResponse* reply) {
  auto agents = jobs_.ListAgents();
  if (!agents) return ToGrpc(agents.error());
  for (auto& agent : *agents) *reply->add_agents() = std::move(agent);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::DrainAgent(grpc::ServerContext*, const v1::DrainAgentRequest* request,
                                            v1::Agent* reply) {
  return Answer(jobs_.DrainAgent(*request), reply);
}

grpc::Status ControlServiceImpl::RevokeAgent(grpc::ServerContext*, const v1::RevokeAgentRequest* request,
                                             v1::Agent* reply) {
  return Answer(jobs_.RevokeAgent(*request), reply);
}

grpc::Status ControlServiceImpl::Annotate(grpc::ServerContext*, const v1::Annotation* request, v1::Annotation* reply) {
  return Answer(jobs_.Annotate(*request), reply);
}

grpc::Status ControlServiceImpl::AddSchedule(grpc::ServerContext*, const v1::AddScheduleRequest* request,
                                             v1::Schedule* reply) {
  return Answer(jobs_.AddSchedule(*request), reply);
}

grpc::Status ControlServiceImpl::ListSchedules(grpc::ServerContext*, const v1::ListSchedulesRequest*,
                                               v1::ListSchedulesResponse* reply) {
  auto schedules = jobs_.ListSchedules();
  if (!schedules) return ToGrpc(schedules.error());
  for (auto& schedule : *schedules) *reply->add_schedules() = std::move(schedule);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetSchedule(grpc::ServerContext*, const v1::ScheduleRef* request,
                                             v1::Schedule* reply) {
  return Answer(jobs_.GetSchedule(request->name()), reply);
}

grpc::Status ControlServiceImpl::PauseSchedule(grpc::ServerContext*, const v1::PauseScheduleRequest* request,
                                               v1::Schedule* reply) {
  return Answer(jobs_.PauseSchedule(request->name(), request->resume()), reply);
}

grpc::Status ControlServiceImpl::RunScheduleNow(grpc::ServerContext*, const v1::ScheduleRef* request,
                                                v1::Firing* reply) {
  return Answer(jobs_.RunScheduleNow(request->name()), reply);
}

grpc::Status ControlServiceImpl::DeleteSchedule(grpc::ServerContext*, const v1::ScheduleRef* request,
                                                v1::Schedule* reply) {
  return Answer(jobs_.DeleteSchedule(request->name()), reply);
}

grpc::Status ControlServiceImpl::ScheduleHistory(grpc::ServerContext*, const v1::ScheduleHistoryRequest* request,
                                                 v1::ScheduleHistoryResponse* reply) {
  auto firings = jobs_.ScheduleHistory(request->name(), request->limit());
  if (!firings) return ToGrpc(firings.error());
  for (auto& firing : *firings) *reply->add_firings() = std::move(firing);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::Compare(grpc::ServerContext*, const v1::CompareRequest* request,
                                         v1::CompareResponse* reply) {
  return Answer(jobs_.Compare(*request), reply);
}

grpc::Status ControlServiceImpl::TestHistory(grpc::ServerContext*, const v1::TestHistoryRequest* request,
                                             v1::TestHistoryResponse* reply) {
  return Answer(jobs_.TestHistory(*request), reply);
}

grpc::Status ControlServiceImpl::PinBaseline(grpc::ServerContext*, const v1::PinBaselineRequest* request,
                                             v1::Schedule* reply) {
  return Answer(jobs_.PinBaseline(request->schedule(), request->sweep_id()), reply);
}

}  // namespace gauntlet::api
