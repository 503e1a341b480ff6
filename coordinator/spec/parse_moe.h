// A `kernels: [{suite: moe, ...}]` entry checked at submit: every
// combination of its swept parameters through the worker's own rules
// (lib/moe/moe_params.h). An entry with usebest and no config_dir gets an
// autotune job of the same shapes to depend on, content-keyed, so a nightly
// sweep tunes once and reuses the file until --force=autotune.
#pragma once

#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec::internal {

inline constexpr const char* kAutotuneStage = "autotune";

// Appends the autotune job, if the entry needs one, to spec->jobs before
// the entry's own job (which then depends on it).
Status CheckMoeKernel(const ErrorContext& ctx, const YAML::Node& entry, const std::string& path, JobTemplate* job,
                      SweepSpec* spec);

}  // namespace gauntlet::spec::internal
