#include "coordinator/core/agent_sessions.h"

#include "lib/rpc/credentials.h"

namespace gauntlet::core {

std::string AgentSessions::AgentOf(std::string_view token) const {
  if (token.empty()) return "";
  const std::string hash = rpc::SecretHash(token);
  std::lock_guard lock(mu_);
  auto found = agent_by_hash_.find(hash);
  return found == agent_by_hash_.end() ? "" : found->second;
}

std::string AgentSessions::HashOf(const std::string& agent) const {
  std::lock_guard lock(mu_);
  auto found = hash_by_agent_.find(agent);
  return found == hash_by_agent_.end() ? "" : found->second;
}

int64_t AgentSessions::RevokedAt(const std::string& agent) const {
  std::lock_guard lock(mu_);
  auto found = revoked_at_.find(agent);
  return found == revoked_at_.end() ? 0 : found->second;
}

void AgentSessions::Set(const std::string& agent, const std::string& session_hash) {
  std::lock_guard lock(mu_);
  if (auto old = hash_by_agent_.find(agent); old != hash_by_agent_.end()) {
    agent_by_hash_.erase(old->second);
    hash_by_agent_.erase(old);
  }
  if (session_hash.empty()) return;
  hash_by_agent_[agent] = session_hash;
  agent_by_hash_[session_hash] = agent;
}

void AgentSessions::SetRevoked(const std::string& agent, int64_t revoked_at_ms) {
  {
    std::lock_guard lock(mu_);
    if (revoked_at_ms == 0) {
      revoked_at_.erase(agent);
      return;
    }
    revoked_at_[agent] = revoked_at_ms;
  }
  Set(agent, "");
}

}  // namespace gauntlet::core
