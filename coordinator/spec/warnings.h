// What a spec asks for that is allowed but likely not what its author
// meant, said at submit (and dry run) before any job runs. Pure.
#pragma once

#include <string>
#include <vector>

#include "coordinator/spec/spec.h"

namespace gauntlet::spec {

// One line each, naming the field, the value and what to do instead.
std::vector<std::string> SpecWarnings(const SweepSpec& spec);

}  // namespace gauntlet::spec
