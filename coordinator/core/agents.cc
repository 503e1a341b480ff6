#include "coordinator/core/agents.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "coordinator/core/retry_budget.h"
#include "lib/names/names.h"

namespace gauntlet::core {

Status AgentManager::Recover() {
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<v1::Agent> agents, farm_.store.ListAgents(0));
  for (const auto& agent : agents) {
    Mailbox& mailbox = farm_.MailboxOf(agent.name());
    mailbox.last_seen_ms = agent.last_heartbeat_ms();
    mailbox.drained = agent.drained();
  }
  last_flush_ms_ = farm_.clock.NowMs();
  return Status::Ok();
}

StatusOr<v1::RegisterResponse> AgentManager::Register(const v1::RegisterRequest& request) {
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
  const int64_t now = farm_.clock.NowMs();
  std::vector<v1::Device> devices(request.devices().begin(), request.devices().end());
  std::set<int64_t> still_running(request.running_attempts().begin(), request.running_attempts().end());
  std::vector<int64_t> lost;
  bool drained = false;
  Status status = batch_.Run([&]() -> Status {
    lost.clear();
    std::vector<std::string> tags(request.tags().begin(), request.tags().end());
    std::vector<std::string> suites(request.suites().begin(), request.suites().end());
    GAUNTLET_RETURN_IF_ERROR(farm_.store.UpsertAgent(request.name(), request.version(), tags, devices, now, suites));
    GAUNTLET_ASSIGN_OR_RETURN(auto active, farm_.store.ActiveAttemptIds(request.name()));
    for (int64_t attempt_id : active) {
      if (still_running.contains(attempt_id)) continue;
      GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(attempt_id));
      if (!attempt) continue;
      // The agent restarted and no longer runs it: no need to wait for the lease.
      std::string reason = "agent " + request.name() + " restarted without it";
      const contract::RetryBudget budget = RetryBudgetOf(*attempt, v1::FAILURE_CLASS_INFRASTRUCTURE, std::nullopt);
      jobs::Decision decision = jobs::OnAgentLostAttempt(
          {attempt->job_state, attempt->state, attempt->attempts_used, budget.max_attempts}, reason);
      NoteRuleThatEnded(budget, &decision);
      if (!decision.accepted) continue;
      GAUNTLET_RETURN_IF_ERROR(attempts_.ApplyAttemptDecision(*attempt, decision, reason, -1));
      lost.push_back(attempt_id);
    }
    return farm_.store.AddEvent(now, 0, 0, 0, "agent", "agent " + request.name() + " registered with " +
                                                      std::to_string(devices.size()) + " devices");
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  farm_.stats.leases_expired_by_cause["agent_restarted"] += static_cast<int64_t>(lost.size());
  Mailbox& mailbox = farm_.MailboxOf(request.name());
  drained = mailbox.drained;
  sched::Node node;
  node.name = request.name();
  node.schedulable = !drained;
  node.tags.assign(request.tags().begin(), request.tags().end());
  for (const auto& device : devices) node.devices.push_back({device.index(), device.kind(), true});
  std::sort(node.devices.begin(), node.devices.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  farm_.cluster.SetNode(node);
  mailbox.last_seen_ms = now;
  mailbox.last_seen_flushed = true;
  for (int64_t attempt_id : still_running) {
    auto lease = farm_.leases.find(attempt_id);
    if (lease != farm_.leases.end() && lease->second.agent == request.name()) {
      lease->second.expires_ms = std::max(lease->second.expires_ms, now + farm_.options.lease_ttl_ms);
    }
  }
  spdlog::info("agent {} registered with {} devices, {} running attempts", request.name(), devices.size(),
               request.running_attempts_size());
  farm_.WantPass();
  v1::RegisterResponse response;
  response.set_lease_ttl_ms(farm_.options.lease_ttl_ms);
  return response;
}

StatusOr<std::vector<v1::Agent>> AgentManager::ListAgents() {
  GAUNTLET_ASSIGN_OR_RETURN(auto agents, farm_.store.ListAgents(0));
  for (auto& agent : agents) {
    auto found = farm_.mailboxes.find(agent.name());
    if (found != farm_.mailboxes.end()) agent.set_last_heartbeat_ms(found->second->last_seen_ms);
    agent.set_alive(farm_.Alive(agent.name()));
  }
  return agents;
}

StatusOr<v1::Agent> AgentManager::DrainAgent(const v1::DrainAgentRequest& request) {
  bool found = false;
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(found, farm_.store.SetDrained(request.name(), !request.undrain()));
    return Status::Ok();
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  if (!found) return Err(Status::NotFound("no agent '" + request.name() + "'; 'gauntlet agents' lists them"));
  farm_.MailboxOf(request.name()).drained = !request.undrain();
  if (request.undrain()) farm_.WantPass();
  GAUNTLET_ASSIGN_OR_RETURN(auto agents, ListAgents());
  for (auto& agent : agents) {
    if (agent.name() == request.name()) return agent;
  }
  return Err(Status::NotFound("agent '" + request.name() + "' vanished"));
}

Status AgentManager::FlushLastSeenIfDue() {
  if (farm_.clock.NowMs() - last_flush_ms_ < constants::kLastSeenFlushMs) return Status::Ok();
  last_flush_ms_ = farm_.clock.NowMs();
  return farm_.store.Transaction([&]() -> Status {
    for (auto& [name, mailbox] : farm_.mailboxes) {
      if (mailbox->last_seen_flushed) continue;
      GAUNTLET_ASSIGN_OR_RETURN(bool known, farm_.store.TouchAgent(name, mailbox->last_seen_ms));
      (void)known;  // An agent seen here registered, so its row exists.
      mailbox->last_seen_flushed = true;
    }
    return Status::Ok();
  });
}

}  // namespace gauntlet::core
