// Job and attempt states: which end a job's life, and their names. The rules
// of moving between them are in state_machine.h.
#pragma once

#include <string>

#include "gauntlet/v1/types.pb.h"

namespace gauntlet::jobs {

using v1::AttemptState;
using v1::JobState;

// No further change will happen without a user's retry.
bool IsTerminal(JobState state);
bool IsTerminal(AttemptState state);

// Not yet ended: waiting, queued or holding devices.
bool IsUnfinished(JobState state);

// Short lower-case names used by the CLI, the API and the board: "running".
std::string JobStateName(JobState state);
std::string AttemptStateName(AttemptState state);
// Parses a name as printed by JobStateName; UNSPECIFIED when unknown.
JobState ParseJobState(const std::string& name);

// What a sweep came to, as the CLI and the board say it. A finished sweep
// that a user stopped (cancelled jobs, none failed) is cancelled, not failed.
enum class SweepOutcome { kRunning, kSucceeded, kFailed, kCancelled };
SweepOutcome OutcomeOf(const v1::Sweep& sweep);

}  // namespace gauntlet::jobs
