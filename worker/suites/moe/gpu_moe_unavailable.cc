#include "worker/suites/moe/gpu_moe.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::moe {
namespace {

[[noreturn]] void NoGpuKernels() {
  throw BadParams("backend gpu: this gauntlet-worker was built without GPU kernels (-DGAUNTLET_GPU=cuda or hip)");
}

}  // namespace

std::unique_ptr<GpuMoe> OpenGpuMoe(int, int) { NoGpuKernels(); }
std::string GpuName(int, int) { NoGpuKernels(); }

}  // namespace gauntlet::worker::moe
