// The agent↔worker contract: what the agent writes into job.json, what the
// worker's rank 0 writes into result.json, and what the worker's exit code
// means. Both processes compile this one definition (docs/worker-contract.md).
// It depends on nlohmann-json only: the worker links no protobuf.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gauntlet::contract {

// Bumped when a field changes meaning or a required field is added. A worker
// refuses a job.json of a newer version with a message naming both.
inline constexpr int kWorkerContractVersion = 1;

// job.json.
struct WorkerJob {
  int version = kWorkerContractVersion;
  int64_t job_id = 0;
  int64_t attempt_id = 0;
  std::string suite;
  nlohmann::json params = nlohmann::json::object();
  std::string backend = "cpu";
  std::vector<int> devices;  // The node's device indices the job holds, one per rank.
  std::string inputs;        // Upstream artifacts, in <inputs>/<stage or job name>/.
};

nlohmann::json ToJson(const WorkerJob& job);
// Names the field that is missing or of the wrong type.
StatusOr<WorkerJob> WorkerJobFromJson(const nlohmann::json& json);

enum class Verdict { kPass, kFail };

// result.json.
struct WorkerResult {
  std::string suite;
  Verdict verdict = Verdict::kFail;
  std::string reason;
  int ranks = 1;
  std::map<std::string, double> metrics;
  // A benchmark's repeats (metric -> each measurement), which nightly change
  // detection needs beside the mean in `metrics`.
  std::map<std::string, std::vector<double>> samples;
  nlohmann::json details = nlohmann::json::object();
};

nlohmann::json ToJson(const WorkerResult& result);
StatusOr<WorkerResult> WorkerResultFromJson(const nlohmann::json& json);

// The worker's exit codes. Anything else (a signal, a crash, mpirun's own
// codes) is an infrastructure failure too.
enum class WorkerExit : int {
  kPass = 0,
  kVerdictFail = 1,     // The suite ran and its verdict is fail (numerics, target missed).
  kBadParams = 2,       // job.json or its parameters are wrong: a configuration error.
  kInfrastructure = 3,  // The node failed the job: disk full, device error, missing input file.
};

// What the agent makes of a finished process.
enum class FailureClass {
  kNone,            // Succeeded.
  kVerdict,         // A verdict: final, retrying cannot change it.
  kConfiguration,   // Bad parameters: final until the spec changes.
  kInfrastructure,  // The node, the device or the process failed: worth another attempt.
  kCommand,         // An exec command exited non-zero: its codes are its own, so it may heal.
  kCancelled,
};

// Whether another attempt may turn this failure into a success.
bool IsRetryable(FailureClass failure);

std::string_view FailureClassName(FailureClass failure);

// How the process ended, as the agent saw it.
struct ProcessEnd {
  int exit_code = 0;
  int signal = 0;          // Non-zero: killed by this signal.
  bool cancelled = false;  // The agent stopped it because it was cancelled or is shutting down.
  std::string stop_reason; // Why the agent stopped it ("cancelled", "timed out after 60s").
  bool timed_out = false;
  bool launch_failed = false;  // It never started; stop_reason says why.
  std::string description;     // "exit code 3", "killed by signal 11 (Segmentation fault)".
  // The last lines the process printed: a command's own words on why it
  // failed belong in the reason, not only in its log.
  std::string output_tail;
};

struct Outcome {
  bool succeeded = false;
  FailureClass failure = FailureClass::kNone;
  std::string reason;
};

// The one rule from (process end, result.json if any) to an attempt's
// outcome. `worker` is false for exec jobs, whose exit codes are their own:
// there any non-zero exit is a failure of unknown class (infrastructure,
// retried), unless the job wrote a result.json with a verdict.
Outcome DecideOutcome(const ProcessEnd& end, const std::optional<WorkerResult>& result, bool worker);

// The device a rank drives: the rank-th entry of a comma-separated visible
// list ("2,3"), or the rank itself when the list is empty or shorter.
int DeviceForRank(std::string_view visible_devices, int rank);

// The runtime's ordinal for that device: once the agent has narrowed
// CUDA_/HIP_VISIBLE_DEVICES to the job's devices the runtime numbers them
// from 0, so rank r uses ordinal r; otherwise the node's own index.
inline int GpuOrdinal(bool visible_devices_narrowed, int rank, int device) {
  return visible_devices_narrowed ? rank : device;
}

}  // namespace gauntlet::contract
