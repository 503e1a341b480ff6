// A suite is a built-in test the worker runs on every rank. Suites see MPI
// and the job's parameters, never gRPC or SQLite.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <mpi.h>
#include <nlohmann/json.hpp>

namespace gauntlet::worker {

struct SuiteContext {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0;
  int size = 1;
  nlohmann::json params = nlohmann::json::object();
  std::string backend = "cpu";
  int device = 0;          // This rank's device index among the visible ones.
  std::string out_dir;     // Rank 0 writes artifacts here.
  std::string inputs_dir;  // Upstream jobs' artifacts, in <inputs_dir>/<stage or job name>/.
};

// Every rank returns its own result; rank 0's is the job's. A suite agrees on
// the verdict across ranks itself (e.g. with MPI_Allreduce).
struct SuiteResult {
  bool pass = false;
  std::string reason;                      // Why it failed.
  std::map<std::string, double> metrics;
  std::map<std::string, std::vector<double>> samples;  // A benchmark's repeats, per metric.
  nlohmann::json details = nlohmann::json::object();
};

// Thrown for parameters a user got wrong; the worker reports it as a failure
// naming the parameter, not as a crash.
struct BadParams : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown when a team's runner crashed or exited non-zero: like a worker
// crash, the node's or the stack's fault, which another attempt may not hit.
struct RunnerFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using SuiteFn = SuiteResult (*)(const SuiteContext&);

// The suites compiled into this worker, by name.
const std::map<std::string, SuiteFn>& Suites();

SuiteResult RunSelftest(const SuiteContext& ctx);
// The LLM stages: params.stage is reference, compile, run, validate or benchmark.
SuiteResult RunLlm(const SuiteContext& ctx);
// A fused Mixture-of-Experts layer: methods checked, timed and autotuned.
SuiteResult RunMoe(const SuiteContext& ctx);
// GEMM layers under a parallel strategy over MPI (ASTRA-Sim's mnk CSV).
SuiteResult RunGemm(const SuiteContext& ctx);
// IREE model tests: params.stage is compile, quality, benchmark or compstat.
SuiteResult RunIree(const SuiteContext& ctx);

}  // namespace gauntlet::worker
