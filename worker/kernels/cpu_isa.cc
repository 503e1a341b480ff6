#include "worker/kernels/cpu_isa.h"

namespace gauntlet::worker::cpu {

std::string_view CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kBaseline: return "baseline";
    case CpuIsa::kAvx2Fma: return "avx2+fma";
    case CpuIsa::kAvx512: return "avx512";
  }
  return "unknown";
}

std::vector<CpuIsa> SupportedCpuIsas() {
  std::vector<CpuIsa> isas = {CpuIsa::kBaseline};
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2_fma) isas.push_back(CpuIsa::kAvx2Fma);
  if (avx2_fma && __builtin_cpu_supports("avx512f")) isas.push_back(CpuIsa::kAvx512);
#endif
  return isas;
}

CpuIsa BestCpuIsa() {
  static const CpuIsa best = SupportedCpuIsas().back();
  return best;
}

}  // namespace gauntlet::worker::cpu
