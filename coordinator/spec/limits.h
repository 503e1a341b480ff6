// How much one submitted spec may ask of the coordinator. Each bound is
// checked before the work it guards starts (counting YAML nodes while
// parsing, multiplying matrix sizes before expanding), so a tiny hostile file
// costs microseconds, not a core. Every refusal names the limit and the
// coordinator flag that raises it.
#pragma once

#include <cstdint>
#include <string>

#include "lib/programs/criteria.h"

namespace gauntlet::spec {

struct Limits {
  int64_t max_spec_bytes = 4 << 20;        // --max-spec-bytes
  int64_t max_yaml_nodes = 200'000;        // --max-yaml-nodes (aliases count as often as they expand)
  int max_yaml_depth = 64;                 // --max-yaml-depth
  int64_t max_jobs_per_sweep = 250'000;    // --max-jobs-per-sweep
  int64_t max_dependency_edges = 2'000'000;  // --max-dependency-edges
  int64_t max_program_search = programs::kDefaultMaxProgramSearch;  // --max-program-search
  int64_t max_command_bytes = 64 << 10;    // --max-command-bytes: an exec job's argv, all arguments together
  int64_t max_env_bytes = 64 << 10;        // --max-env-bytes: an exec job's env, names and values together
  int max_labels = 32;                     // --max-labels per job
};

// "over the limit of N (raise it with gauntlet-coordinator --flag)".
inline std::string OverLimit(int64_t limit, const char* flag) {
  return "over the limit of " + std::to_string(limit) + " (raise it with gauntlet-coordinator " + flag + ")";
}

}  // namespace gauntlet::spec
