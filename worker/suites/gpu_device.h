// The GPU a worker rank drives, as the farm placed it, and a stream that
// times its work on the device. GPU builds only.
#pragma once

#include "worker/backend/gpu_vendor.h"
#include "worker/kernels/gpu/gemm_plan.h"

namespace gauntlet::worker {

// The runtime's ordinal for the rank's device, once the agent has narrowed
// CUDA_/HIP_VISIBLE_DEVICES. Throws BadParams when no GPU is visible or the
// rank's is not. GAUNTLET_SHARE_GPUS=1 deals the ranks round the visible
// GPUs instead: for benchmarks on a machine with fewer GPUs than ranks,
// never the farm's jobs.
int RankGpuOrdinal(int rank, int device);

// A failed runtime call as RunnerFailed, naming the call.
void CheckGpu(gpuError_t error, const char* what);

// The device made current, its GEMM target, one stream and two events: what
// a suite's GPU method needs to run kernels and time them.
class TimedStream {
 public:
  explicit TimedStream(int ordinal);
  ~TimedStream();
  TimedStream(const TimedStream&) = delete;
  TimedStream& operator=(const TimedStream&) = delete;

  gpuStream_t stream() const { return stream_; }
  const gpu::GemmTarget& target() const { return target_; }
  void Start();
  // Waits for the work since Start(); its milliseconds on the device.
  double StopMs(const char* what);

 private:
  gpu::GemmTarget target_{};
  gpuStream_t stream_{};
  gpuEvent_t start_{}, stop_{};
};

}  // namespace gauntlet::worker
