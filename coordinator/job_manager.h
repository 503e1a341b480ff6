// JobManager owns the farm's state transitions: sweeps in, jobs through their
// states, attempts onto agents and back. It gathers facts from the store, asks
// the pure state machine (lib/jobs/state_machine.h) and scheduler core
// (sched/) what follows, and stores their decisions.
//
// What changes on every heartbeat lives in memory and is never written per
// call: leases (an attempt's expiry) and agents' last-seen times. A restarted
// coordinator gives every active attempt a fresh lease (Recover), so nothing
// is lost by not persisting them; last-seen times are flushed for the board.
//
// Thread safety: every public method may be called from any thread; one mutex
// serialises them. Heartbeat() blocks (long poll) without holding it, woken
// only by news for its own agent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "coordinator/constants.h"
#include "coordinator/spec/limits.h"
#include "coordinator/expand/expand.h"
#include "coordinator/sched/cluster_state.h"
#include "coordinator/store/store.h"
#include "gauntlet/v1/agent.pb.h"
#include "gauntlet/v1/control.pb.h"
#include "lib/jobs/state_machine.h"

namespace gauntlet {

struct JobManagerOptions {
  // An attempt whose agent has not renewed it for this long is lost.
  int64_t lease_ttl_ms = constants::kDefaultLeaseTtlMs;
  // An agent not heard from for this long gets no new work.
  int64_t agent_timeout_ms = constants::kDefaultLeaseTtlMs;
  // Upper bound on how long a heartbeat may block.
  int64_t max_poll_ms = constants::kMaxPollMs;
  // Group commit: reports (ReportAttemptAsync) join one open transaction
  // that the scheduler loop commits with its next pass, and are answered once
  // it is durable. Off, each report commits on its own. Other operations
  // always commit before they answer.
  bool group_commit = false;
  // What one spec may ask for; each refusal names its flag.
  spec::Limits spec_limits;
  // Log bytes kept per attempt; the rest is dropped with a marker line.
  int64_t max_log_bytes_per_attempt = constants::kDefaultMaxLogBytesPerAttempt;
  // Test hook: the process kills itself just before its Nth commit of a batch
  // holding reports (0: never), to prove acknowledged reports survive.
  int crash_before_batch = 0;
};

// Counters for /metrics, read under the manager's lock.
struct JobManagerStats {
  int64_t scheduling_passes = 0;
  int64_t jobs_placed = 0;
  int64_t heartbeats = 0;
  int64_t reports = 0;
  std::map<std::string, int64_t> leases_expired_by_cause;
  int64_t lease_extensions_for_lag = 0;
  int64_t ready_jobs = 0;
  double last_pass_ms = 0;
  int64_t max_lag_ms = 0;
  int64_t storage_errors = 0;  // Artifact or log writes that failed (full or failing disk).
};

// The latest storage failure, for the board's banner.
struct StorageTrouble {
  std::string message;
  int64_t at_ms = 0;
};

class JobManager {
 public:
  // `store` and `clock` must outlive the manager.
  JobManager(store::Store& store, const Clock& clock, JobManagerOptions options);

  // Called once at start-up: loads the agents and gives every active attempt a
  // fresh lease, so agents can reconnect after a coordinator restart before
  // anything counts as lost.
  Status Recover();
  // Expires leases and schedules ready jobs. Called periodically.
  void Tick();
  // Blocks until a scheduling pass is wanted (something became ready or
  // freed devices) or `timeout_ms` passes; returns at once after Shutdown.
  void WaitForWork(int64_t timeout_ms);
  // The coordinator itself was `lag_ms` behind (a stalled disk, an
  // overloaded host): agents could not renew during that time, so every
  // lease gets it back rather than expiring for the coordinator's fault.
  void ExtendLeasesForLag(int64_t lag_ms);
  // Wakes every blocked heartbeat; they return at once from now on.
  void Shutdown();
  JobManagerStats Stats();
  StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> JobCounts();

  // --- ControlService ------------------------------------------------------
  StatusOr<v1::SubmitSweepResponse> SubmitSweep(const v1::SubmitSweepRequest& request);
  StatusOr<v1::Sweep> GetSweep(int64_t id);
  // Pages of at most `limit` sweeps (newest first) and of jobs (by id); see
  // ListJobsRequest for the paging rules.
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
  // Resolves attempt 0 to the job's latest attempt.
  StatusOr<int64_t> LogAttempt(int64_t job_id, int64_t attempt_id);
  StatusOr<std::string> ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes);
  StatusOr<bool> AttemptFinished(int64_t attempt_id);

  // --- The board -------------------------------------------------------------
  StatusOr<std::vector<v1::MatrixCell>> Matrix(const store::MatrixFilter& filter);
  StatusOr<std::vector<v1::Job>> MatrixJobs(const store::MatrixFilter& filter, const v1::MatrixCell& where,
                                            int limit);
  StatusOr<std::vector<v1::BenchmarkPoint>> Benchmarks(int64_t since_ms);
  // Refuses an unknown scope, a missing target or a URL that is not http(s).
  StatusOr<v1::Annotation> Annotate(const v1::Annotation& annotation);
  StatusOr<std::vector<v1::Annotation>> Annotations(const std::string& scope, const std::string& target);
  StatusOr<std::vector<v1::Event>> Events(int64_t after_id, int64_t job_id, int limit);
  StatusOr<int64_t> LatestEventId();

  // --- AgentService --------------------------------------------------------
  StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request);
  // Blocking forms, for callers that own a thread (tests, tools).
  StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  StatusOr<v1::ReportAttemptResponse> ReportAttempt(const v1::AttemptReport& report);
  // Asynchronous forms, for the callback server: no thread waits. `done` is
  // called exactly once, under the manager's lock, so it must only hand the
  // answer on (finish an RPC), never call back into the manager.
  using HeartbeatDone = std::function<void(StatusOr<v1::HeartbeatResponse>)>;
  using ReportDone = std::function<void(StatusOr<v1::ReportAttemptResponse>)>;
  // Answers at once with news, or parks the poll in the agent's mailbox
  // until news arrives for that agent or its wait ends.
  void HeartbeatAsync(const v1::HeartbeatRequest& request, HeartbeatDone done);
  // Answers once the report is durable (the next batch commit).
  void ReportAttemptAsync(const v1::AttemptReport& report, ReportDone done);
  StatusOr<int64_t> AppendLog(const v1::LogChunk& chunk);
  // An upload for `attempt_id` failed in the store (full or failing disk):
  // its job's reason says so while the agent retries, /metrics counts it and
  // the log says it once a minute. attempt_id 0: no job to name.
  void NoteStorageTrouble(int64_t attempt_id, const std::string& message);
  // The latest storage failure if it is recent (within 5 minutes).
  std::optional<StorageTrouble> RecentStorageTrouble();
  Status RecordArtifact(const std::string& sha256, int64_t size);

 private:
  // One per known agent: a long-polling heartbeat waits on its own condition,
  // and only news for that agent wakes it.
  struct ParkedPoll {
    v1::HeartbeatRequest request;
    int64_t deadline_ms = 0;  // On the injected clock.
    HeartbeatDone done;
  };
  struct ParkedReport {
    uint64_t batch = 0;
    v1::ReportAttemptResponse response;
    ReportDone done;
  };
  struct Mailbox {
    std::condition_variable changed;
    std::vector<ParkedPoll> parked;  // Async heartbeats waiting for news.
    uint64_t generation = 0;
    int64_t last_seen_ms = 0;
    bool last_seen_flushed = true;
    bool drained = false;
  };

  // What a transaction changes in memory, applied only once it committed:
  // a rolled-back transaction leaves memory as it was.
  struct PendingMemory {
    std::vector<sched::ReadyJob> became_ready;
    std::vector<int64_t> left_ready;
    std::vector<int64_t> ended_attempts;
  };

  // Whether `job` may run again now; a refusal's reason names the upstream job in the way.
  StatusOr<jobs::Decision> RetryDecisionLocked(const v1::Job& job);
  Status ApplyRetryLocked(const v1::Job& job, const jobs::Decision& decision, const std::string& why, int64_t now);

  // Each *Locked method expects mu_ held.
  Status ScheduleLocked();
  Status ExpireLeasesLocked();
  Status FlushLastSeenLocked();
  // Computes what a heartbeat returns now; renews the reported leases.
  StatusOr<v1::HeartbeatResponse> PollLocked(const v1::HeartbeatRequest& request);
  // Stores what the state machine decided for one of the job's attempts.
  Status ApplyAttemptDecisionLocked(const store::AttemptRow& attempt, const jobs::Decision& decision,
                                    const std::string& attempt_reason, int exit_code,
                                    v1::FailureClass failure_class = v1::FAILURE_CLASS_UNSPECIFIED);
  // Applies a decision's consequences downstream of `job_id`, transitively.
  Status ApplyDownstreamLocked(int64_t job_id, jobs::Downstream downstream, v1::JobState settled);
  // Runs `body` as one operation of the open batch (a savepoint), opening
  // one if needed; applies what it recorded in pending_ to memory at once, or
  // forgets it when the body fails. Durable only after CommitBatchLocked.
  template <typename Fn>
  Status CommitLocked(Fn&& body);
  // Makes the open batch durable and wakes who waits on it. A failed commit
  // rolls the batch back and rebuilds memory from the store.
  Status CommitBatchLocked();
  // Makes what the caller just did durable before it answers.
  Status DurableLocked();
  Status ReloadMemoryLocked();
  // The body of a report, short of waiting for durability; *must_persist
  // says whether it changed anything that must be durable before the answer.
  StatusOr<v1::ReportAttemptResponse> ReportLocked(const v1::AttemptReport& report, bool* must_persist);
  // Answers the agent's parked heartbeats that have news (re-polled when
  // `news` says some may), whose wait has ended, or all while shutting down.
  void WakeParkedLocked(Mailbox& mailbox, bool news);
  void AnswerParkedReportsLocked();
  // Records inside a transaction that a job is ready now.
  Status RecordReadyLocked(int64_t job_id);
  void ApplyPendingLocked();
  void NotifyAgentLocked(const std::string& agent);
  void RequestScheduleLocked();
  Mailbox& MailboxLocked(const std::string& agent);
  bool AliveLocked(const std::string& agent) const;
  // Fills a dry run's answer: the planned jobs and the summary.
  Status DescribePlanLocked(const expand::SweepPlan& plan, const std::vector<store::InitialJobState>& initial,
                            size_t first, int page_size,
                            v1::SubmitSweepResponse* response);
  StatusOr<std::vector<store::InitialJobState>> InitialStatesLocked(const expand::SweepPlan& plan,
                                                                    const std::vector<std::string>& force);

  store::Store& store_;
  const Clock& clock_;
  const JobManagerOptions options_;

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Mailbox>> mailboxes_;
  // Active attempt → when its lease ends, and who holds it.
  struct Lease {
    int64_t expires_ms = 0;
    std::string agent;
    std::vector<int> devices;
  };
  std::unordered_map<int64_t, Lease> leases_;
  // Ready jobs and every node's devices, for the scheduler.
  sched::ClusterState cluster_;
  PendingMemory pending_;
  // Batches: the open one's number, the last committed and the last failed.
  uint64_t batch_seq_ = 0;
  uint64_t committed_seq_ = 0;
  uint64_t failed_seq_ = 0;
  Status last_batch_error_;
  bool batch_has_reports_ = false;
  int report_batches_ = 0;
  std::vector<ParkedReport> parked_reports_;
  std::condition_variable work_;
  bool schedule_requested_ = true;
  int64_t last_flush_ms_ = 0;
  int64_t last_expiry_scan_ms_ = 0;
  bool shutting_down_ = false;
  JobManagerStats stats_;
  StorageTrouble storage_trouble_;
  int64_t storage_logged_at_ms_ = 0;
  int64_t storage_errors_unlogged_ = 0;
};

}  // namespace gauntlet
