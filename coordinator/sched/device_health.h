// Devices that keep failing (LAVA's Good → Bad → Good, Swarming's
// quarantine): a device whose attempts end in infrastructure failures K
// times in a row leaves service; a health-check job pinned to it runs, and it
// returns when that passes or when an admin says so. Pure: no SQL, threads
// or clock; the caller stores what these return.
#pragma once

#include <cstdint>
#include <string>

namespace gauntlet::sched {

enum class HealthState {
  kHealthy = 0,
  kAwaitingCheck = 1,  // Out of service; a health check is due or running.
  kCheckFailed = 2,    // Out of service until an admin checks or heals it.
};

struct DeviceHealth {
  int failures_in_row = 0;
  HealthState state = HealthState::kHealthy;
  std::string reason;         // Why it left service ("" when healthy).
  std::string last_check;     // How its last failed health check ended, while out of service.
  int64_t since_ms = 0;       // When it left service.
  int64_t source_sweep_id = 0;  // The sweep whose `health_check:` checks it (0: the default).
  int64_t check_job_id = 0;   // The pending or running health check (0: none yet).

  bool in_service() const { return state == HealthState::kHealthy; }
  bool operator==(const DeviceHealth&) const = default;
};

// How an attempt on the device ended, as far as the device is concerned.
enum class DeviceOutcome {
  kRan,             // Succeeded, or ran to a verdict: the device worked.
  kInfrastructure,  // The node, device or process failed (crash by signal, timeout, device error).
  kNeutral,         // Configuration errors, command exits, cancellations: say nothing of the device.
};

struct HealthPolicy {
  int unhealthy_after = 3;  // Infrastructure failures in a row; 0 never takes a device out.
};

// An ordinary attempt on the device ended. `attempt_reason` is kept in the
// out-of-service reason; `sweep_id` is the attempt's sweep.
DeviceHealth AfterAttempt(const DeviceHealth& now, DeviceOutcome outcome, const HealthPolicy& policy,
                          const std::string& attempt_reason, int64_t sweep_id, int64_t at_ms);
// The device's health check ended: it passed (back in service) or not.
DeviceHealth AfterHealthCheck(const DeviceHealth& now, bool passed, int64_t check_job_id,
                              const std::string& check_reason);
// An admin returns the device to service, or asks for a fresh health check.
DeviceHealth Healed(const DeviceHealth& now);
DeviceHealth CheckRequested(const DeviceHealth& now, int64_t at_ms);

// The reason, the last failed check, and what an admin can do, in one line.
std::string HealthText(const DeviceHealth& health);

// A health check is wanted and none exists yet.
inline bool NeedsCheck(const DeviceHealth& health) {
  return health.state == HealthState::kAwaitingCheck && health.check_job_id == 0;
}

std::string HealthStateName(HealthState state);

}  // namespace gauntlet::sched
