// The moe kernel suite's parameters, as seed 004's test_moe.py names them,
// checked in one place: the coordinator refuses a bad entry at submit, the
// worker reads the same rules. Pure.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gauntlet::moe {

struct MoeParams {
  std::vector<int> tokens;     // input_token: one count, or "1,1024,..." for a table
  int inter = 96;              // inter_dim (N)
  int hidden = 2048;           // hidden_size (K)
  int experts = 128;           // experts (E)
  int topk = 8;
  std::string dtype = "bfloat16";  // bfloat16 | float8_e4m3fn
  std::string scale = "per_tensor";  // fp8 weight scales: per_tensor | per_channel
  std::vector<std::string> methods;  // method, or the benchmark table's columns
  std::string mode = "run";    // run | benchmark | autotune
  bool usebest = false;
  std::string config_dir;      // Where usebest looks first; then the job's inputs.
  int seed = 0;
  int repeats = 10;
  std::string fault;           // "expert": one expert's weights corrupted in the method's copy
};

// The seed's benchmark rows.
inline const std::vector<int>& SeedTokenCounts() {
  static const std::vector<int> counts = {1, 1024, 2048, 4096, 8192};
  return counts;
}

// naive and fused run on the GPU.
bool IsGpuMethod(const std::string& method);

// Names the parameter, the value and the fix. `gpu`: the job's backend.
StatusOr<MoeParams> ReadMoeParams(const nlohmann::json& params, bool gpu);

}  // namespace gauntlet::moe
