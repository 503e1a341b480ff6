// Which slots a schedule fires or skips: catch-up and concurrency policies,
// with time passed in, never slept.
#include <gtest/gtest.h>

#include "coordinator/nightly/firing.h"

namespace gauntlet::nightly {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
// 2026-05-03T00:00Z.
constexpr int64_t kMidnight = 1'777'766'400'000;

using Action = SlotDecision::Action;

CronSchedule Daily2am() { return *CronSchedule::Create("0 2 * * *", "UTC"); }

std::vector<Action> Actions(const FiringPlan& plan) {
  std::vector<Action> out;
  for (const auto& slot : plan.slots) out.push_back(slot.action);
  return out;
}

TEST(Firing, NothingBeforeTheFirstSlot) {
  auto plan = PlanFirings(Daily2am(), {}, kMidnight, kMidnight + kHour, false);
  EXPECT_TRUE(plan.slots.empty());
  EXPECT_EQ(plan.next_slot_ms, kMidnight + 2 * kHour);
}

TEST(Firing, OnTimeSlotFiresOnceAndReplanningFiresNothing) {
  const int64_t now = kMidnight + 2 * kHour + 1500;
  auto plan = PlanFirings(Daily2am(), {}, kMidnight, now, false);
  ASSERT_EQ(Actions(plan), std::vector<Action>{Action::kFire});
  EXPECT_EQ(plan.slots[0].slot_ms, kMidnight + 2 * kHour);
  EXPECT_EQ(plan.slots[0].detail, "");
  EXPECT_EQ(plan.cursor_ms, now);
  EXPECT_EQ(plan.next_slot_ms, kMidnight + kDay + 2 * kHour);
  // A restart that plans again from the recorded cursor fires nothing more.
  EXPECT_TRUE(PlanFirings(Daily2am(), {}, plan.cursor_ms, now + 5000, false).slots.empty());
}

TEST(Firing, LatestFiresTheMostRecentMissedSlotAndRecordsTheRest) {
  // Down from 01:00 on day 0 to 12:00 on day 2: three 02:00 slots passed.
  auto plan = PlanFirings(Daily2am(), {}, kMidnight + kHour, kMidnight + 2 * kDay + 12 * kHour, false);
  EXPECT_EQ(Actions(plan), (std::vector<Action>{Action::kSkipMissed, Action::kSkipMissed, Action::kFire}));
  EXPECT_EQ(plan.slots[2].slot_ms, kMidnight + 2 * kDay + 2 * kHour);
  EXPECT_EQ(plan.slots[2].detail, "fired late, on catching up");
  EXPECT_NE(plan.slots[0].detail.find("catch_up: latest fires only the latest 1"), std::string::npos);
}

TEST(Firing, NoneFiresNothingLate) {
  SchedulePolicy policy{CatchUp::kNone};
  auto late = PlanFirings(Daily2am(), policy, kMidnight, kMidnight + 3 * kHour, false);
  EXPECT_EQ(Actions(late), std::vector<Action>{Action::kSkipMissed});
  auto on_time = PlanFirings(Daily2am(), policy, kMidnight, kMidnight + 2 * kHour + 60'000, false);
  EXPECT_EQ(Actions(on_time), std::vector<Action>{Action::kFire});
}

TEST(Firing, AllFiresUpToMaxCatchUp) {
  SchedulePolicy policy{CatchUp::kAll, 2};
  auto plan = PlanFirings(Daily2am(), policy, kMidnight, kMidnight + 4 * kDay + 3 * kHour, false);
  EXPECT_EQ(Actions(plan), (std::vector<Action>{Action::kSkipMissed, Action::kSkipMissed, Action::kSkipMissed,
                                                 Action::kFire, Action::kFire}));
  for (size_t i = 1; i < plan.slots.size(); ++i) EXPECT_LT(plan.slots[i - 1].slot_ms, plan.slots[i].slot_ms);
}

TEST(Firing, ForbidSkipsWhileThePreviousRuns) {
  SchedulePolicy policy{CatchUp::kAll, 3, Concurrency::kForbid};
  const int64_t now = kMidnight + 2 * kHour + 1000;
  EXPECT_EQ(Actions(PlanFirings(Daily2am(), policy, kMidnight, now, true)), std::vector<Action>{Action::kSkipRunning});
  EXPECT_EQ(Actions(PlanFirings(Daily2am(), policy, kMidnight, now, false)), std::vector<Action>{Action::kFire});
  // Catching up three nights, the first one fired runs while the others come.
  auto plan = PlanFirings(Daily2am(), policy, kMidnight, now + 2 * kDay, false);
  EXPECT_EQ(Actions(plan), (std::vector<Action>{Action::kFire, Action::kSkipRunning, Action::kSkipRunning}));
}

TEST(Firing, ReplaceCancelsThePrevious) {
  SchedulePolicy policy{CatchUp::kLatest, 1, Concurrency::kReplace};
  auto plan = PlanFirings(Daily2am(), policy, kMidnight, kMidnight + 2 * kHour + 1000, true);
  ASSERT_EQ(Actions(plan), std::vector<Action>{Action::kFire});
  EXPECT_TRUE(plan.slots[0].replaces_running);
  EXPECT_FALSE(PlanFirings(Daily2am(), policy, kMidnight, kMidnight + 2 * kHour + 1000, false)
                   .slots[0].replaces_running);
}

TEST(Firing, LongDowntimeIsBounded) {
  // A year down under an every-minute cron lists 50 missed slots and sums
  // up the rest in one, instead of half a million.
  auto every_minute = *CronSchedule::Create("* * * * *", "UTC");
  auto plan = PlanFirings(every_minute, {}, kMidnight - 365 * kDay, kMidnight, false);
  ASSERT_EQ(plan.slots.size(), 1u + kMaxSkippedListed + 1u);
  EXPECT_EQ(plan.slots.front().action, Action::kSkipOlder);
  EXPECT_EQ(plan.slots.back().action, Action::kFire);
  EXPECT_EQ(plan.slots.back().slot_ms, kMidnight);
}

TEST(Firing, PolicyNamesRoundTripAndBadOnesAreRefused) {
  EXPECT_EQ(*ParseCatchUp("all"), CatchUp::kAll);
  EXPECT_EQ(CatchUpName(*ParseCatchUp("none")), "none");
  EXPECT_EQ(ConcurrencyName(*ParseConcurrency("replace")), "replace");
  EXPECT_EQ(ParseCatchUp("sometimes").error().message(),
            "catch_up \"sometimes\" is not a policy: use latest, none or all");
  EXPECT_EQ(ParseConcurrency("queue").error().message(),
            "concurrency \"queue\" is not a policy: use allow, forbid or replace");
}

}  // namespace
}  // namespace gauntlet::nightly
