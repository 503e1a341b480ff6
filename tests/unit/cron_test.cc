// Cron expressions and slots in a time zone, daylight-saving changes included.
#include <gtest/gtest.h>

#include <date/date.h>

#include "coordinator/nightly/cron.h"

namespace gauntlet::nightly {
namespace {

// Unix milliseconds of a UTC time.
int64_t Utc(int y, unsigned m, unsigned d, int hour, int minute = 0) {
  const auto t = date::sys_days{date::year{y} / m / d} + std::chrono::hours{hour} + std::chrono::minutes{minute};
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

CronSchedule Make(std::string_view cron, std::string_view zone = "UTC") {
  auto schedule = CronSchedule::Create(cron, zone);
  EXPECT_TRUE(schedule.has_value()) << schedule.error().ToString();
  return *schedule;
}

std::string Error(std::string_view cron, std::string_view zone = "UTC") {
  auto schedule = CronSchedule::Create(cron, zone);
  return schedule ? "" : schedule.error().message();
}

TEST(Cron, ListsRangesStepsAndNames) {
  auto cron = *CronExpression::Parse("0 9-17/4 * JAN,mar mon-fri");
  EXPECT_TRUE(cron.Matches(1, 5, 1, 9, 0));    // Monday 5 January, 09:00.
  EXPECT_TRUE(cron.Matches(3, 6, 5, 13, 0));   // Friday, 13:00.
  EXPECT_TRUE(cron.Matches(3, 6, 5, 17, 0));
  EXPECT_FALSE(cron.Matches(3, 6, 5, 11, 0));  // Not on the step.
  EXPECT_FALSE(cron.Matches(2, 6, 5, 9, 0));   // February.
  EXPECT_FALSE(cron.Matches(1, 4, 0, 9, 0));   // Sunday.
  EXPECT_FALSE(cron.Matches(1, 5, 1, 9, 1));
  auto from = *CronExpression::Parse("5/20 * * * *");
  EXPECT_TRUE(from.Matches(1, 1, 0, 0, 45));
  EXPECT_FALSE(from.Matches(1, 1, 0, 0, 0));
}

TEST(Cron, RestrictedDayFieldsMatchEither) {
  // Vixie cron: both day fields restricted means the 13th or any Friday.
  auto cron = *CronExpression::Parse("0 0 13 * FRI");
  EXPECT_TRUE(cron.MatchesDay(6, 13, 2));
  EXPECT_TRUE(cron.MatchesDay(6, 12, 5));
  EXPECT_FALSE(cron.MatchesDay(6, 12, 4));
  // A star in one of them means both must hold.
  auto starred = *CronExpression::Parse("0 0 */2 * FRI");
  EXPECT_FALSE(starred.MatchesDay(6, 13, 2));
  EXPECT_TRUE(starred.MatchesDay(6, 13, 5));
}

TEST(Cron, SevenIsSundayAndMacrosExpand) {
  EXPECT_TRUE(CronExpression::Parse("0 0 * * 7")->MatchesDay(5, 3, 0));
  const int64_t after = Utc(2026, 5, 3, 10);
  EXPECT_EQ(Make("@daily").NextSlotAfter(after), Make("0 0 * * *").NextSlotAfter(after));
  EXPECT_EQ(Make("@hourly").NextSlotAfter(after), Utc(2026, 5, 3, 11));
  EXPECT_EQ(Make("@weekly").NextSlotAfter(after), Utc(2026, 5, 10, 0));
  EXPECT_EQ(Make("@monthly").NextSlotAfter(after), Utc(2026, 6, 1, 0));
  EXPECT_EQ(Make("@yearly").NextSlotAfter(after), Utc(2027, 1, 1, 0));
}

TEST(Cron, NextSlotIsStrictlyAfter) {
  auto schedule = Make("0 2 * * *");
  EXPECT_EQ(schedule.NextSlotAfter(Utc(2026, 5, 3, 1, 59)), Utc(2026, 5, 3, 2));
  EXPECT_EQ(schedule.NextSlotAfter(Utc(2026, 5, 3, 2)), Utc(2026, 5, 4, 2));
  EXPECT_EQ(schedule.LastSlotAtOrBefore(Utc(2026, 5, 3, 2), 86'400'000), Utc(2026, 5, 3, 2));
  EXPECT_EQ(schedule.LastSlotAtOrBefore(Utc(2026, 5, 3, 1), 86'400'000), Utc(2026, 5, 2, 2));
  EXPECT_EQ(schedule.LastSlotAtOrBefore(Utc(2026, 5, 3, 1), 3'600'000), std::nullopt);
  EXPECT_EQ(Make("0 0 29 2 *").NextSlotAfter(Utc(2026, 3, 1, 0)), Utc(2028, 2, 29, 0));
}

TEST(Cron, ZoneShiftsTheSlot) {
  // 02:00 in Zurich is 01:00 UTC in winter and 00:00 UTC in summer.
  auto schedule = Make("0 2 * * *", "Europe/Zurich");
  EXPECT_EQ(schedule.NextSlotAfter(Utc(2026, 1, 10, 12)), Utc(2026, 1, 11, 1));
  EXPECT_EQ(schedule.NextSlotAfter(Utc(2026, 7, 10, 12)), Utc(2026, 7, 11, 0));
  EXPECT_EQ(schedule.NominalDate(Utc(2026, 7, 11, 0)), "2026-07-11");
  EXPECT_EQ(schedule.LocalTime(Utc(2026, 7, 11, 0)), "2026-07-11T02:00+02:00");
}

TEST(Cron, SpringForwardGapFiresOnceAtTheNextValidTime) {
  // Zurich, 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
  auto schedule = Make("30 2 * * *", "Europe/Zurich");
  const int64_t gap_end = Utc(2026, 3, 29, 1);
  EXPECT_EQ(schedule.NextSlotAfter(Utc(2026, 3, 28, 12)), gap_end);
  EXPECT_EQ(schedule.NextSlotAfter(gap_end), Utc(2026, 3, 30, 0, 30));
  // Four slots inside the gap are one firing, not four.
  auto quarterly = Make("*/15 2 * * *", "Europe/Zurich");
  EXPECT_EQ(quarterly.NextSlotAfter(Utc(2026, 3, 28, 12)), gap_end);
  EXPECT_EQ(quarterly.NextSlotAfter(gap_end), Utc(2026, 3, 30, 0));
  EXPECT_EQ(schedule.NominalDate(gap_end), "2026-03-29");
}

TEST(Cron, FallBackRepeatFiresOnce) {
  // Zurich, 25 October 2026: 03:00 CEST falls back to 02:00 CET, so 02:30
  // happens at 00:30 and again at 01:30 UTC. It fires at the first.
  auto schedule = Make("30 2 * * *", "Europe/Zurich");
  const int64_t first = Utc(2026, 10, 25, 0, 30);
  EXPECT_EQ(schedule.NextSlotAfter(Utc(2026, 10, 24, 12)), first);
  EXPECT_EQ(schedule.NextSlotAfter(first), Utc(2026, 10, 26, 1, 30));
  EXPECT_EQ(schedule.LastSlotAtOrBefore(Utc(2026, 10, 25, 2), 86'400'000), first);
}

TEST(Cron, BadInputNamesTheFieldAndTheFix) {
  EXPECT_EQ(Error("0 25 * * *"), "cron \"0 25 * * *\": hour \"25\" is out of range 0-23");
  EXPECT_NE(Error("0 2 * *").find("has 4 fields: write five"), std::string::npos);
  EXPECT_NE(Error("@reboot").find("not a known macro"), std::string::npos);
  EXPECT_NE(Error("*/0 * * * *").find("minute \"*/0\" has a bad step"), std::string::npos);
  EXPECT_NE(Error("0 5-1 * * *").find("backwards range"), std::string::npos);
  EXPECT_NE(Error("0 0 * foo *").find("month \"foo\" is not a number or a name (jan, ...)"), std::string::npos);
  EXPECT_NE(Error("0 0 1,,2 * *").find("empty list item"), std::string::npos);
  EXPECT_NE(Error("0 0 30 2 *").find("never fires"), std::string::npos);
  EXPECT_EQ(Error("0 2 * * *", "Mars/Olympus_Mons"),
            "timezone \"Mars/Olympus_Mons\" is not a known IANA time zone: write e.g. Europe/Zurich, "
            "America/New_York or UTC");
}

}  // namespace
}  // namespace gauntlet::nightly
