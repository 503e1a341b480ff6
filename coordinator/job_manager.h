// JobManager owns the farm's state transitions: sweeps in, jobs through their
// states, attempts onto agents and back. It combines the store (what is) with
// the pure cores (expand/, sched/: what should be) and is what the gRPC and
// HTTP handlers call.
//
// Thread safety: every public method may be called from any thread; one mutex
// serialises them. Heartbeat() blocks (long poll) without holding it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "coordinator/expand/expand.h"
#include "coordinator/store/store.h"
#include "gauntlet/v1/agent.pb.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet {

struct JobManagerOptions {
  // An attempt whose agent has not renewed it for this long is lost.
  int64_t lease_ttl_ms = 15'000;
  // An agent not heard from for this long gets no new work.
  int64_t agent_timeout_ms = 15'000;
  // Upper bound on how long a heartbeat may block.
  int64_t max_poll_ms = 10'000;
};

class JobManager {
 public:
  // `store` and `clock` must outlive the manager.
  JobManager(store::Store& store, const Clock& clock, JobManagerOptions options);

  // Called once at start-up: gives running attempts a fresh lease so agents
  // can reconnect after a coordinator restart before anything counts as lost.
  Status Recover();
  // Expires leases and schedules ready jobs. Called periodically.
  void Tick();
  // Wakes every blocked heartbeat; they return at once from now on.
  void Shutdown();

  // --- ControlService ------------------------------------------------------
  StatusOr<v1::SubmitSweepResponse> SubmitSweep(const v1::SubmitSweepRequest& request);
  StatusOr<v1::Sweep> GetSweep(int64_t id);
  std::vector<v1::Sweep> ListSweeps(int limit);
  std::vector<v1::Job> ListJobs(const v1::ListJobsRequest& request);
  StatusOr<v1::Job> GetJob(int64_t id);
  StatusOr<int> Cancel(const v1::CancelRequest& request);
  StatusOr<v1::Job> Retry(int64_t job_id);
  std::vector<v1::Agent> ListAgents();
  StatusOr<v1::Agent> DrainAgent(const v1::DrainAgentRequest& request);
  // Resolves attempt 0 to the job's latest attempt.
  StatusOr<int64_t> LogAttempt(int64_t job_id, int64_t attempt_id);
  std::string ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes);
  bool AttemptFinished(int64_t attempt_id);

  // --- The board -------------------------------------------------------------
  std::vector<v1::MatrixCell> Matrix(const store::MatrixFilter& filter);
  std::vector<v1::Job> MatrixJobs(const store::MatrixFilter& filter, const v1::MatrixCell& where, int limit);
  std::vector<v1::BenchmarkPoint> Benchmarks(int64_t since_ms);
  // Refuses an unknown scope, a missing target or a URL that is not http(s).
  StatusOr<v1::Annotation> Annotate(const v1::Annotation& annotation);
  std::vector<v1::Annotation> Annotations(const std::string& scope, const std::string& target);
  std::vector<v1::Event> Events(int64_t after_id, int64_t job_id, int limit);
  int64_t LatestEventId();

  // --- AgentService --------------------------------------------------------
  StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request);
  StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  StatusOr<v1::ReportAttemptResponse> ReportAttempt(const v1::AttemptReport& report);
  StatusOr<int64_t> AppendLog(const v1::LogChunk& chunk);
  Status RecordArtifact(const std::string& sha256, int64_t size);

 private:
  // Each *Locked method expects mu_ held.
  void ScheduleLocked();
  void ExpireLeasesLocked();
  // Computes what a heartbeat returns now; renews the reported leases.
  StatusOr<v1::HeartbeatResponse> PollLocked(const v1::HeartbeatRequest& request);
  // Moves the job on after one of its attempts ended.
  Status SettleJobLocked(const store::AttemptRow& attempt, v1::AttemptState outcome, const std::string& reason);
  void NotifyLocked();
  // Fills a dry run's answer: the planned jobs and the summary.
  void DescribePlanLocked(const expand::SweepPlan& plan, const std::vector<std::string>& force,
                          v1::SubmitSweepResponse* response);
  int64_t AliveAfterMs() const { return clock_.NowMs() - options_.agent_timeout_ms; }

  store::Store& store_;
  const Clock& clock_;
  const JobManagerOptions options_;

  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;  // Bumped whenever an agent may have new work.
  bool shutting_down_ = false;
};

}  // namespace gauntlet
