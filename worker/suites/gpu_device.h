// The GPU a worker rank drives, as the farm placed it: the ordinal the
// runtime knows it by once the agent has narrowed CUDA_/HIP_VISIBLE_DEVICES.
// GPU builds only.
#pragma once

namespace gauntlet::worker {

// Throws BadParams when no GPU is visible or the rank's is not.
int RankGpuOrdinal(int rank, int device);

}  // namespace gauntlet::worker
