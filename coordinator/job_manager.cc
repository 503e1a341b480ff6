#include "coordinator/job_manager.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace gauntlet {

JobManager::JobManager(store::Store& store, const Clock& clock, JobManagerOptions options)
    : farm_(store, clock, std::move(options)),
      batch_(farm_),
      attempts_(farm_, batch_),
      agents_(farm_, batch_, attempts_),
      sweeps_(farm_, batch_, attempts_),
      logs_(farm_, batch_),
      annotations_(farm_, batch_),
      access_(farm_, batch_),
      queries_(farm_),
      comparisons_(farm_),
      schedules_(farm_, batch_, sweeps_, comparisons_),
      notifications_(farm_, batch_, comparisons_),
      health_(farm_, batch_, sweeps_) {
  farm_.want_pass = [this] { WakeLoop(); };
}

Status JobManager::Recover() {
  std::lock_guard lock(mu_);
  const int64_t now = farm_.clock.NowMs();
  GAUNTLET_RETURN_IF_ERROR(agents_.Recover());
  GAUNTLET_RETURN_IF_ERROR(health_.Recover());
  GAUNTLET_RETURN_IF_ERROR(access_.Load(farm_.options.admin_token_sha256));
  // The scheduler's state: every node with the devices active attempts hold,
  // and every ready job.
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::Node> nodes, farm_.store.SchedulingNodes(0));
  for (const auto& node : nodes) farm_.cluster.SetNode(node);
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::ReadyJob> ready, farm_.store.ReadyJobs());
  for (const auto& job : ready) farm_.cluster.AddReady(job);
  // Twice the TTL: agents back off while the coordinator is down and need a
  // moment to notice it is back.
  GAUNTLET_RETURN_IF_ERROR(schedules_.Recover());
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<store::ActiveAttempt> active, farm_.store.ActiveAttempts());
  for (const auto& attempt : active) {
    farm_.leases[attempt.id] = {now + 2 * farm_.options.lease_ttl_ms, attempt.agent, attempt.device_indices};
  }
  spdlog::info("recovered {} agents, {} ready jobs, {} active attempts", farm_.mailboxes.size(), ready.size(),
               active.size());
  return Status::Ok();
}

// --- The loop -----------------------------------------------------------------

void JobManager::WakeLoop() {
  {
    std::lock_guard lock(inbox_mu_);
    loop_wanted_ = true;
  }
  loop_cv_.notify_one();
}

bool JobManager::PostToLoop(const std::string& agent, int weight, std::function<void()> call) {
  {
    std::lock_guard lock(inbox_mu_);
    if (inbox_closed_) return false;
    inbox_.push_back({agent, weight, std::chrono::steady_clock::now(), std::move(call)});
    if (!agent.empty()) ++queued_by_agent_[agent];
  }
  loop_cv_.notify_one();
  return true;
}

bool JobManager::HeartbeatQueued(const std::string& agent) {
  std::lock_guard lock(inbox_mu_);
  return queued_by_agent_.contains(agent);
}

void JobManager::WaitForWork(int64_t timeout_ms) {
  std::unique_lock lock(inbox_mu_);
  loop_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return loop_wanted_ || !inbox_.empty() || inbox_closed_; });
}

void JobManager::RunInboxLocked(int budget) {
  // A window holds a bounded share of the queue, so the pass that fills the
  // devices its reports free comes soon after they were freed; the rest
  // waits in the queue, not inside the scheduler (inbox_wait in /metrics).
  std::vector<InboxCall> calls;
  {
    std::lock_guard lock(inbox_mu_);
    while (!inbox_.empty() && (budget > 0 || farm_.shutting_down)) {
      budget -= inbox_.front().weight;
      if (auto queued = queued_by_agent_.find(inbox_.front().agent); queued != queued_by_agent_.end()) {
        if (--queued->second == 0) queued_by_agent_.erase(queued);
      }
      calls.push_back(std::move(inbox_.front()));
      inbox_.pop_front();
    }
    loop_wanted_ = !inbox_.empty();
  }
  const auto now = std::chrono::steady_clock::now();
  for (auto& call : calls) {
    farm_.stats.inbox_wait.Observe(std::chrono::duration<double>(now - call.queued_at).count());
    call.run();
  }
}

void JobManager::Tick() {
  std::lock_guard lock(mu_);
  // The agents' calls of this window first: their reports free devices that
  // the pass below fills, and one commit makes both durable.
  RunInboxLocked(constants::kLoopWindowCalls);
  if (Status status = attempts_.ExpireLeases([this](const std::string& agent) { return HeartbeatQueued(agent); });
      !status.ok()) {
    spdlog::error("lease expiry failed, will retry: {}", status.ToString());
  }
  // Tonight's sweeps first, so this window's pass already places their jobs.
  schedules_.FireDue();
  schedules_.JudgeFinished();
  health_.StartDueChecks();
  if (Status status = attempts_.Schedule(); !status.ok()) {
    spdlog::error("scheduling failed, will retry: {}", status.ToString());
  }
  if (Status status = agents_.FlushLastSeenIfDue(); !status.ok()) {
    spdlog::warn("cannot record agents' last heartbeats, will retry: {}", status.ToString());
  }
  (void)batch_.Commit();  // Failures are logged and answered to their callers there.
  attempts_.WakeAllParked();
}

void JobManager::Shutdown() {
  std::lock_guard lock(mu_);
  farm_.shutting_down = true;
  {
    std::lock_guard inbox(inbox_mu_);
    inbox_closed_ = true;
  }
  // Calls still waiting for the loop are answered now, as shutting down.
  RunInboxLocked(0);
  for (auto& [name, mailbox] : farm_.mailboxes) mailbox->changed.notify_all();
  attempts_.WakeAllParked();
  loop_cv_.notify_all();
  batch_.AnswerWaiting();
}

void JobManager::ExtendLeasesForLag(int64_t lag_ms) {
  std::lock_guard lock(mu_);
  farm_.stats.max_lag_ms = std::max(farm_.stats.max_lag_ms, lag_ms);
  for (auto& [attempt_id, lease] : farm_.leases) lease.expires_ms += lag_ms;
  ++farm_.stats.lease_extensions_for_lag;
  spdlog::warn("coordinator was {} ms behind; extended {} leases by that much", lag_ms, farm_.leases.size());
}

JobManagerStats JobManager::Stats() {
  std::lock_guard lock(mu_);
  return farm_.stats;
}

// --- AgentService --------------------------------------------------------------

void JobManager::HeartbeatAsync(const v1::HeartbeatRequest& request, HeartbeatDone done) {
  if (request.name().empty()) return done(Err(Status::InvalidArgument("heartbeat: name is empty")));
  const int weight = std::max(1, request.reports_size());
  if (!PostToLoop(request.name(), weight,
                  [this, request, done]() mutable { attempts_.Heartbeat(request, std::move(done)); })) {
    done(Err(Status::Unavailable("the coordinator is shutting down; call again")));
  }
}

void JobManager::ReportAttemptAsync(const v1::AttemptReport& report, const std::string& caller, ReportDone done) {
  if (!PostToLoop("", 1, [this, report, caller, done]() mutable {
        attempts_.ReportAsync(report, caller, std::move(done));
      })) {
    done(Err(Status::Unavailable("the coordinator is shutting down; send it again")));
  }
}

StatusOr<v1::HeartbeatResponse> JobManager::Heartbeat(const v1::HeartbeatRequest& request) {
  if (request.name().empty()) return Err(Status::InvalidArgument("heartbeat: name is empty"));
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::clamp<int64_t>(request.wait_ms(), 0, farm_.options.max_poll_ms));
  std::unique_lock lock(mu_);
  ++farm_.stats.heartbeats;
  std::vector<v1::ReportAck> acks;
  bool must_persist = false;
  for (const auto& report : request.reports()) {
    acks.push_back(attempts_.CarriedReport(report, request.name(), &must_persist));
  }
  if (must_persist) GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  while (true) {
    auto response = attempts_.Poll(request);
    if (!response || response->assignments_size() > 0 || response->cancel_attempts_size() > 0 ||
        response->register_again() || farm_.shutting_down || !acks.empty()) {
      if (response) {
        for (auto& ack : acks) *response->add_acks() = std::move(ack);
      }
      return response;
    }
    core::Mailbox& mailbox = *farm_.mailboxes.at(request.name());
    const uint64_t seen = mailbox.generation;
    bool woken = mailbox.changed.wait_until(lock, deadline,
                                            [&] { return mailbox.generation != seen || farm_.shutting_down; });
    if (!woken) return response;
  }
}

StatusOr<v1::ReportAttemptResponse> JobManager::ReportAttempt(const v1::AttemptReport& report) {
  std::unique_lock lock(mu_);
  bool must_persist = false;
  auto response = attempts_.Report(report, "", &must_persist);
  if (!response || !must_persist) return response;
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  return response;
}

StatusOr<v1::RegisterResponse> JobManager::Register(const v1::RegisterRequest& request,
                                                    const core::AgentManager::Presented& presented) {
  std::lock_guard lock(mu_);
  return agents_.Register(request, presented);
}

StatusOr<v1::Agent> JobManager::RevokeAgent(const v1::RevokeAgentRequest& request) {
  std::lock_guard lock(mu_);
  return agents_.RevokeAgent(request);
}

std::string JobManager::AuthenticatedAgent(std::string_view session) const { return farm_.sessions.AgentOf(session); }

Status JobManager::CheckUploader(int64_t attempt_id, const core::Uploader& uploader) {
  std::lock_guard lock(mu_);
  return logs_.CheckUploader(attempt_id, uploader);
}

StatusOr<int64_t> JobManager::AppendLog(const v1::LogChunk& chunk, const core::Uploader& uploader) {
  std::lock_guard lock(mu_);
  GAUNTLET_RETURN_IF_ERROR(logs_.CheckUploader(chunk.attempt_id(), uploader));
  return logs_.AppendLog(chunk);
}

void JobManager::NoteStorageTrouble(int64_t attempt_id, const std::string& message) {
  std::lock_guard lock(mu_);
  logs_.NoteStorageTrouble(attempt_id, message);
}

std::optional<StorageTrouble> JobManager::RecentStorageTrouble() {
  std::lock_guard lock(mu_);
  return logs_.RecentStorageTrouble();
}

Status JobManager::RecordArtifact(const std::string& sha256, int64_t size) {
  std::lock_guard lock(mu_);
  return logs_.RecordArtifact(sha256, size);
}

// --- ControlService --------------------------------------------------------------

StatusOr<v1::SubmitSweepResponse> JobManager::SubmitSweep(const v1::SubmitSweepRequest& request,
                                                       const auth::Principal& by) {
  // Parsing and expansion run outside the lock.
  GAUNTLET_ASSIGN_OR_RETURN(auto prepared, sweeps_.Prepare(request));
  std::lock_guard lock(mu_);
  if (!prepared.spec.schedule.present || request.dry_run()) {
    return sweeps_.Submit(request, prepared, [&](int64_t sweep_id) {
      return by.anonymous ? Status::Ok() : farm_.store.SetSweepSubmitter(sweep_id, by.name);
    });
  }
  if (!auth::Allows(by.role, auth::Role::kAdmin)) {
    return Err(Status::PermissionDenied("a spec with `schedule:` sets the nightly schedule '" + prepared.spec.name +
                                        "', which needs an admin token (" + by.name + " is a " +
                                        std::string(auth::RoleName(by.role)) +
                                        "); submit it without `schedule:`, or ask an admin"));
  }
  // A spec with `schedule:` sets that schedule; its firings submit it.
  const spec::ScheduleSpec& wanted = prepared.spec.schedule;
  v1::AddScheduleRequest add;
  add.set_name(prepared.spec.name);
  add.set_replace(true);
  add.mutable_policy()->set_cron(wanted.cron);
  add.mutable_policy()->set_timezone(wanted.timezone);
  add.mutable_policy()->set_catch_up(wanted.catch_up);
  add.mutable_policy()->set_max_catch_up(wanted.max_catch_up);
  add.mutable_policy()->set_concurrency(wanted.concurrency);
  add.mutable_policy()->set_webhook(wanted.webhook);
  for (const auto& [metric, effect] : wanted.min_effect) (*add.mutable_policy()->mutable_min_effect())[metric] = effect;
  for (const auto& metric : wanted.higher_is_better) add.mutable_policy()->add_higher_is_better(metric);
  *add.mutable_sweep() = request;
  GAUNTLET_ASSIGN_OR_RETURN(v1::Schedule schedule, schedules_.Add(add));
  v1::SubmitSweepResponse response;
  *response.mutable_schedule() = std::move(schedule);
  return response;
}

// --- Access ------------------------------------------------------------------------

StatusOr<auth::Principal> JobManager::Authenticate(std::string_view token, const std::string& peer) {
  return farm_.api_tokens.Authenticate(token, peer, farm_.clock.NowMs());
}

bool JobManager::TokensEnforced() const { return farm_.api_tokens.enforced(); }

StatusOr<v1::CreateTokenResponse> JobManager::CreateToken(const v1::CreateTokenRequest& request,
                                                          const auth::Principal& by) {
  std::lock_guard lock(mu_);
  return access_.Create(request, by);
}

StatusOr<std::vector<v1::ApiToken>> JobManager::ListTokens() {
  std::lock_guard lock(mu_);
  return access_.List();
}

StatusOr<v1::ApiToken> JobManager::RevokeToken(const std::string& name) {
  std::lock_guard lock(mu_);
  return access_.Revoke(name);
}

Status JobManager::Audit(const v1::AuditEvent& event) {
  std::lock_guard lock(mu_);
  return access_.Audit(event);
}

StatusOr<std::vector<v1::AuditEvent>> JobManager::AuditEvents(const v1::ListAuditEventsRequest& request) {
  std::lock_guard lock(mu_);
  return access_.AuditEvents(request);
}

// --- Schedules -------------------------------------------------------------------

StatusOr<v1::Schedule> JobManager::AddSchedule(const v1::AddScheduleRequest& request) {
  std::lock_guard lock(mu_);
  return schedules_.Add(request);
}

StatusOr<std::vector<v1::Schedule>> JobManager::ListSchedules() {
  std::lock_guard lock(mu_);
  return schedules_.List();
}

StatusOr<v1::Schedule> JobManager::GetSchedule(const std::string& name) {
  std::lock_guard lock(mu_);
  return schedules_.Get(name);
}

StatusOr<v1::Schedule> JobManager::PauseSchedule(const std::string& name, bool resume) {
  std::lock_guard lock(mu_);
  return schedules_.Pause(name, resume);
}

StatusOr<v1::Firing> JobManager::RunScheduleNow(const std::string& name) {
  std::lock_guard lock(mu_);
  return schedules_.RunNow(name);
}

StatusOr<v1::Schedule> JobManager::DeleteSchedule(const std::string& name) {
  std::lock_guard lock(mu_);
  return schedules_.Delete(name);
}

StatusOr<std::vector<v1::Firing>> JobManager::ScheduleHistory(const std::string& name, int limit) {
  std::lock_guard lock(mu_);
  return schedules_.History(name, limit);
}

StatusOr<v1::Schedule> JobManager::PinBaseline(const std::string& schedule, int64_t sweep_id) {
  std::lock_guard lock(mu_);
  return schedules_.PinBaseline(schedule, sweep_id);
}

StatusOr<v1::CompareResponse> JobManager::Compare(const v1::CompareRequest& request) {
  std::lock_guard lock(mu_);
  return comparisons_.Compare(request);
}

StatusOr<v1::TestHistoryResponse> JobManager::TestHistory(const v1::TestHistoryRequest& request) {
  std::lock_guard lock(mu_);
  return comparisons_.TestHistory(request);
}

StatusOr<std::vector<core::NotificationManager::Due>> JobManager::DueNotifications() {
  std::lock_guard lock(mu_);
  return notifications_.TakeDue();
}

Status JobManager::RecordDelivery(const core::NotificationManager::Due& due, int http_status,
                                  const std::string& error) {
  std::lock_guard lock(mu_);
  return notifications_.RecordAttempt(due, http_status, error);
}

StatusOr<int> JobManager::Cancel(const v1::CancelRequest& request) {
  std::lock_guard lock(mu_);
  return sweeps_.Cancel(request);
}

StatusOr<v1::Job> JobManager::Retry(int64_t job_id) {
  std::lock_guard lock(mu_);
  return sweeps_.Retry(job_id);
}

StatusOr<v1::RetrySweepResponse> JobManager::RetrySweep(int64_t sweep_id) {
  std::lock_guard lock(mu_);
  return sweeps_.RetrySweep(sweep_id);
}

StatusOr<std::vector<v1::Agent>> JobManager::ListAgents() {
  std::lock_guard lock(mu_);
  return agents_.ListAgents();
}

StatusOr<v1::Agent> JobManager::DrainAgent(const v1::DrainAgentRequest& request) {
  std::lock_guard lock(mu_);
  return agents_.DrainAgent(request);
}

StatusOr<v1::Agent> JobManager::SetDeviceHealth(const v1::SetDeviceHealthRequest& request) {
  std::lock_guard lock(mu_);
  return health_.SetDeviceHealth(request);
}

StatusOr<int64_t> JobManager::LogAttempt(int64_t job_id, int64_t attempt_id) {
  std::lock_guard lock(mu_);
  return logs_.LogAttempt(job_id, attempt_id);
}

StatusOr<std::string> JobManager::ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes) {
  std::lock_guard lock(mu_);
  return logs_.ReadLog(attempt_id, offset, max_bytes);
}

StatusOr<bool> JobManager::AttemptFinished(int64_t attempt_id) {
  std::lock_guard lock(mu_);
  return logs_.AttemptFinished(attempt_id);
}

StatusOr<v1::Annotation> JobManager::Annotate(const v1::Annotation& annotation) {
  std::lock_guard lock(mu_);
  return annotations_.Annotate(annotation);
}

StatusOr<std::vector<v1::Annotation>> JobManager::Annotations(const std::string& scope, const std::string& target) {
  std::lock_guard lock(mu_);
  return annotations_.Annotations(scope, target);
}

// --- Reads ---------------------------------------------------------------------

StatusOr<v1::Sweep> JobManager::GetSweep(int64_t id) {
  std::lock_guard lock(mu_);
  return queries_.GetSweep(id);
}

StatusOr<v1::ListSweepsResponse> JobManager::ListSweeps(const v1::ListSweepsRequest& request) {
  std::lock_guard lock(mu_);
  return queries_.ListSweeps(request);
}

StatusOr<std::vector<v1::Sweep>> JobManager::ListSweeps(int limit) {
  v1::ListSweepsRequest request;
  request.set_limit(limit);
  GAUNTLET_ASSIGN_OR_RETURN(auto page, ListSweeps(request));
  return std::vector<v1::Sweep>(page.sweeps().begin(), page.sweeps().end());
}

StatusOr<v1::ListJobsResponse> JobManager::ListJobs(const v1::ListJobsRequest& request) {
  std::lock_guard lock(mu_);
  return queries_.ListJobs(request);
}

StatusOr<v1::Job> JobManager::GetJob(int64_t id) {
  std::lock_guard lock(mu_);
  return queries_.GetJob(id);
}

StatusOr<v1::WhyResponse> JobManager::Why(int64_t id) {
  std::lock_guard lock(mu_);
  return queries_.Why(id);
}

StatusOr<std::vector<v1::MatrixCell>> JobManager::Matrix(const store::MatrixFilter& filter) {
  std::lock_guard lock(mu_);
  return queries_.Matrix(filter);
}

StatusOr<std::vector<v1::Job>> JobManager::MatrixJobs(const store::MatrixFilter& filter, const v1::MatrixCell& where,
                                                      int limit) {
  std::lock_guard lock(mu_);
  return queries_.MatrixJobs(filter, where, limit);
}

StatusOr<std::map<int64_t, v1::MatrixCell>> JobManager::CellsOfJobs(const std::vector<int64_t>& job_ids) {
  std::lock_guard lock(mu_);
  return queries_.CellsOfJobs(job_ids);
}

StatusOr<std::vector<v1::BenchmarkPoint>> JobManager::Benchmarks(int64_t since_ms) {
  std::lock_guard lock(mu_);
  return queries_.Benchmarks(since_ms);
}

StatusOr<std::vector<v1::Event>> JobManager::Events(int64_t after_id, int64_t job_id, int limit) {
  std::lock_guard lock(mu_);
  return queries_.Events(after_id, job_id, limit);
}

StatusOr<int64_t> JobManager::LatestEventId() {
  std::lock_guard lock(mu_);
  return queries_.LatestEventId();
}

StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> JobManager::JobCounts() {
  std::lock_guard lock(mu_);
  return queries_.JobCounts();
}

}  // namespace gauntlet
