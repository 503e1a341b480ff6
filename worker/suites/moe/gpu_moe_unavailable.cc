#include "worker/suites/moe/gpu_moe.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::moe {

std::unique_ptr<GpuMoe> OpenGpuMoe(int, int) {
  throw BadParams("backend gpu: this gauntlet-worker was built without GPU kernels (-DGAUNTLET_GPU=cuda or hip)");
}

}  // namespace gauntlet::worker::moe
