#include "coordinator/core/attempts.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>

#include <spdlog/spdlog.h>

#include "coordinator/core/device_health.h"
#include "coordinator/core/retry_budget.h"

namespace gauntlet::core {

using jobs::IsTerminal;

Status AttemptManager::Schedule() {
  const auto started = std::chrono::steady_clock::now();
  farm_.stats.ready_jobs = static_cast<int64_t>(farm_.cluster.ReadyCount());
  if (farm_.cluster.ReadyCount() == 0) return Status::Ok();
  // Liveness is the in-memory last-seen time, not the flushed column.
  for (const auto& [name, mailbox] : farm_.mailboxes) farm_.cluster.SetSchedulable(name, !mailbox->drained && farm_.Alive(name));
  std::vector<sched::Placement> placements = farm_.cluster.Place();
  ++farm_.stats.scheduling_passes;
  if (placements.empty()) return Status::Ok();
  const int64_t now = farm_.clock.NowMs();
  std::vector<int64_t> created;
  Status status = batch_.Run([&]() -> Status {
    created.clear();
    for (const auto& placement : placements) {
      GAUNTLET_ASSIGN_OR_RETURN(int64_t attempt_id,
                                farm_.store.CreateAttempt(placement, now, now + farm_.options.lease_ttl_ms));
      std::string devices;
      for (int index : placement.device_indices) devices += (devices.empty() ? "" : ",") + std::to_string(index);
      GAUNTLET_RETURN_IF_ERROR(farm_.store.AddEvent(now, 0, placement.job_id, attempt_id, "leased",
                                               "leased to " + placement.node + " devices " + devices));
      created.push_back(attempt_id);
    }
    return Status::Ok();
  });
  GAUNTLET_RETURN_IF_ERROR(status);
  // The pass is the group-commit point: its placements and every report
  // since the last pass become durable together, before any agent hears.
  GAUNTLET_RETURN_IF_ERROR(batch_.Commit());
  farm_.cluster.Commit(placements);
  for (size_t i = 0; i < placements.size(); ++i) {
    farm_.leases[created[i]] = {now + farm_.options.lease_ttl_ms, placements[i].node, placements[i].device_indices};
    Notify(placements[i].node);
  }
  farm_.stats.jobs_placed += static_cast<int64_t>(placements.size());
  farm_.stats.last_pass_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::debug("scheduled {} jobs", placements.size());
  return Status::Ok();
}

Status AttemptManager::ExpireLeases(const std::function<bool(const std::string&)>& heartbeat_queued) {
  const int64_t now = farm_.clock.NowMs();
  // Passes run hundreds of times a second under load; leases are counted in
  // seconds, so scanning them a few times a second is plenty.
  if (now - last_expiry_scan_ms_ < constants::kLeaseScanMs && now >= last_expiry_scan_ms_) return Status::Ok();
  last_expiry_scan_ms_ = now;
  std::vector<int64_t> expired;
  for (auto& [attempt_id, lease] : farm_.leases) {
    if (lease.expires_ms >= now) continue;
    // Its agent's heartbeat is here, waiting for the loop: the agent is
    // alive and the delay is the coordinator's own.
    if (heartbeat_queued(lease.agent)) {
      lease.expires_ms = now + farm_.options.lease_ttl_ms;
      ++farm_.stats.lease_extensions_for_lag;
      continue;
    }
    expired.push_back(attempt_id);
  }
  std::sort(expired.begin(), expired.end());
  for (int64_t attempt_id : expired) {
    GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(attempt_id));
    if (!attempt || IsTerminal(attempt->state)) {
      // Already ended in the store: only memory still held it.
      GAUNTLET_RETURN_IF_ERROR(batch_.Run([&] {
        batch_.pending().ended_attempts.push_back(attempt_id);
        return Status::Ok();
      }));
      continue;
    }
    std::string reason = "lease expired: agent " + attempt->agent + " stopped renewing it (died or cut off)";
    const contract::RetryBudget budget = RetryBudgetOf(*attempt, v1::FAILURE_CLASS_INFRASTRUCTURE, std::nullopt);
    jobs::Decision decision = jobs::OnLeaseExpired(
        {attempt->job_state, attempt->state, attempt->attempts_used, budget.max_attempts}, reason);
    NoteRuleThatEnded(budget, &decision);
    Status status = batch_.Run([&] { return ApplyAttemptDecision(*attempt, decision, reason, -1); });
    GAUNTLET_RETURN_IF_ERROR(status);
    ++farm_.stats.leases_expired_by_cause["agent_silent"];
    spdlog::warn("attempt {} of job {} lost: {}", attempt_id, attempt->job_id, reason);
  }
  return Status::Ok();
}

Status AttemptManager::ApplyAttemptDecision(const store::AttemptRow& attempt, const jobs::Decision& decision,
                                              const std::string& attempt_reason, int exit_code,
                                              v1::FailureClass failure_class, const store::JobOutcome* outcome) {
  const int64_t now = farm_.clock.NowMs();
  if (decision.attempt != v1::ATTEMPT_STATE_UNSPECIFIED) {
    // A report implies the attempt ran, even if its running report was lost.
    GAUNTLET_RETURN_IF_ERROR(farm_.store.EndAttempt(
        attempt.id, {decision.attempt, exit_code, attempt_reason, now, failure_class, outcome != nullptr}));
    if (IsTerminal(decision.attempt)) {
      batch_.pending().ended_attempts.push_back(attempt.id);
      GAUNTLET_RETURN_IF_ERROR(
          RecordDeviceOutcome(farm_, batch_, attempt, decision.attempt, failure_class, attempt_reason));
    }
  }
  if (decision.job == v1::JOB_STATE_UNSPECIFIED) {
    return outcome ? farm_.store.SetJobOutcome(attempt.job_id, *outcome) : Status::Ok();
  }
  GAUNTLET_RETURN_IF_ERROR(farm_.store.SetJobState(attempt.job_id, decision.job, decision.reason, now, outcome));
  GAUNTLET_RETURN_IF_ERROR(farm_.store.AddEvent(now, attempt.sweep_id, attempt.job_id, attempt.id,
                                           jobs::JobStateName(decision.job), decision.reason));
  if (decision.job == v1::JOB_STATE_READY) GAUNTLET_RETURN_IF_ERROR(batch_.RecordReady(attempt.job_id));
  return ApplyDownstream(attempt.job_id, decision.downstream, decision.job);
}

Status AttemptManager::ApplyDownstream(int64_t job_id, jobs::Downstream downstream, v1::JobState settled) {
  if (downstream == jobs::Downstream::kNone) return Status::Ok();
  const int64_t now = farm_.clock.NowMs();
  // Breadth-first: a skip (or an unskip) travels through the whole DAG below.
  std::deque<std::pair<int64_t, v1::JobState>> frontier = {{job_id, settled}};
  std::set<int64_t> seen;
  while (!frontier.empty()) {
    auto [upstream_id, upstream_state] = frontier.front();
    frontier.pop_front();
    GAUNTLET_ASSIGN_OR_RETURN(auto dependents, farm_.store.Dependents(upstream_id));
    for (const auto& [dependent, state] : dependents) {
      if (!seen.insert(dependent).second) continue;
      if (downstream == jobs::Downstream::kUnskip) {
        if (state != v1::JOB_STATE_SKIPPED) continue;
        GAUNTLET_RETURN_IF_ERROR(farm_.store.SetJobState(dependent, v1::JOB_STATE_PENDING, "", now));
        frontier.emplace_back(dependent, v1::JOB_STATE_PENDING);
        continue;
      }
      GAUNTLET_ASSIGN_OR_RETURN(auto upstream_states, farm_.store.UpstreamStates(dependent));
      jobs::Decision decision = jobs::OnUpstreamSettled(state, jobs::Summarize(upstream_states));
      if (!decision.accepted || decision.job == v1::JOB_STATE_UNSPECIFIED) continue;
      std::string reason;
      if (decision.job == v1::JOB_STATE_SKIPPED) {
        reason = "upstream job " + std::to_string(upstream_id) + " " + jobs::JobStateName(upstream_state);
      }
      GAUNTLET_RETURN_IF_ERROR(farm_.store.SetJobState(dependent, decision.job, reason, now));
      if (decision.job == v1::JOB_STATE_READY) GAUNTLET_RETURN_IF_ERROR(batch_.RecordReady(dependent));
      if (decision.downstream == jobs::Downstream::kSkip) frontier.emplace_back(dependent, decision.job);
    }
  }
  return Status::Ok();
}

StatusOr<v1::HeartbeatResponse> AttemptManager::Poll(const v1::HeartbeatRequest& request) {
  v1::HeartbeatResponse response;
  const int64_t now = farm_.clock.NowMs();
  auto found = farm_.mailboxes.find(request.name());
  if (found == farm_.mailboxes.end()) {
    response.set_register_again(true);
    return response;
  }
  found->second->last_seen_ms = now;
  found->second->last_seen_flushed = false;
  std::set<int64_t> reported(request.running_attempts().begin(), request.running_attempts().end());
  for (int64_t attempt_id : reported) {
    auto lease = farm_.leases.find(attempt_id);
    if (lease == farm_.leases.end() || lease->second.agent != request.name()) {
      response.add_cancel_attempts(attempt_id);
      continue;
    }
    GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(attempt_id));
    if (!attempt || IsTerminal(attempt->state) || attempt->job_state == v1::JOB_STATE_CANCELLED) {
      response.add_cancel_attempts(attempt_id);
      continue;
    }
    lease->second.expires_ms = std::max(lease->second.expires_ms, now + farm_.options.lease_ttl_ms);
  }
  GAUNTLET_ASSIGN_OR_RETURN(auto leased, farm_.store.LeasedAttempts(request.name()));
  for (auto& [attempt_id, job] : leased) {
    if (reported.contains(attempt_id)) continue;
    auto* assignment = response.add_assignments();
    assignment->set_attempt_id(attempt_id);
    assignment->set_job_token(farm_.job_tokens.For(attempt_id));
    assignment->mutable_device_indices()->CopyFrom(job.device_indices());
    for (int index : job.device_indices()) {
      auto freed = found->second->freed_at.find(index);
      if (freed == found->second->freed_at.end()) continue;
      farm_.stats.free_to_assigned.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - freed->second).count());
      found->second->freed_at.erase(freed);
    }
    GAUNTLET_ASSIGN_OR_RETURN(auto upstream_ids, farm_.store.UpstreamJobs(job.id()));
    for (int64_t upstream_id : upstream_ids) {
      GAUNTLET_ASSIGN_OR_RETURN(auto upstream, farm_.store.GetJob(upstream_id));
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

v1::ReportAck AttemptManager::CarriedReport(const v1::AttemptReport& report, const std::string& caller,
                                            bool* must_persist) {
  v1::ReportAck ack;
  ack.set_attempt_id(report.attempt_id());
  bool must = false;
  auto response = Report(report, caller, &must);
  if (response) {
    *ack.mutable_response() = std::move(*response);
  } else {
    ack.set_error_code(response.error().RpcCode());
    ack.set_error(response.error().message());
  }
  *must_persist = *must_persist || must;
  return ack;
}

void AttemptManager::Heartbeat(const v1::HeartbeatRequest& request, HeartbeatDone done) {
  ++farm_.stats.heartbeats;
  if (request.reports_size() > 0) {
    std::vector<v1::ReportAck> acks;
    bool must_persist = false;
    for (const auto& report : request.reports()) acks.push_back(CarriedReport(report, request.name(), &must_persist));
    auto answer = [this, request, acks = std::move(acks), done = std::move(done)](const Status& stored) mutable {
      if (!stored.ok()) return done(Err(stored));
      auto response = Poll(request);
      if (response) {
        for (auto& ack : acks) *response->add_acks() = std::move(ack);
      }
      done(std::move(response));
    };
    if (must_persist && farm_.options.group_commit) return batch_.AfterCommit(std::move(answer));
    return answer(must_persist ? batch_.Commit() : Status::Ok());
  }
  auto response = Poll(request);
  if (!response || response->assignments_size() > 0 || response->cancel_attempts_size() > 0 ||
      response->register_again() || farm_.shutting_down || request.wait_ms() <= 0) {
    return done(std::move(response));
  }
  const int64_t wait_ms = std::clamp<int64_t>(request.wait_ms(), 0, farm_.options.max_poll_ms);
  farm_.mailboxes.at(request.name())->parked.push_back({request, farm_.clock.NowMs() + wait_ms, std::move(done)});
}

void AttemptManager::ReportAsync(const v1::AttemptReport& report, const std::string& caller, ReportDone done) {
  bool must_persist = false;
  auto response = Report(report, caller, &must_persist);
  if (!response || !must_persist) return done(std::move(response));
  if (!farm_.options.group_commit) {
    Status committed = batch_.Commit();
    return done(committed.ok() ? std::move(response) : Err(committed));
  }
  batch_.AfterCommit([response = std::move(*response), done = std::move(done)](const Status& stored) mutable {
    done(stored.ok() ? StatusOr<v1::ReportAttemptResponse>(std::move(response)) : Err(stored));
  });
}

StatusOr<v1::ReportAttemptResponse> AttemptManager::Report(const v1::AttemptReport& report, const std::string& caller,
                                                           bool* must_persist) {
  *must_persist = false;
  ++farm_.stats.reports;
  v1::ReportAttemptResponse response;
  GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(report.attempt_id()));
  if (!attempt) return Err(Status::NotFound("no attempt " + std::to_string(report.attempt_id())));
  if (!caller.empty() && attempt->agent != caller) {
    spdlog::warn("refused agent {}'s report for attempt {}, leased to agent {}", caller, attempt->id, attempt->agent);
    return Err(Status::PermissionDenied("attempt " + std::to_string(attempt->id) + " is not leased to agent " + caller));
  }
  const int64_t now = farm_.clock.NowMs();

  if (report.state() == v1::ATTEMPT_STATE_RUNNING) {
    jobs::Decision decision = jobs::OnStarted(attempt->job_state, attempt->state);
    response.set_duplicate(decision.duplicate);
    response.set_stale(decision.stale || decision.stop_attempt);
    if (decision.attempt == v1::ATTEMPT_STATE_UNSPECIFIED) return response;
    Status status = farm_.store.Transaction([&]() -> Status {
      GAUNTLET_RETURN_IF_ERROR(farm_.store.MarkAttemptRunning(attempt->id, now));
      if (decision.job != v1::JOB_STATE_UNSPECIFIED) {
        GAUNTLET_RETURN_IF_ERROR(farm_.store.SetJobState(attempt->job_id, decision.job, "", now));
      }
      return farm_.store.AddEvent(now, attempt->sweep_id, attempt->job_id, attempt->id, "running",
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
    GAUNTLET_ASSIGN_OR_RETURN(bool uploaded, farm_.store.HasArtifact(ref.sha256()));
    if (!uploaded) {
      return Err(Status::FailedPrecondition("artifact " + ref.name() + " (" + ref.sha256() +
                                            ") was not uploaded; upload it before reporting"));
    }
  }
  Status status = batch_.Run([&]() -> Status {
    GAUNTLET_RETURN_IF_ERROR(
        farm_.store.StoreResult(attempt->job_id, attempt->id, report.metrics(), report.artifacts(), now));
    GAUNTLET_RETURN_IF_ERROR(farm_.store.StoreTestCases(attempt->job_id, attempt->id, report.test_cases()));
    const store::JobOutcome outcome{report.verdict(), report.result_json()};
    return ApplyAttemptDecision(*attempt, decision, report.reason(), report.exit_code(),
                                      report.failure_class(), &outcome);
  });
  if (!status.ok()) return Err(status);
  // Acknowledged only once durable: an agent that hears nothing sends it again.
  batch_.NoteReport();
  *must_persist = true;
  spdlog::info("attempt {} of job {} {}{}", attempt->id, attempt->job_id, jobs::AttemptStateName(report.state()),
               report.reason().empty() ? "" : ": " + report.reason());
  return response;
}

void AttemptManager::Notify(const std::string& agent) {
  auto found = farm_.mailboxes.find(agent);
  if (found == farm_.mailboxes.end()) return;
  ++found->second->generation;
  found->second->changed.notify_all();
  WakeParked(*found->second, /*news_possible=*/true);
}

void AttemptManager::WakeParked(Mailbox& mailbox, bool news_possible) {
  if (mailbox.parked.empty()) return;
  const int64_t now = farm_.clock.NowMs();
  std::vector<ParkedPoll> still;
  for (auto& poll : mailbox.parked) {
    // Without news for this agent only an ended wait needs an answer.
    if (!news_possible && now < poll.deadline_ms && !farm_.shutting_down) {
      still.push_back(std::move(poll));
      continue;
    }
    auto response = Poll(poll.request);
    const bool news = !response || response->assignments_size() > 0 || response->cancel_attempts_size() > 0 ||
                      response->register_again();
    if (news || now >= poll.deadline_ms || farm_.shutting_down) {
      poll.done(std::move(response));
    } else {
      still.push_back(std::move(poll));
    }
  }
  mailbox.parked = std::move(still);
}

void AttemptManager::WakeAllParked() {
  for (auto& [name, mailbox] : farm_.mailboxes) WakeParked(*mailbox, /*news_possible=*/false);
}

}  // namespace gauntlet::core
