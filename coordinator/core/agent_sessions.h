// Which agent a session credential belongs to. Read on every agent call
// before it joins the loop's queue, so it has its own lock instead of the
// manager's; written at Register and revoke (under the manager's lock too).
// Holds only the credentials' hashes.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gauntlet::core {

class AgentSessions {
 public:
  // The agent whose session `token` is; "" for none (missing, wrong, revoked, replaced).
  std::string AgentOf(std::string_view token) const;
  // The agent's current session hash; "" when it has none.
  std::string HashOf(const std::string& agent) const;
  int64_t RevokedAt(const std::string& agent) const;

  void Set(const std::string& agent, const std::string& session_hash);
  void SetRevoked(const std::string& agent, int64_t revoked_at_ms);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> agent_by_hash_;
  std::unordered_map<std::string, std::string> hash_by_agent_;
  std::unordered_map<std::string, int64_t> revoked_at_;
};

}  // namespace gauntlet::core
