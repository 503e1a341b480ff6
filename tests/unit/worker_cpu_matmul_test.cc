// The CPU reference's projection, y = x·wᵀ, in every vector-ISA variant this
// machine can run, against a double-precision loop. The shapes straddle every
// edge of the kernels' tiling: rows of x past a tile, rows of w past a tile or
// a cache block, and k past a vector.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "worker/kernels/cpu_isa.h"
#include "worker/kernels/cpu_kernels.h"

namespace gauntlet::worker::cpu {
namespace {

TEST(CpuIsaTest, BaselineComesFirstAndTheBestIsTheWidest) {
  const std::vector<CpuIsa> isas = SupportedCpuIsas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), CpuIsa::kBaseline);
  EXPECT_EQ(BestCpuIsa(), isas.back());
  for (CpuIsa isa : isas) EXPECT_NE(CpuIsaName(isa), "unknown");
}

TEST(CpuMatMulTest, EveryIsaMatchesADoubleLoopOnRaggedShapes) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  int checked = 0;
  for (int m : {1, 2, 3, 4, 5, 7, 9}) {
    for (int n : {1, 3, 4, 5, 31, 33, 65}) {
      for (int k : {1, 3, 15, 16, 17, 100}) {
        std::vector<float> x(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k);
        for (float& v : x) v = uniform(rng);
        for (float& v : w) v = uniform(rng);
        std::vector<double> expected(static_cast<size_t>(m) * n), magnitude(expected.size());
        for (int i = 0; i < m; ++i) {
          for (int j = 0; j < n; ++j) {
            for (int t = 0; t < k; ++t) {
              const double product = static_cast<double>(x[static_cast<size_t>(i) * k + t]) * w[static_cast<size_t>(j) * k + t];
              expected[static_cast<size_t>(i) * n + j] += product;
              magnitude[static_cast<size_t>(i) * n + j] += std::abs(product);
            }
          }
        }
        for (CpuIsa isa : SupportedCpuIsas()) {
          std::vector<float> y(expected.size(), NAN);
          MatMulTransposed(isa, x.data(), w.data(), y.data(), m, n, k);
          for (size_t e = 0; e < y.size(); ++e) {
            // fp32 summation of k products: a few ulps of the magnitudes' sum.
            ASSERT_NEAR(y[e], expected[e], 1e-6 * magnitude[e] * 8 + 1e-30)
                << CpuIsaName(isa) << " m=" << m << " n=" << n << " k=" << k << " element " << e;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 7 * 7 * 6 * static_cast<int>(SupportedCpuIsas().size()));
}

TEST(CpuMatMulTest, StridedViewsReadAndWriteOnlyTheirPart) {
  // A 5 × 37 product with k = 19, inside buffers whose rows are longer.
  const int m = 5, n = 37, k = 19, x_stride = 23, w_stride = 40, y_stride = 50;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> x(static_cast<size_t>(m) * x_stride), w(static_cast<size_t>(n) * w_stride);
  for (float& v : x) v = uniform(rng);
  for (float& v : w) v = uniform(rng);
  for (CpuIsa isa : SupportedCpuIsas()) {
    std::vector<float> y(static_cast<size_t>(m) * y_stride, -7.0f);
    MatMulTransposed(isa, StridedProduct{x.data(), x_stride, w.data(), w_stride, y.data(), y_stride, m, n, k});
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < y_stride; ++j) {
        const float got = y[static_cast<size_t>(i) * y_stride + j];
        if (j >= n) {
          ASSERT_EQ(got, -7.0f) << CpuIsaName(isa) << ": wrote past column " << n << " of row " << i;
          continue;
        }
        double expected = 0;
        for (int t = 0; t < k; ++t) {
          expected += static_cast<double>(x[static_cast<size_t>(i) * x_stride + t]) * w[static_cast<size_t>(j) * w_stride + t];
        }
        ASSERT_NEAR(got, expected, 1e-5) << CpuIsaName(isa) << " row " << i << " column " << j;
      }
    }
  }
}

TEST(CpuMatMulTest, TheDefaultIsTheBestIsa) {
  const int m = 6, n = 70, k = 130;
  std::vector<float> x(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (float& v : x) v = uniform(rng);
  for (float& v : w) v = uniform(rng);
  std::vector<float> by_default(static_cast<size_t>(m) * n), best(by_default.size());
  MatMulTransposed(x.data(), w.data(), by_default.data(), m, n, k);
  MatMulTransposed(BestCpuIsa(), x.data(), w.data(), best.data(), m, n, k);
  EXPECT_EQ(by_default, best) << "bit for bit: the same kernel";
}

}  // namespace
}  // namespace gauntlet::worker::cpu
