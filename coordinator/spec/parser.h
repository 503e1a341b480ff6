// Parses a sweep spec (YAML, or JSON, which YAML reads too) into a SweepSpec.
//
// Every error names the source, line and column, the field path, the value and
// what to write instead, e.g.
//   demo.yaml:14:9: jobs[2].devices: 'two' must be a positive integer
// Unknown fields are errors: a misspelt key must never be silently ignored.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec {

StatusOr<SweepSpec> ParseSweepSpec(std::string_view text, const std::string& source);

// Parses "90", "90s", "5m", "2h" or "1h30m" into seconds.
StatusOr<double> ParseDuration(std::string_view text);

}  // namespace gauntlet::spec
