// y = x·wᵀ for the CPU reference, compiled once per vector ISA and chosen at
// run time (see cpu_isa.h). One body serves every variant: it is inlined into
// a thin function per ISA, which the compiler builds with that ISA's registers
// (and fused multiply-adds where it has them).
#include <algorithm>
#include <cassert>
#include <cstring>
#include <ranges>

#include "worker/kernels/cpu_isa.h"
#include "worker/kernels/cpu_kernels.h"

#define GAUNTLET_INLINE [[gnu::always_inline]] inline

namespace gauntlet::worker::cpu {

namespace {
// Vectors of 4, 8 and 16 floats (GCC/Clang vector extensions): each ISA's
// variant computes in its own register width.
typedef float Vec4 __attribute__((vector_size(16)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));

// A tile of R rows of x against C rows of w: R·C accumulator vectors, R + C
// loads per step. Rows of w are reused across the R rows of x and the reverse,
// which is what lifts it from load-bound to multiply-bound; R·C + C vectors
// must still fit in registers.
template <typename Vec, int R, int C>
GAUNTLET_INLINE void Tile(const float* a, size_t a_stride, const float* w, size_t w_stride, int k, float* y,
                          size_t y_stride) {
  constexpr int kLanes = sizeof(Vec) / sizeof(float);
  Vec sums[R][C] = {};
  int t = 0;
  for (; t + kLanes <= k; t += kLanes) {
    // Unrolled even at -O2, so that every vector stays in a register.
    Vec x_rows[R], w_rows[C];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) std::memcpy(&x_rows[r], a + r * a_stride + t, sizeof(Vec));
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) std::memcpy(&w_rows[c], w + c * w_stride + t, sizeof(Vec));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) sums[r][c] += x_rows[r] * w_rows[c];
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      float sum = 0;
      for (int lane = 0; lane < kLanes; ++lane) sum += sums[r][c][lane];
      for (int u = t; u < k; ++u) sum += a[r * a_stride + u] * w[c * w_stride + u];
      y[r * y_stride + c] = sum;
    }
  }
}

// Up to R rows of x, from row i, against rows [first, last) of w.
template <typename Vec, int R, int C>
GAUNTLET_INLINE void RowsAgainstColumns(const StridedProduct& p, int i, int first, int last) {
  const float* a = p.x + static_cast<size_t>(i) * p.x_stride;
  float* out = p.y + static_cast<size_t>(i) * p.y_stride;
  int j = first;
  for (; j + C <= last; j += C) {
    Tile<Vec, R, C>(a, p.x_stride, p.w + static_cast<size_t>(j) * p.w_stride, p.w_stride, p.k, out + j, p.y_stride);
  }
  for (; j < last; ++j) {
    Tile<Vec, R, 1>(a, p.x_stride, p.w + static_cast<size_t>(j) * p.w_stride, p.w_stride, p.k, out + j, p.y_stride);
  }
}

// Rows [first, last) of w against every row of x: they stay in cache while x
// passes them, so w comes from memory once, not once per row of x (a
// prefill's x has thousands).
template <typename Vec, int R, int C>
GAUNTLET_INLINE void RowsOfW(const StridedProduct& p, int first, int last) {
  static_assert(R >= 1 && R <= 4);
  int i = 0;
  for (; i + R <= p.m; i += R) RowsAgainstColumns<Vec, R, C>(p, i, first, last);
  switch (p.m - i) {
    case 3: RowsAgainstColumns<Vec, 3, C>(p, i, first, last); break;
    case 2: RowsAgainstColumns<Vec, 2, C>(p, i, first, last); break;
    case 1: RowsAgainstColumns<Vec, 1, C>(p, i, first, last); break;
    default: break;
  }
}

using RowsOfWFn = void (*)(const StridedProduct&, int, int);

// Tile shapes measured best per ISA by bench/cpu_matmul_bench.cc's sweep.
void RowsOfWBaseline(const StridedProduct& p, int first, int last) { RowsOfW<Vec4, 3, 4>(p, first, last); }
#if defined(__x86_64__)
[[gnu::target("avx2,fma")]] void RowsOfWAvx2Fma(const StridedProduct& p, int first, int last) {
  RowsOfW<Vec8, 3, 4>(p, first, last);
}
[[gnu::target("avx512f,avx2,fma")]] void RowsOfWAvx512(const StridedProduct& p, int first, int last) {
  RowsOfW<Vec16, 4, 4>(p, first, last);
}
#endif

RowsOfWFn RowsOfWFor(CpuIsa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case CpuIsa::kAvx2Fma: return RowsOfWAvx2Fma;
    case CpuIsa::kAvx512: return RowsOfWAvx512;
#endif
    default: return RowsOfWBaseline;
  }
}
}  // namespace

void MatMulTransposed(CpuIsa isa, const StridedProduct& product) {
  assert(std::ranges::count(SupportedCpuIsas(), isa) == 1 && "this CPU cannot run that ISA");
  assert(product.x_stride >= product.k && product.w_stride >= product.k && product.y_stride >= product.n);
  const RowsOfWFn rows_of_w = RowsOfWFor(isa);
  constexpr int kRowsOfW = 32;
  const int blocks = (product.n + kRowsOfW - 1) / kRowsOfW;
#pragma omp parallel for schedule(static)
  for (int block = 0; block < blocks; ++block) {
    const int first = block * kRowsOfW;
    rows_of_w(product, first, std::min(product.n, first + kRowsOfW));
  }
}

void MatMulTransposed(const StridedProduct& product) { MatMulTransposed(BestCpuIsa(), product); }

void MatMulTransposed(CpuIsa isa, const float* x, const float* w, float* y, int m, int n, int k) {
  MatMulTransposed(isa, StridedProduct{x, k, w, k, y, n, m, n, k});
}

void MatMulTransposed(const float* x, const float* w, float* y, int m, int n, int k) {
  MatMulTransposed(BestCpuIsa(), x, w, y, m, n, k);
}

}  // namespace gauntlet::worker::cpu
