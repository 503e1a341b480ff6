#include "lib/jobs/job_state.h"

#include <algorithm>
#include <cctype>

namespace gauntlet::jobs {

bool IsTerminal(JobState state) {
  switch (state) {
    case v1::JOB_STATE_SUCCEEDED:
    case v1::JOB_STATE_FAILED:
    case v1::JOB_STATE_CANCELLED:
    case v1::JOB_STATE_SKIPPED:
    case v1::JOB_STATE_CACHED:
      return true;
    default:
      return false;
  }
}

bool IsTerminal(AttemptState state) {
  return state != v1::ATTEMPT_STATE_LEASED && state != v1::ATTEMPT_STATE_RUNNING &&
         state != v1::ATTEMPT_STATE_UNSPECIFIED;
}

bool IsUnfinished(JobState state) {
  return state == v1::JOB_STATE_PENDING || state == v1::JOB_STATE_READY || state == v1::JOB_STATE_LEASED ||
         state == v1::JOB_STATE_RUNNING;
}

namespace {
std::string Lower(std::string text, size_t prefix) {
  text = text.substr(prefix);
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}
}  // namespace

std::string JobStateName(JobState state) {
  return Lower(v1::JobState_Name(state), sizeof("JOB_STATE_") - 1);
}

std::string AttemptStateName(AttemptState state) {
  return Lower(v1::AttemptState_Name(state), sizeof("ATTEMPT_STATE_") - 1);
}

JobState ParseJobState(const std::string& name) {
  std::string upper = "JOB_STATE_" + name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  JobState state = v1::JOB_STATE_UNSPECIFIED;
  v1::JobState_Parse(upper, &state);
  return state;
}

SweepOutcome OutcomeOf(const v1::Sweep& sweep) {
  if (!sweep.finished()) return SweepOutcome::kRunning;
  if (sweep.succeeded()) return SweepOutcome::kSucceeded;
  auto count = [&](JobState state) {
    auto found = sweep.jobs_by_state().find(v1::JobState_Name(state));
    return found == sweep.jobs_by_state().end() ? 0 : found->second;
  };
  return count(v1::JOB_STATE_CANCELLED) > 0 && count(v1::JOB_STATE_FAILED) == 0 ? SweepOutcome::kCancelled
                                                                                : SweepOutcome::kFailed;
}

}  // namespace gauntlet::jobs
