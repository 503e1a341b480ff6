// Parses a sweep spec (YAML, or JSON, which YAML reads too) into a SweepSpec.
//
// Every error names the source, line and column, the field path, the value and
// what to write instead, e.g.
//   demo.yaml:14:9: jobs[2].devices: 'two' must be a positive integer
// Unknown fields are errors: a misspelt key must never be silently ignored.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "coordinator/spec/limits.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec {

// `files` holds the content of files the spec refers to (the program
// criteria), keyed by the name as written in the spec; the CLI reads them
// relative to the spec file and sends them along.
// `limits` bound what the spec may ask for; each is checked before the work
// it guards (see limits.h).
StatusOr<SweepSpec> ParseSweepSpec(std::string_view text, const std::string& source,
                                   const std::map<std::string, std::string>& files = {}, const Limits& limits = {});

// Parses "90", "90s", "5m", "2h" or "1h30m" into seconds.
StatusOr<double> ParseDuration(std::string_view text);

}  // namespace gauntlet::spec
