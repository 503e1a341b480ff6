// NumPy .npy files (format 1.0, little-endian float32), so logits can be
// loaded with numpy.load().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace gauntlet::worker {

Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data);
// Reads a .npy of float32, float16 or bf16 (its bits as uint16) as float32:
// what WriteNpy and numpy write, C order. Errors name the file and the flaw.
StatusOr<std::vector<float>> ReadNpy(const std::string& path, std::vector<int64_t>* shape);

}  // namespace gauntlet::worker
