// The rules of the job and attempt state machines (docs/architecture.md).
// Pure functions over the proto enums; the store applies what they decide.
#pragma once

#include <string>

#include "gauntlet/v1/types.pb.h"

namespace gauntlet::sched {

using v1::AttemptState;
using v1::JobState;

// No further change will happen without a user's retry.
bool IsTerminal(JobState state);
bool IsTerminal(AttemptState state);

// The job's state once an attempt ends in `outcome`. `attempts_used` counts
// attempts since the last manual retry, this one included. A failed or lost
// attempt is retried while attempts remain.
JobState JobStateAfterAttempt(AttemptState outcome, int attempts_used, int max_attempts);

// Short lower-case names used by the CLI, the API and the board: "running".
std::string JobStateName(JobState state);
std::string AttemptStateName(AttemptState state);
// Parses a name as printed by JobStateName; UNSPECIFIED when unknown.
JobState ParseJobState(const std::string& name);

}  // namespace gauntlet::sched
