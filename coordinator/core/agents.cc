#include "coordinator/core/agents.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "coordinator/core/device_health.h"
#include "coordinator/core/retry_budget.h"
#include "lib/names/names.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::core {

Status AgentManager::Recover() {
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<v1::Agent> agents, farm_.store.ListAgents(0));
  for (const auto& agent : agents) {
    Mailbox& mailbox = farm_.MailboxOf(agent.name());
    mailbox.last_seen_ms = agent.last_heartbeat_ms();
    mailbox.drained = agent.drained();
  }
  GAUNTLET_ASSIGN_OR_RETURN(auto sessions, farm_.store.AgentSessions());
  for (const auto& row : sessions) {
    farm_.sessions.Set(row.name, row.session_hash);
    farm_.sessions.SetRevoked(row.name, row.revoked_at_ms);
  }
  last_flush_ms_ = farm_.clock.NowMs();
  return Status::Ok();
}

StatusOr<std::vector<int64_t>> AgentManager::LoseAttempts(const std::string& agent, const std::set<int64_t>& keep,
                                                          const std::string& reason) {
  std::vector<int64_t> lost;
  GAUNTLET_ASSIGN_OR_RETURN(auto active, farm_.store.ActiveAttemptIds(agent));
  for (int64_t attempt_id : active) {
    if (keep.contains(attempt_id)) continue;
    GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(attempt_id));
    if (!attempt) continue;
    const contract::RetryBudget budget = RetryBudgetOf(*attempt, v1::FAILURE_CLASS_INFRASTRUCTURE, std::nullopt);
    jobs::Decision decision = jobs::OnAgentLostAttempt(
        {attempt->job_state, attempt->state, attempt->attempts_used, budget.max_attempts}, reason);
    NoteRuleThatEnded(budget, &decision);
    if (!decision.accepted) continue;
    GAUNTLET_RETURN_IF_ERROR(attempts_.ApplyAttemptDecision(*attempt, decision, reason, -1));
    lost.push_back(attempt_id);
  }
  return lost;
}

StatusOr<const auth::AgentToken*> AgentManager::Admit(const v1::RegisterRequest& request, const Presented& presented,
                                                      bool* same_session) {
  const std::string& name = request.name();
  if (int64_t revoked = farm_.sessions.RevokedAt(name); revoked != 0) {
    spdlog::warn("refused a registration as revoked agent {}", name);
    return Err(Status::PermissionDenied("register: agent " + name + " was revoked; `gauntlet agents revoke " + name +
                                        " --undo` lets it register again"));
  }
  const std::string current = farm_.sessions.HashOf(name);
  *same_session = !current.empty() && !presented.session.empty() && farm_.sessions.AgentOf(presented.session) == name;
  if (*same_session) return nullptr;
  if (!current.empty() && farm_.Alive(name)) {
    spdlog::warn("refused a second agent claiming the name {} of a live agent (no valid session credential)", name);
    return Err(Status::PermissionDenied("register: the name " + name +
                                        " is held by a live agent; start this one with another --name, or "
                                        "`gauntlet agents revoke " + name + "` first"));
  }
  if (farm_.options.agent_tokens.empty()) return nullptr;
  const int64_t now = farm_.clock.NowMs();
  if (int64_t wait_ms = registration_failures_.BlockedFor(presented.peer, now)) {
    return Err(Status::ResourceExhausted("register: too many failed registrations from " + presented.peer +
                                         "; try again in " + std::to_string((wait_ms + 999) / 1000) + " s"));
  }
  const auth::AgentToken* token =
      presented.registration_token.empty()
          ? nullptr
          : auth::FindAgentToken(farm_.options.agent_tokens, rpc::SecretHash(presented.registration_token));
  if (!token) {
    spdlog::warn("refused agent {}: {} registration token", name,
                 presented.registration_token.empty() ? "no" : "an unknown");
    registration_failures_.Failed(presented.peer, now);
    return Err(Status::Unauthenticated("register: agent " + name + " has no valid registration token; give it "
                                       "--token-file FILE or GAUNTLET_AGENT_TOKEN (docs/security.md)"));
  }
  std::vector<std::string> kinds;
  for (const auto& device : request.devices()) kinds.push_back(device.kind());
  std::vector<std::string> tags(request.tags().begin(), request.tags().end());
  if (Status admitted = auth::CheckAdmission(*token, kinds, tags); !admitted.ok()) {
    spdlog::warn("refused agent {}: {}", name, admitted.message());
    registration_failures_.Failed(presented.peer, now);
    return Err(admitted);
  }
  return token;
}

StatusOr<v1::RegisterResponse> AgentManager::Register(const v1::RegisterRequest& request, const Presented& presented) {
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
  bool same_session = false;
  GAUNTLET_ASSIGN_OR_RETURN(const auth::AgentToken* token, Admit(request, presented, &same_session));
  // A new session: a fresh credential, of which only the hash is kept.
  const std::string session = same_session ? presented.session : rpc::NewSecret();
  const std::string session_hash = rpc::SecretHash(session);
  const int64_t now = farm_.clock.NowMs();
  std::vector<v1::Device> devices(request.devices().begin(), request.devices().end());
  std::set<int64_t> still_running(request.running_attempts().begin(), request.running_attempts().end());
  std::vector<int64_t> lost;
  bool drained = false;
  Status status = batch_.Run([&]() -> Status {
    lost.clear();
    std::vector<std::string> tags(request.tags().begin(), request.tags().end());
    std::vector<std::string> suites(request.suites().begin(), request.suites().end());
    GAUNTLET_RETURN_IF_ERROR(farm_.store.UpsertAgent(request.name(), request.version(), tags, devices, now, suites,
                                                     request.inventory()));
    if (!same_session) {
      GAUNTLET_RETURN_IF_ERROR(farm_.store.SetAgentSession(request.name(), session_hash, token ? token->name : ""));
    }
    // What a new session does not say it runs, it no longer runs (the
    // agent restarted, or another process took the name of a dead one):
    // no need to wait for the lease.
    GAUNTLET_ASSIGN_OR_RETURN(lost, LoseAttempts(request.name(), still_running,
                                                 "agent " + request.name() + " restarted without it"));
    return farm_.store.AddEvent(now, 0, 0, 0, "agent", "agent " + request.name() + " registered with " +
                                                      std::to_string(devices.size()) + " devices");
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  farm_.sessions.Set(request.name(), session_hash);
  farm_.stats.leases_expired_by_cause["agent_restarted"] += static_cast<int64_t>(lost.size());
  Mailbox& mailbox = farm_.MailboxOf(request.name());
  drained = mailbox.drained;
  sched::Node node;
  node.name = request.name();
  node.schedulable = !drained;
  node.tags.assign(request.tags().begin(), request.tags().end());
  for (const auto& device : devices) {
    auto health = farm_.device_health.find({request.name(), device.index()});
    const bool healthy = health == farm_.device_health.end() || health->second.in_service();
    node.devices.push_back({device.index(), device.kind(), true, healthy});
  }
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
  response.set_session(session);
  return response;
}

StatusOr<std::vector<v1::Agent>> AgentManager::ListAgents() {
  GAUNTLET_ASSIGN_OR_RETURN(auto agents, farm_.store.ListAgents(0));
  for (auto& agent : agents) {
    auto found = farm_.mailboxes.find(agent.name());
    if (found != farm_.mailboxes.end()) agent.set_last_heartbeat_ms(found->second->last_seen_ms);
    agent.set_alive(farm_.Alive(agent.name()));
    DescribeHealth(farm_, &agent);
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

StatusOr<v1::Agent> AgentManager::RevokeAgent(const v1::RevokeAgentRequest& request) {
  const int64_t now = farm_.clock.NowMs();
  bool found = false;
  std::vector<int64_t> lost;
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(found, farm_.store.SetAgentRevoked(request.name(), request.undo() ? 0 : now));
    if (!found || request.undo()) return Status::Ok();
    GAUNTLET_ASSIGN_OR_RETURN(lost, LoseAttempts(request.name(), {}, "agent " + request.name() + " was revoked"));
    return farm_.store.AddEvent(now, 0, 0, 0, "agent", "agent " + request.name() + " revoked; " +
                                                      std::to_string(lost.size()) + " running attempts lost");
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  if (!found) return Err(Status::NotFound("no agent '" + request.name() + "'; 'gauntlet agents' lists them"));
  farm_.sessions.SetRevoked(request.name(), request.undo() ? 0 : now);
  if (!request.undo()) {
    // No new work, at once: its heartbeats are refused from now on.
    farm_.MailboxOf(request.name()).last_seen_ms = 0;
    farm_.cluster.SetSchedulable(request.name(), false);
    farm_.stats.leases_expired_by_cause["agent_revoked"] += static_cast<int64_t>(lost.size());
    spdlog::warn("agent {} revoked: its session ends, {} running attempts lost", request.name(), lost.size());
    farm_.WantPass();
  }
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
