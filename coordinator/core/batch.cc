#include "coordinator/core/batch.h"

#include <chrono>
#include <csignal>

#include <spdlog/spdlog.h>

namespace gauntlet::core {

Status Batch::Commit() {
  if (!farm_.store.InBatch()) return Status::Ok();
  if (farm_.options.crash_before_batch > 0 && has_reports_ &&
      ++report_batches_ == farm_.options.crash_before_batch) {
    spdlog::critical("test hook: killing the coordinator before committing batch {}", seq_);
    std::raise(SIGKILL);
  }
  has_reports_ = false;
  const auto started = std::chrono::steady_clock::now();
  Status status = farm_.store.CommitBatch();
  farm_.stats.commit.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  ++farm_.stats.commits;
  if (status.ok()) farm_.stats.reports_committed += reports_;
  reports_ = 0;
  if (status.ok()) {
    committed_seq_ = seq_;
  } else {
    failed_seq_ = seq_;
    last_error_ = status;
    spdlog::error("commit of batch {} failed, its operations are refused: {}", seq_, status.ToString());
    if (Status reloaded = ReloadMemory(); !reloaded.ok()) {
      spdlog::critical("cannot rebuild the scheduler's state from the store: {}", reloaded.ToString());
    }
  }
  AnswerWaiting();
  return status;
}

void Batch::AfterCommit(std::function<void(const Status&)> finish) {
  waiting_.push_back({seq_, std::move(finish)});
  farm_.WantPass();
}

void Batch::AnswerWaiting() {
  std::vector<Waiting> still;
  for (auto& waiting : waiting_) {
    if (committed_seq_ >= waiting.batch) {
      waiting.finish(Status::Ok());
    } else if (failed_seq_ >= waiting.batch) {
      waiting.finish(Status::Unavailable("not stored: " + last_error_.message() + "; send it again"));
    } else if (farm_.shutting_down) {
      waiting.finish(Status::Unavailable("the coordinator is shutting down; send it again"));
    } else {
      still.push_back(std::move(waiting));
    }
  }
  waiting_ = std::move(still);
}

Status Batch::RecordReady(int64_t job_id) {
  GAUNTLET_ASSIGN_OR_RETURN(sched::ReadyJob job, farm_.store.ReadyJobOf(job_id));
  pending_.became_ready.push_back(std::move(job));
  return Status::Ok();
}

void Batch::ApplyPending() {
  for (int64_t job_id : pending_.left_ready) farm_.cluster.RemoveReady(job_id);
  const auto now = std::chrono::steady_clock::now();
  for (int64_t attempt_id : pending_.ended_attempts) {
    auto lease = farm_.leases.find(attempt_id);
    if (lease == farm_.leases.end()) continue;
    farm_.cluster.Release(lease->second.agent, lease->second.devices);
    if (auto mailbox = farm_.mailboxes.find(lease->second.agent); mailbox != farm_.mailboxes.end()) {
      for (int index : lease->second.devices) mailbox->second->freed_at[index] = now;
    }
    farm_.leases.erase(lease);
  }
  for (const auto& job : pending_.became_ready) farm_.cluster.AddReady(job);
  for (const auto& row : pending_.device_health) {
    farm_.device_health[{row.agent, row.index}] = row.health;
    farm_.cluster.SetHealthy(row.agent, row.index, row.health.in_service());
  }
  if (!pending_.became_ready.empty() || !pending_.ended_attempts.empty() || !pending_.device_health.empty()) {
    farm_.WantPass();
  }
  pending_ = {};
}

Status Batch::ReloadMemory() {
  farm_.cluster = sched::ClusterState();
  GAUNTLET_ASSIGN_OR_RETURN(auto health, farm_.store.DeviceHealthRows());
  farm_.device_health.clear();
  for (const auto& row : health) farm_.device_health[{row.agent, row.index}] = row.health;
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::Node> nodes, farm_.store.SchedulingNodes(0));
  for (auto node : nodes) {
    auto mailbox = farm_.mailboxes.find(node.name);
    node.schedulable = mailbox != farm_.mailboxes.end() && !mailbox->second->drained;
    farm_.cluster.SetNode(node);
  }
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<sched::ReadyJob> ready, farm_.store.ReadyJobs());
  for (const auto& job : ready) farm_.cluster.AddReady(job);
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<store::ActiveAttempt> active, farm_.store.ActiveAttempts());
  std::unordered_map<int64_t, Lease> leases;
  const int64_t now = farm_.clock.NowMs();
  for (const auto& attempt : active) {
    auto known = farm_.leases.find(attempt.id);
    leases[attempt.id] = {known != farm_.leases.end() ? known->second.expires_ms : now + farm_.options.lease_ttl_ms,
                          attempt.agent, attempt.device_indices};
  }
  farm_.leases = std::move(leases);
  return Status::Ok();
}

}  // namespace gauntlet::core
