// `runner:`, on a model entry or for the whole sweep.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec::internal {

// {name, command, launcher, stages, env}; `path` is "runner" or
// "models[i].runner". The command's {placeholders} are checked here, so a
// typo is refused at submit, not when the first run starts.
StatusOr<RunnerSpec> ParseRunner(const ErrorContext& ctx, const YAML::Node& node, const std::string& path);

}  // namespace gauntlet::spec::internal
