// JobManager is the coordinator's core as the services see it: one lock,
// the scheduler loop, and the domain managers it delegates to (core/):
//
//   SweepManager       submit, dry run, cancel, retry
//   AttemptManager     placement, assignments through heartbeats, reports, leases
//   AgentManager       registration, the agent list, drain, last-seen times
//   LogManager         logs, artifacts, storage trouble
//   AnnotationManager  links on sweeps, models and jobs
//   BoardQueries       what the board, CLI and JSON API read
//   ScheduleManager    nightly schedules, each slot fired once
//   ComparisonQueries  a night against its baseline (gauntlet compare)
//   NotificationManager  webhook alerts due, and their delivery log
//   HealthManager      devices out of service, their health checks
//
// They share the Farm (core/farm.h: the store, the clock and the state kept
// in memory) and the Batch (core/batch.h: decisions applied to memory at
// once, made durable by one commit per loop window). Decisions themselves
// come from the pure state machine (lib/jobs/state_machine.h) and scheduler
// core (sched/).
//
// Thread safety: every public method may be called from any thread; one
// mutex serialises them. The agents' hot calls (HeartbeatAsync,
// ReportAttemptAsync) take only the loop's queue lock: the loop runs them in
// windows, then its pass, then one commit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "coordinator/auth/roles.h"
#include "coordinator/core/access.h"
#include "coordinator/core/agents.h"
#include "coordinator/core/annotations.h"
#include "coordinator/core/attempts.h"
#include "coordinator/core/batch.h"
#include "coordinator/core/comparisons.h"
#include "coordinator/core/device_health.h"
#include "coordinator/core/farm.h"
#include "coordinator/core/logs.h"
#include "coordinator/core/notifications.h"
#include "coordinator/core/queries.h"
#include "coordinator/core/schedules.h"
#include "coordinator/core/sweeps.h"
#include "coordinator/store/store.h"
#include "gauntlet/v1/agent.pb.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet {

class JobManager {
 public:
  // `store` and `clock` must outlive the manager.
  JobManager(store::Store& store, const Clock& clock, JobManagerOptions options);

  // Called once at start-up: loads the agents and gives every active attempt a
  // fresh lease, so agents can reconnect after a coordinator restart before
  // anything counts as lost.
  Status Recover();
  // One loop window: the queued agent calls (up to kLoopWindowCalls
  // reports' worth), lease expiry, the scheduling pass, one commit.
  void Tick();
  // Blocks until the loop has work (queued calls, a pass wanted) or
  // `timeout_ms` passes; returns at once after Shutdown.
  void WaitForWork(int64_t timeout_ms);
  // The coordinator itself was `lag_ms` behind (a stalled disk, an
  // overloaded host): agents could not renew during that time, so every
  // lease gets it back rather than expiring for the coordinator's fault.
  void ExtendLeasesForLag(int64_t lag_ms);
  // Answers every waiting call; from now on calls are refused as shutting down.
  void Shutdown();
  JobManagerStats Stats();
  StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> JobCounts();

  // --- ControlService ------------------------------------------------------
  // A spec with `schedule:` sets a schedule, which is an admin's to do.
  StatusOr<v1::SubmitSweepResponse> SubmitSweep(const v1::SubmitSweepRequest& request,
                                                const auth::Principal& by = auth::LocalAdmin());
  StatusOr<v1::Sweep> GetSweep(int64_t id);
  StatusOr<v1::ListSweepsResponse> ListSweeps(const v1::ListSweepsRequest& request);
  StatusOr<std::vector<v1::Sweep>> ListSweeps(int limit);
  StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request);
  StatusOr<v1::Job> GetJob(int64_t id);
  StatusOr<v1::WhyResponse> Why(int64_t id);
  StatusOr<int> Cancel(const v1::CancelRequest& request);
  StatusOr<v1::Job> Retry(int64_t job_id);
  StatusOr<v1::RetrySweepResponse> RetrySweep(int64_t sweep_id);
  StatusOr<std::vector<v1::Agent>> ListAgents();
  StatusOr<v1::Agent> DrainAgent(const v1::DrainAgentRequest& request);
  StatusOr<v1::Agent> SetDeviceHealth(const v1::SetDeviceHealthRequest& request);
  // Resolves attempt 0 to the job's latest attempt.
  StatusOr<int64_t> LogAttempt(int64_t job_id, int64_t attempt_id);
  StatusOr<std::string> ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes);
  StatusOr<bool> AttemptFinished(int64_t attempt_id);

  // --- Access: API tokens and the audit trail ---------------------------------
  // Who `token` is; takes only the registry's own lock (every call asks).
  StatusOr<auth::Principal> Authenticate(std::string_view token, const std::string& peer);
  bool TokensEnforced() const;
  StatusOr<v1::CreateTokenResponse> CreateToken(const v1::CreateTokenRequest& request, const auth::Principal& by);
  StatusOr<std::vector<v1::ApiToken>> ListTokens();
  StatusOr<v1::ApiToken> RevokeToken(const std::string& name);
  Status Audit(const v1::AuditEvent& event);
  StatusOr<std::vector<v1::AuditEvent>> AuditEvents(const v1::ListAuditEventsRequest& request);

  // --- Schedules -------------------------------------------------------------
  StatusOr<v1::Schedule> AddSchedule(const v1::AddScheduleRequest& request);
  StatusOr<std::vector<v1::Schedule>> ListSchedules();
  StatusOr<v1::Schedule> GetSchedule(const std::string& name);
  StatusOr<v1::Schedule> PauseSchedule(const std::string& name, bool resume);
  StatusOr<v1::Firing> RunScheduleNow(const std::string& name);
  StatusOr<v1::Schedule> DeleteSchedule(const std::string& name);
  StatusOr<std::vector<v1::Firing>> ScheduleHistory(const std::string& name, int limit);
  // sweep_id 0 unpins.
  StatusOr<v1::Schedule> PinBaseline(const std::string& schedule, int64_t sweep_id);
  StatusOr<v1::CompareResponse> Compare(const v1::CompareRequest& request);
  StatusOr<v1::TestHistoryResponse> TestHistory(const v1::TestHistoryRequest& request);
  // For the Notifier: alerts to send now, and each attempt's outcome.
  StatusOr<std::vector<core::NotificationManager::Due>> DueNotifications();
  Status RecordDelivery(const core::NotificationManager::Due& due, int http_status, const std::string& error);
  // --- The board -------------------------------------------------------------
  StatusOr<std::vector<v1::MatrixCell>> Matrix(const store::MatrixFilter& filter);
  StatusOr<std::vector<v1::Job>> MatrixJobs(const store::MatrixFilter& filter, const v1::MatrixCell& where,
                                            int limit);
  StatusOr<std::vector<v1::BenchmarkPoint>> Benchmarks(int64_t since_ms);
  StatusOr<std::map<int64_t, v1::MatrixCell>> CellsOfJobs(const std::vector<int64_t>& job_ids);
  StatusOr<v1::Annotation> Annotate(const v1::Annotation& annotation);
  StatusOr<std::vector<v1::Annotation>> Annotations(const std::string& scope, const std::string& target);
  StatusOr<std::vector<v1::Event>> Events(int64_t after_id, int64_t job_id, int limit);
  StatusOr<int64_t> LatestEventId();

  // --- AgentService --------------------------------------------------------
  StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request,
                                          const core::AgentManager::Presented& presented = {});
  StatusOr<v1::Agent> RevokeAgent(const v1::RevokeAgentRequest& request);
  // The agent a session credential belongs to; "" when none. Takes only the
  // sessions' own lock: every agent call asks before it queues.
  std::string AuthenticatedAgent(std::string_view session) const;
  // PERMISSION_DENIED unless the upload is for a live attempt leased to the
  // uploader's agent, with that attempt's job token (core::LogManager).
  Status CheckUploader(int64_t attempt_id, const core::Uploader& uploader);
  // Blocking forms, for callers that own a thread (tests, tools).
  StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  StatusOr<v1::ReportAttemptResponse> ReportAttempt(const v1::AttemptReport& report);
  // Asynchronous forms, for the callback server: no thread waits. `done` is
  // called exactly once, under the manager's lock, so it must only hand the
  // answer on (finish an RPC), never call back into the manager.
  //
  // Both only queue the call for the scheduler loop (Tick), which runs a
  // window's calls, its pass and one commit in a row: the callers take no
  // lock but the queue's, and never wait behind each other's SQL.
  //
  // A heartbeat is answered with news, or parks in the agent's mailbox
  // until news arrives for that agent or its wait ends. One carrying
  // reports is answered as soon as they are durable, with their acks and
  // whatever the pass that committed them placed on this agent.
  using HeartbeatDone = core::HeartbeatDone;
  using ReportDone = core::AttemptManager::ReportDone;
  void HeartbeatAsync(const v1::HeartbeatRequest& request, HeartbeatDone done);
  // Answers once the report is durable (the next batch commit).
  void ReportAttemptAsync(const v1::AttemptReport& report, const std::string& caller, ReportDone done);
  // An uploader with no agent: trusted (in-process tools and tests).
  StatusOr<int64_t> AppendLog(const v1::LogChunk& chunk, const core::Uploader& uploader = {});
  // An upload for `attempt_id` failed in the store (full or failing disk):
  // its job's reason says so while the agent retries, /metrics counts it and
  // the log says it once a minute. attempt_id 0: no job to name.
  void NoteStorageTrouble(int64_t attempt_id, const std::string& message);
  // The latest storage failure if it is recent (within 5 minutes).
  std::optional<StorageTrouble> RecentStorageTrouble();
  Status RecordArtifact(const std::string& sha256, int64_t size);

 private:
  struct InboxCall {
    std::string agent;  // Whose heartbeat it is ("" for other calls).
    int weight = 1;     // The reports it carries (at least 1): what a window counts.
    std::chrono::steady_clock::time_point queued_at;
    std::function<void()> run;
  };

  // Wakes the loop for a pass; safe with or without mu_ held.
  void WakeLoop();
  // Queues `call` for the loop to run under mu_; false once shut down.
  bool PostToLoop(const std::string& agent, int weight, std::function<void()> call);
  // Runs queued calls worth up to `budget` (all of them while shutting down).
  void RunInboxLocked(int budget);
  bool HeartbeatQueued(const std::string& agent);

  std::mutex mu_;
  core::Farm farm_;
  core::Batch batch_;
  core::AttemptManager attempts_;
  core::AgentManager agents_;
  core::SweepManager sweeps_;
  core::LogManager logs_;
  core::AnnotationManager annotations_;
  core::AccessManager access_;
  core::BoardQueries queries_;
  core::ComparisonQueries comparisons_;
  core::ScheduleManager schedules_;
  core::NotificationManager notifications_;
  core::HealthManager health_;

  // The loop's queue and wake-up; inbox_mu_ is taken after mu_, never before.
  std::mutex inbox_mu_;
  std::condition_variable loop_cv_;
  std::deque<InboxCall> inbox_;
  std::unordered_map<std::string, int> queued_by_agent_;  // Heartbeats queued, by agent.
  bool loop_wanted_ = true;
  bool inbox_closed_ = false;
};

}  // namespace gauntlet
