// The state each planned job enters the store in. One function, so a dry
// run's cache-hit count and the real submission can never disagree.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "coordinator/expand/expand.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::sched {

struct InitialJobState {
  v1::JobState state = v1::JOB_STATE_PENDING;
  int64_t cached_from = 0;  // The succeeded job whose result a cached job reuses.
  std::string reason;
};

// `force` holds stage names ("*": every stage) whose cache is bypassed;
// `succeeded_by_key` the newest succeeded job of each known content key.
std::vector<InitialJobState> InitialStates(const expand::SweepPlan& plan, const std::vector<std::string>& force,
                                           const std::map<std::string, int64_t>& succeeded_by_key);

// The content keys of the plan's cacheable jobs whose stage is not forced:
// what to look up before calling InitialStates.
std::vector<std::string> CacheableKeys(const expand::SweepPlan& plan, const std::vector<std::string>& force);

// Jobs that keep a cache of their own on the node (an IREE compile) learn
// they are forced through params.force, so `--force=compile` skips that
// cache too. Their content keys stay: forcing changes how, not what.
void PassForceToNodeCaches(const std::vector<std::string>& force, expand::SweepPlan* plan);

int CountCached(const std::vector<InitialJobState>& states);

}  // namespace gauntlet::sched
