// Devices that keep failing, as the coordinator runs them: what each ended
// attempt says of its devices (stored with the attempt's end), the health
// checks that run on devices out of service, and an admin's heal or check.
// The rules are the pure sched/device_health.h's.
#pragma once

#include <string>

#include "coordinator/core/batch.h"
#include "coordinator/core/farm.h"
#include "coordinator/core/sweeps.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

// Inside the batch operation that ends `attempt` in `state`: updates its
// devices' health (a health check's end decides its device's).
Status RecordDeviceOutcome(Farm& farm, Batch& batch, const store::AttemptRow& attempt, v1::AttemptState state,
                           v1::FailureClass failure_class, const std::string& reason);

// Fills each device's health fields from memory.
void DescribeHealth(const Farm& farm, v1::Agent* agent);

class HealthManager {
 public:
  HealthManager(Farm& farm, Batch& batch, SweepManager& sweeps) : farm_(farm), batch_(batch), sweeps_(sweeps) {}

  // Loads every stored health row into memory (before the cluster is built).
  Status Recover();
  // Submits a health check, pinned to its device, for each device that
  // needs one and whose agent is known.
  void StartDueChecks();
  StatusOr<v1::Agent> SetDeviceHealth(const v1::SetDeviceHealthRequest& request);

 private:
  Status StartCheck(const std::string& agent, int index, const sched::DeviceHealth& health);
  Status Put(const std::string& agent, int index, const sched::DeviceHealth& health);

  Farm& farm_;
  Batch& batch_;
  SweepManager& sweeps_;
};

}  // namespace gauntlet::core
