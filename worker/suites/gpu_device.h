// The GPU a worker rank drives, as the farm placed it: the ordinal the
// runtime knows it by once the agent has narrowed CUDA_/HIP_VISIBLE_DEVICES.
// GPU builds only.
#pragma once

namespace gauntlet::worker {

// Throws BadParams when no GPU is visible or the rank's is not.
// GAUNTLET_SHARE_GPUS=1 deals the ranks round the visible GPUs instead: for
// benchmarks on a machine with fewer GPUs than ranks, never the farm's jobs.
int RankGpuOrdinal(int rank, int device);

}  // namespace gauntlet::worker
