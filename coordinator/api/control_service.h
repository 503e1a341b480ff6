// gRPC ControlService: decodes, calls JobManager, encodes.
#pragma once

#include "coordinator/api/access_gate.h"
#include "coordinator/job_manager.h"
#include "coordinator/store/artifact_store.h"
#include "gauntlet/v1/control.grpc.pb.h"

namespace gauntlet::api {

class ControlServiceImpl final : public v1::ControlService::Service {
 public:
  ControlServiceImpl(JobManager& jobs, const store::ArtifactStore& artifacts)
      : jobs_(jobs), artifacts_(artifacts), gate_(jobs) {}

  grpc::Status SubmitSweep(grpc::ServerContext*, const v1::SubmitSweepRequest*, v1::SubmitSweepResponse*) override;
  grpc::Status GetSweep(grpc::ServerContext*, const v1::GetSweepRequest*, v1::Sweep*) override;
  grpc::Status ListSweeps(grpc::ServerContext*, const v1::ListSweepsRequest*, v1::ListSweepsResponse*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest*, v1::ListJobsResponse*) override;
  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest*, v1::Job*) override;
  grpc::Status Why(grpc::ServerContext*, const v1::GetJobRequest*, v1::WhyResponse*) override;
  grpc::Status Cancel(grpc::ServerContext*, const v1::CancelRequest*, v1::CancelResponse*) override;
  grpc::Status Retry(grpc::ServerContext*, const v1::RetryRequest*, v1::Job*) override;
  grpc::Status RetrySweep(grpc::ServerContext*, const v1::RetrySweepRequest*, v1::RetrySweepResponse*) override;
  grpc::Status TailLogs(grpc::ServerContext*, const v1::TailLogsRequest*, grpc::ServerWriter<v1::LogChunk>*) override;
  grpc::Status GetArtifact(grpc::ServerContext*, const v1::GetArtifactRequest*,
                           grpc::ServerWriter<v1::ArtifactChunk>*) override;
  grpc::Status ListAgents(grpc::ServerContext*, const v1::ListAgentsRequest*, v1::ListAgentsResponse*) override;
  grpc::Status DrainAgent(grpc::ServerContext*, const v1::DrainAgentRequest*, v1::Agent*) override;
  grpc::Status SetDeviceHealth(grpc::ServerContext*, const v1::SetDeviceHealthRequest*, v1::Agent*) override;
  grpc::Status RevokeAgent(grpc::ServerContext*, const v1::RevokeAgentRequest*, v1::Agent*) override;
  grpc::Status Annotate(grpc::ServerContext*, const v1::Annotation*, v1::Annotation*) override;
  grpc::Status AddSchedule(grpc::ServerContext*, const v1::AddScheduleRequest*, v1::Schedule*) override;
  grpc::Status ListSchedules(grpc::ServerContext*, const v1::ListSchedulesRequest*,
                             v1::ListSchedulesResponse*) override;
  grpc::Status GetSchedule(grpc::ServerContext*, const v1::ScheduleRef*, v1::Schedule*) override;
  grpc::Status PauseSchedule(grpc::ServerContext*, const v1::PauseScheduleRequest*, v1::Schedule*) override;
  grpc::Status RunScheduleNow(grpc::ServerContext*, const v1::ScheduleRef*, v1::Firing*) override;
  grpc::Status DeleteSchedule(grpc::ServerContext*, const v1::ScheduleRef*, v1::Schedule*) override;
  grpc::Status ScheduleHistory(grpc::ServerContext*, const v1::ScheduleHistoryRequest*,
                               v1::ScheduleHistoryResponse*) override;
  grpc::Status Compare(grpc::ServerContext*, const v1::CompareRequest*, v1::CompareResponse*) override;
  grpc::Status TestHistory(grpc::ServerContext*, const v1::TestHistoryRequest*, v1::TestHistoryResponse*) override;
  grpc::Status PinBaseline(grpc::ServerContext*, const v1::PinBaselineRequest*, v1::Schedule*) override;

  grpc::Status CreateToken(grpc::ServerContext*, const v1::CreateTokenRequest*, v1::CreateTokenResponse*) override;
  grpc::Status ListTokens(grpc::ServerContext*, const v1::ListTokensRequest*, v1::ListTokensResponse*) override;
  grpc::Status RevokeToken(grpc::ServerContext*, const v1::RevokeTokenRequest*, v1::ApiToken*) override;
  grpc::Status WhoAmI(grpc::ServerContext*, const v1::WhoAmIRequest*, v1::ApiToken*) override;
  grpc::Status ListAuditEvents(grpc::ServerContext*, const v1::ListAuditEventsRequest*,
                               v1::ListAuditEventsResponse*) override;

 private:
  StatusOr<auth::Principal> Admit(const grpc::ServerContext& context, std::string_view method);
  template <typename T>
  StatusOr<T> Audited(const grpc::ServerContext& context, const auth::Principal& by, std::string_view action,
                      std::string target, StatusOr<T> result) {
    return gate_.Recorded(by, PeerHost(context.peer()), action, std::move(target), std::move(result));
  }

  JobManager& jobs_;
  const store::ArtifactStore& artifacts_;
  AccessGate gate_;
};

}  // namespace gauntlet::api
