#include "coordinator/nightly/cron.h"

#include <array>
#include <charconv>
#include <chrono>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

namespace gauntlet::nightly {
namespace {

struct Field {
  const char* name;
  int min;
  int max;
  // Names accepted for values, lower-case, at `min + index`.
  std::vector<std::string_view> names;
};

const std::array<Field, 5> kFields = {{
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    // 7 is Sunday too, as in every cron since Vixie's.
    {"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// Ten years covers the rarest expression that fires at all (29 February on
// a Monday comes round within 28 years, but on some weekday every 4).
constexpr int kSearchDays = 3660;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status FieldError(std::string_view cron, const Field& field, std::string_view item, std::string_view why) {
  return Status::InvalidArgument("cron \"" + std::string(cron) + "\": " + field.name + " \"" + std::string(item) +
                                 "\" " + std::string(why));
}

StatusOr<int> ParseValue(std::string_view cron, const Field& field, std::string_view text) {
  const std::string lower = Lower(text);
  for (size_t i = 0; i < field.names.size(); ++i) {
    if (lower == field.names[i]) return field.min + static_cast<int>(i);
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    std::string fix = "is not a number";
    if (!field.names.empty()) fix += " or a name (" + std::string(field.names.front()) + ", ...)";
    return Err(FieldError(cron, field, text, fix));
  }
  if (value < field.min || value > field.max) {
    return Err(FieldError(cron, field, text,
                          "is out of range " + std::to_string(field.min) + "-" + std::to_string(field.max)));
  }
  return value;
}

// Sets the bits one field selects; `restricted` is false when the field
// starts with '*', which is what Vixie cron's day-matching rule looks at.
template <size_t N>
Status ParseField(std::string_view cron, const Field& field, std::string_view text, std::bitset<N>& bits,
                  bool& restricted) {
  restricted = text.empty() || text.front() != '*';
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = text.substr(start, comma - start);
    if (item.empty()) return FieldError(cron, field, text, "has an empty list item");

    std::string_view range = item;
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() || step < 1 ||
          step > field.max) {
        return FieldError(cron, field, item,
                          "has a bad step: write */N with N from 1 to " + std::to_string(field.max));
      }
    }
    int low = field.min;
    int high = field.max;
    if (range != "*") {
      if (size_t dash = range.find('-'); dash != std::string_view::npos) {
        GAUNTLET_ASSIGN_OR_RETURN(low, ParseValue(cron, field, range.substr(0, dash)));
        GAUNTLET_ASSIGN_OR_RETURN(high, ParseValue(cron, field, range.substr(dash + 1)));
        if (low > high) return FieldError(cron, field, item, "is a backwards range: write the low end first");
      } else {
        GAUNTLET_ASSIGN_OR_RETURN(low, ParseValue(cron, field, range));
        // "5/15" means from 5 to the end, every 15.
        high = item.find('/') != std::string_view::npos ? field.max : low;
      }
    }
    for (int v = low; v <= high; v += step) bits.set(static_cast<size_t>(v % static_cast<int>(N)));
    start = comma + 1;
  }
  return Status::Ok();
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

int64_t ToMs(date::sys_seconds t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The instant a wall-clock time names, by the rules in the header: the end
// of a gap for a time that does not exist, the first of two for one that
// occurs twice. Non-decreasing in `local`, which the searches rely on.
int64_t InstantOf(const date::time_zone& zone, date::local_seconds local) {
  const date::local_info info = zone.get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent:
      return ToMs(info.second.begin);
    case date::local_info::ambiguous:
    case date::local_info::unique:
    default:
      return ToMs(date::sys_seconds{local.time_since_epoch() - info.first.offset});
  }
}

date::local_days LocalDayOf(const date::time_zone& zone, int64_t ms) {
  const auto local = zone.to_local(date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{ms}});
  return date::floor<date::days>(local);
}

bool DayMatches(const CronExpression& cron, date::local_days day) {
  const date::year_month_day ymd{day};
  return cron.MatchesDay(static_cast<int>(static_cast<unsigned>(ymd.month())),
                         static_cast<int>(static_cast<unsigned>(ymd.day())),
                         static_cast<int>(date::weekday{day}.c_encoding()));
}

}  // namespace

StatusOr<CronExpression> CronExpression::Parse(std::string_view text) {
  std::string_view expanded = text;
  if (!text.empty() && text.front() == '@') {
    const std::string lower = Lower(text);
    expanded = {};
    for (const auto& [macro, meaning] : kMacros) {
      if (lower == macro) expanded = meaning;
    }
    if (expanded.empty()) {
      return Err(Status::InvalidArgument("cron \"" + std::string(text) +
                                         "\" is not a known macro: use @yearly, @monthly, @weekly, @daily or "
                                         "@hourly, or five fields"));
    }
  }
  const std::vector<std::string_view> fields = SplitFields(expanded);
  if (fields.size() != 5) {
    return Err(Status::InvalidArgument("cron \"" + std::string(text) + "\" has " + std::to_string(fields.size()) +
                                       " fields: write five (minute hour day-of-month month day-of-week), "
                                       "e.g. \"0 2 * * *\" for 02:00 every day"));
  }
  CronExpression cron;
  cron.text_ = std::string(text);
  bool unused = false;
  GAUNTLET_RETURN_IF_ERROR(ParseField(text, kFields[0], fields[0], cron.minutes_, unused));
  GAUNTLET_RETURN_IF_ERROR(ParseField(text, kFields[1], fields[1], cron.hours_, unused));
  GAUNTLET_RETURN_IF_ERROR(ParseField(text, kFields[2], fields[2], cron.days_of_month_, cron.day_of_month_restricted_));
  GAUNTLET_RETURN_IF_ERROR(ParseField(text, kFields[3], fields[3], cron.months_, unused));
  GAUNTLET_RETURN_IF_ERROR(ParseField(text, kFields[4], fields[4], cron.weekdays_, cron.weekday_restricted_));
  return cron;
}

bool CronExpression::MatchesDay(int month, int day, int weekday) const {
  if (!months_[static_cast<size_t>(month)]) return false;
  const bool dom = days_of_month_[static_cast<size_t>(day)];
  const bool dow = weekdays_[static_cast<size_t>(weekday)];
  if (day_of_month_restricted_ && weekday_restricted_) return dom || dow;
  return dom && dow;
}

bool CronExpression::Matches(int month, int day, int weekday, int hour, int minute) const {
  return MatchesDay(month, day, weekday) && hours_[static_cast<size_t>(hour)] &&
         minutes_[static_cast<size_t>(minute)];
}

StatusOr<CronSchedule> CronSchedule::Create(std::string_view cron, std::string_view timezone) {
  GAUNTLET_ASSIGN_OR_RETURN(CronExpression expression, CronExpression::Parse(cron));
  const std::string zone_name = timezone.empty() ? "UTC" : std::string(timezone);
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(zone_name);
  } catch (const std::exception&) {
    return Err(Status::InvalidArgument("timezone \"" + zone_name +
                                       "\" is not a known IANA time zone: write e.g. Europe/Zurich, "
                                       "America/New_York or UTC"));
  }
  CronSchedule schedule(std::move(expression), zone, zone_name);
  // Searched from a leap year's start so that 29 February counts as real.
  if (!schedule.NextSlotAfter(ToMs(date::sys_days{date::year{2028} / 1 / 1})).has_value()) {
    return Err(Status::InvalidArgument("cron \"" + std::string(cron) +
                                       "\" never fires (no day matches its day-of-month and month): "
                                       "check the day and month fields"));
  }
  return schedule;
}

std::optional<int64_t> CronSchedule::NextSlotAfter(int64_t after_ms) const {
  const date::local_days first = LocalDayOf(*zone_, after_ms);
  for (int d = 0; d < kSearchDays; ++d) {
    const date::local_days day = first + date::days{d};
    if (!DayMatches(expression_, day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!expression_.hours()[static_cast<size_t>(h)]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!expression_.minutes()[static_cast<size_t>(m)]) continue;
        const int64_t at = InstantOf(*zone_, day + std::chrono::hours{h} + std::chrono::minutes{m});
        if (at > after_ms) return at;
      }
    }
  }
  return std::nullopt;
}

std::optional<int64_t> CronSchedule::LastSlotAtOrBefore(int64_t at_ms, int64_t horizon_ms) const {
  const date::local_days last = LocalDayOf(*zone_, at_ms);
  const date::local_days stop = LocalDayOf(*zone_, at_ms - horizon_ms);
  for (date::local_days day = last; day >= stop; day -= date::days{1}) {
    if (!DayMatches(expression_, day)) continue;
    for (int h = 23; h >= 0; --h) {
      if (!expression_.hours()[static_cast<size_t>(h)]) continue;
      for (int m = 59; m >= 0; --m) {
        if (!expression_.minutes()[static_cast<size_t>(m)]) continue;
        const int64_t at = InstantOf(*zone_, day + std::chrono::hours{h} + std::chrono::minutes{m});
        if (at <= at_ms) return at >= at_ms - horizon_ms ? std::optional<int64_t>(at) : std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::string CronSchedule::NominalDate(int64_t slot_ms) const {
  return date::format("%F", LocalDayOf(*zone_, slot_ms));
}

std::string CronSchedule::LocalTime(int64_t slot_ms) const {
  const auto instant = date::floor<std::chrono::seconds>(
      date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{slot_ms}});
  return date::format("%FT%R%Ez", date::make_zoned(zone_, instant));
}

}  // namespace gauntlet::nightly
