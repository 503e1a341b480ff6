#include "coordinator/sched/initial_states.h"

#include <algorithm>

#include "lib/jobs/state_machine.h"

namespace gauntlet::sched {
namespace {

bool Forced(const std::vector<std::string>& force, const std::string& stage) {
  return std::find(force.begin(), force.end(), "*") != force.end() ||
         std::find(force.begin(), force.end(), stage) != force.end();
}

}  // namespace

std::vector<std::string> CacheableKeys(const expand::SweepPlan& plan, const std::vector<std::string>& force) {
  std::vector<std::string> keys;
  for (const auto& job : plan.jobs) {
    if (job.cacheable && !Forced(force, job.stage)) keys.push_back(job.content_key);
  }
  return keys;
}

std::vector<InitialJobState> InitialStates(const expand::SweepPlan& plan, const std::vector<std::string>& force,
                                           const std::map<std::string, int64_t>& succeeded_by_key) {
  std::vector<InitialJobState> states;
  states.reserve(plan.jobs.size());
  for (const auto& job : plan.jobs) {
    auto hit = job.cacheable && !Forced(force, job.stage) ? succeeded_by_key.find(job.content_key)
                                                          : succeeded_by_key.end();
    std::vector<v1::JobState> upstream;
    upstream.reserve(job.depends_on.size());
    for (size_t dep : job.depends_on) upstream.push_back(states[dep].state);
    jobs::Decision decision = jobs::OnSubmitted(hit != succeeded_by_key.end(), jobs::Summarize(upstream));
    InitialJobState state{decision.job, 0, decision.reason};
    if (hit != succeeded_by_key.end()) state.cached_from = hit->second;
    states.push_back(std::move(state));
  }
  return states;
}

void PassForceToNodeCaches(const std::vector<std::string>& force, expand::SweepPlan* plan) {
  for (auto& job : plan->jobs) {
    if (!job.node_cached || !Forced(force, job.stage)) continue;
    nlohmann::json spec = job.spec();
    spec["params"]["force"] = true;
    job.spec_json = spec.dump();
  }
}

int CountCached(const std::vector<InitialJobState>& states) {
  return static_cast<int>(std::count_if(states.begin(), states.end(),
                                        [](const auto& state) { return state.state == v1::JOB_STATE_CACHED; }));
}

}  // namespace gauntlet::sched
