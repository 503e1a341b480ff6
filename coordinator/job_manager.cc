#include "coordinator/job_manager.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <deque>

#include <spdlog/spdlog.h>

#include "coordinator/expand/expand.h"
#include "coordinator/sched/initial_states.h"
#include "coordinator/sched/scheduler.h"
#include "coordinator/sched/why.h"
#include "coordinator/spec/check_suites.h"
#include "coordinator/spec/parser.h"
#include "coordinator/spec/warnings.h"
#include "lib/contract/retry_policy.h"
#include "lib/contract/stages.h"
#include "lib/names/names.h"
#include "lib/rpc/paging.h"

namespace gauntlet {

using jobs::IsTerminal;

namespace {

// The job's `retry:` rules applied to this failure: whether it runs again,
// and the attempts that allows (in place of max_attempts).
contract::FailureClass FromWire(v1::FailureClass failure_class) {
  switch (failure_class) {
    case v1::FAILURE_CLASS_VERDICT: return contract::FailureClass::kVerdict;
    case v1::FAILURE_CLASS_CONFIGURATION: return contract::FailureClass::kConfiguration;
    case v1::FAILURE_CLASS_INFRASTRUCTURE: return contract::FailureClass::kInfrastructure;
    case v1::FAILURE_CLASS_COMMAND: return contract::FailureClass::kCommand;
    default: return contract::FailureClass::kNone;  // An older agent: unclassified.
  }
}

contract::RetryBudget RetryBudgetOf(const store::AttemptRow& attempt, v1::FailureClass failure_class,
                                    std::optional<int> exit_code) {
  auto rules = contract::DecodeRetryRules(attempt.retry_json);
  if (!rules) {
    // We wrote them at submit; unreadable means a bug, and the default is the safe reading.
    spdlog::error("job {}: {}; retrying by the default rules", attempt.job_id, rules.error().ToString());
    rules.emplace();
  }
  return contract::BudgetFor(*rules, FromWire(failure_class), exit_code, attempt.max_attempts);
}

// A job that a retry rule let fail says which rule.
void NoteRuleThatEnded(const contract::RetryBudget& budget, jobs::Decision* decision) {
  if (decision->job == v1::JOB_STATE_FAILED && !budget.note.empty()) decision->reason += "; by " + budget.note;
}


bool Forceable(const std::string& stage) {
  return stage == "*" || stage == contract::kKernelStage || contract::IsLlmStage(stage);
}

}  // namespace

JobManager::JobManager(store::Store& store, const Clock& clock, JobManagerOptions options)
    : store_(store), clock_(clock), options_(options) {}

Status JobManager::Recover() {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMs();
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<v1::Agent> agents, store_.ListAgents(0));
  for (const auto& agent : agents) {
    Mailbox& mailbox = MailboxLocked(agent.name());
    mailbox.last_seen_ms = agent.last_heartbeat_ms();
    mailbox.drained = agent.drained();
  }
  // The scheduler's state: every node with the devices active attempts hold,
  // and every ready job.
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::Node> nodes, store_.SchedulingNodes(0));
  for (const auto& node : nodes) cluster_.SetNode(node);
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::ReadyJob> ready, store_.ReadyJobs());
  for (const auto& job : ready) cluster_.AddReady(job);
  // Twice the TTL: agents back off while the coordinator is down and need a
  // moment to notice it is back.
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<store::ActiveAttempt> active, store_.ActiveAttempts());
  for (const auto& attempt : active) {
    leases_[attempt.id] = {now + 2 * options_.lease_ttl_ms, attempt.agent, attempt.device_indices};
  }
  spdlog::info("recovered {} agents, {} ready jobs, {} active attempts", agents.size(), ready.size(), active.size());
  last_flush_ms_ = now;
  return Status::Ok();
}

JobManager::Mailbox& JobManager::MailboxLocked(const std::string& agent) {
  auto& slot = mailboxes_[agent];
  if (!slot) slot = std::make_unique<Mailbox>();
  return *slot;
}

bool JobManager::AliveLocked(const std::string& agent) const {
  auto found = mailboxes_.find(agent);
  return found != mailboxes_.end() && found->second->last_seen_ms > clock_.NowMs() - options_.agent_timeout_ms;
}

template <typename Fn>
Status JobManager::CommitLocked(Fn&& body) {
  if (!store_.InBatch()) {
    GAUNTLET_RETURN_IF_ERROR(store_.BeginBatch());
    ++batch_seq_;
  }
  pending_ = {};
  Status status = store_.Transaction(std::forward<Fn>(body));
  if (status.ok()) {
    ApplyPendingLocked();
  } else {
    pending_ = {};
  }
  return status;
}

Status JobManager::CommitBatchLocked() {
  if (!store_.InBatch()) return Status::Ok();
  if (options_.crash_before_batch > 0 && batch_has_reports_ && ++report_batches_ == options_.crash_before_batch) {
    spdlog::critical("test hook: killing the coordinator before committing batch {}", batch_seq_);
    std::raise(SIGKILL);
  }
  batch_has_reports_ = false;
  Status status = store_.CommitBatch();
  if (status.ok()) {
    committed_seq_ = batch_seq_;
  } else {
    failed_seq_ = batch_seq_;
    last_batch_error_ = status;
    spdlog::error("commit of batch {} failed, its operations are refused: {}", batch_seq_, status.ToString());
    if (Status reloaded = ReloadMemoryLocked(); !reloaded.ok()) {
      spdlog::critical("cannot rebuild the scheduler's state from the store: {}", reloaded.ToString());
    }
  }
  AnswerParkedReportsLocked();
  return status;
}

Status JobManager::DurableLocked() {
  // User operations and artifacts are rare: they commit at once, taking any
  // reports of the open batch with them.
  return CommitBatchLocked();
}

Status JobManager::ReloadMemoryLocked() {
  cluster_ = sched::ClusterState();
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::Node> nodes, store_.SchedulingNodes(0));
  for (auto node : nodes) {
    auto mailbox = mailboxes_.find(node.name);
    node.schedulable = mailbox != mailboxes_.end() && !mailbox->second->drained;
    cluster_.SetNode(node);
  }
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::ReadyJob> ready, store_.ReadyJobs());
  for (const auto& job : ready) cluster_.AddReady(job);
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<store::ActiveAttempt> active, store_.ActiveAttempts());
  std::unordered_map<int64_t, Lease> leases;
  const int64_t now = clock_.NowMs();
  for (const auto& attempt : active) {
    auto known = leases_.find(attempt.id);
    leases[attempt.id] = {known != leases_.end() ? known->second.expires_ms : now + options_.lease_ttl_ms,
                          attempt.agent, attempt.device_indices};
  }
  leases_ = std::move(leases);
  return Status::Ok();
}

Status JobManager::RecordReadyLocked(int64_t job_id) {
  GAUNTLET_ASSIGN_OR_RETURN(sched::ReadyJob job, store_.ReadyJobOf(job_id));
  pending_.became_ready.push_back(std::move(job));
  return Status::Ok();
}

void JobManager::ApplyPendingLocked() {
  for (int64_t job_id : pending_.left_ready) cluster_.RemoveReady(job_id);
  for (int64_t attempt_id : pending_.ended_attempts) {
    auto lease = leases_.find(attempt_id);
    if (lease == leases_.end()) continue;
    cluster_.Release(lease->second.agent, lease->second.devices);
    leases_.erase(lease);
  }
  for (const auto& job : pending_.became_ready) cluster_.AddReady(job);
  if (!pending_.became_ready.empty() || !pending_.ended_attempts.empty()) RequestScheduleLocked();
  pending_ = {};
}

void JobManager::NotifyAgentLocked(const std::string& agent) {
  auto found = mailboxes_.find(agent);
  if (found == mailboxes_.end()) return;
  ++found->second->generation;
  found->second->changed.notify_all();
  WakeParkedLocked(*found->second, /*news_possible=*/true);
}

void JobManager::WakeParkedLocked(Mailbox& mailbox, bool news_possible) {
  if (mailbox.parked.empty()) return;
  const int64_t now = clock_.NowMs();
  std::vector<ParkedPoll> still;
  for (auto& poll : mailbox.parked) {
    // Without news for this agent only an ended wait needs an answer.
    if (!news_possible && now < poll.deadline_ms && !shutting_down_) {
      still.push_back(std::move(poll));
      continue;
    }
    auto response = PollLocked(poll.request);
    const bool news = !response || response->assignments_size() > 0 || response->cancel_attempts_size() > 0 ||
                      response->register_again();
    if (news || now >= poll.deadline_ms || shutting_down_) {
      poll.done(std::move(response));
    } else {
      still.push_back(std::move(poll));
    }
  }
  mailbox.parked = std::move(still);
}

void JobManager::AnswerParkedReportsLocked() {
  std::vector<ParkedReport> still;
  for (auto& parked : parked_reports_) {
    if (committed_seq_ >= parked.batch) {
      parked.done(std::move(parked.response));
    } else if (failed_seq_ >= parked.batch) {
      parked.done(Err(Status::Unavailable("not stored: " + last_batch_error_.message() + "; send it again")));
    } else if (shutting_down_) {
      parked.done(Err(Status::Unavailable("the coordinator is shutting down; send it again")));
    } else {
      still.push_back(std::move(parked));
    }
  }
  parked_reports_ = std::move(still);
}

void JobManager::RequestScheduleLocked() {
  schedule_requested_ = true;
  work_.notify_one();
}

void JobManager::WaitForWork(int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  work_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return schedule_requested_ || shutting_down_; });
}

void JobManager::Tick() {
  std::lock_guard lock(mu_);
  if (Status status = ExpireLeasesLocked(); !status.ok()) {
    spdlog::error("lease expiry failed, will retry: {}", status.ToString());
  }
  if (Status status = ScheduleLocked(); !status.ok()) {
    spdlog::error("scheduling failed, will retry: {}", status.ToString());
  }
  if (clock_.NowMs() - last_flush_ms_ >= constants::kLastSeenFlushMs) {
    if (Status status = FlushLastSeenLocked(); !status.ok()) {
      spdlog::warn("cannot record agents' last heartbeats, will retry: {}", status.ToString());
    }
  }
  (void)CommitBatchLocked();  // Failures are logged and answered to their callers there.
  for (auto& [name, mailbox] : mailboxes_) WakeParkedLocked(*mailbox, /*news_possible=*/false);
}

void JobManager::Shutdown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  for (auto& [name, mailbox] : mailboxes_) {
    mailbox->changed.notify_all();
    WakeParkedLocked(*mailbox, /*news_possible=*/false);
  }
  work_.notify_all();
  AnswerParkedReportsLocked();
}

void JobManager::ExtendLeasesForLag(int64_t lag_ms) {
  std::lock_guard lock(mu_);
  stats_.max_lag_ms = std::max(stats_.max_lag_ms, lag_ms);
  for (auto& [attempt_id, lease] : leases_) lease.expires_ms += lag_ms;
  ++stats_.lease_extensions_for_lag;
  spdlog::warn("coordinator was {} ms behind; extended {} leases by that much", lag_ms, leases_.size());
}

JobManagerStats JobManager::Stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> JobManager::JobCounts() {
  std::lock_guard lock(mu_);
  return store_.JobCounts();
}

Status JobManager::FlushLastSeenLocked() {
  last_flush_ms_ = clock_.NowMs();
  return store_.Transaction([&]() -> Status {
    for (auto& [name, mailbox] : mailboxes_) {
      if (mailbox->last_seen_flushed) continue;
      GAUNTLET_ASSIGN_OR_RETURN(bool known, store_.TouchAgent(name, mailbox->last_seen_ms));
      (void)known;  // An agent seen here registered, so its row exists.
      mailbox->last_seen_flushed = true;
    }
    return Status::Ok();
  });
}

Status JobManager::ScheduleLocked() {
  schedule_requested_ = false;
  const auto started = std::chrono::steady_clock::now();
  stats_.ready_jobs = static_cast<int64_t>(cluster_.ReadyCount());
  if (cluster_.ReadyCount() == 0) return Status::Ok();
  // Liveness is the in-memory last-seen time, not the flushed column.
  for (const auto& [name, mailbox] : mailboxes_) cluster_.SetSchedulable(name, !mailbox->drained && AliveLocked(name));
  std::vector<sched::Placement> placements = cluster_.Place();
  ++stats_.scheduling_passes;
  if (placements.empty()) return Status::Ok();
  const int64_t now = clock_.NowMs();
  std::vector<int64_t> created;
  Status status = CommitLocked([&]() -> Status {
    created.clear();
    for (const auto& placement : placements) {
      GAUNTLET_ASSIGN_OR_RETURN(int64_t attempt_id,
                                store_.CreateAttempt(placement, now, now + options_.lease_ttl_ms));
      std::string devices;
      for (int index : placement.device_indices) devices += (devices.empty() ? "" : ",") + std::to_string(index);
      GAUNTLET_RETURN_IF_ERROR(store_.AddEvent(now, 0, placement.job_id, attempt_id, "leased",
                                               "leased to " + placement.node + " devices " + devices));
      created.push_back(attempt_id);
    }
    return Status::Ok();
  });
  GAUNTLET_RETURN_IF_ERROR(status);
  // The pass is the group-commit point: its placements and every report
  // since the last pass become durable together, before any agent hears.
  GAUNTLET_RETURN_IF_ERROR(CommitBatchLocked());
  cluster_.Commit(placements);
  for (size_t i = 0; i < placements.size(); ++i) {
    leases_[created[i]] = {now + options_.lease_ttl_ms, placements[i].node, placements[i].device_indices};
    NotifyAgentLocked(placements[i].node);
  }
  stats_.jobs_placed += static_cast<int64_t>(placements.size());
  stats_.last_pass_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::debug("scheduled {} jobs", placements.size());
  return Status::Ok();
}

Status JobManager::ExpireLeasesLocked() {
  const int64_t now = clock_.NowMs();
  // Passes run hundreds of times a second under load; leases are counted in
  // seconds, so scanning them a few times a second is plenty.
  if (now - last_expiry_scan_ms_ < constants::kLeaseScanMs && now >= last_expiry_scan_ms_) return Status::Ok();
  last_expiry_scan_ms_ = now;
  std::vector<int64_t> expired;
  for (const auto& [attempt_id, lease] : leases_) {
    if (lease.expires_ms < now) expired.push_back(attempt_id);
  }
  std::sort(expired.begin(), expired.end());
  for (int64_t attempt_id : expired) {
    GAUNTLET_ASSIGN_OR_RETURN(auto attempt, store_.GetAttempt(attempt_id));
    if (!attempt || IsTerminal(attempt->state)) {
      pending_ = {};
      pending_.ended_attempts.push_back(attempt_id);
      ApplyPendingLocked();
      continue;
    }
    std::string reason = "lease expired: agent " + attempt->agent + " stopped renewing it (died or cut off)";
    const contract::RetryBudget budget = RetryBudgetOf(*attempt, v1::FAILURE_CLASS_INFRASTRUCTURE, std::nullopt);
    jobs::Decision decision = jobs::OnLeaseExpired(
        {attempt->job_state, attempt->state, attempt->attempts_used, budget.max_attempts}, reason);
    NoteRuleThatEnded(budget, &decision);
    Status status = CommitLocked([&] { return ApplyAttemptDecisionLocked(*attempt, decision, reason, -1); });
    GAUNTLET_RETURN_IF_ERROR(status);
    ++stats_.leases_expired_by_cause["agent_silent"];
    spdlog::warn("attempt {} of job {} lost: {}", attempt_id, attempt->job_id, reason);
  }
  return Status::Ok();
}

Status JobManager::ApplyAttemptDecisionLocked(const store::AttemptRow& attempt, const jobs::Decision& decision,
                                              const std::string& attempt_reason, int exit_code,
                                              v1::FailureClass failure_class) {
  const int64_t now = clock_.NowMs();
  if (decision.attempt != v1::ATTEMPT_STATE_UNSPECIFIED) {
    GAUNTLET_RETURN_IF_ERROR(
        store_.EndAttempt(attempt.id, {decision.attempt, exit_code, attempt_reason, now, failure_class}));
    if (IsTerminal(decision.attempt)) pending_.ended_attempts.push_back(attempt.id);
  }
  if (decision.job == v1::JOB_STATE_UNSPECIFIED) return Status::Ok();
  GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(attempt.job_id, decision.job, decision.reason, now));
  GAUNTLET_RETURN_IF_ERROR(store_.AddEvent(now, attempt.sweep_id, attempt.job_id, attempt.id,
                                           jobs::JobStateName(decision.job), decision.reason));
  if (decision.job == v1::JOB_STATE_READY) GAUNTLET_RETURN_IF_ERROR(RecordReadyLocked(attempt.job_id));
  return ApplyDownstreamLocked(attempt.job_id, decision.downstream, decision.job);
}

Status JobManager::ApplyDownstreamLocked(int64_t job_id, jobs::Downstream downstream, v1::JobState settled) {
  if (downstream == jobs::Downstream::kNone) return Status::Ok();
  const int64_t now = clock_.NowMs();
  // Breadth-first: a skip (or an unskip) travels through the whole DAG below.
  std::deque<std::pair<int64_t, v1::JobState>> frontier = {{job_id, settled}};
  std::set<int64_t> seen;
  while (!frontier.empty()) {
    auto [upstream_id, upstream_state] = frontier.front();
    frontier.pop_front();
    GAUNTLET_ASSIGN_OR_RETURN(auto dependents, store_.Dependents(upstream_id));
    for (const auto& [dependent, state] : dependents) {
      if (!seen.insert(dependent).second) continue;
      if (downstream == jobs::Downstream::kUnskip) {
        if (state != v1::JOB_STATE_SKIPPED) continue;
        GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(dependent, v1::JOB_STATE_PENDING, "", now));
        frontier.emplace_back(dependent, v1::JOB_STATE_PENDING);
        continue;
      }
      GAUNTLET_ASSIGN_OR_RETURN(auto upstream_states, store_.UpstreamStates(dependent));
      jobs::Decision decision = jobs::OnUpstreamSettled(state, jobs::Summarize(upstream_states));
      if (!decision.accepted || decision.job == v1::JOB_STATE_UNSPECIFIED) continue;
      std::string reason;
      if (decision.job == v1::JOB_STATE_SKIPPED) {
        reason = "upstream job " + std::to_string(upstream_id) + " " + jobs::JobStateName(upstream_state);
      }
      GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(dependent, decision.job, reason, now));
      if (decision.job == v1::JOB_STATE_READY) GAUNTLET_RETURN_IF_ERROR(RecordReadyLocked(dependent));
      if (decision.downstream == jobs::Downstream::kSkip) frontier.emplace_back(dependent, decision.job);
    }
  }
  return Status::Ok();
}

// --- ControlService ----------------------------------------------------------

StatusOr<std::vector<store::InitialJobState>> JobManager::InitialStatesLocked(const expand::SweepPlan& plan,
                                                                              const std::vector<std::string>& force) {
  GAUNTLET_ASSIGN_OR_RETURN(auto known, store_.SucceededJobsByKey(sched::CacheableKeys(plan, force)));
  return sched::InitialStates(plan, force, known);
}

StatusOr<v1::SubmitSweepResponse> JobManager::SubmitSweep(const v1::SubmitSweepRequest& request) {
  std::string source = request.source().empty() ? "<spec>" : request.source();
  std::vector<std::string> force(request.force().begin(), request.force().end());
  for (const auto& stage : force) {
    if (!Forceable(stage)) {
      return Err(Status::InvalidArgument("--force: '" + stage + "' is not a stage; use " +
                                         contract::StageList(", ") + ", kernel, or no value for all"));
    }
  }
  std::map<std::string, std::string> files(request.files().begin(), request.files().end());
  GAUNTLET_ASSIGN_OR_RETURN(int64_t first_planned, paging::ParseToken(request.page_token()));
  // Parsing and expansion run outside the lock and within the spec limits,
  // so a hostile spec costs its submitter, never the farm.
  auto spec = spec::ParseSweepSpec(request.spec_text(), source, files, options_.spec_limits);
  if (!spec) return Err(spec.error());
  auto plan = expand::Expand(*spec, options_.spec_limits);
  if (!plan) return Err(plan.error());

  std::unique_lock lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto capacities, store_.NodeCapacities());
  GAUNTLET_RETURN_IF_ERROR(expand::CheckFits(*plan, capacities).WithContext(source));
  GAUNTLET_ASSIGN_OR_RETURN(auto suites, store_.KnownSuites());
  GAUNTLET_RETURN_IF_ERROR(spec::CheckSuites(*spec, suites));
  GAUNTLET_ASSIGN_OR_RETURN(auto initial, InitialStatesLocked(*plan, force));
  v1::SubmitSweepResponse response;
  for (auto& warning : spec::SpecWarnings(*spec)) response.add_warnings(std::move(warning));
  if (request.dry_run()) {
    const int page = paging::PageSize(request.page_size(), paging::kDefaultJobPage, paging::kMaxJobPage);
    GAUNTLET_RETURN_IF_ERROR(DescribePlanLocked(*plan, initial, static_cast<size_t>(first_planned), page, &response));
    return response;
  }
  int64_t sweep_id = 0;
  const int64_t now = clock_.NowMs();
  Status status = CommitLocked([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(store::InsertedSweep inserted,
                              store_.InsertSweep(*plan, request.spec_text(), source, now, initial));
    sweep_id = inserted.sweep_id;
    for (size_t i = 0; i < plan->jobs.size(); ++i) {
      if (initial[i].state != v1::JOB_STATE_READY) continue;
      const auto& job = plan->jobs[i];
      pending_.became_ready.push_back(
          {inserted.job_ids[i], job.devices, job.device_kind, job.priority, inserted.job_ids[i], job.tags});
    }
    return store_.AddEvent(now, sweep_id, 0, 0, "submitted",
                           "sweep " + plan->name + " with " + std::to_string(plan->jobs.size()) + " jobs");
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(DurableLocked());
  spdlog::info("sweep {} '{}' submitted with {} jobs ({} cached)", sweep_id, plan->name, plan->jobs.size(),
               sched::CountCached(initial));
  RequestScheduleLocked();
  GAUNTLET_ASSIGN_OR_RETURN(auto sweep, store_.GetSweep(sweep_id, /*with_spec=*/false));
  if (sweep) *response.mutable_sweep() = std::move(*sweep);
  return response;
}

Status JobManager::DescribePlanLocked(const expand::SweepPlan& plan,
                                      const std::vector<store::InitialJobState>& initial, size_t first, int page_size,
                                      v1::SubmitSweepResponse* response) {
  auto* sweep = response->mutable_sweep();
  sweep->set_name(plan.name);
  sweep->set_total_jobs(static_cast<int>(plan.jobs.size()));
  auto* summary = response->mutable_summary();
  GAUNTLET_ASSIGN_OR_RETURN(auto typical, store_.MeanSecondsByStage());
  double device_seconds = 0;
  size_t page_bytes = 0;
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    const auto& job = plan.jobs[i];
    const bool worker = job.kind == spec::JobKind::kWorker;
    std::string stage = !job.stage.empty() ? job.stage : worker ? "worker" : "exec";
    (*summary->mutable_jobs_by_stage())[stage] += 1;
    auto model = job.labels.find("model");
    (*summary->mutable_jobs_by_model())[model == job.labels.end() ? "-" : model->second] += 1;
    std::string history_key = !job.stage.empty() ? job.stage : "kind" + std::to_string(worker ? v1::JOB_KIND_WORKER
                                                                                                : v1::JOB_KIND_EXEC);
    auto known = typical.find(history_key);
    if (initial[i].state != v1::JOB_STATE_CACHED) {
      device_seconds += job.devices * (known != typical.end() ? known->second : constants::kDefaultJobSeconds);
    }
    // The summary covers the plan; the jobs, one page of it.
    if (i < first) continue;
    if (response->jobs_size() == page_size || page_bytes > rpc::kMaxPageBytes) {
      if (response->next_page_token().empty()) response->set_next_page_token(std::to_string(i));
      continue;
    }
    auto* out = response->add_jobs();
    out->set_id(static_cast<int64_t>(i));
    out->set_name(job.name);
    out->set_kind(worker ? v1::JOB_KIND_WORKER : v1::JOB_KIND_EXEC);
    out->set_stage(job.stage);
    out->set_devices(job.devices);
    out->set_device_kind(job.device_kind);
    out->set_content_key(job.content_key);
    out->set_cacheable(job.cacheable);
    out->set_state(initial[i].state);
    for (const auto& [key, value] : job.labels) (*out->mutable_labels())[key] = value;
    for (size_t dep : job.depends_on) out->add_depends_on(static_cast<int64_t>(dep));
    page_bytes += out->ByteSizeLong();
  }
  summary->set_cache_hits(sched::CountCached(initial));
  summary->set_device_hours(device_seconds / 3600.0);
  return Status::Ok();
}

StatusOr<v1::Sweep> JobManager::GetSweep(int64_t id) {
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto sweep, store_.GetSweep(id, /*with_spec=*/true));
  if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(id) + "; 'gauntlet status' lists sweeps"));
  GAUNTLET_ASSIGN_OR_RETURN(auto stages, store_.StageCounts(id));
  for (auto& stage : stages) *sweep->add_stages() = std::move(stage);
  return *sweep;
}

StatusOr<std::vector<v1::Sweep>> JobManager::ListSweeps(int limit) {
  v1::ListSweepsRequest request;
  request.set_limit(limit);
  GAUNTLET_ASSIGN_OR_RETURN(auto page, ListSweeps(request));
  return std::vector<v1::Sweep>(page.sweeps().begin(), page.sweeps().end());
}

StatusOr<v1::ListSweepsResponse> JobManager::ListSweeps(const v1::ListSweepsRequest& request) {
  GAUNTLET_ASSIGN_OR_RETURN(int64_t before, paging::ParseToken(request.page_token()));
  const int size = paging::PageSize(request.limit(), paging::kDefaultSweepPage, paging::kMaxSweepPage);
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto sweeps, store_.ListSweeps(size + 1, before));
  v1::ListSweepsResponse page;
  paging::Fill(std::move(sweeps), size, page.mutable_sweeps(), page.mutable_next_page_token());
  return page;
}

StatusOr<v1::ListJobsResponse> JobManager::ListJobs(const v1::ListJobsRequest& request) {
  GAUNTLET_ASSIGN_OR_RETURN(int64_t after, paging::ParseToken(request.page_token()));
  const int size = paging::PageSize(request.limit(), paging::kDefaultJobPage, paging::kMaxJobPage);
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto jobs, store_.ListJobs(request.sweep_id(), request.state(), size + 1, after));
  if (request.with_metrics()) GAUNTLET_RETURN_IF_ERROR(store_.AddMetrics(&jobs));
  v1::ListJobsResponse page;
  paging::Fill(std::move(jobs), size, page.mutable_jobs(), page.mutable_next_page_token());
  return page;
}

StatusOr<v1::WhyResponse> JobManager::Why(int64_t id) {
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto job, store_.GetJob(id));
  if (!job) return Err(Status::NotFound("no job " + std::to_string(id) + "; 'gauntlet jobs' lists jobs"));
  sched::WaitFacts facts;
  facts.state = job->state();
  facts.job = {job->id(), job->devices(), job->device_kind(), job->priority(), job->id(),
               std::vector<std::string>(job->tags().begin(), job->tags().end())};
  if (facts.state == v1::JOB_STATE_PENDING) {
    GAUNTLET_ASSIGN_OR_RETURN(facts.unfinished_upstream, store_.UnfinishedUpstream(id));
  }
  if (facts.state == v1::JOB_STATE_READY) {
    for (const auto& [name, mailbox] : mailboxes_) {
      if (mailbox->drained) {
        facts.unschedulable[name] = "drained";
      } else if (!AliveLocked(name)) {
        facts.unschedulable[name] = "offline";
      }
    }
    facts.ready = cluster_.ReadyJobs();
    facts.nodes = cluster_.Nodes();
    // As of now, not of the last scheduling pass: a drain just made counts.
    for (auto& node : facts.nodes) node.schedulable = !facts.unschedulable.contains(node.name);
  }
  v1::WhyResponse response;
  response.set_job_id(id);
  response.set_state(job->state());
  for (auto& reason : sched::ExplainWait(facts)) response.add_reasons(std::move(reason));
  GAUNTLET_ASSIGN_OR_RETURN(auto events, store_.Events(0, id, 1000));
  response.set_since_ms(events.empty() ? job->created_at_ms() : events.back().at_ms());
  return response;
}

StatusOr<v1::Job> JobManager::GetJob(int64_t id) {
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto job, store_.GetJob(id));
  if (!job) return Err(Status::NotFound("no job " + std::to_string(id) + "; 'gauntlet jobs' lists jobs"));
  return *job;
}

StatusOr<int> JobManager::Cancel(const v1::CancelRequest& request) {
  if ((request.job_id() == 0) == (request.sweep_id() == 0)) {
    return Err(Status::InvalidArgument("name exactly one of job_id or sweep_id to cancel"));
  }
  std::unique_lock lock(mu_);
  if (request.sweep_id() != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, store_.GetSweep(request.sweep_id(), false));
    if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(request.sweep_id())));
  }
  if (request.job_id() != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(auto state, store_.JobStateOf(request.job_id()));
    if (!state) return Err(Status::NotFound("no job " + std::to_string(request.job_id())));
  }
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<int64_t> ids, store_.UnfinishedJobs(request.sweep_id(), request.job_id()));
  const int64_t now = clock_.NowMs();
  std::set<std::string> agents_to_tell;
  int cancelled = 0;
  Status status = CommitLocked([&]() -> Status {
    agents_to_tell.clear();
    cancelled = 0;
    // Every job named is cancelled first, so a sweep's jobs all show as
    // cancelled; only then do jobs outside the request learn it downstream.
    std::vector<std::pair<int64_t, jobs::Decision>> decided;
    for (int64_t id : ids) {
      GAUNTLET_ASSIGN_OR_RETURN(auto state, store_.JobStateOf(id));
      if (!state || IsTerminal(*state)) continue;
      GAUNTLET_ASSIGN_OR_RETURN(auto active, store_.ActiveAttemptsOfJob(id));
      jobs::Decision decision = jobs::OnCancelled(*state, active.empty() ? v1::ATTEMPT_STATE_UNSPECIFIED
                                                                         : active.front().state);
      if (!decision.accepted) continue;
      for (const auto& attempt : active) {
        if (attempt.state == v1::ATTEMPT_STATE_LEASED) {
          GAUNTLET_RETURN_IF_ERROR(store_.EndAttempt(
              attempt.id, {v1::ATTEMPT_STATE_CANCELLED, 0, "cancelled before it started", now}));
          pending_.ended_attempts.push_back(attempt.id);
        }
        agents_to_tell.insert(attempt.agent);
      }
      GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(id, decision.job, decision.reason, now));
      GAUNTLET_RETURN_IF_ERROR(store_.AddEvent(now, request.sweep_id(), id, 0, "cancelled", decision.reason));
      if (*state == v1::JOB_STATE_READY) pending_.left_ready.push_back(id);
      decided.emplace_back(id, decision);
      ++cancelled;
    }
    for (const auto& [id, decision] : decided) {
      GAUNTLET_RETURN_IF_ERROR(ApplyDownstreamLocked(id, decision.downstream, decision.job));
    }
    return Status::Ok();
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(DurableLocked());
  // Leased attempts hold no devices any more; running ones are stopped by
  // their agents, told on their next poll.
  for (const auto& agent : agents_to_tell) NotifyAgentLocked(agent);
  RequestScheduleLocked();
  return cancelled;
}

StatusOr<jobs::Decision> JobManager::RetryDecisionLocked(const v1::Job& job) {
  GAUNTLET_ASSIGN_OR_RETURN(auto upstream_states, store_.UpstreamStates(job.id()));
  jobs::Decision decision = jobs::OnRetried(job.state(), jobs::Summarize(upstream_states));
  if (decision.accepted) return decision;
  std::string which;
  for (int64_t upstream : job.depends_on()) {
    GAUNTLET_ASSIGN_OR_RETURN(auto state, store_.JobStateOf(upstream));
    if (state && (*state == v1::JOB_STATE_FAILED || *state == v1::JOB_STATE_CANCELLED ||
                  *state == v1::JOB_STATE_SKIPPED)) {
      which = " (upstream job " + std::to_string(upstream) + " is " + jobs::JobStateName(*state) + ")";
      break;
    }
  }
  decision.reason = "job " + std::to_string(job.id()) + ": " + decision.reason + which;
  return decision;
}

Status JobManager::ApplyRetryLocked(const v1::Job& job, const jobs::Decision& decision, const std::string& why,
                                    int64_t now) {
  GAUNTLET_RETURN_IF_ERROR(store_.ResetForRetry(job.id(), decision.job));
  if (decision.job == v1::JOB_STATE_READY) GAUNTLET_RETURN_IF_ERROR(RecordReadyLocked(job.id()));
  GAUNTLET_RETURN_IF_ERROR(ApplyDownstreamLocked(job.id(), decision.downstream, decision.job));
  return store_.AddEvent(now, job.sweep_id(), job.id(), 0, "retried", why);
}

StatusOr<v1::Job> JobManager::Retry(int64_t job_id) {
  std::unique_lock lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto job, store_.GetJob(job_id));
  if (!job) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  GAUNTLET_ASSIGN_OR_RETURN(jobs::Decision decision, RetryDecisionLocked(*job));
  if (!decision.accepted) return Err(Status::FailedPrecondition(decision.reason));
  const int64_t now = clock_.NowMs();
  GAUNTLET_RETURN_IF_ERROR(CommitLocked([&] { return ApplyRetryLocked(*job, decision, "retried by user", now); }));
  GAUNTLET_RETURN_IF_ERROR(DurableLocked());
  RequestScheduleLocked();
  GAUNTLET_ASSIGN_OR_RETURN(auto retried, store_.GetJob(job_id));
  if (!retried) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  return *retried;
}

StatusOr<v1::RetrySweepResponse> JobManager::RetrySweep(int64_t sweep_id) {
  std::unique_lock lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto sweep, store_.GetSweep(sweep_id, /*with_spec=*/false));
  if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(sweep_id) + "; 'gauntlet status' lists them"));
  v1::RetrySweepResponse response;
  const int64_t now = clock_.NowMs();
  // In id order, which is dependency order: retrying a job first lets the
  // failed jobs behind it (if any) be judged against its new state.
  Status status = CommitLocked([&]() -> Status {
    for (int64_t after = 0;;) {
      GAUNTLET_ASSIGN_OR_RETURN(auto page, store_.ListJobs(sweep_id, v1::JOB_STATE_FAILED, 1000, after));
      if (page.empty()) return Status::Ok();
      for (const v1::Job& listed : page) {
        after = listed.id();
        GAUNTLET_ASSIGN_OR_RETURN(auto job, store_.GetJob(listed.id()));
        if (!job) continue;
        GAUNTLET_ASSIGN_OR_RETURN(jobs::Decision decision, RetryDecisionLocked(*job));
        if (!decision.accepted) {
          response.add_not_retried(decision.reason);
          continue;
        }
        GAUNTLET_RETURN_IF_ERROR(ApplyRetryLocked(*job, decision, "retried with its sweep's failed jobs", now));
        response.add_retried(job->id());
      }
    }
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(DurableLocked());
  if (response.retried_size() > 0) RequestScheduleLocked();
  return response;
}

StatusOr<std::vector<v1::Agent>> JobManager::ListAgents() {
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto agents, store_.ListAgents(0));
  for (auto& agent : agents) {
    auto found = mailboxes_.find(agent.name());
    if (found != mailboxes_.end()) agent.set_last_heartbeat_ms(found->second->last_seen_ms);
    agent.set_alive(AliveLocked(agent.name()));
  }
  return agents;
}

StatusOr<v1::Agent> JobManager::DrainAgent(const v1::DrainAgentRequest& request) {
  {
    std::unique_lock lock(mu_);
    bool found = false;
    GAUNTLET_RETURN_IF_ERROR(CommitLocked([&]() -> Status {
      GAUNTLET_ASSIGN_OR_RETURN(found, store_.SetDrained(request.name(), !request.undrain()));
      return Status::Ok();
    }));
    GAUNTLET_RETURN_IF_ERROR(DurableLocked());
    if (!found) return Err(Status::NotFound("no agent '" + request.name() + "'; 'gauntlet agents' lists them"));
    MailboxLocked(request.name()).drained = !request.undrain();
    if (request.undrain()) RequestScheduleLocked();
  }
  GAUNTLET_ASSIGN_OR_RETURN(auto agents, ListAgents());
  for (auto& agent : agents) {
    if (agent.name() == request.name()) return agent;
  }
  return Err(Status::NotFound("agent '" + request.name() + "' vanished"));
}

StatusOr<int64_t> JobManager::LogAttempt(int64_t job_id, int64_t attempt_id) {
  std::lock_guard lock(mu_);
  if (attempt_id != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(auto attempt, store_.GetAttempt(attempt_id));
    if (!attempt || (job_id != 0 && attempt->job_id != job_id)) {
      return Err(Status::NotFound("no attempt " + std::to_string(attempt_id) + " of job " + std::to_string(job_id)));
    }
    return attempt_id;
  }
  GAUNTLET_ASSIGN_OR_RETURN(auto state, store_.JobStateOf(job_id));
  if (!state) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  return store_.LatestAttemptId(job_id);
}

StatusOr<std::string> JobManager::ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes) {
  std::lock_guard lock(mu_);
  return store_.ReadLog(attempt_id, offset, max_bytes);
}

StatusOr<bool> JobManager::AttemptFinished(int64_t attempt_id) {
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto attempt, store_.GetAttempt(attempt_id));
  return !attempt || IsTerminal(attempt->state);
}

// --- The board ----------------------------------------------------------------

StatusOr<std::vector<v1::MatrixCell>> JobManager::Matrix(const store::MatrixFilter& filter) {
  std::lock_guard lock(mu_);
  return store_.Matrix(filter);
}

StatusOr<std::vector<v1::Job>> JobManager::MatrixJobs(const store::MatrixFilter& filter,
                                                      const v1::MatrixCell& where, int limit) {
  std::lock_guard lock(mu_);
  return store_.MatrixJobs(filter, where, limit);
}

StatusOr<std::vector<v1::BenchmarkPoint>> JobManager::Benchmarks(int64_t since_ms) {
  std::lock_guard lock(mu_);
  return store_.Benchmarks(since_ms);
}

StatusOr<v1::Annotation> JobManager::Annotate(const v1::Annotation& annotation) {
  if (annotation.scope() != "sweep" && annotation.scope() != "model" && annotation.scope() != "job") {
    return Err(Status::InvalidArgument("annotate: scope '" + annotation.scope() + "' must be sweep, model or job"));
  }
  if (annotation.target().empty()) return Err(Status::InvalidArgument("annotate: name the sweep, model or job"));
  if (!annotation.url().starts_with("http://") && !annotation.url().starts_with("https://")) {
    return Err(Status::InvalidArgument("annotate: url '" + annotation.url() + "' must start with http:// or https://"));
  }
  std::unique_lock lock(mu_);
  if (annotation.scope() == "sweep") {
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, store_.GetSweep(std::atoll(annotation.target().c_str()), false));
    if (!sweep) return Err(Status::NotFound("annotate: no sweep " + annotation.target()));
  }
  if (annotation.scope() == "job") {
    GAUNTLET_ASSIGN_OR_RETURN(auto state, store_.JobStateOf(std::atoll(annotation.target().c_str())));
    if (!state) return Err(Status::NotFound("annotate: no job " + annotation.target()));
  }
  v1::Annotation stored;
  Status status = CommitLocked([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(stored, store_.AddAnnotation(annotation, clock_.NowMs()));
    return store_.AddEvent(clock_.NowMs(), 0, 0, 0, "annotated",
                           annotation.scope() + " " + annotation.target() + ": " + annotation.url());
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(DurableLocked());
  return stored;
}

StatusOr<std::vector<v1::Annotation>> JobManager::Annotations(const std::string& scope, const std::string& target) {
  std::lock_guard lock(mu_);
  return store_.Annotations(scope, target);
}

StatusOr<std::vector<v1::Event>> JobManager::Events(int64_t after_id, int64_t job_id, int limit) {
  std::lock_guard lock(mu_);
  return store_.Events(after_id, job_id, limit);
}

StatusOr<int64_t> JobManager::LatestEventId() {
  std::lock_guard lock(mu_);
  return store_.LatestEventId();
}

// --- AgentService ------------------------------------------------------------

StatusOr<v1::RegisterResponse> JobManager::Register(const v1::RegisterRequest& request) {
  // Names enter the farm here; the agent checks its own flags the same way.
  if (std::string problem = names::NameProblem(request.name()); !problem.empty()) {
    return Err(Status::InvalidArgument("register: agent name " + problem + "; start the agent with another --name"));
  }
  if (std::string problem = names::FirstNameProblem(request.tags()); !problem.empty()) {
    return Err(Status::InvalidArgument("register: tag " + problem + "; fix the agent's --tags"));
  }
  if (std::string problem = names::FirstNameProblem(request.suites()); !problem.empty()) {
    return Err(Status::InvalidArgument("register: suite name " + problem));
  }
  std::set<int> indices;
  for (const auto& device : request.devices()) {
    if (!indices.insert(device.index()).second) {
      return Err(Status::InvalidArgument("register: device index " + std::to_string(device.index()) + " appears twice"));
    }
  }
  std::unique_lock lock(mu_);
  const int64_t now = clock_.NowMs();
  std::vector<v1::Device> devices(request.devices().begin(), request.devices().end());
  std::set<int64_t> still_running(request.running_attempts().begin(), request.running_attempts().end());
  std::vector<int64_t> lost;
  bool drained = false;
  Status status = CommitLocked([&]() -> Status {
    lost.clear();
    std::vector<std::string> tags(request.tags().begin(), request.tags().end());
    std::vector<std::string> suites(request.suites().begin(), request.suites().end());
    GAUNTLET_RETURN_IF_ERROR(store_.UpsertAgent(request.name(), request.version(), tags, devices, now, suites));
    GAUNTLET_ASSIGN_OR_RETURN(auto active, store_.ActiveAttemptIds(request.name()));
    for (int64_t attempt_id : active) {
      if (still_running.contains(attempt_id)) continue;
      GAUNTLET_ASSIGN_OR_RETURN(auto attempt, store_.GetAttempt(attempt_id));
      if (!attempt) continue;
      // The agent restarted and no longer runs it: no need to wait for the lease.
      std::string reason = "agent " + request.name() + " restarted without it";
      const contract::RetryBudget budget = RetryBudgetOf(*attempt, v1::FAILURE_CLASS_INFRASTRUCTURE, std::nullopt);
      jobs::Decision decision = jobs::OnAgentLostAttempt(
          {attempt->job_state, attempt->state, attempt->attempts_used, budget.max_attempts}, reason);
      NoteRuleThatEnded(budget, &decision);
      if (!decision.accepted) continue;
      GAUNTLET_RETURN_IF_ERROR(ApplyAttemptDecisionLocked(*attempt, decision, reason, -1));
      lost.push_back(attempt_id);
    }
    return store_.AddEvent(now, 0, 0, 0, "agent", "agent " + request.name() + " registered with " +
                                                      std::to_string(devices.size()) + " devices");
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(DurableLocked());
  stats_.leases_expired_by_cause["agent_restarted"] += static_cast<int64_t>(lost.size());
  Mailbox& mailbox = MailboxLocked(request.name());
  drained = mailbox.drained;
  sched::Node node;
  node.name = request.name();
  node.schedulable = !drained;
  node.tags.assign(request.tags().begin(), request.tags().end());
  for (const auto& device : devices) node.devices.push_back({device.index(), device.kind(), true});
  std::sort(node.devices.begin(), node.devices.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  cluster_.SetNode(node);
  mailbox.last_seen_ms = now;
  mailbox.last_seen_flushed = true;
  for (int64_t attempt_id : still_running) {
    auto lease = leases_.find(attempt_id);
    if (lease != leases_.end() && lease->second.agent == request.name()) {
      lease->second.expires_ms = std::max(lease->second.expires_ms, now + options_.lease_ttl_ms);
    }
  }
  spdlog::info("agent {} registered with {} devices, {} running attempts", request.name(), devices.size(),
               request.running_attempts_size());
  RequestScheduleLocked();
  v1::RegisterResponse response;
  response.set_lease_ttl_ms(options_.lease_ttl_ms);
  return response;
}

StatusOr<v1::HeartbeatResponse> JobManager::PollLocked(const v1::HeartbeatRequest& request) {
  v1::HeartbeatResponse response;
  const int64_t now = clock_.NowMs();
  auto found = mailboxes_.find(request.name());
  if (found == mailboxes_.end()) {
    response.set_register_again(true);
    return response;
  }
  found->second->last_seen_ms = now;
  found->second->last_seen_flushed = false;
  std::set<int64_t> reported(request.running_attempts().begin(), request.running_attempts().end());
  for (int64_t attempt_id : reported) {
    auto lease = leases_.find(attempt_id);
    if (lease == leases_.end() || lease->second.agent != request.name()) {
      response.add_cancel_attempts(attempt_id);
      continue;
    }
    GAUNTLET_ASSIGN_OR_RETURN(auto attempt, store_.GetAttempt(attempt_id));
    if (!attempt || IsTerminal(attempt->state) || attempt->job_state == v1::JOB_STATE_CANCELLED) {
      response.add_cancel_attempts(attempt_id);
      continue;
    }
    lease->second.expires_ms = std::max(lease->second.expires_ms, now + options_.lease_ttl_ms);
  }
  GAUNTLET_ASSIGN_OR_RETURN(auto leased, store_.LeasedAttempts(request.name()));
  for (auto& [attempt_id, job] : leased) {
    if (reported.contains(attempt_id)) continue;
    auto* assignment = response.add_assignments();
    assignment->set_attempt_id(attempt_id);
    assignment->mutable_device_indices()->CopyFrom(job.device_indices());
    GAUNTLET_ASSIGN_OR_RETURN(auto upstream_ids, store_.UpstreamJobs(job.id()));
    for (int64_t upstream_id : upstream_ids) {
      GAUNTLET_ASSIGN_OR_RETURN(auto upstream, store_.GetJob(upstream_id));
      if (!upstream || upstream->artifacts().empty()) continue;
      auto* input = assignment->add_inputs();
      input->set_folder(upstream->stage().empty() ? upstream->name() : upstream->stage());
      input->set_job_id(upstream_id);
      input->mutable_artifacts()->CopyFrom(upstream->artifacts());
    }
    *assignment->mutable_job() = std::move(job);
  }
  return response;
}

StatusOr<v1::HeartbeatResponse> JobManager::Heartbeat(const v1::HeartbeatRequest& request) {
  if (request.name().empty()) return Err(Status::InvalidArgument("heartbeat: name is empty"));
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::clamp<int64_t>(request.wait_ms(), 0, options_.max_poll_ms));
  std::unique_lock lock(mu_);
  ++stats_.heartbeats;
  while (true) {
    auto response = PollLocked(request);
    if (!response || response->assignments_size() > 0 || response->cancel_attempts_size() > 0 ||
        response->register_again() || shutting_down_) {
      return response;
    }
    Mailbox& mailbox = *mailboxes_.at(request.name());
    const uint64_t seen = mailbox.generation;
    bool woken = mailbox.changed.wait_until(lock, deadline,
                                            [&] { return mailbox.generation != seen || shutting_down_; });
    if (!woken) return response;
  }
}

void JobManager::HeartbeatAsync(const v1::HeartbeatRequest& request, HeartbeatDone done) {
  if (request.name().empty()) return done(Err(Status::InvalidArgument("heartbeat: name is empty")));
  std::lock_guard lock(mu_);
  ++stats_.heartbeats;
  auto response = PollLocked(request);
  if (!response || response->assignments_size() > 0 || response->cancel_attempts_size() > 0 ||
      response->register_again() || shutting_down_ || request.wait_ms() <= 0) {
    return done(std::move(response));
  }
  const int64_t wait_ms = std::clamp<int64_t>(request.wait_ms(), 0, options_.max_poll_ms);
  mailboxes_.at(request.name())->parked.push_back({request, clock_.NowMs() + wait_ms, std::move(done)});
}

void JobManager::ReportAttemptAsync(const v1::AttemptReport& report, ReportDone done) {
  std::lock_guard lock(mu_);
  bool must_persist = false;
  auto response = ReportLocked(report, &must_persist);
  if (!response || !must_persist) return done(std::move(response));
  if (!options_.group_commit) {
    Status committed = CommitBatchLocked();
    return done(committed.ok() ? std::move(response) : Err(committed));
  }
  parked_reports_.push_back({batch_seq_, std::move(*response), std::move(done)});
  RequestScheduleLocked();
}

StatusOr<v1::ReportAttemptResponse> JobManager::ReportAttempt(const v1::AttemptReport& report) {
  std::unique_lock lock(mu_);
  bool must_persist = false;
  auto response = ReportLocked(report, &must_persist);
  if (!response || !must_persist) return response;
  GAUNTLET_RETURN_IF_ERROR(DurableLocked());
  return response;
}

StatusOr<v1::ReportAttemptResponse> JobManager::ReportLocked(const v1::AttemptReport& report, bool* must_persist) {
  *must_persist = false;
  ++stats_.reports;
  v1::ReportAttemptResponse response;
  GAUNTLET_ASSIGN_OR_RETURN(auto attempt, store_.GetAttempt(report.attempt_id()));
  if (!attempt) return Err(Status::NotFound("no attempt " + std::to_string(report.attempt_id())));
  const int64_t now = clock_.NowMs();

  if (report.state() == v1::ATTEMPT_STATE_RUNNING) {
    jobs::Decision decision = jobs::OnStarted(attempt->job_state, attempt->state);
    response.set_duplicate(decision.duplicate);
    response.set_stale(decision.stale || decision.stop_attempt);
    if (decision.attempt == v1::ATTEMPT_STATE_UNSPECIFIED) return response;
    Status status = store_.Transaction([&]() -> Status {
      GAUNTLET_RETURN_IF_ERROR(store_.MarkAttemptRunning(attempt->id, now));
      if (decision.job != v1::JOB_STATE_UNSPECIFIED) {
        GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(attempt->job_id, decision.job, "", now));
      }
      return store_.AddEvent(now, attempt->sweep_id, attempt->job_id, attempt->id, "running",
                             "started on " + attempt->agent);
    });
    if (!status.ok()) return Err(status);
    return response;
  }

  const contract::RetryBudget budget =
      RetryBudgetOf(*attempt, report.failure_class(),
                    report.exit_code() > 0 ? std::optional<int>(report.exit_code()) : std::nullopt);
  jobs::Decision decision = jobs::OnReported(
      {attempt->job_state, attempt->state, attempt->attempts_used, budget.max_attempts}, report.state(),
      budget.retryable, report.reason());
  NoteRuleThatEnded(budget, &decision);
  if (!decision.accepted) return Err(Status::InvalidArgument(decision.reason));
  if (decision.duplicate || decision.stale) {
    response.set_duplicate(decision.duplicate);
    response.set_stale(decision.stale);
    return response;
  }
  for (const auto& ref : report.artifacts()) {
    GAUNTLET_ASSIGN_OR_RETURN(bool uploaded, store_.HasArtifact(ref.sha256()));
    if (!uploaded) {
      return Err(Status::FailedPrecondition("artifact " + ref.name() + " (" + ref.sha256() +
                                            ") was not uploaded; upload it before reporting"));
    }
  }
  Status status = CommitLocked([&]() -> Status {
    if (attempt->state == v1::ATTEMPT_STATE_LEASED) {
      // The running report was lost or overtaken: the attempt did start.
      GAUNTLET_RETURN_IF_ERROR(store_.MarkAttemptRunning(attempt->id, now));
    }
    GAUNTLET_RETURN_IF_ERROR(store_.StoreResult(attempt->job_id, attempt->id, report.verdict(), report.result_json(),
                                                report.metrics(), report.artifacts(), now));
    return ApplyAttemptDecisionLocked(*attempt, decision, report.reason(), report.exit_code(),
                                      report.failure_class());
  });
  if (!status.ok()) return Err(status);
  // Acknowledged only once durable: an agent that hears nothing sends it again.
  batch_has_reports_ = true;
  *must_persist = true;
  spdlog::info("attempt {} of job {} {}{}", attempt->id, attempt->job_id, jobs::AttemptStateName(report.state()),
               report.reason().empty() ? "" : ": " + report.reason());
  return response;
}

StatusOr<int64_t> JobManager::AppendLog(const v1::LogChunk& chunk) {
  std::lock_guard lock(mu_);
  GAUNTLET_ASSIGN_OR_RETURN(auto attempt, store_.GetAttempt(chunk.attempt_id()));
  if (!attempt) return Err(Status::NotFound("no attempt " + std::to_string(chunk.attempt_id())));
  return store_.AppendLog(chunk.attempt_id(), chunk.offset(), chunk.data(), options_.max_log_bytes_per_attempt);
}

void JobManager::NoteStorageTrouble(int64_t attempt_id, const std::string& message) {
  std::unique_lock lock(mu_);
  const int64_t now = clock_.NowMs();
  ++stats_.storage_errors;
  ++storage_errors_unlogged_;
  storage_trouble_ = {message, now};
  // Once a minute, not once per retry: a full disk must not also fill the log.
  if (storage_logged_at_ms_ == 0 || now - storage_logged_at_ms_ >= constants::kStorageLogIntervalMs) {
    spdlog::error("storage failing ({} failed writes since the last report): {}", storage_errors_unlogged_, message);
    storage_logged_at_ms_ = now;
    storage_errors_unlogged_ = 0;
  }
  if (attempt_id <= 0) return;
  auto attempt = store_.GetAttempt(attempt_id);
  if (!attempt || !*attempt) return;
  const std::string reason = "waiting for storage: " + message + " (the agent retries the upload)";
  Status status = CommitLocked([&] { return store_.SetUnfinishedJobReason((*attempt)->job_id, reason); });
  if (status.ok()) status = DurableLocked();
  // The store may be what is failing; the log line above already says so.
  if (!status.ok()) spdlog::warn("job {}: cannot record the storage failure: {}", (*attempt)->job_id, status.message());
}

std::optional<StorageTrouble> JobManager::RecentStorageTrouble() {
  std::lock_guard lock(mu_);
  if (storage_trouble_.at_ms == 0 || clock_.NowMs() - storage_trouble_.at_ms > constants::kStorageTroubleShownMs) {
    return std::nullopt;
  }
  return storage_trouble_;
}

Status JobManager::RecordArtifact(const std::string& sha256, int64_t size) {
  std::unique_lock lock(mu_);
  // Durable before the agent is told: its report names the artifact next.
  GAUNTLET_RETURN_IF_ERROR(CommitLocked([&] { return store_.RecordArtifact(sha256, size, clock_.NowMs()); }));
  return DurableLocked();
}

}  // namespace gauntlet
