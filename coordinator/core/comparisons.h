// `gauntlet compare`: reads two sweeps (or a schedule's nights) from the
// store and hands them to the pure nightly::Compare.
#pragma once

#include "coordinator/core/farm.h"
#include "coordinator/nightly/compare.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

class ComparisonQueries {
 public:
  explicit ComparisonQueries(Farm& farm) : farm_(farm) {}

  StatusOr<v1::CompareResponse> Compare(const v1::CompareRequest& request);
  // One job across a schedule's nights (test_history.cc).
  StatusOr<v1::TestHistoryResponse> TestHistory(const v1::TestHistoryRequest& request);

 private:
  StatusOr<nightly::SweepRecord> Record(int64_t sweep_id, const std::string& label);
  // A job as the comparison sees it: outcome, samples (its re-runs' too), flaky.
  StatusOr<nightly::JobRecord> JobRecordOf(const v1::Job& job, const std::vector<const v1::Job*>& reruns);
  // The schedule's finished nights, oldest first: (sweep id, nominal date);
  // with up_to_sweep, that night and those before it.
  StatusOr<std::vector<std::pair<int64_t, std::string>>> FinishedNights(int64_t schedule_id, int64_t up_to_sweep = 0);
  // The options a schedule's nights are judged with.
  static nightly::CompareOptions OptionsOf(const v1::SchedulePolicy& policy);
  static void FindingToProto(const nightly::Finding& finding, int64_t job_id, v1::Finding* out);

  Farm& farm_;
};

}  // namespace gauntlet::core
