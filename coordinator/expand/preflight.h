// Pre-flight: what a submit can check against the farm before storing
// anything — the model folders and datasets the model stages read exist on
// at least one agent able to run those stages (agents report them: --models,
// --datasets). Pure: it sees the plan and the agents' reports.
#pragma once

#include <string>
#include <vector>

#include "coordinator/expand/expand.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::expand {

struct AgentFacts {
  std::string name;
  std::vector<std::string> kinds;  // Its devices' kinds.
  std::vector<std::string> tags;
  // What it reported holding (v1.Inventory): absolute paths.
  std::vector<std::string> model_roots, models, dataset_roots, datasets;
  bool truncated = false;
};

struct PreflightReport {
  std::vector<std::string> problems;  // One line each, naming the field and the fix: the submit is refused.
  std::vector<std::string> notes;     // What could not be checked, and why.
};

PreflightReport Preflight(const spec::SweepSpec& spec, const SweepPlan& plan, const std::vector<AgentFacts>& agents);

}  // namespace gauntlet::expand
