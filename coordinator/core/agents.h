// Agents: registration (with the attempts an agent no longer runs lost at
// once), the list the board and CLI show, draining, and last-seen times
// kept in memory and flushed to the store now and then.
#pragma once

#include <vector>

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
  StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request);
  StatusOr<std::vector<v1::Agent>> ListAgents();
  StatusOr<v1::Agent> DrainAgent(const v1::DrainAgentRequest& request);
  // Writes last-seen times that changed, at most every kLastSeenFlushMs:
  // heartbeats that change nothing write nothing.
  Status FlushLastSeenIfDue();

 private:
  Farm& farm_;
  Batch& batch_;
  AttemptManager& attempts_;
  int64_t last_flush_ms_ = 0;
};

}  // namespace gauntlet::core
