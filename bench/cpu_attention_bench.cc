// The CPU reference's attention over the paged cache: the plain kernel a row
// at a time (what the model ran before) against PagedCausalAttention, side by
// side on the attention shape (32 query / 8 KV heads, head dim 128):
// one sequence's prefill of `rows` tokens, and one decode token at a context.
//
//   build/bin/gauntlet_bench_cpu_attention
#include <cmath>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "worker/kernels/cpu_kernels.h"
#include "worker/kv/paged_cache.h"

namespace {

using gauntlet::worker::DType;
using gauntlet::worker::KvCacheConfig;
using gauntlet::worker::PagedKvCache;
namespace cpu = gauntlet::worker::cpu;

constexpr int kHeads = 32, kKvHeads = 8, kHeadDim = 128;

// args: first position, rows, together (1) or row by row (0).
void Attention(benchmark::State& state) {
  const int first = static_cast<int>(state.range(0)), rows = static_cast<int>(state.range(1));
  const bool together = state.range(2) != 0;
  const int length = first + rows;
  PagedKvCache cache(KvCacheConfig{1, kKvHeads, kHeadDim, 16, (length + 15) / 16, DType::kBF16, 1});
  const int seq = cache.NewSequence();
  if (!cache.Grow(seq, length).ok()) return state.SkipWithError("pool too small");
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> k(static_cast<size_t>(kKvHeads) * kHeadDim), v(k.size());
  for (int t = 0; t < length; ++t) {
    for (auto& x : k) x = normal(rng);
    for (auto& x : v) x = normal(rng);
    cache.Store(0, seq, t, k.data(), v.data());
  }
  std::vector<float> q(static_cast<size_t>(rows) * kHeads * kHeadDim), out(q.size());
  for (auto& x : q) x = normal(rng);
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  for (auto _ : state) {
    if (together) {
      cpu::PagedCausalAttention(cache, 0, seq, first, rows, q.data(), kHeads, scale, out.data());
    } else {
      for (int r = 0; r < rows; ++r) {
        const size_t at = static_cast<size_t>(r) * kHeads * kHeadDim;
        cpu::PagedAttention(cache, 0, seq, first + r + 1, &q[at], kHeads, scale, &out[at]);
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  // q·k and p·v: 4 flops per (query head, position, dimension).
  double work = 0;
  for (int r = 0; r < rows; ++r) work += 4.0 * kHeads * kHeadDim * (first + r + 1);
  state.counters["GFLOP/s"] = benchmark::Counter(work * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void Shapes(benchmark::internal::Benchmark* b) {
  for (int together : {0, 1}) {
    b->Args({0, 512, together});    // prefill of 512 tokens
    b->Args({0, 2048, together});   // prefill of 2K
    b->Args({8191, 1, together});   // decode at 8K
    b->Args({32767, 1, together});  // decode at 32K
  }
  b->ArgNames({"first", "rows", "together"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(Attention)->Apply(Shapes);

}  // namespace

BENCHMARK_MAIN();
