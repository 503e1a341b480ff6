// Latency of the board's heaviest pages with 100,000 jobs in 1,000 sweeps:
// fills a database, starts a real coordinator on it, and times HTTP GETs.
//
//   build/bin/gauntlet_bench_board [--sweeps 1000] [--jobs-per-sweep 100] [--requests 50]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include <CLI/CLI.hpp>
#include <httplib.h>

#include "common/logging.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/spec/parser.h"
#include "coordinator/store/store.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

// Fills the database: every sweep is a model matrix of exec jobs labelled
// like the LLM stages, with a realistic spread of outcomes.
void Fill(const std::string& db, int sweeps, int jobs_per_sweep) {
  auto store = gauntlet::store::Store::Open(db);
  if (!store) std::exit(1);
  const int per_stage = std::max(1, jobs_per_sweep / 5);
  std::string spec_text = "name: nightly\njobs:\n";
  for (const char* stage : {"reference", "compile", "run", "validate", "benchmark"}) {
    spec_text += std::string("  - {name: ") + stage + ", kind: exec, command: 'x ${i}', labels: {stage: " + stage +
                 ", tp: '4'}, matrix: {i: [";
    for (int i = 0; i < per_stage; ++i) spec_text += (i ? "," : "") + std::to_string(i);
    spec_text += "], model: [llama-8b, granite-8b], dtype: [fp16, bf16], context: [4096, 8192]}}\n";
  }
  auto spec = gauntlet::spec::ParseSweepSpec(spec_text, "fill.yaml");
  std::mt19937 random(7);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  for (int s = 0; s < sweeps; ++s) {
    auto plan = gauntlet::expand::Expand(*spec);
    plan->jobs.resize(static_cast<size_t>(jobs_per_sweep));  // Exactly the asked number.
    (void)(*store)->Transaction([&]() -> gauntlet::Status {
      auto id = (*store)->InsertSweep(*plan, spec_text, "fill.yaml", now - (sweeps - s) * 3'600'000LL,
                                      gauntlet::sched::InitialStates(*plan, {}, {}));
      if (!id) return id.error();
      GAUNTLET_ASSIGN_OR_RETURN(auto listed, (*store)->ListJobs(id->sweep_id, gauntlet::v1::JOB_STATE_UNSPECIFIED, 0));
      for (const auto& job : listed) {
        int roll = static_cast<int>(random() % 100);
        auto state = roll < 80 ? gauntlet::v1::JOB_STATE_SUCCEEDED
                     : roll < 90 ? gauntlet::v1::JOB_STATE_FAILED
                                 : gauntlet::v1::JOB_STATE_CACHED;
        GAUNTLET_RETURN_IF_ERROR((*store)->SetJobState(job.id(), state, "", now));
      }
      return gauntlet::Status::Ok();
    });
  }
}

struct Timing {
  double p50, p95, max;
};

Timing Measure(httplib::Client& client, const std::string& path, int requests) {
  std::vector<double> ms;
  for (int i = 0; i < requests; ++i) {
    auto start = SteadyClock::now();
    auto result = client.Get(path);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    if (!result || result->status != 200) {
      std::fprintf(stderr, "GET %s failed\n", path.c_str());
      std::exit(1);
    }
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 95 / 100)], ms.back()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Board page latency with 100,000 jobs in 1,000 sweeps"};
  int sweeps = 1000, jobs_per_sweep = 100, requests = 50;
  std::string dir = std::filesystem::temp_directory_path().string() + "/gauntlet-board-bench";
  app.add_option("--sweeps", sweeps);
  app.add_option("--jobs-per-sweep", jobs_per_sweep);
  app.add_option("--requests", requests, "GETs per page");
  app.add_option("--dir", dir);
  CLI11_PARSE(app, argc, argv);
  gauntlet::SetupLogging("bench", "warn");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  auto fill_start = SteadyClock::now();
  Fill(dir + "/board.db", sweeps, jobs_per_sweep);
  double fill_s = std::chrono::duration<double>(SteadyClock::now() - fill_start).count();

  gauntlet::CoordinatorOptions options;
  options.db_path = dir + "/board.db";
  options.artifacts_dir = dir + "/artifacts";
  options.grpc_address = "127.0.0.1:0";
  options.http_port = 0;
  gauntlet::CoordinatorServer server(options);
  if (!server.Start().ok()) return 1;
  httplib::Client client("127.0.0.1", server.http_port());

  std::printf("%d sweeps × %d jobs = %d jobs (filled in %.1f s); %d GETs per page\n", sweeps, jobs_per_sweep,
              sweeps * jobs_per_sweep, fill_s, requests);
  std::printf("%-34s %8s %8s %8s\n", "page", "p50 ms", "p95 ms", "max ms");
  for (const char* path : {"/", "/?sweep=0", "/sweeps", "/api/v1/sweeps", "/api/v1/matrix?sweep=0", "/benchmarks"}) {
    Timing t = Measure(client, path, requests);
    std::printf("%-34s %8.1f %8.1f %8.1f\n", path, t.p50, t.p95, t.max);
  }
  server.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}
