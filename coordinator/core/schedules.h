// Nightly schedules: adding, listing, pausing and deleting them, and firing
// each slot that comes due exactly once.
//
// A firing's sweep and its record (schedule, slot) go in one transaction,
// under the store's UNIQUE key: a crash between them stores neither, and a
// slot already recorded (by a restarted or a second coordinator) rolls the
// sweep back. Which slots fire is the pure nightly::PlanFirings.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "coordinator/core/batch.h"
#include "coordinator/core/comparisons.h"
#include "coordinator/core/farm.h"
#include "coordinator/core/sweeps.h"
#include "coordinator/nightly/cron.h"
#include "coordinator/nightly/firing.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

class ScheduleManager {
 public:
  ScheduleManager(Farm& farm, Batch& batch, SweepManager& sweeps, ComparisonQueries& comparisons)
      : farm_(farm), batch_(batch), sweeps_(sweeps), comparisons_(comparisons) {}

  // Reads when the next slot is due; firings missed while down come with
  // the next FireDue.
  Status Recover();

  // The sweep request is checked as a submission would be (parse and
  // expand), so a schedule that could never fire is refused now.
  StatusOr<v1::Schedule> Add(const v1::AddScheduleRequest& request);
  StatusOr<std::vector<v1::Schedule>> List();
  StatusOr<v1::Schedule> Get(const std::string& name);
  StatusOr<v1::Schedule> Pause(const std::string& name, bool resume);
  StatusOr<v1::Firing> RunNow(const std::string& name);
  StatusOr<v1::Schedule> Delete(const std::string& name);
  StatusOr<std::vector<v1::Firing>> History(const std::string& name, int limit);
  // The night each firing is compared with; 0: the previous finished one.
  StatusOr<v1::Schedule> PinBaseline(const std::string& name, int64_t sweep_id);

  // From the loop: fires or skips every slot that came due. Costs one
  // comparison while none has.
  void FireDue();
  // From the loop, at most once a second: judges the fired nights that
  // finished. A benchmark metric that looks like a regression on that night
  // alone gets a second run of its job in the same sweep (as Perfherder's
  // backfill does), and the night's verdict and alert use both runs.
  void JudgeFinished();

 private:
  struct Loaded {
    store::ScheduleRow row;
    nightly::CronSchedule cron;
    nightly::SchedulePolicy policy;
  };
  StatusOr<Loaded> Load(store::ScheduleRow row) const;
  StatusOr<Loaded> LoadByName(const std::string& name);
  Status FireDueOne(const Loaded& schedule, int64_t now);
  Status JudgeNight(int64_t sweep_id, const std::string& schedule);
  // Submits the schedule's sweep for `slot_ms` and records the firing, in
  // one transaction; a refused submission is recorded as a failed firing.
  StatusOr<v1::Firing> Fire(const Loaded& schedule, int64_t slot_ms, const std::string& kind,
                            bool replaces_running, const std::string& detail);
  StatusOr<bool> PreviousRunning(int64_t schedule_id, int64_t* sweep_id);
  StatusOr<v1::Schedule> Describe(const Loaded& schedule);
  v1::Firing Decorate(const Loaded& schedule, v1::Firing firing) const;
  Status RefreshNextDue();

  Farm& farm_;
  Batch& batch_;
  SweepManager& sweeps_;
  ComparisonQueries& comparisons_;
  int64_t next_due_ms_ = std::numeric_limits<int64_t>::max();
  int64_t next_judge_ms_ = 0;
};

}  // namespace gauntlet::core
