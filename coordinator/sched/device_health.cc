#include "coordinator/sched/device_health.h"

namespace gauntlet::sched {

DeviceHealth AfterAttempt(const DeviceHealth& now, DeviceOutcome outcome, const HealthPolicy& policy,
                          const std::string& attempt_reason, int64_t sweep_id, int64_t at_ms) {
  DeviceHealth next = now;
  // Out of service, only its health check or an admin brings it back: a job
  // that was already running there when it left says nothing new.
  if (!now.in_service()) return next;
  switch (outcome) {
    case DeviceOutcome::kNeutral:
      return next;
    case DeviceOutcome::kRan:
      next.failures_in_row = 0;
      return next;
    case DeviceOutcome::kInfrastructure:
      break;
  }
  ++next.failures_in_row;
  if (policy.unhealthy_after <= 0 || next.failures_in_row < policy.unhealthy_after) return next;
  next.state = HealthState::kAwaitingCheck;
  next.since_ms = at_ms;
  next.source_sweep_id = sweep_id;
  next.check_job_id = 0;
  next.reason = std::to_string(next.failures_in_row) + " infrastructure failures in a row" +
                (attempt_reason.empty() ? "" : "; the last: " + attempt_reason);
  return next;
}

DeviceHealth AfterHealthCheck(const DeviceHealth& now, bool passed, int64_t check_job_id,
                              const std::string& check_reason) {
  // A check an admin superseded (healed, or asked for another) decides nothing.
  if (now.state != HealthState::kAwaitingCheck || now.check_job_id != check_job_id) return now;
  if (passed) return Healed(now);
  DeviceHealth next = now;
  next.state = HealthState::kCheckFailed;
  next.last_check = "health check job " + std::to_string(check_job_id) + " failed" +
                    (check_reason.empty() ? "" : ": " + check_reason);
  return next;
}

DeviceHealth Healed(const DeviceHealth& now) {
  DeviceHealth next;
  next.source_sweep_id = now.source_sweep_id;
  return next;
}

DeviceHealth CheckRequested(const DeviceHealth& now, int64_t at_ms) {
  DeviceHealth next = now;
  next.state = HealthState::kAwaitingCheck;
  next.check_job_id = 0;
  if (now.in_service()) {
    next.since_ms = at_ms;
    next.reason = "an admin asked for a health check";
  }
  return next;
}

std::string HealthText(const DeviceHealth& health) {
  if (health.in_service()) return "";
  std::string text = health.reason;
  if (!health.last_check.empty()) text += (text.empty() ? "" : "; ") + health.last_check;
  if (health.state == HealthState::kCheckFailed) {
    text += "; `gauntlet agents check` runs it again, `gauntlet agents heal` returns the device";
  }
  return text;
}

std::string HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kHealthy: return "healthy";
    case HealthState::kAwaitingCheck: return "checking";
    case HealthState::kCheckFailed: return "unhealthy";
  }
  return "unknown";
}

}  // namespace gauntlet::sched
