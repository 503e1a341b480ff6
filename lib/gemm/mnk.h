// The mnk CSV of ASTRA-Sim's workload generator (seed 002): a model as GEMM
// layers, `Layer,m,n,k` or `Layer,m,n,k,CustomizedParallelization`. Pure; the
// coordinator checks it at submit and the worker runs it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gauntlet::gemm {

// The strategies of gen_astrasim_workload_input.py's --parallel.
inline constexpr std::string_view kData = "DATA";
inline constexpr std::string_view kModel = "MODEL";
inline constexpr std::string_view kHybridDataModel = "HYBRID_DATA_MODEL";
inline constexpr std::string_view kHybridModelData = "HYBRID_MODEL_DATA";
inline constexpr std::string_view kHybridCustomized = "HYBRID_CUSTOMIZED";

bool IsLayerStrategy(std::string_view name);  // One of the four a layer can take.
bool IsStrategy(std::string_view name);       // Those, or HYBRID_CUSTOMIZED.

struct GemmLayer {
  std::string name;
  int64_t m = 0;  // Inputs (the minibatch): sharded by data parallelism.
  int64_t n = 0;  // Output dimension: sharded by model parallelism.
  int64_t k = 0;  // Input dimension.
  std::string parallelism;  // The layer's own strategy.
  int line = 0;
};

// As the generator reads it: a strategy other than HYBRID_CUSTOMIZED
// overrides the per-layer column, and HYBRID_CUSTOMIZED needs that column.
// Errors name "<source>:<line>:", the field, the value and the fix.
StatusOr<std::vector<GemmLayer>> ParseMnkCsv(std::string_view text, const std::string& source,
                                             std::string_view strategy);

}  // namespace gauntlet::gemm
