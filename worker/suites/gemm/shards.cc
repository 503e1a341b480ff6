#include "worker/suites/gemm/shards.h"

#include <algorithm>
#include <cmath>

namespace gauntlet::worker::gemm {

float Element(uint64_t seed, int layer, Matrix matrix, int64_t row, int64_t col) {
  // SplitMix64 over the coordinates: cheap, and no two blocks correlate.
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(layer) * 0xBF58476D1CE4E5B9ull +
               static_cast<uint64_t>(matrix) * 0x94D049BB133111EBull + static_cast<uint64_t>(row) * 0x2545F4914F6CDD1Dull +
               static_cast<uint64_t>(col);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(static_cast<double>(z >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

std::vector<float> Block(uint64_t seed, int layer, Matrix matrix, int64_t row0, int64_t rows, int64_t col0,
                         int64_t cols, bool transposed) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
#pragma omp parallel for
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const float value = Element(seed, layer, matrix, row0 + r, col0 + c);
      out[static_cast<size_t>(transposed ? c * rows + r : r * cols + c)] = value;
    }
  }
  return out;
}

double RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return scale > 0 ? worst / scale : worst;
}

}  // namespace gauntlet::worker::gemm
