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

 private:
  StatusOr<nightly::SweepRecord> Record(int64_t sweep_id, const std::string& label);
  // The schedule's finished nights, oldest first: (sweep id, nominal date).
  StatusOr<std::vector<std::pair<int64_t, std::string>>> FinishedNights(int64_t schedule_id);

  Farm& farm_;
};

}  // namespace gauntlet::core
