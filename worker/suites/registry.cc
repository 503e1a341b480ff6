#include "worker/suites/suite.h"

namespace gauntlet::worker {

const std::map<std::string, SuiteFn>& Suites() {
  static const std::map<std::string, SuiteFn> suites = {
      {"selftest", &RunSelftest},
      {"llm", &RunLlm},
      {"kernel.gemm", &RunGemm},
      {"kernel.moe", &RunMoe},
#ifdef GAUNTLET_WORKER_IREE
      {"iree", &RunIree},
#endif
  };
  return suites;
}

}  // namespace gauntlet::worker
