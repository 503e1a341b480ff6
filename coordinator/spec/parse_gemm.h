// A `kernels: [{suite: gemm, ...}]` entry checked at submit: the mnk CSV the
// CLI sent is inlined into the job's params, and every combination of the
// swept strategies, NPU counts, packages and datatype sizes is planned once,
// so a layer that cannot be sharded is refused before anything is stored.
#pragma once

#include <map>
#include <string>

#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec::internal {

// `job` holds the entry's parameters (list-valued ones already in its
// matrix); sets its devices to num_npus (one rank per NPU).
Status CheckGemmKernel(const ErrorContext& ctx, const YAML::Node& entry, const std::string& path,
                       const std::map<std::string, std::string>& files, JobTemplate* job);

}  // namespace gauntlet::spec::internal
