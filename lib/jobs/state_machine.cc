#include "lib/jobs/state_machine.h"

namespace gauntlet::jobs {
namespace {

Decision Refuse(std::string reason) {
  Decision decision;
  decision.accepted = false;
  decision.reason = std::move(reason);
  return decision;
}

bool FailedLike(JobState state) {
  return state == v1::JOB_STATE_FAILED || state == v1::JOB_STATE_CANCELLED || state == v1::JOB_STATE_SKIPPED;
}

// The job's state once its attempt ended in `outcome`, for an attempt the
// job still counts.
Decision Settle(const AttemptFacts& facts, AttemptState outcome, bool retryable, const std::string& reason) {
  Decision decision;
  decision.attempt = outcome;
  // A job the user cancelled stays cancelled whatever its last attempt did.
  if (facts.job == v1::JOB_STATE_CANCELLED) return decision;
  switch (outcome) {
    case v1::ATTEMPT_STATE_SUCCEEDED:
      decision.job = v1::JOB_STATE_SUCCEEDED;
      decision.downstream = Downstream::kPromote;
      return decision;
    case v1::ATTEMPT_STATE_CANCELLED:
      decision.job = v1::JOB_STATE_CANCELLED;
      decision.downstream = Downstream::kSkip;
      decision.reason = reason;
      return decision;
    default:
      break;
  }
  if (retryable && facts.attempts_used < facts.max_attempts) {
    decision.job = v1::JOB_STATE_READY;
    decision.reason = "attempt " + std::to_string(facts.attempts_used) + " of " + std::to_string(facts.max_attempts) +
                      " " + AttemptStateName(outcome) + ": " + reason + "; retrying";
    return decision;
  }
  decision.job = v1::JOB_STATE_FAILED;
  decision.downstream = Downstream::kSkip;
  decision.reason = reason;
  if (!retryable && facts.attempts_used < facts.max_attempts) decision.reason += " (not retried: it cannot heal)";
  return decision;
}

bool ActiveAttempt(AttemptState attempt) {
  return attempt == v1::ATTEMPT_STATE_LEASED || attempt == v1::ATTEMPT_STATE_RUNNING;
}

}  // namespace

UpstreamFacts Summarize(const std::vector<JobState>& upstream_states) {
  UpstreamFacts facts;
  facts.total = static_cast<int>(upstream_states.size());
  for (JobState state : upstream_states) {
    if (state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_CACHED) ++facts.succeeded;
    if (FailedLike(state)) ++facts.failed;
  }
  return facts;
}

Decision OnSubmitted(bool cache_hit, const UpstreamFacts& upstream) {
  Decision decision;
  if (cache_hit) {
    decision.job = v1::JOB_STATE_CACHED;
    decision.downstream = Downstream::kPromote;
    return decision;
  }
  if (upstream.failed > 0) {
    decision.job = v1::JOB_STATE_SKIPPED;
    decision.reason = "an upstream job did not succeed";
    return decision;
  }
  decision.job = upstream.succeeded == upstream.total ? v1::JOB_STATE_READY : v1::JOB_STATE_PENDING;
  return decision;
}

Decision OnUpstreamSettled(JobState job, const UpstreamFacts& upstream) {
  if (job != v1::JOB_STATE_PENDING) return Refuse("only a pending job waits on its upstream jobs");
  Decision decision;
  if (upstream.failed > 0) {
    decision.job = v1::JOB_STATE_SKIPPED;
    decision.downstream = Downstream::kSkip;
  } else if (upstream.succeeded == upstream.total) {
    decision.job = v1::JOB_STATE_READY;
  }
  return decision;
}

Decision OnLeased(JobState job) {
  if (job != v1::JOB_STATE_READY) return Refuse("only a ready job can be leased");
  Decision decision;
  decision.job = v1::JOB_STATE_LEASED;
  decision.attempt = v1::ATTEMPT_STATE_LEASED;
  return decision;
}

Decision OnStarted(JobState job, AttemptState attempt) {
  Decision decision;
  if (attempt == v1::ATTEMPT_STATE_RUNNING) {
    decision.duplicate = true;
    return decision;
  }
  if (attempt != v1::ATTEMPT_STATE_LEASED) {
    decision.stale = true;
    decision.stop_attempt = true;
    return decision;
  }
  decision.attempt = v1::ATTEMPT_STATE_RUNNING;
  if (job == v1::JOB_STATE_LEASED) decision.job = v1::JOB_STATE_RUNNING;
  if (job == v1::JOB_STATE_CANCELLED) decision.stop_attempt = true;
  return decision;
}

Decision OnReported(const AttemptFacts& facts, AttemptState reported, bool retryable, const std::string& reason) {
  if (reported != v1::ATTEMPT_STATE_SUCCEEDED && reported != v1::ATTEMPT_STATE_FAILED &&
      reported != v1::ATTEMPT_STATE_CANCELLED) {
    return Refuse("report: state must be running, succeeded, failed or cancelled");
  }
  if (IsTerminal(facts.attempt)) {
    // Completion is idempotent per attempt: a repeat changes nothing, and a
    // report for an attempt that was lost or cancelled meanwhile is stale.
    Decision decision;
    decision.duplicate = facts.attempt == reported;
    decision.stale = facts.attempt != reported;
    return decision;
  }
  return Settle(facts, reported, retryable, reason);
}

Decision OnLeaseExpired(const AttemptFacts& facts, const std::string& reason) {
  if (!ActiveAttempt(facts.attempt)) return Refuse("only an active attempt's lease can expire");
  return Settle(facts, v1::ATTEMPT_STATE_LOST, /*retryable=*/true, reason);
}

Decision OnAgentLostAttempt(const AttemptFacts& facts, const std::string& reason) {
  // A leased attempt the agent never heard of is simply sent again.
  if (facts.attempt != v1::ATTEMPT_STATE_RUNNING) return Refuse("only a running attempt can be lost by its agent");
  return Settle(facts, v1::ATTEMPT_STATE_LOST, /*retryable=*/true, reason);
}

Decision OnCancelled(JobState job, AttemptState attempt) {
  if (IsTerminal(job)) return Refuse("job is already " + JobStateName(job));
  Decision decision;
  decision.job = v1::JOB_STATE_CANCELLED;
  decision.downstream = Downstream::kSkip;
  decision.reason = "cancelled by user";
  // An attempt no agent has started ends now; a running one is stopped by
  // its agent, which then reports it cancelled.
  if (attempt == v1::ATTEMPT_STATE_LEASED) decision.attempt = v1::ATTEMPT_STATE_CANCELLED;
  if (attempt == v1::ATTEMPT_STATE_RUNNING) decision.stop_attempt = true;
  return decision;
}

Decision OnRetried(JobState job, const UpstreamFacts& upstream) {
  if (!FailedLike(job)) {
    return Refuse("it is " + JobStateName(job) + "; only failed, cancelled or skipped jobs can be retried");
  }
  if (upstream.failed > 0) return Refuse("an upstream job did not succeed; retry it first");
  Decision decision;
  decision.job = upstream.succeeded == upstream.total ? v1::JOB_STATE_READY : v1::JOB_STATE_PENDING;
  decision.downstream = Downstream::kUnskip;
  return decision;
}

}  // namespace gauntlet::jobs
