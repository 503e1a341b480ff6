// `suite: {type: iree, ...}`: a team's IREE model tests, kept as
// iree-test-suites JSON definitions, run as farm jobs. One compile job per
// module the selected tests use, then one job per test (quality, benchmark,
// compstat) after the compiles it needs; all on worker suite "iree".
#pragma once

#include <map>
#include <string>

#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec::iree {

// `files` holds the definitions the CLI read from the block's `tests` and
// `modules` folders (lib/contract/suite_files.h). Appends the jobs to
// spec->jobs and what the markers selected to spec->suite.
Status ParseIreeSuite(const internal::ErrorContext& ctx, const YAML::Node& node,
                      const std::map<std::string, std::string>& files, SweepSpec* spec);

}  // namespace gauntlet::spec::iree
