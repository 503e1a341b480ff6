#include "lib/contract/worker_contract.h"

#include <charconv>

namespace gauntlet::contract {
namespace {

std::string FieldError(std::string_view file, std::string_view field, std::string_view want) {
  return std::string(file) + ": field '" + std::string(field) + "' must be " + std::string(want);
}

}  // namespace

nlohmann::json ToJson(const WorkerJob& job) {
  return {{"version", job.version}, {"job_id", job.job_id},   {"attempt_id", job.attempt_id},
          {"suite", job.suite},     {"params", job.params},   {"backend", job.backend},
          {"devices", job.devices}, {"inputs", job.inputs}};
}

StatusOr<WorkerJob> WorkerJobFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Err(Status::InvalidArgument("job.json: not a JSON object"));
  WorkerJob job;
  job.version = json.value("version", 1);
  if (job.version > kWorkerContractVersion) {
    return Err(Status::InvalidArgument("job.json: contract version " + std::to_string(job.version) +
                                       " is newer than this worker's " + std::to_string(kWorkerContractVersion) +
                                       "; install the worker that matches the agent"));
  }
  if (!json.contains("suite") || !json["suite"].is_string() || json["suite"].get<std::string>().empty()) {
    return Err(Status::InvalidArgument(FieldError("job.json", "suite", "a suite name, e.g. \"llm\"")));
  }
  job.suite = json["suite"].get<std::string>();
  if (json.contains("params") && !json["params"].is_object() && !json["params"].is_null()) {
    return Err(Status::InvalidArgument(FieldError("job.json", "params", "an object")));
  }
  if (json.contains("params") && json["params"].is_object()) job.params = json["params"];
  for (const char* field : {"job_id", "attempt_id"}) {
    if (json.contains(field) && !json[field].is_number_integer()) {
      return Err(Status::InvalidArgument(FieldError("job.json", field, "an integer")));
    }
  }
  job.job_id = json.value("job_id", int64_t{0});
  job.attempt_id = json.value("attempt_id", int64_t{0});
  for (const char* field : {"backend", "inputs"}) {
    if (json.contains(field) && !json[field].is_string()) {
      return Err(Status::InvalidArgument(FieldError("job.json", field, "a string")));
    }
  }
  job.backend = json.value("backend", "");
  if (job.backend.empty()) job.backend = "cpu";
  job.inputs = json.value("inputs", "");
  if (json.contains("devices")) {
    if (!json["devices"].is_array()) return Err(Status::InvalidArgument(FieldError("job.json", "devices", "a list")));
    for (const auto& device : json["devices"]) {
      if (!device.is_number_integer()) {
        return Err(Status::InvalidArgument(FieldError("job.json", "devices", "a list of device indices")));
      }
      job.devices.push_back(device.get<int>());
    }
  }
  return job;
}

nlohmann::json ToJson(const WorkerResult& result) {
  return {{"suite", result.suite},
          {"verdict", result.verdict == Verdict::kPass ? "pass" : "fail"},
          {"reason", result.reason},
          {"ranks", result.ranks},
          {"metrics", result.metrics},
          {"samples", result.samples},
          {"details", result.details}};
}

StatusOr<WorkerResult> WorkerResultFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Err(Status::InvalidArgument("result.json is not a JSON object"));
  WorkerResult result;
  if (!json.contains("verdict") || !json["verdict"].is_string() ||
      (json["verdict"] != "pass" && json["verdict"] != "fail")) {
    return Err(Status::InvalidArgument(FieldError("result.json", "verdict", "\"pass\" or \"fail\"")));
  }
  result.verdict = json["verdict"] == "pass" ? Verdict::kPass : Verdict::kFail;
  if (json.contains("suite") && json["suite"].is_string()) result.suite = json["suite"].get<std::string>();
  if (json.contains("reason") && json["reason"].is_string()) result.reason = json["reason"].get<std::string>();
  if (json.contains("ranks") && json["ranks"].is_number_integer()) result.ranks = json["ranks"].get<int>();
  if (json.contains("metrics")) {
    if (!json["metrics"].is_object()) {
      return Err(Status::InvalidArgument(FieldError("result.json", "metrics", "an object of numbers")));
    }
    // A metric that is not a number (a string, null for NaN) is left out:
    // one odd value must not cost the job its other metrics.
    for (const auto& [name, value] : json["metrics"].items()) {
      if (value.is_number()) result.metrics[name] = value.get<double>();
    }
  }
  if (json.contains("samples")) {
    if (!json["samples"].is_object()) {
      return Err(Status::InvalidArgument(FieldError("result.json", "samples", "an object of lists of numbers")));
    }
    for (const auto& [name, values] : json["samples"].items()) {
      if (!values.is_array()) {
        return Err(Status::InvalidArgument(FieldError("result.json", "samples." + name, "a list of numbers")));
      }
      for (const auto& value : values) {
        if (value.is_number()) result.samples[name].push_back(value.get<double>());
      }
    }
  }
  if (json.contains("details")) result.details = json["details"];
  return result;
}

std::string_view FailureClassName(FailureClass failure) {
  switch (failure) {
    case FailureClass::kNone: return "none";
    case FailureClass::kVerdict: return "verdict";
    case FailureClass::kConfiguration: return "configuration";
    case FailureClass::kInfrastructure: return "infrastructure";
    case FailureClass::kCommand: return "command";
    case FailureClass::kCancelled: return "cancelled";
  }
  return "unknown";
}

bool IsRetryable(FailureClass failure) {
  return failure == FailureClass::kInfrastructure || failure == FailureClass::kCommand;
}

Outcome DecideOutcome(const ProcessEnd& end, const std::optional<WorkerResult>& result, bool worker) {
  auto fail = [](FailureClass failure, std::string reason) { return Outcome{false, failure, std::move(reason)}; };
  if (end.launch_failed) return fail(FailureClass::kInfrastructure, end.stop_reason);
  if (end.cancelled) return fail(FailureClass::kCancelled, end.stop_reason);
  if (end.timed_out) return fail(FailureClass::kInfrastructure, end.stop_reason);
  const std::string verdict_reason = result && !result->reason.empty() ? result->reason : "";
  auto with_verdict = [&](std::string reason) {
    if (!verdict_reason.empty()) return reason + "; verdict fail: " + verdict_reason;
    return end.output_tail.empty() ? reason : reason + "; last output: " + end.output_tail;
  };
  if (end.signal != 0) return fail(FailureClass::kInfrastructure, with_verdict(end.description));
  if (!worker) {
    if (end.exit_code != 0) return fail(FailureClass::kCommand, with_verdict(end.description));
    if (result && result->verdict == Verdict::kFail) {
      return fail(FailureClass::kVerdict, verdict_reason.empty() ? with_verdict("verdict fail without a reason")
                                                                 : "verdict fail: " + verdict_reason);
    }
    return {true, FailureClass::kNone, ""};
  }
  switch (static_cast<WorkerExit>(end.exit_code)) {
    case WorkerExit::kPass:
      if (!result) return fail(FailureClass::kInfrastructure, "the worker exited 0 but wrote no result.json");
      if (result->verdict == Verdict::kFail) {
        return fail(FailureClass::kVerdict, "verdict fail" + (verdict_reason.empty() ? "" : ": " + verdict_reason));
      }
      return {true, FailureClass::kNone, ""};
    case WorkerExit::kVerdictFail:
      return fail(FailureClass::kVerdict, "verdict fail" + (verdict_reason.empty() ? "" : ": " + verdict_reason));
    case WorkerExit::kBadParams:
      return fail(FailureClass::kConfiguration,
                  "bad parameters" + (verdict_reason.empty() ? " (" + end.description + ")" : ": " + verdict_reason));
    case WorkerExit::kInfrastructure:
      return fail(FailureClass::kInfrastructure, "infrastructure error" +
                                                     (verdict_reason.empty() ? " (" + end.description + ")"
                                                                             : ": " + verdict_reason));
  }
  // mpirun's own codes, an abort, an exit the worker never chose.
  return fail(FailureClass::kInfrastructure, with_verdict(end.description));
}

int DeviceForRank(std::string_view visible_devices, int rank) {
  int index = 0;
  size_t start = 0;
  while (start <= visible_devices.size() && !visible_devices.empty()) {
    size_t comma = visible_devices.find(',', start);
    std::string_view item = visible_devices.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                          : comma - start);
    if (index == rank) {
      int device = 0;
      auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), device);
      if (error == std::errc() && end == item.data() + item.size()) return device;
      return rank;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
    ++index;
  }
  return rank;
}

}  // namespace gauntlet::contract
