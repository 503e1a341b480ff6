// The rules of a job's life, as pure functions: one per event, each taking
// the facts the event needs and returning a decision (new states, what
// happens downstream, what the agent is told). No SQL, no threads, no clock:
// the coordinator gathers the facts, calls one of these and stores what it
// says. docs/architecture.md draws the machine; tests/unit/
// state_machine_test.cc runs every state through every event.
#pragma once

#include <string>
#include <vector>

#include "gauntlet/v1/types.pb.h"
#include "lib/jobs/job_state.h"

namespace gauntlet::jobs {

// What a job's settled state means for the jobs that depend on it.
enum class Downstream {
  kNone,     // Nothing to tell them.
  kPromote,  // The job succeeded: dependents whose upstream all succeeded become ready.
  kSkip,     // The job ended without success: pending dependents are skipped.
  kUnskip,   // The job was retried: skipped dependents wait again.
};

struct Decision {
  // False: the event does not apply in this state; nothing changes, and
  // `reason` says why (for a user's request, a message naming the fix).
  bool accepted = true;
  JobState job = v1::JOB_STATE_UNSPECIFIED;              // UNSPECIFIED: unchanged.
  AttemptState attempt = v1::ATTEMPT_STATE_UNSPECIFIED;  // UNSPECIFIED: unchanged or none.
  Downstream downstream = Downstream::kNone;
  // A repeat of a report already applied: acknowledge, change nothing.
  bool duplicate = false;
  // The report is for an attempt that no longer counts (lost, cancelled): the
  // agent must stop it.
  bool stale = false;
  // Tell the agent running the attempt to stop it.
  bool stop_attempt = false;
  std::string reason;  // The job's new reason (or the refusal).
};

// Where a job's upstream jobs stand.
struct UpstreamFacts {
  int total = 0;
  int succeeded = 0;  // succeeded or cached
  int failed = 0;     // failed, cancelled or skipped
};
UpstreamFacts Summarize(const std::vector<JobState>& upstream_states);

// A job entering the store. `cache_hit`: it is cacheable, its stage is not
// forced, and a succeeded job with its content key exists.
Decision OnSubmitted(bool cache_hit, const UpstreamFacts& upstream);

// An upstream job settled: a pending job may become ready or skipped.
Decision OnUpstreamSettled(JobState job, const UpstreamFacts& upstream);

// The scheduler gave a ready job an attempt on an agent.
Decision OnLeased(JobState job);

// The agent reports the attempt started.
Decision OnStarted(JobState job, AttemptState attempt);

// The facts of an attempt that ends.
struct AttemptFacts {
  JobState job = v1::JOB_STATE_UNSPECIFIED;
  AttemptState attempt = v1::ATTEMPT_STATE_UNSPECIFIED;
  int attempts_used = 0;  // Since the last manual retry, this one included.
  int max_attempts = 1;
};

// The agent reports the attempt ended in `reported` (succeeded, failed or
// cancelled). `retryable` is false when the failure cannot heal by running
// again (a verdict, bad parameters): the job then fails at once.
Decision OnReported(const AttemptFacts& facts, AttemptState reported, bool retryable, const std::string& reason);

// No heartbeat renewed the lease in time.
Decision OnLeaseExpired(const AttemptFacts& facts, const std::string& reason);

// The agent registered again and no longer runs the attempt.
Decision OnAgentLostAttempt(const AttemptFacts& facts, const std::string& reason);

// A user cancels the job. `attempt` is its active attempt's state, if any
// (UNSPECIFIED when none).
Decision OnCancelled(JobState job, AttemptState attempt);

// A user retries the job: a fresh attempt budget.
Decision OnRetried(JobState job, const UpstreamFacts& upstream);

}  // namespace gauntlet::jobs
