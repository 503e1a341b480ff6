// selftest: proves the worker, MPI and the farm's plumbing work end to end.
// Each rank fills its share of 0..N-1, sums it, and the ranks agree on the
// total with MPI_Allreduce; the total must equal N(N-1)/2.
//
// Parameters (all optional):
//   n          elements per rank (default 1048576)
//   mode       "ok" | "wrong" (rank 0 corrupts its sum) | "crash" (the last
//              rank aborts) | "sleep" (log a line a second for sleep_s first)
//   sleep_s    seconds to sleep in mode "sleep" (default 1)
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "worker/suites/suite.h"

namespace gauntlet::worker {

SuiteResult RunSelftest(const SuiteContext& ctx) {
  const auto& params = ctx.params;
  long long n = params.value("n", 1LL << 20);
  std::string mode = params.value("mode", "ok");
  if (n <= 0 || n > (1LL << 28)) throw BadParams("params.n: " + std::to_string(n) + " must be in 1..268435456");
  if (mode != "ok" && mode != "wrong" && mode != "crash" && mode != "sleep") {
    throw BadParams("params.mode: '" + mode + "' must be ok, wrong, crash or sleep");
  }

  if (mode == "sleep") {
    double seconds = params.value("sleep_s", 1.0);
    for (int tick = 0; tick < static_cast<int>(seconds * 10); ++tick) {
      if (tick % 10 == 0) spdlog::info("sleeping, {} of {} s", tick / 10, seconds);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (mode == "crash" && ctx.rank == ctx.size - 1) {
    spdlog::error("crashing on purpose (mode: crash)");
    std::abort();
  }

  auto start = std::chrono::steady_clock::now();
  std::vector<long long> values(static_cast<size_t>(n));
  std::iota(values.begin(), values.end(), static_cast<long long>(ctx.rank) * n);
  long long local = std::accumulate(values.begin(), values.end(), 0LL);
  if (mode == "wrong" && ctx.rank == 0) local += 1;
  long long total = 0;
  MPI_Allreduce(&local, &total, 1, MPI_LONG_LONG, MPI_SUM, ctx.comm);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  long long count = n * ctx.size;
  // Halve the even factor first so the product cannot overflow early.
  long long expected = (count % 2 == 0) ? (count / 2) * (count - 1) : count * ((count - 1) / 2);

  SuiteResult result;
  result.pass = total == expected;
  if (!result.pass) {
    result.reason = "allreduce sum " + std::to_string(total) + " != expected " + std::to_string(expected);
  }
  result.metrics["elements"] = static_cast<double>(count);
  result.metrics["ranks"] = ctx.size;
  result.metrics["seconds"] = seconds;
  result.metrics["melements_per_s"] = seconds > 0 ? count / seconds / 1e6 : 0;
  result.details = {{"sum", total}, {"expected", expected}};

  if (ctx.rank == 0 && !ctx.out_dir.empty()) {
    std::ofstream out(ctx.out_dir + "/sums.json");
    out << nlohmann::json{{"sum", total}, {"expected", expected}, {"ranks", ctx.size}}.dump(2) << "\n";
  }
  spdlog::info("rank {}/{}: local sum {}, total {}, expected {}", ctx.rank, ctx.size, local, total, expected);
  return result;
}

}  // namespace gauntlet::worker
