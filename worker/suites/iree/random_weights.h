// pytest-iree's `weights: [{type: random, module, seed}]`: a parameter
// archive of random values for the parameters the module's MLIR names,
// written by IREE's Python bindings on the node and kept in the node cache
// per (MLIR bytes, seed).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace gauntlet::worker::iree {

// The archive's path. Missing numpy or IREE bindings is a configuration
// error (BadParams) saying what to install; a crash is RunnerFailed.
std::string RandomWeights(const std::string& mlir_path, int64_t seed, const nlohmann::json& tools,
                          const std::string& log_dir);

}  // namespace gauntlet::worker::iree
