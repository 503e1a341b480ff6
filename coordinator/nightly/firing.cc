#include "coordinator/nightly/firing.h"

#include <algorithm>

namespace gauntlet::nightly {

StatusOr<CatchUp> ParseCatchUp(std::string_view text) {
  if (text.empty() || text == "latest") return CatchUp::kLatest;
  if (text == "none") return CatchUp::kNone;
  if (text == "all") return CatchUp::kAll;
  return Err(Status::InvalidArgument("catch_up \"" + std::string(text) + "\" is not a policy: use latest, none or all"));
}

StatusOr<Concurrency> ParseConcurrency(std::string_view text) {
  if (text.empty() || text == "allow") return Concurrency::kAllow;
  if (text == "forbid") return Concurrency::kForbid;
  if (text == "replace") return Concurrency::kReplace;
  return Err(Status::InvalidArgument("concurrency \"" + std::string(text) +
                                     "\" is not a policy: use allow, forbid or replace"));
}

std::string_view CatchUpName(CatchUp policy) {
  switch (policy) {
    case CatchUp::kNone: return "none";
    case CatchUp::kAll: return "all";
    case CatchUp::kLatest: break;
  }
  return "latest";
}

std::string_view ConcurrencyName(Concurrency policy) {
  switch (policy) {
    case Concurrency::kForbid: return "forbid";
    case Concurrency::kReplace: return "replace";
    case Concurrency::kAllow: break;
  }
  return "allow";
}

FiringPlan PlanFirings(const CronSchedule& schedule, const SchedulePolicy& policy, int64_t cursor_ms,
                       int64_t now_ms, bool previous_running) {
  FiringPlan plan;
  plan.cursor_ms = std::max(cursor_ms, now_ms);
  plan.next_slot_ms = schedule.NextSlotAfter(plan.cursor_ms);

  // The due slots, newest first, found backwards so that a year of downtime
  // under an every-minute cron costs a bounded search, not a walk.
  const int64_t horizon = std::min(now_ms - cursor_ms, kCatchUpHorizonMs);
  if (horizon <= 0) return plan;
  const int wanted = policy.catch_up == CatchUp::kAll ? std::max(policy.max_catch_up, 1) : 1;
  const int listed = wanted + kMaxSkippedListed;
  std::vector<int64_t> due;
  std::optional<int64_t> slot = schedule.LastSlotAtOrBefore(now_ms, horizon);
  while (slot && *slot > cursor_ms && static_cast<int>(due.size()) < listed) {
    due.push_back(*slot);
    slot = schedule.LastSlotAtOrBefore(*slot - 1, *slot - 1 - cursor_ms);
  }
  const bool more_unlisted = slot && *slot > cursor_ms;
  if (due.empty()) return plan;

  std::vector<SlotDecision> newest_first;
  for (size_t i = 0; i < due.size(); ++i) {
    const bool on_time = now_ms - due[i] < kOnTimeGraceMs;
    bool fire = false;
    switch (policy.catch_up) {
      case CatchUp::kLatest: fire = i == 0; break;
      case CatchUp::kNone: fire = i == 0 && on_time; break;
      case CatchUp::kAll: fire = static_cast<int>(i) < wanted; break;
    }
    SlotDecision decision{due[i], fire ? SlotDecision::Action::kFire : SlotDecision::Action::kSkipMissed};
    if (!fire) {
      decision.detail = policy.catch_up == CatchUp::kNone
                            ? "missed while the coordinator was down (catch_up: none)"
                            : "missed while the coordinator was down; catch_up: " +
                                  std::string(CatchUpName(policy.catch_up)) + " fires only the latest " +
                                  std::to_string(wanted);
    } else if (!on_time) {
      decision.detail = "fired late, on catching up";
    }
    newest_first.push_back(std::move(decision));
  }
  if (more_unlisted) {
    SlotDecision older{*slot, SlotDecision::Action::kSkipOlder};
    older.detail = "and every earlier slot since the last firing: missed while the coordinator was down";
    newest_first.push_back(std::move(older));
  }
  std::reverse(newest_first.begin(), newest_first.end());

  // Concurrency applies in order: a slot fired here is running for the next.
  bool running = previous_running;
  for (SlotDecision& decision : newest_first) {
    if (decision.action != SlotDecision::Action::kFire) continue;
    if (running && policy.concurrency == Concurrency::kForbid) {
      decision.action = SlotDecision::Action::kSkipRunning;
      decision.detail = "the previous firing still runs (concurrency: forbid)";
      continue;
    }
    decision.replaces_running = running && policy.concurrency == Concurrency::kReplace;
    running = true;
  }
  plan.slots = std::move(newest_first);
  return plan;
}

}  // namespace gauntlet::nightly
