// The CPU-only build: every GPU request is refused with the way to get one.
#include "worker/model/gpu_model.h"

namespace gauntlet::worker {

StatusOr<std::unique_ptr<Model>> MakeGpuModel(const ModelWeights&, DType, MPI_Comm, KvCacheConfig, GpuPlacement) {
  return Err(Status::FailedPrecondition(
      "backend 'gpu': this worker was built without a GPU backend; build with -DGAUNTLET_GPU=cuda or hip"));
}

}  // namespace gauntlet::worker
