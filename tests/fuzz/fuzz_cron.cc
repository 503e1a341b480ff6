// Any byte string is a cron expression that parses or is refused with a
// message. One that parses, in zones with and without daylight saving (Lord
// Howe's is 30 minutes), finds slots that agree both ways: the next slot
// after an instant is later than it, and the last slot at or before it is
// that slot again.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "coordinator/nightly/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr std::array<std::string_view, 6> kZones = {
      "UTC", "Europe/Zurich", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Santiago"};
  if (size == 0) return 0;
  const std::string_view zone = kZones[data[0] % kZones.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto schedule = gauntlet::nightly::CronSchedule::Create(text, zone);
  if (!schedule) {
    if (schedule.error().message().empty()) __builtin_trap();
    return 0;
  }
  // 2026-03-08T06:59Z: a minute before New York's spring-forward.
  int64_t at = 1'772'953'140'000;
  for (int i = 0; i < 4; ++i) {
    auto next = schedule->NextSlotAfter(at);
    if (!next) return 0;
    if (*next <= at) __builtin_trap();
    auto back = schedule->LastSlotAtOrBefore(*next, *next - at);
    if (!back || *back != *next) __builtin_trap();
    at = *next;
  }
  return 0;
}
