// Webhook retries: doubling waits, a cap, and an end.
#include <gtest/gtest.h>

#include "coordinator/nightly/delivery_policy.h"

namespace gauntlet::nightly {
namespace {

TEST(DeliveryPolicy, WaitsDoubleThenGiveUp) {
  EXPECT_EQ(RetryDelayMs(1), 2'000);
  EXPECT_EQ(RetryDelayMs(2), 4'000);
  EXPECT_EQ(RetryDelayMs(5), 32'000);
  EXPECT_EQ(RetryDelayMs(kMaxDeliveryAttempts), -1);
  EXPECT_TRUE(Delivered(200));
  EXPECT_TRUE(Delivered(204));
  EXPECT_FALSE(Delivered(0)) << "no answer";
  EXPECT_FALSE(Delivered(302));
  EXPECT_FALSE(Delivered(503));
}

}  // namespace
}  // namespace gauntlet::nightly
