#include "worker/suites/gpu_device.h"

#include <cstdlib>
#include <string>

#include "lib/contract/worker_contract.h"
#include "worker/kernels/gpu/gemm.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker {

int RankGpuOrdinal(int rank, int device) {
  int count = 0;
  if (gpuGetDeviceCount(&count) != gpuSuccess || count == 0) {
    (void)gpuGetLastError();  // Clear the sticky error; the message says what happened.
    throw BadParams("backend gpu: no GPU is visible to this worker; run the job on a node whose agent has --devices gpu");
  }
  bool narrowed = false;
  for (const char* name : {"CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES"}) {
    const char* value = std::getenv(name);
    narrowed = narrowed || (value && *value);
  }
  int ordinal = contract::GpuOrdinal(narrowed, rank, device);
  // Benchmarks on a one-GPU machine may put several ranks on one device;
  // the farm never does (a rank holds a device of its own).
  if (const char* share = std::getenv("GAUNTLET_SHARE_GPUS"); share && std::string(share) == "1") ordinal %= count;
  if (ordinal >= count) {
    throw BadParams("rank " + std::to_string(rank) + " wants GPU " + std::to_string(ordinal) + " but " +
                    std::to_string(count) + " are visible; ask for no more devices than the node has");
  }
  return ordinal;
}

void CheckGpu(gpuError_t error, const char* what) {
  if (error != gpuSuccess) throw RunnerFailed(std::string(what) + ": " + gpuGetErrorString(error));
}

TimedStream::TimedStream(int ordinal) {
  CheckGpu(gpuSetDevice(ordinal), "gpuSetDevice");
  CheckGpu(gpu::QueryGemmTarget(ordinal, &target_), "QueryGemmTarget");
  CheckGpu(gpuStreamCreate(&stream_), "gpuStreamCreate");
  CheckGpu(gpuEventCreate(&start_), "gpuEventCreate");
  CheckGpu(gpuEventCreate(&stop_), "gpuEventCreate");
}

TimedStream::~TimedStream() {
  gpuEventDestroy(start_);
  gpuEventDestroy(stop_);
  gpuStreamDestroy(stream_);
}

void TimedStream::Start() { CheckGpu(gpuEventRecord(start_, stream_), "gpuEventRecord"); }

double TimedStream::StopMs(const char* what) {
  CheckGpu(gpuEventRecord(stop_, stream_), "gpuEventRecord");
  CheckGpu(gpuEventSynchronize(stop_), what);
  float ms = 0;
  CheckGpu(gpuEventElapsedTime(&ms, start_, stop_), "gpuEventElapsedTime");
  return ms;
}

}  // namespace gauntlet::worker
