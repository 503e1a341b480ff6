// The CPU reference's projections (y = x·wᵀ) against the row-at-a-time loop
// they replaced, side by side on the 8-layer hidden-2048 model's shapes:
// decode steps (m = batch) and prefills (m = prompt tokens), once per vector
// ISA this CPU supports (baseline is what a build without run-time dispatch
// runs).
//
//   build/bin/gauntlet_bench_cpu_matmul
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "worker/kernels/cpu_isa.h"
#include "worker/kernels/cpu_kernels.h"

namespace {

// The previous kernel: every (row of x, row of w) pair in parallel, so each
// thread streams w from memory once per row of x it owns.
void RowAtATime(const float* x, const float* w, float* y, int m, int n, int k) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      const float* a = x + static_cast<size_t>(i) * k;
      const float* b = w + static_cast<size_t>(j) * k;
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int t = 0; t < k; ++t) sum += a[t] * b[t];
      y[static_cast<size_t>(i) * n + j] = sum;
    }
  }
}

using gauntlet::worker::cpu::CpuIsa;

// isa: nullopt for the row-at-a-time loop.
void MatMul(benchmark::State& state, std::optional<CpuIsa> isa) {
  const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)),
            k = static_cast<int>(state.range(2));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> x(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k), y(static_cast<size_t>(m) * n);
  for (float& v : x) v = uniform(rng);
  for (float& v : w) v = uniform(rng);
  for (auto _ : state) {
    if (isa) {
      gauntlet::worker::cpu::MatMulTransposed(*isa, x.data(), w.data(), y.data(), m, n, k);
    } else {
      RowAtATime(x.data(), w.data(), y.data(), m, n, k);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1000);
}

void Shapes(benchmark::internal::Benchmark* b) {
  for (int m : {1, 8, 256}) {
    b->Args({m, 2048, 2048});  // o
    b->Args({m, 11008, 2048});  // gate and up
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RegisterBenchmark("row_at_a_time", MatMul, std::optional<CpuIsa>())->Apply(Shapes);
  for (CpuIsa isa : gauntlet::worker::cpu::SupportedCpuIsas()) {
    const std::string name = "blocked/" + std::string(gauntlet::worker::cpu::CpuIsaName(isa));
    benchmark::RegisterBenchmark(name.c_str(), MatMul, std::optional<CpuIsa>(isa))->Apply(Shapes);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
