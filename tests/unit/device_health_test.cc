// Devices that keep failing: the pure rules of sched/device_health.h.
#include "coordinator/sched/device_health.h"

#include <gtest/gtest.h>

namespace gauntlet::sched {
namespace {

const HealthPolicy kThree{3};

DeviceHealth Fail(DeviceHealth health, int times, const HealthPolicy& policy = kThree) {
  for (int i = 0; i < times; ++i) {
    health = AfterAttempt(health, DeviceOutcome::kInfrastructure, policy, "killed by signal 11", 7, 1000 + i);
  }
  return health;
}

TEST(DeviceHealth, ThreeInfrastructureFailuresInARowTakeADeviceOut) {
  DeviceHealth health = Fail({}, 2);
  EXPECT_TRUE(health.in_service());
  EXPECT_EQ(health.failures_in_row, 2);
  health = Fail(health, 1);
  EXPECT_EQ(health.state, HealthState::kAwaitingCheck);
  EXPECT_TRUE(NeedsCheck(health));
  EXPECT_EQ(health.since_ms, 1000);
  EXPECT_EQ(health.source_sweep_id, 7) << "the failing sweep's health_check: checks it";
  EXPECT_EQ(health.reason, "3 infrastructure failures in a row; the last: killed by signal 11");
}

TEST(DeviceHealth, AJobThatRanBreaksTheRun) {
  DeviceHealth health = Fail({}, 2);
  health = AfterAttempt(health, DeviceOutcome::kRan, kThree, "", 7, 5);
  EXPECT_EQ(health.failures_in_row, 0);
  health = Fail(health, 2);
  EXPECT_TRUE(health.in_service()) << "2 + 2 failures, not 3 in a row";
}

TEST(DeviceHealth, NeutralEndsNeitherCountNorReset) {
  DeviceHealth health = Fail({}, 2);
  health = AfterAttempt(health, DeviceOutcome::kNeutral, kThree, "exit 2: bad parameter", 7, 5);
  EXPECT_EQ(health.failures_in_row, 2);
  health = Fail(health, 1);
  EXPECT_FALSE(health.in_service());
}

TEST(DeviceHealth, ZeroNeverTakesADeviceOut) {
  DeviceHealth health = Fail({}, 50, HealthPolicy{0});
  EXPECT_TRUE(health.in_service());
  EXPECT_EQ(health.failures_in_row, 50);
}

TEST(DeviceHealth, APassingCheckReturnsTheDevice) {
  DeviceHealth health = Fail({}, 3);
  health.check_job_id = 42;
  EXPECT_FALSE(NeedsCheck(health)) << "its check exists";
  health = AfterHealthCheck(health, /*passed=*/true, 42, "");
  EXPECT_TRUE(health.in_service());
  EXPECT_EQ(health.failures_in_row, 0);
  EXPECT_EQ(health.reason, "");
}

TEST(DeviceHealth, AFailingCheckLeavesItToAnAdmin) {
  DeviceHealth health = Fail({}, 3);
  health.check_job_id = 42;
  health = AfterHealthCheck(health, /*passed=*/false, 42, "selftest: device error");
  EXPECT_EQ(health.state, HealthState::kCheckFailed);
  EXPECT_FALSE(NeedsCheck(health)) << "no check loop: an admin decides";
  EXPECT_EQ(HealthText(health),
            "3 infrastructure failures in a row; the last: killed by signal 11; health check job 42 failed: selftest: "
            "device error; `gauntlet agents check` runs it again, `gauntlet agents heal` returns the device");
  health = CheckRequested(health, 9000);
  EXPECT_TRUE(NeedsCheck(health)) << "check again";
  health = Healed(health);
  EXPECT_TRUE(health.in_service());
}

TEST(DeviceHealth, ASupersededCheckDecidesNothing) {
  DeviceHealth health = Fail({}, 3);
  health.check_job_id = 42;
  health = CheckRequested(health, 9000);  // An admin asked for a fresh one.
  health.check_job_id = 43;
  DeviceHealth after = AfterHealthCheck(health, /*passed=*/true, 42, "");
  EXPECT_FALSE(after.in_service()) << "job 42's pass is not job 43's";
  after = AfterHealthCheck(health, /*passed=*/true, 43, "");
  EXPECT_TRUE(after.in_service());
}

TEST(DeviceHealth, JobsEndingWhileOutOfServiceChangeNothing) {
  DeviceHealth health = Fail({}, 3);
  DeviceHealth after = AfterAttempt(health, DeviceOutcome::kRan, kThree, "", 8, 77);
  EXPECT_EQ(after.state, health.state);
  EXPECT_EQ(after.reason, health.reason);
}

TEST(DeviceHealth, StateNames) {
  EXPECT_EQ(HealthStateName(HealthState::kHealthy), "healthy");
  EXPECT_EQ(HealthStateName(HealthState::kAwaitingCheck), "checking");
  EXPECT_EQ(HealthStateName(HealthState::kCheckFailed), "unhealthy");
}

}  // namespace
}  // namespace gauntlet::sched
