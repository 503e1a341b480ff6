// ASTRA-Sim's workload input, laid out exactly as gen_astrasim_workload_input.py
// writes it, with measured compute cycles in place of SCALE-Sim's. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/gemm/mnk.h"
#include "lib/gemm/strategy.h"

namespace gauntlet::gemm {

// Forward, input-gradient and weight-gradient compute, in cycles.
using PassCycles = std::array<int64_t, 3>;

// The strategy line, the layer count, then per layer, tab-separated: name,
// the reserved -1, and per pass its compute cycles, collective and size,
// then the delay per KB (100, as the generator writes) and the layer's
// strategy. No newline after the last line, as the generator.
std::string WorkloadFile(std::string_view strategy, const std::vector<GemmLayer>& layers,
                         const std::vector<LayerPlan>& plans, const std::vector<PassCycles>& cycles);

// Milliseconds at `clock_ghz` as whole cycles (ASTRA-Sim's unit).
int64_t Cycles(double milliseconds, double clock_ghz);

}  // namespace gauntlet::gemm
