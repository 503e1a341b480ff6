#include "worker/suites/gemm/gpu_product.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::gemm {

std::unique_ptr<GpuProduct> OpenGpuProduct(int, int, bool) {
  throw BadParams("backend gpu: this gauntlet-worker was built without GPU kernels (-DGAUNTLET_GPU=cuda or hip)");
}

}  // namespace gauntlet::worker::gemm
