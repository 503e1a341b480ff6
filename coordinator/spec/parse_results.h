// `results:` of a job or a runner: the files its tools write (docs/results.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec::internal {

// [{format, path}] as JSON; `${var}` in a path must be a matrix variable of
// `job` (a runner's stages have none).
StatusOr<nlohmann::json> ParseResults(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                                      const JobTemplate& job);

}  // namespace gauntlet::spec::internal
