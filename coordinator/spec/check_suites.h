// Refuses, at submit, worker jobs whose suite no agent's worker has built
// in, instead of letting them fail one by one when they run. Pure.
#pragma once

#include <set>
#include <string>

#include "common/status.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec {

// `offered`: the union of the suites agents reported. Empty (no agent has
// registered yet, or none reports suites) checks nothing: the jobs wait.
Status CheckSuites(const SweepSpec& spec, const std::set<std::string>& offered);

}  // namespace gauntlet::spec
