#include "coordinator/sched/job_state.h"

#include <gtest/gtest.h>

namespace gauntlet::sched {
namespace {

TEST(JobStateTest, FailedOrLostAttemptsRetryUntilBudgetIsSpent) {
  EXPECT_EQ(JobStateAfterAttempt(v1::ATTEMPT_STATE_FAILED, 1, 3), v1::JOB_STATE_READY);
  EXPECT_EQ(JobStateAfterAttempt(v1::ATTEMPT_STATE_LOST, 2, 3), v1::JOB_STATE_READY);
  EXPECT_EQ(JobStateAfterAttempt(v1::ATTEMPT_STATE_FAILED, 3, 3), v1::JOB_STATE_FAILED);
  EXPECT_EQ(JobStateAfterAttempt(v1::ATTEMPT_STATE_SUCCEEDED, 1, 3), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(JobStateAfterAttempt(v1::ATTEMPT_STATE_CANCELLED, 1, 3), v1::JOB_STATE_CANCELLED);
}

TEST(JobStateTest, NamesRoundTrip) {
  EXPECT_EQ(JobStateName(v1::JOB_STATE_RUNNING), "running");
  EXPECT_EQ(ParseJobState("skipped"), v1::JOB_STATE_SKIPPED);
  EXPECT_EQ(ParseJobState("bogus"), v1::JOB_STATE_UNSPECIFIED);
  EXPECT_EQ(AttemptStateName(v1::ATTEMPT_STATE_LOST), "lost");
}

TEST(JobStateTest, Terminality) {
  EXPECT_TRUE(IsTerminal(v1::JOB_STATE_SKIPPED));
  EXPECT_FALSE(IsTerminal(v1::JOB_STATE_LEASED));
  EXPECT_TRUE(IsTerminal(v1::ATTEMPT_STATE_LOST));
  EXPECT_FALSE(IsTerminal(v1::ATTEMPT_STATE_RUNNING));
}

}  // namespace
}  // namespace gauntlet::sched
