// Agents: registration (with the attempts an agent no longer runs lost at
// once), the list the board and CLI show, draining, revoking, and
// last-seen times kept in memory and flushed to the store now and then.
//
// Who may register under a name: the holder of its current session (an
// agent re-registering after an outage or a coordinator restart); else,
// when no live agent holds the name, anyone with a registration token
// (any agent on a farm without tokens), which starts a new session and
// kills the old one. A second process claiming a live agent's name is
// refused and logged; a revoked name is refused until undone.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "coordinator/auth/failure_limiter.h"
#include "coordinator/core/attempts.h"
#include "coordinator/core/batch.h"
#include "coordinator/core/farm.h"
#include "gauntlet/v1/agent.pb.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

class AgentManager {
 public:
  AgentManager(Farm& farm, Batch& batch, AttemptManager& attempts)
      : farm_(farm), batch_(batch), attempts_(attempts) {}

  // Loads every known agent's mailbox (drained, last seen) at start-up.
  Status Recover();
  struct Presented {
    std::string session;             // "authorization: Bearer ..." of the call.
    std::string registration_token;  // The registration-token header of the call.
    std::string peer;                // The caller's address, for the failure limit.
  };
  StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request, const Presented& presented);
  StatusOr<v1::Agent> RevokeAgent(const v1::RevokeAgentRequest& request);
  StatusOr<std::vector<v1::Agent>> ListAgents();
  StatusOr<v1::Agent> DrainAgent(const v1::DrainAgentRequest& request);
  // Writes last-seen times that changed, at most every kLastSeenFlushMs:
  // heartbeats that change nothing write nothing.
  Status FlushLastSeenIfDue();

 private:
  // Ends every active attempt of `agent` except those in `keep`, as lost:
  // each job retries where its budget allows.
  StatusOr<std::vector<int64_t>> LoseAttempts(const std::string& agent, const std::set<int64_t>& keep,
                                              const std::string& reason);
  // Whether `presented` may take the name; the token that admits it, if one did.
  StatusOr<const auth::AgentToken*> Admit(const v1::RegisterRequest& request, const Presented& presented,
                                          bool* same_session);

  // Registration tokens may be weaker than sessions (people choose them):
  // a peer that fails too often may not present one for a while.
  auth::FailureLimiter registration_failures_{constants::kMaxFailedAuthPerWindow, constants::kFailedAuthWindowMs};
  Farm& farm_;
  Batch& batch_;
  AttemptManager& attempts_;
  int64_t last_flush_ms_ = 0;
};

}  // namespace gauntlet::core
