// The devices an agent offers, from --devices: "cpu:4", "sim:8", "gpu:0,1,3",
// "gpu:8" or "auto" (GPUs the driver exposes, else one cpu slot per core).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::agent {

// Pure: parses a --devices value. `auto` is resolved by DetectDevices().
StatusOr<std::vector<v1::Device>> ParseDeviceSpec(const std::string& spec);

// Resolves "auto": /dev/nvidiaN and /dev/dri render nodes of AMD GPUs (kfd),
// falling back to cpu:<cores>.
std::vector<v1::Device> DetectDevices();

}  // namespace gauntlet::agent
