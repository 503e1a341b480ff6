// One rank's shards of a layer's matrices, made from a seed so any rank can
// make any block without the whole, and the products the passes compute.
// CPU, fp32. Separate from the MPI code so the numerics stay testable alone.
#pragma once

#include <cstdint>
#include <vector>

namespace gauntlet::worker::gemm {

enum class Matrix { kX, kW, kGradY };  // X[m, k], W[k, n], dY[m, n].

// The element at (row, col): uniform in [-1, 1), the same on every rank.
float Element(uint64_t seed, int layer, Matrix matrix, int64_t row, int64_t col);

// Rows [row0, row0 + rows) × cols [col0, col0 + cols) of a matrix, row-major;
// transposed: the same block as [cols, rows].
std::vector<float> Block(uint64_t seed, int layer, Matrix matrix, int64_t row0, int64_t rows, int64_t col0,
                         int64_t cols, bool transposed = false);

// The largest |a - b| over the largest |b|: 0 for equal, ~1e-6 for fp32
// sums in another order, ~1 for a wrong shard.
double RelativeError(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace gauntlet::worker::gemm
