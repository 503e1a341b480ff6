#include "coordinator/core/schedules.h"

#include <algorithm>
#include <csignal>

#include <spdlog/spdlog.h>

#include "coordinator/nightly/delivery_policy.h"

namespace gauntlet::core {
namespace {

constexpr int kDefaultMaxCatchUp = 10;
constexpr int kDefaultHistory = 50;
// A schedule that failed to load or fire is looked at again this much later.
constexpr int64_t kRetryMs = 10'000;

std::string_view FiringKind(nightly::SlotDecision::Action action) {
  using Action = nightly::SlotDecision::Action;
  switch (action) {
    case Action::kSkipMissed: return "skipped_missed";
    case Action::kSkipRunning: return "skipped_running";
    case Action::kSkipOlder: return "skipped_older";
    case Action::kFire: break;
  }
  return "fired";
}

Status CheckName(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (ok) return Status::Ok();
  return Status::InvalidArgument("schedule name \"" + name +
                                 "\" is not valid: use 1 to 100 letters, digits, '-', '_' or '.'");
}

Status CheckWebhook(const std::string& url) {
  if (url.empty() || nightly::IsWebhookUrl(url)) return Status::Ok();
  return Status::InvalidArgument("webhook \"" + url + "\" is not an http(s) URL: write http://... or https://...");
}

}  // namespace

StatusOr<ScheduleManager::Loaded> ScheduleManager::Load(store::ScheduleRow row) const {
  GAUNTLET_ASSIGN_OR_RETURN(nightly::CronSchedule cron,
                            nightly::CronSchedule::Create(row.policy.cron(), row.policy.timezone()));
  nightly::SchedulePolicy policy;
  GAUNTLET_ASSIGN_OR_RETURN(policy.catch_up, nightly::ParseCatchUp(row.policy.catch_up()));
  GAUNTLET_ASSIGN_OR_RETURN(policy.concurrency, nightly::ParseConcurrency(row.policy.concurrency()));
  if (row.policy.max_catch_up() < 0) {
    return Err(Status::InvalidArgument("max_catch_up " + std::to_string(row.policy.max_catch_up()) +
                                       " is negative: give the most missed slots to fire, 1 or more (0: " +
                                       std::to_string(kDefaultMaxCatchUp) + ")"));
  }
  policy.max_catch_up = row.policy.max_catch_up() > 0 ? row.policy.max_catch_up() : kDefaultMaxCatchUp;
  return Loaded{std::move(row), std::move(cron), policy};
}

StatusOr<ScheduleManager::Loaded> ScheduleManager::LoadByName(const std::string& name) {
  GAUNTLET_ASSIGN_OR_RETURN(auto row, farm_.store.ScheduleByName(name));
  if (!row) return Err(Status::NotFound("no schedule '" + name + "': see `gauntlet schedules list`"));
  return Load(std::move(*row));
}

Status ScheduleManager::Recover() {
  GAUNTLET_RETURN_IF_ERROR(RefreshNextDue());
  GAUNTLET_ASSIGN_OR_RETURN(auto rows, farm_.store.Schedules());
  spdlog::info("recovered {} schedules", rows.size());
  return Status::Ok();
}

Status ScheduleManager::RefreshNextDue() {
  GAUNTLET_ASSIGN_OR_RETURN(auto rows, farm_.store.Schedules());
  next_due_ms_ = std::numeric_limits<int64_t>::max();
  for (auto& row : rows) {
    if (row.paused) continue;
    auto loaded = Load(row);
    if (!loaded) continue;  // Refused at Add; only a hand-edited database gets here.
    if (auto next = loaded->cron.NextSlotAfter(row.cursor_ms)) next_due_ms_ = std::min(next_due_ms_, *next);
  }
  return Status::Ok();
}

StatusOr<v1::Schedule> ScheduleManager::Add(const v1::AddScheduleRequest& request) {
  GAUNTLET_RETURN_IF_ERROR(CheckName(request.name()));
  GAUNTLET_RETURN_IF_ERROR(CheckWebhook(request.policy().webhook()));
  const int64_t now = farm_.clock.NowMs();
  store::ScheduleRow row;
  row.name = request.name();
  row.policy = request.policy();
  if (row.policy.timezone().empty()) row.policy.set_timezone("UTC");
  if (row.policy.catch_up().empty()) row.policy.set_catch_up("latest");
  if (row.policy.concurrency().empty()) row.policy.set_concurrency("allow");
  GAUNTLET_ASSIGN_OR_RETURN(Loaded checked, Load(row));
  v1::SubmitSweepRequest sweep = request.sweep();
  sweep.set_dry_run(false);
  sweep.clear_page_token();
  if (sweep.spec_text().empty()) return Err(Status::InvalidArgument("schedule: the sweep spec is empty: pass --spec FILE"));
  auto prepared = sweeps_.Prepare(sweep);
  if (!prepared) return Err(prepared.error().WithContext("schedule '" + row.name + "'"));
  row.request = sweep.SerializeAsString();
  row.cursor_ms = now;
  row.created_at_ms = now;
  int64_t id = 0;
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(id, farm_.store.PutSchedule(row, request.replace()));
    return farm_.store.AddEvent(now, 0, 0, 0, "schedule",
                                "schedule " + row.name + " set: " + row.policy.cron() + " " + row.policy.timezone());
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  GAUNTLET_RETURN_IF_ERROR(RefreshNextDue());
  GAUNTLET_ASSIGN_OR_RETURN(Loaded stored, LoadByName(row.name));
  spdlog::info("schedule '{}' set: {} in {}", row.name, row.policy.cron(), row.policy.timezone());
  return Describe(stored);
}

StatusOr<std::vector<v1::Schedule>> ScheduleManager::List() {
  GAUNTLET_ASSIGN_OR_RETURN(auto rows, farm_.store.Schedules());
  std::vector<v1::Schedule> out;
  for (auto& row : rows) {
    GAUNTLET_ASSIGN_OR_RETURN(Loaded loaded, Load(std::move(row)));
    GAUNTLET_ASSIGN_OR_RETURN(v1::Schedule schedule, Describe(loaded));
    out.push_back(std::move(schedule));
  }
  return out;
}

StatusOr<v1::Schedule> ScheduleManager::Get(const std::string& name) {
  GAUNTLET_ASSIGN_OR_RETURN(Loaded loaded, LoadByName(name));
  GAUNTLET_ASSIGN_OR_RETURN(v1::Schedule schedule, Describe(loaded));
  v1::SubmitSweepRequest request;
  if (request.ParseFromString(loaded.row.request)) schedule.set_spec_text(request.spec_text());
  GAUNTLET_ASSIGN_OR_RETURN(auto deliveries, farm_.store.Deliveries(loaded.row.id, 10));
  for (auto& delivery : deliveries) *schedule.add_deliveries() = std::move(delivery);
  return schedule;
}

StatusOr<v1::Schedule> ScheduleManager::Pause(const std::string& name, bool resume) {
  GAUNTLET_ASSIGN_OR_RETURN(Loaded loaded, LoadByName(name));
  const int64_t now = farm_.clock.NowMs();
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    // Resuming moves the cursor to now: the slots passed while paused were
    // meant not to fire, so they are not caught up.
    GAUNTLET_RETURN_IF_ERROR(farm_.store.SetSchedulePaused(loaded.row.id, !resume, resume ? now : 0));
    return farm_.store.AddEvent(now, 0, 0, 0, "schedule", "schedule " + name + (resume ? " resumed" : " paused"));
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  GAUNTLET_RETURN_IF_ERROR(RefreshNextDue());
  GAUNTLET_ASSIGN_OR_RETURN(Loaded changed, LoadByName(name));
  return Describe(changed);
}

StatusOr<v1::Schedule> ScheduleManager::Delete(const std::string& name) {
  GAUNTLET_ASSIGN_OR_RETURN(Loaded loaded, LoadByName(name));
  GAUNTLET_ASSIGN_OR_RETURN(v1::Schedule described, Describe(loaded));
  const int64_t now = farm_.clock.NowMs();
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    GAUNTLET_RETURN_IF_ERROR(farm_.store.DeleteSchedule(loaded.row.id));
    return farm_.store.AddEvent(now, 0, 0, 0, "schedule", "schedule " + name + " deleted");
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  GAUNTLET_RETURN_IF_ERROR(RefreshNextDue());
  return described;
}

StatusOr<v1::Schedule> ScheduleManager::PinBaseline(const std::string& name, int64_t sweep_id) {
  GAUNTLET_ASSIGN_OR_RETURN(Loaded loaded, LoadByName(name));
  if (sweep_id != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(sweep_id, /*with_spec=*/false));
    if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(sweep_id) + " to pin as the baseline"));
    if (!sweep->finished()) {
      return Err(Status::FailedPrecondition("sweep " + std::to_string(sweep_id) +
                                            " has not finished: pin a finished night as the baseline"));
    }
  }
  const int64_t now = farm_.clock.NowMs();
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    GAUNTLET_RETURN_IF_ERROR(farm_.store.SetScheduleBaseline(loaded.row.id, sweep_id));
    return farm_.store.AddEvent(now, sweep_id, 0, 0, "schedule",
                                sweep_id ? "schedule " + name + " baseline pinned to sweep " + std::to_string(sweep_id)
                                         : "schedule " + name + " baseline unpinned");
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  GAUNTLET_ASSIGN_OR_RETURN(Loaded changed, LoadByName(name));
  return Describe(changed);
}

StatusOr<std::vector<v1::Firing>> ScheduleManager::History(const std::string& name, int limit) {
  GAUNTLET_ASSIGN_OR_RETURN(Loaded loaded, LoadByName(name));
  GAUNTLET_ASSIGN_OR_RETURN(auto firings, farm_.store.Firings(loaded.row.id, limit > 0 ? limit : kDefaultHistory));
  for (auto& firing : firings) {
    firing = Decorate(loaded, std::move(firing));
    if (firing.sweep_id() == 0) continue;
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(firing.sweep_id(), /*with_spec=*/false));
    if (sweep) *firing.mutable_sweep() = std::move(*sweep);
  }
  return firings;
}

StatusOr<v1::Firing> ScheduleManager::RunNow(const std::string& name) {
  GAUNTLET_ASSIGN_OR_RETURN(Loaded loaded, LoadByName(name));
  int64_t running_sweep = 0;
  GAUNTLET_ASSIGN_OR_RETURN(bool running, PreviousRunning(loaded.row.id, &running_sweep));
  if (running && loaded.policy.concurrency == nightly::Concurrency::kForbid) {
    return Err(Status::FailedPrecondition("schedule '" + name + "': its previous firing (sweep " +
                                          std::to_string(running_sweep) +
                                          ") still runs and its concurrency is forbid: wait for it, or cancel it "
                                          "with `gauntlet cancel --sweep " + std::to_string(running_sweep) + "`"));
  }
  return Fire(loaded, farm_.clock.NowMs(), "run_now",
              running && loaded.policy.concurrency == nightly::Concurrency::kReplace, "run by hand");
}

void ScheduleManager::FireDue() {
  const int64_t now = farm_.clock.NowMs();
  if (now < next_due_ms_) return;
  auto rows = farm_.store.Schedules();
  if (!rows) {
    spdlog::error("cannot read the schedules, will retry: {}", rows.error().ToString());
    next_due_ms_ = now + kRetryMs;
    return;
  }
  bool failed = false;
  for (auto& row : *rows) {
    if (row.paused) continue;
    const std::string name = row.name;
    auto loaded = Load(std::move(row));
    Status status = loaded ? FireDueOne(*loaded, now) : loaded.error();
    if (!status.ok()) {
      spdlog::error("schedule '{}' could not fire, will retry: {}", name, status.ToString());
      failed = true;
    }
  }
  if (Status status = RefreshNextDue(); !status.ok()) failed = true;
  if (failed) next_due_ms_ = std::min(next_due_ms_, now + kRetryMs);
}

void ScheduleManager::JudgeFinished() {
  const int64_t now = farm_.clock.NowMs();
  if (now < next_judge_ms_) return;
  next_judge_ms_ = now + 1000;
  auto pending = farm_.store.FiringsToJudge();
  if (!pending) {
    spdlog::warn("cannot read the nights to judge, will retry: {}", pending.error().ToString());
    return;
  }
  for (const auto& [schedule_id, sweep_id] : *pending) {
    auto finished = farm_.store.SweepFinished(sweep_id);
    if (!finished || !*finished) continue;
    auto sweep = farm_.store.GetSweep(sweep_id, /*with_spec=*/false);
    if (!sweep) continue;
    Status status = JudgeNight(sweep_id, *sweep ? (*sweep)->schedule() : "");
    if (!status.ok()) spdlog::warn("cannot judge the night of sweep {}, will retry: {}", sweep_id, status.ToString());
  }
}

Status ScheduleManager::JudgeNight(int64_t sweep_id, const std::string& schedule) {
  std::vector<std::string> to_rerun;
  if (!schedule.empty()) {
    v1::CompareRequest request;
    request.set_schedule(schedule);
    auto compare = comparisons_.Compare(request);
    if (compare && compare->sweep_id() == sweep_id) {
      for (const auto& finding : compare->findings()) {
        const bool listed = std::find(to_rerun.begin(), to_rerun.end(), finding.job()) != to_rerun.end();
        if (finding.kind() == "needs_confirmation" && !listed) to_rerun.push_back(finding.job());
      }
    }
  }
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<v1::Job> jobs,
                            farm_.store.ListJobs(sweep_id, v1::JOB_STATE_UNSPECIFIED, 0));
  const int64_t now = farm_.clock.NowMs();
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    for (const auto& job : jobs) {
      if (std::find(to_rerun.begin(), to_rerun.end(), job.name()) == to_rerun.end()) continue;
      GAUNTLET_ASSIGN_OR_RETURN(int64_t rerun, farm_.store.AddRerun(job.id(), job.name() + ".rerun", now));
      GAUNTLET_ASSIGN_OR_RETURN(sched::ReadyJob ready, farm_.store.ReadyJobOf(rerun));
      batch_.pending().became_ready.push_back(std::move(ready));
      GAUNTLET_RETURN_IF_ERROR(farm_.store.AddEvent(
          now, sweep_id, rerun, 0, "ready",
          "re-running " + job.name() + ": a benchmark looks like a regression on this night alone; a second run "
          "decides"));
    }
    return farm_.store.MarkJudged(sweep_id);
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  if (!to_rerun.empty()) {
    spdlog::info("sweep {}: re-running {} benchmark job(s) before declaring a regression", sweep_id, to_rerun.size());
    farm_.WantPass();
  }
  return Status::Ok();
}

Status ScheduleManager::FireDueOne(const Loaded& schedule, int64_t now) {
  int64_t running_sweep = 0;
  GAUNTLET_ASSIGN_OR_RETURN(bool running, PreviousRunning(schedule.row.id, &running_sweep));
  const nightly::FiringPlan plan =
      nightly::PlanFirings(schedule.cron, schedule.policy, schedule.row.cursor_ms, now, running);
  for (const auto& slot : plan.slots) {
    if (slot.action == nightly::SlotDecision::Action::kFire) {
      auto fired = Fire(schedule, slot.slot_ms, "fired", slot.replaces_running, slot.detail);
      if (!fired) return fired.error();
      continue;
    }
    v1::Firing skipped;
    skipped.set_slot_ms(slot.slot_ms);
    skipped.set_kind(std::string(FiringKind(slot.action)));
    skipped.set_detail(slot.detail);
    skipped.set_at_ms(now);
    GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
      auto recorded = farm_.store.RecordFiring(schedule.row.id, skipped);
      return recorded ? Status::Ok() : recorded.error();
    }));
    spdlog::info("schedule '{}' skipped {}: {}", schedule.row.name, schedule.cron.LocalTime(slot.slot_ms),
                 slot.detail);
  }
  GAUNTLET_RETURN_IF_ERROR(
      batch_.Run([&]() -> Status { return farm_.store.SetScheduleCursor(schedule.row.id, plan.cursor_ms); }));
  return batch_.Durable();
}

StatusOr<v1::Firing> ScheduleManager::Fire(const Loaded& schedule, int64_t slot_ms, const std::string& kind,
                                           bool replaces_running, const std::string& detail) {
  const int64_t now = farm_.clock.NowMs();
  v1::Firing firing;
  firing.set_slot_ms(slot_ms);
  firing.set_kind(kind);
  firing.set_detail(detail);
  firing.set_at_ms(now);
  v1::SubmitSweepRequest request;
  if (!request.ParseFromString(schedule.row.request)) {
    return Err(Status::Internal("schedule '" + schedule.row.name + "': its stored sweep request does not parse"));
  }
  int64_t running_sweep = 0;
  if (replaces_running) {
    GAUNTLET_ASSIGN_OR_RETURN(bool running, PreviousRunning(schedule.row.id, &running_sweep));
    if (running) {
      v1::CancelRequest cancel;
      cancel.set_sweep_id(running_sweep);
      GAUNTLET_ASSIGN_OR_RETURN(int cancelled, sweeps_.Cancel(cancel));
      firing.set_detail(firing.detail() + (firing.detail().empty() ? "" : "; ") + "replaced sweep " +
                        std::to_string(running_sweep) + " (" + std::to_string(cancelled) + " jobs cancelled)");
    }
  }
  const std::string nominal_date = schedule.cron.NominalDate(slot_ms);
  bool already_decided = false;
  auto prepared = sweeps_.Prepare(request);
  StatusOr<v1::SubmitSweepResponse> submitted =
      !prepared ? Err(prepared.error())
                : sweeps_.Submit(request, *prepared, [&](int64_t sweep_id) -> Status {
                    firing.set_sweep_id(sweep_id);
                    GAUNTLET_RETURN_IF_ERROR(farm_.store.TagSweep(sweep_id, schedule.row.id, nominal_date));
                    if (farm_.options.crash_before_recording_firing) {
                      spdlog::critical("test hook: killing the coordinator before recording the firing");
                      std::raise(SIGKILL);
                    }
                    GAUNTLET_ASSIGN_OR_RETURN(bool recorded, farm_.store.RecordFiring(schedule.row.id, firing));
                    already_decided = !recorded;
                    if (recorded && !schedule.row.policy.webhook().empty()) {
                      GAUNTLET_RETURN_IF_ERROR(farm_.store.QueueNotification(
                          sweep_id, schedule.row.id, schedule.row.policy.webhook(), now));
                    }
                    return recorded ? Status::Ok() : Status::AlreadyExists("this slot already fired");
                  });
  if (already_decided) {
    // Another coordinator, or this one before a restart, fired it: the sweep
    // above was rolled back with the refusal.
    return Err(Status::AlreadyExists("schedule '" + schedule.row.name + "': the slot " +
                                     schedule.cron.LocalTime(slot_ms) + " already fired"));
  }
  if (!submitted) {
    // The farm refused the sweep tonight (no node fits it, an unknown
    // suite): the night is recorded as failed, with why, not retried forever.
    firing.set_kind("failed");
    firing.set_sweep_id(0);
    firing.set_detail(submitted.error().message());
    GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
      auto recorded = farm_.store.RecordFiring(schedule.row.id, firing);
      return recorded ? Status::Ok() : recorded.error();
    }));
    GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
    spdlog::warn("schedule '{}' could not submit its sweep for {}: {}", schedule.row.name,
                 schedule.cron.LocalTime(slot_ms), submitted.error().ToString());
    return Decorate(schedule, firing);
  }
  spdlog::info("schedule '{}' fired for {} ({}): sweep {}", schedule.row.name, schedule.cron.LocalTime(slot_ms), kind,
               firing.sweep_id());
  firing = Decorate(schedule, firing);
  *firing.mutable_sweep() = submitted->sweep();
  return firing;
}

StatusOr<bool> ScheduleManager::PreviousRunning(int64_t schedule_id, int64_t* sweep_id) {
  GAUNTLET_ASSIGN_OR_RETURN(auto last, farm_.store.LastFired(schedule_id));
  if (!last) return false;
  GAUNTLET_ASSIGN_OR_RETURN(bool finished, farm_.store.SweepFinished(last->sweep_id()));
  *sweep_id = last->sweep_id();
  return !finished;
}

v1::Firing ScheduleManager::Decorate(const Loaded& schedule, v1::Firing firing) const {
  firing.set_local_time(schedule.cron.LocalTime(firing.slot_ms()));
  firing.set_nominal_date(schedule.cron.NominalDate(firing.slot_ms()));
  return firing;
}

StatusOr<v1::Schedule> ScheduleManager::Describe(const Loaded& schedule) {
  v1::Schedule out;
  out.set_id(schedule.row.id);
  out.set_name(schedule.row.name);
  *out.mutable_policy() = schedule.row.policy;
  out.mutable_policy()->set_max_catch_up(schedule.policy.max_catch_up);
  out.set_paused(schedule.row.paused);
  out.set_created_at_ms(schedule.row.created_at_ms);
  out.set_baseline_sweep_id(schedule.row.baseline_sweep_id);
  if (!schedule.row.paused) {
    if (auto next = schedule.cron.NextSlotAfter(std::max(schedule.row.cursor_ms, farm_.clock.NowMs()))) {
      out.set_next_slot_ms(*next);
      out.set_next_local(schedule.cron.LocalTime(*next));
    }
  }
  v1::SubmitSweepRequest request;
  if (request.ParseFromString(schedule.row.request)) out.set_source(request.source());
  GAUNTLET_ASSIGN_OR_RETURN(auto last, farm_.store.Firings(schedule.row.id, 1));
  if (!last.empty()) *out.mutable_last_firing() = Decorate(schedule, last.front());
  return out;
}

}  // namespace gauntlet::core
