// What a schedule does when the coordinator looks at it: which slots fire,
// which are skipped and why, and whether a running firing is cancelled.
// Pure: the caller brings the schedule's state and the time, and records
// the plan (each slot once, under the store's UNIQUE (schedule, slot)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "coordinator/nightly/cron.h"

namespace gauntlet::nightly {

// After downtime: `latest` fires the most recent missed slot (as Kubernetes
// CronJob and systemd's Persistent= do), `none` fires nothing late, `all`
// fires every missed slot up to max_catch_up.
enum class CatchUp { kLatest, kNone, kAll };
// While the previous firing still runs: start another anyway, skip the slot,
// or cancel the previous one and start.
enum class Concurrency { kAllow, kForbid, kReplace };

StatusOr<CatchUp> ParseCatchUp(std::string_view text);
StatusOr<Concurrency> ParseConcurrency(std::string_view text);
std::string_view CatchUpName(CatchUp policy);
std::string_view ConcurrencyName(Concurrency policy);

// A slot fired this late or later counts as missed, not on time.
constexpr int64_t kOnTimeGraceMs = 10 * 60 * 1000;
// Missed slots recorded one by one; older ones are summed up in one event.
constexpr int kMaxSkippedListed = 50;
// How far back missed slots are looked for.
constexpr int64_t kCatchUpHorizonMs = 400LL * 24 * 3600 * 1000;

struct SchedulePolicy {
  CatchUp catch_up = CatchUp::kLatest;
  int max_catch_up = 10;  // For kAll: the most missed slots fired.
  Concurrency concurrency = Concurrency::kAllow;
};

struct SlotDecision {
  enum class Action {
    kFire,
    kSkipMissed,   // Passed while the coordinator was down; the catch-up policy leaves it.
    kSkipRunning,  // concurrency: forbid, and the previous firing still runs.
    kSkipOlder,    // One event for all the missed slots too old to list.
  };
  int64_t slot_ms = 0;
  Action action = Action::kFire;
  bool replaces_running = false;  // concurrency: replace; cancel the running firing first.
  std::string detail;
};

struct FiringPlan {
  std::vector<SlotDecision> slots;  // Oldest first.
  int64_t cursor_ms = 0;            // Every slot at or before it is decided.
  std::optional<int64_t> next_slot_ms;
};

// `cursor_ms`: the slots at or before it are decided (the schedule's
// creation time, at first). `previous_running`: a firing of this schedule
// has jobs not yet finished.
FiringPlan PlanFirings(const CronSchedule& schedule, const SchedulePolicy& policy, int64_t cursor_ms,
                       int64_t now_ms, bool previous_running);

}  // namespace gauntlet::nightly
