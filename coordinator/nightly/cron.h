// Cron expressions in a time zone: when a nightly schedule's slots fall.
//
// The five standard fields (minute hour day-of-month month day-of-week) with
// lists, ranges, steps, month and weekday names, and the @daily-style
// macros, read as Vixie cron reads them: when both day fields are
// restricted, a day matching either one matches.
//
// Slots are wall-clock times in the schedule's zone. Where a daylight-saving
// change makes a wall-clock time not exist (the spring-forward gap), the slot
// fires once, at the first instant after the gap; where it makes one occur
// twice (fall-back), the slot fires once, at its first occurrence.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace date {
class time_zone;
}

namespace gauntlet::nightly {

class CronExpression {
 public:
  static StatusOr<CronExpression> Parse(std::string_view text);

  // Whether a wall-clock minute matches. `weekday` is 0 for Sunday.
  bool Matches(int month, int day, int weekday, int hour, int minute) const;
  bool MatchesDay(int month, int day, int weekday) const;
  const std::bitset<24>& hours() const { return hours_; }
  const std::bitset<60>& minutes() const { return minutes_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // Bit 0 unused.
  std::bitset<13> months_;         // Bit 0 unused.
  std::bitset<7> weekdays_;        // 0 = Sunday.
  bool day_of_month_restricted_ = false;
  bool weekday_restricted_ = false;
};

class CronSchedule {
 public:
  // Refuses an unknown zone and an expression that never fires (30 February).
  static StatusOr<CronSchedule> Create(std::string_view cron, std::string_view timezone);

  // The first slot strictly after `after_ms` (Unix milliseconds), or nothing
  // when none falls within the next ten years.
  std::optional<int64_t> NextSlotAfter(int64_t after_ms) const;

  // The last slot at or before `at_ms`, searching back at most `horizon_ms`.
  std::optional<int64_t> LastSlotAtOrBefore(int64_t at_ms, int64_t horizon_ms) const;

  // "2026-03-29" for a slot: the nominal date, in the schedule's zone, that
  // tags the firing's sweep.
  std::string NominalDate(int64_t slot_ms) const;
  // "2026-03-29T02:00+02:00", for history and the board.
  std::string LocalTime(int64_t slot_ms) const;

  const CronExpression& expression() const { return expression_; }
  const std::string& timezone() const { return timezone_; }

 private:
  CronSchedule(CronExpression expression, const date::time_zone* zone, std::string timezone)
      : expression_(std::move(expression)), zone_(zone), timezone_(std::move(timezone)) {}

  CronExpression expression_;
  const date::time_zone* zone_;
  std::string timezone_;
};

}  // namespace gauntlet::nightly
