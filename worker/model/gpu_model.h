// The llama-style decoder on a GPU (CUDA or HIP): weights in bf16 or fp16,
// fp32 accumulation and residual stream, a paged KV cache in device memory
// (model dtype, or fp8 e4m3 with per-block scales as the CPU cache keeps
// them). Tensor parallel as LlamaModel is: every rank of `comm` calls every
// method, and partial projections are summed with MPI_Allreduce.
#pragma once

#include <memory>

#include <mpi.h>

#include "common/status.h"
#include "worker/kv/paged_cache.h"
#include "worker/model/model.h"
#include "worker/model/weights.h"

namespace gauntlet::worker {

struct GpuPlacement {
  int rank = 0;    // MPI rank: the device ordinal when the agent narrowed the visible devices.
  int device = 0;  // The node's device id otherwise.
};

// Uploads the weights (which may be freed afterwards) and sizes the cache.
// Fails with a clear status in a worker built without a GPU backend, for a
// dtype the GPU path does not compute in, or when the device is out of memory.
StatusOr<std::unique_ptr<Model>> MakeGpuModel(const ModelWeights& weights, DType dtype, MPI_Comm comm,
                                              KvCacheConfig cache, GpuPlacement placement);

}  // namespace gauntlet::worker
