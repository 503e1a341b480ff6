// Expansion of the model matrix (models × dtypes × TP × attention × context
// lengths × selected programs × datasets) into the LLM stages. Pure.
#pragma once

#include "common/status.h"
#include "coordinator/expand/expand.h"
#include "coordinator/spec/limits.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::expand {

// Appends the stage jobs of `spec.models` to `plan`, upstream first.
Status ExpandModelStages(const spec::SweepSpec& spec, const spec::Limits& limits, SweepPlan* plan);

}  // namespace gauntlet::expand
