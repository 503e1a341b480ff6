// All of the coordinator's SQL. The store maps rows to proto messages and
// scheduler inputs; it decides nothing (the rules live in lib/jobs/
// state_machine.h, sched/ and JobManager).
//
// Every read returns StatusOr: a busy, locked or failing database comes back
// as UNAVAILABLE with its cause, never as "no such row".
//
// Thread safety: none. The owner serialises calls (JobManager holds a mutex).
// Methods that change several rows expect to run inside Transaction().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "coordinator/expand/expand.h"
#include "coordinator/sched/device_health.h"
#include "coordinator/sched/initial_states.h"
#include "coordinator/sched/why.h"
#include "coordinator/sched/scheduler.h"
#include "lib/jobs/job_state.h"
#include "coordinator/store/db.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::store {

// The parts of an attempt that state changes need.
struct AttemptRow {
  int64_t id = 0;
  int64_t job_id = 0;
  int64_t sweep_id = 0;
  v1::AttemptState state = v1::ATTEMPT_STATE_UNSPECIFIED;
  std::string agent;
  v1::JobState job_state = v1::JOB_STATE_UNSPECIFIED;
  int attempts_used = 0;  // Since the last manual retry.
  int max_attempts = 1;
  std::string retry_json;  // The job's retry rules (contract::EncodeRetryRules).
  bool health_check = false;      // Its job is pinned to a device to check it.
  std::vector<int> device_indices;
};

// One device's health as stored (sched/device_health.h).
struct DeviceHealthRow {
  std::string agent;
  int index = 0;
  sched::DeviceHealth health;
};

using sched::InitialJobState;

struct InsertedSweep {
  int64_t sweep_id = 0;
  std::vector<int64_t> job_ids;
};

// An attempt that holds devices and a lease.
struct ActiveAttempt {
  int64_t id = 0;
  std::string agent;
  std::vector<int> device_indices;
};

struct AttemptEnd {
  v1::AttemptState state = v1::ATTEMPT_STATE_FAILED;
  int exit_code = 0;
  std::string reason;
  int64_t finished_at_ms = 0;
  v1::FailureClass failure_class = v1::FAILURE_CLASS_UNSPECIFIED;
  // It ran, though its running report never came: it gets a start time.
  bool started = false;
};

// What a finished attempt left on its job row.
struct JobOutcome {
  std::string verdict;
  std::string result_json;
};

// A schedule as stored: its policy and the sweep request each firing submits.
struct ScheduleRow {
  int64_t id = 0;
  std::string name;
  v1::SchedulePolicy policy;
  std::string request;  // A serialized SubmitSweepRequest.
  bool paused = false;
  int64_t cursor_ms = 0;  // Every slot at or before it is decided.
  int64_t baseline_sweep_id = 0;
  int64_t created_at_ms = 0;
};

// A webhook to call about a fired sweep.
struct Notification {
  int64_t sweep_id = 0;
  int64_t schedule_id = 0;
  std::string schedule;
  std::string url;
  std::string state;
  int attempts = 0;
};

// Which jobs the status matrix covers.
struct MatrixFilter {
  int64_t sweep_id = 0;   // 0: every sweep.
  std::string tag;        // Only jobs carrying this resources tag.
  int64_t since_ms = 0;   // Only jobs created since.
};

class Store {
 public:
  // Opens the file and applies pending migrations.
  static StatusOr<std::unique_ptr<Store>> Open(const std::string& path, int busy_timeout_ms = 5000);

  template <typename Fn>
  Status Transaction(Fn&& body) { return db_->Transaction(std::forward<Fn>(body)); }
  // See Database: operations inside a batch are savepoints, made durable by
  // CommitBatch; a failed commit rolls the whole batch back.
  bool InBatch() const { return db_->InTransaction(); }
  // See Database::full_scan_steps().
  int64_t FullScanSteps() const { return db_->full_scan_steps(); }
  Status BeginBatch() { return db_->BeginBatch(); }
  Status CommitBatch() { return db_->CommitBatch(); }
  void RollBackBatch(const Status& cause) { db_->RollBackBatch(cause); }

  // --- Sweeps and jobs -----------------------------------------------------
  // Stores the sweep and its jobs in the states `initial` gives, one per plan
  // job; returns the sweep's id and its jobs' ids in plan order.
  StatusOr<InsertedSweep> InsertSweep(const expand::SweepPlan& plan, const std::string& spec_text,
                                const std::string& source, int64_t now_ms, const std::vector<InitialJobState>& initial);
  // For each of `keys` that a succeeded job has, that job (the newest).
  StatusOr<std::map<std::string, int64_t>> SucceededJobsByKey(const std::vector<std::string>& keys);
  // Mean run time of succeeded jobs by stage ("kind1"/"kind2" for free-form worker/exec jobs).
  StatusOr<std::map<std::string, double>> MeanSecondsByStage();
  // Mean seconds of succeeded jobs per content key (of those given), and per
  // (stage, model) of model stages: the dry run's estimate.
  StatusOr<std::map<std::string, double>> MeanSecondsByKey(const std::set<std::string>& keys);
  StatusOr<std::map<std::pair<std::string, std::string>, double>> MeanSecondsByStageAndModel();
  // The sweep's jobs of each stage by state, in pipeline order.
  StatusOr<std::vector<v1::StageCounts>> StageCounts(int64_t sweep_id);
  StatusOr<std::optional<v1::Sweep>> GetSweep(int64_t id, bool with_spec);
  // Whether no job of the sweep can change state any more: four index
  // probes, where GetSweep counts every job. Asked each second of a
  // night's run by the loops that wait for it.
  StatusOr<bool> SweepFinished(int64_t id);
  // Newest first, below `before_id` (0: from the newest).
  StatusOr<std::vector<v1::Sweep>> ListSweeps(int limit, int64_t before_id = 0);
  // By id, above `after_id`; limit 0: no limit.
  StatusOr<std::vector<v1::Job>> ListJobs(int64_t sweep_id, v1::JobState state, int limit, int64_t after_id = 0);
  // Fills each job's metrics (those of its result's attempt, as GetJob does), in one query.
  Status AddMetrics(std::vector<v1::Job>* jobs);
  // With attempts, metrics and artifacts.
  StatusOr<std::optional<v1::Job>> GetJob(int64_t id);
  // Sets each job's running_ms from its attempts (a running one up to now_ms).
  Status AddRunningTimes(std::vector<v1::Job>* jobs, int64_t now_ms);
  // The id of a sweep's job by name; 0 when it has none.
  StatusOr<int64_t> JobIdByName(int64_t sweep_id, const std::string& name);
  // Ids of unfinished jobs of a sweep, or the job itself when unfinished.
  StatusOr<std::vector<int64_t>> UnfinishedJobs(int64_t sweep_id, int64_t job_id);
  StatusOr<std::vector<int64_t>> UpstreamJobs(int64_t job_id);
  // Jobs that depend directly on `job_id`, with their states.
  StatusOr<std::vector<std::pair<int64_t, v1::JobState>>> Dependents(int64_t job_id);
  StatusOr<std::vector<v1::JobState>> UpstreamStates(int64_t job_id);
  // The jobs `job_id` depends on that have not finished, by id.
  StatusOr<std::vector<sched::UpstreamJob>> UnfinishedUpstream(int64_t job_id);
  StatusOr<std::optional<v1::JobState>> JobStateOf(int64_t job_id);

  // With `outcome`, stores the attempt's verdict and result in the same write.
  Status SetJobState(int64_t job_id, v1::JobState state, const std::string& reason, int64_t now_ms,
                     const JobOutcome* outcome = nullptr);
  // Starts a fresh attempt budget in `state`.
  Status ResetForRetry(int64_t job_id, v1::JobState state);
  Status SetJobOutcome(int64_t job_id, const JobOutcome& outcome);
  // An attempt's metrics and artifacts; its verdict and result go with the
  // job's state (SetJobState) or SetJobOutcome.
  Status StoreResult(int64_t job_id, int64_t attempt_id,
                     const google::protobuf::Map<std::string, double>& metrics,
                     const google::protobuf::RepeatedPtrField<v1::ArtifactRef>& artifacts, int64_t now_ms);

  // An attempt's test cases, from the job's `results:` files.
  Status StoreTestCases(int64_t job_id, int64_t attempt_id,
                        const google::protobuf::RepeatedPtrField<v1::TestCase>& cases);
  // The latest attempt's cases; those that passed after failing on an
  // earlier attempt are marked flaky.
  StatusOr<std::vector<v1::TestCase>> TestCases(int64_t job_id);

  // --- Scheduling ----------------------------------------------------------
  StatusOr<std::vector<sched::ReadyJob>> ReadyJobs();
  // One job's scheduling facts, as ReadyJobs() gives them.
  StatusOr<sched::ReadyJob> ReadyJobOf(int64_t job_id);
  // Every leased or running attempt, to rebuild the in-memory state at start-up.
  StatusOr<std::vector<ActiveAttempt>> ActiveAttempts();
  // Agents with their devices; a device is free when no active attempt holds it.
  StatusOr<std::vector<sched::Node>> SchedulingNodes(int64_t alive_after_ms);
  StatusOr<std::vector<expand::NodeCapacity>> NodeCapacities();
  // Creates attempt number attempt_count+1, leased to `agent`; the job becomes leased.
  StatusOr<int64_t> CreateAttempt(const sched::Placement& placement, int64_t now_ms, int64_t lease_expires_ms);

  // --- Attempts ------------------------------------------------------------
  StatusOr<std::optional<AttemptRow>> GetAttempt(int64_t attempt_id);
  // Says why an unfinished job is stuck without changing its state.
  Status SetUnfinishedJobReason(int64_t job_id, const std::string& reason);
  // The job's leased or running attempts.
  StatusOr<std::vector<AttemptRow>> ActiveAttemptsOfJob(int64_t job_id);
  // Leased attempts of `agent` as assignments, with their jobs.
  StatusOr<std::vector<std::pair<int64_t, v1::Job>>> LeasedAttempts(const std::string& agent);
  StatusOr<std::vector<int64_t>> ActiveAttemptIds(const std::string& agent);
  Status MarkAttemptRunning(int64_t attempt_id, int64_t now_ms);
  Status EndAttempt(int64_t attempt_id, const AttemptEnd& end);

  // --- Agents --------------------------------------------------------------
  Status UpsertAgent(const std::string& name, const std::string& version, const std::vector<std::string>& tags,
                     const std::vector<v1::Device>& devices, int64_t now_ms,
                     const std::vector<std::string>& suites = {}, const v1::Inventory& inventory = {});
  // Every suite some agent's worker has reported.
  StatusOr<std::set<std::string>> KnownSuites();
  // Returns false when the agent is unknown.
  StatusOr<bool> TouchAgent(const std::string& name, int64_t now_ms);
  StatusOr<std::vector<v1::Agent>> ListAgents(int64_t alive_after_ms);
  StatusOr<bool> SetDrained(const std::string& name, bool drained);
  // Sessions: the hash of an agent's credential, who admitted it, and
  // whether its name is revoked. The agent's row must exist.
  Status SetAgentSession(const std::string& name, const std::string& session_hash, const std::string& admitted_by);
  // false: no such agent. revoked_at_ms 0 undoes a revocation.
  StatusOr<bool> SetAgentRevoked(const std::string& name, int64_t revoked_at_ms);
  struct AgentSessionRow {
    std::string name;
    std::string session_hash;
    int64_t revoked_at_ms = 0;
  };
  StatusOr<std::vector<AgentSessionRow>> AgentSessions();

  // --- Logs, artifacts, events ---------------------------------------------
  // Appends when offset equals the stored length; returns the stored length.
  // Keeps at most about `max_bytes` per attempt, then a line saying the rest
  // was dropped; later chunks are acknowledged and discarded.
  StatusOr<int64_t> AppendLog(int64_t attempt_id, int64_t offset, std::string_view data,
                              int64_t max_bytes = INT64_MAX);
  // Up to max_bytes of the attempt's log from `offset`.
  StatusOr<std::string> ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes);
  StatusOr<int64_t> LatestAttemptId(int64_t job_id);
  Status RecordArtifact(const std::string& sha256, int64_t size, int64_t now_ms);
  StatusOr<bool> HasArtifact(const std::string& sha256);
  // --- Device health (health_store.cc) ---------------------------------------
  // Every device with a row: out of service, or counting failures.
  StatusOr<std::vector<DeviceHealthRow>> DeviceHealthRows();
  Status PutDeviceHealth(const DeviceHealthRow& row);
  // The `health_check:` YAML a sweep was submitted with ("" for none).
  StatusOr<std::string> SweepHealthCheck(int64_t sweep_id);

  // --- Schedules (schedule_store.cc) ----------------------------------------
  // Inserts, or with `replace` updates the schedule of that name keeping its
  // history and cursor; returns its id. Refused when the name is taken.
  StatusOr<int64_t> PutSchedule(const ScheduleRow& row, bool replace);
  StatusOr<std::vector<ScheduleRow>> Schedules();
  StatusOr<std::optional<ScheduleRow>> ScheduleByName(const std::string& name);
  // Paused or resumed; the cursor moves to `cursor_ms` (on resume: now, so
  // that the slots passed while paused are not caught up).
  Status SetSchedulePaused(int64_t id, bool paused, int64_t cursor_ms);
  Status SetScheduleCursor(int64_t id, int64_t cursor_ms);
  Status SetScheduleBaseline(int64_t id, int64_t sweep_id);
  Status DeleteSchedule(int64_t id);
  // Records a slot's decision; false when that slot was already decided
  // (the UNIQUE key), so the caller's transaction can be rolled back.
  StatusOr<bool> RecordFiring(int64_t schedule_id, const v1::Firing& firing);
  // Newest slot first; `sweep` left for the caller.
  StatusOr<std::vector<v1::Firing>> Firings(int64_t schedule_id, int limit);
  // The newest slot that submitted a sweep.
  StatusOr<std::optional<v1::Firing>> LastFired(int64_t schedule_id);
  Status TagSweep(int64_t sweep_id, int64_t schedule_id, const std::string& nominal_date);
  // Fired nights not judged yet: (schedule id, sweep id).
  StatusOr<std::vector<std::pair<int64_t, int64_t>>> FiringsToJudge();
  Status MarkJudged(int64_t sweep_id);
  // A second run of a finished job, in its sweep, ready at once (its
  // upstream jobs succeeded): same spec, inputs and labels, plus
  // labels.rerun_of naming the job. Returns its id.
  StatusOr<int64_t> AddRerun(int64_t job_id, const std::string& name, int64_t now_ms);
  Status QueueNotification(int64_t sweep_id, int64_t schedule_id, const std::string& url, int64_t now_ms);
  // Waiting ones (whose sweep may not have finished) and retries due by `now_ms`.
  StatusOr<std::vector<Notification>> OpenNotifications(int64_t now_ms);
  Status UpdateNotification(int64_t sweep_id, const std::string& state, int attempts, int64_t next_attempt_ms);
  Status AddDelivery(const Notification& notification, int attempt, int64_t at_ms, int http_status,
                     const std::string& error, int regressions);
  // Newest first.
  StatusOr<std::vector<v1::Delivery>> Deliveries(int64_t schedule_id, int limit);

  // --- API tokens and the audit trail (access_store.cc) ----------------------
  // Refused (ALREADY_EXISTS) when the name was ever used.
  Status InsertApiToken(const v1::ApiToken& token, const std::string& token_sha256);
  struct ApiTokenRow {
    v1::ApiToken token;
    std::string token_sha256;
  };
  StatusOr<std::vector<ApiTokenRow>> ApiTokens();
  // false: no live token of that name.
  StatusOr<bool> RevokeApiToken(const std::string& name, int64_t now_ms);
  Status AddAuditEvent(const v1::AuditEvent& event);
  // Newest first, older than before_id (0: from the newest).
  StatusOr<std::vector<v1::AuditEvent>> AuditEvents(const std::string& actor, int64_t before_id, int limit);
  Status SetSweepSubmitter(int64_t sweep_id, const std::string& submitted_by);
  // The key named `name`, stored as `fresh_key_hex` when it has none yet.
  StatusOr<std::string> SigningKey(const std::string& name, const std::string& fresh_key_hex, int64_t now_ms);

  // --- The board -------------------------------------------------------------
  StatusOr<std::vector<v1::MatrixCell>> Matrix(const MatrixFilter& filter);
  // Jobs of one matrix cell (its state 0: any state).
  StatusOr<std::vector<v1::Job>> MatrixJobs(const MatrixFilter& filter, const v1::MatrixCell& where, int limit);
  StatusOr<std::vector<v1::BenchmarkPoint>> Benchmarks(int64_t since_ms);
  // The matrix cell (model, dtype, tp, context, stage) of each job; state and count unset.
  StatusOr<std::map<int64_t, v1::MatrixCell>> CellsOfJobs(const std::vector<int64_t>& job_ids);
  // (state, device kind) → number of jobs, for /metrics.
  StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> JobCounts();
  StatusOr<v1::Annotation> AddAnnotation(const v1::Annotation& annotation, int64_t now_ms);
  // Empty scope or target: any.
  StatusOr<std::vector<v1::Annotation>> Annotations(const std::string& scope, const std::string& target);
  // Events after `after_id` (of one job when job_id != 0), oldest first.
  StatusOr<std::vector<v1::Event>> Events(int64_t after_id, int64_t job_id, int limit);
  StatusOr<int64_t> LatestEventId();
  Status AddEvent(int64_t now_ms, int64_t sweep_id, int64_t job_id, int64_t attempt_id,
                  const std::string& kind, const std::string& message);

 private:
  explicit Store(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  v1::Job RowToJob(Statement& row);
  // The job row alone, without attempts, metrics or artifacts.
  StatusOr<std::optional<v1::Job>> SelectJob(int64_t id);

  std::unique_ptr<Database> db_;
};

}  // namespace gauntlet::store
