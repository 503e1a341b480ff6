#include "lib/gemm/workload.h"

#include <cassert>
#include <cmath>

namespace gauntlet::gemm {

std::string WorkloadFile(std::string_view strategy, const std::vector<GemmLayer>& layers,
                         const std::vector<LayerPlan>& plans, const std::vector<PassCycles>& cycles) {
  assert(layers.size() == plans.size() && layers.size() == cycles.size());
  std::string out = std::string(strategy) + "\n" + std::to_string(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    out += "\n" + layers[i].name + "\t-1";
    const Pass* passes[] = {&plans[i].forward, &plans[i].input_grad, &plans[i].weight_grad};
    for (int p = 0; p < 3; ++p) {
      out += "\t" + std::to_string(cycles[i][p]) + "\t" + std::string(CollectiveName(passes[p]->collective)) + "\t" +
             std::to_string(passes[p]->bytes);
    }
    out += "\t100\t" + layers[i].parallelism;
  }
  return out;
}

int64_t Cycles(double milliseconds, double clock_ghz) {
  return static_cast<int64_t>(std::llround(milliseconds * 1e6 * clock_ghz));
}

}  // namespace gauntlet::gemm
