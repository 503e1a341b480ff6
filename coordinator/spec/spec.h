// The sweep spec as the user wrote it, after parsing and validation but before
// expansion. Parsing never touches the store: a refused spec stores nothing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/contract/retry_policy.h"

namespace gauntlet::spec {

enum class JobKind { kWorker, kExec };

// Where a value sits in the source file, for error messages.
struct Mark {
  int line = 0;    // 1-based; 0 when unknown.
  int column = 0;  // 1-based.
};

// One `jobs:` entry. A template with a matrix becomes one job per combination.
struct JobTemplate {
  std::string name;
  JobKind kind = JobKind::kExec;

  // kind: worker
  std::string suite;
  nlohmann::json params = nlohmann::json::object();
  std::string backend;

  // kind: exec
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string workdir;

  int devices = 1;
  std::string devices_variable;  // `devices: ${tp}`: each instance takes its value.
  std::string device_kind;  // Empty: any. May hold ${var}.
  int priority = 0;
  int max_attempts = 1;
  std::vector<contract::RetryRule> retry;  // `retry:`, over the default of retrying only what can heal.
  double timeout_s = 0;     // 0: no limit.
  std::string timeout_variable;  // `timeout: ${t}`.
  // `targets:` metric -> {"max" or "min": number or "${var}"}; the agent
  // judges the job's result.json metrics against them.
  nlohmann::json targets = nlohmann::json::object();
  // `results:`: [{format, path}] files the job writes that the agent turns
  // into test cases and metrics (docs/results.md).
  nlohmann::json results = nlohmann::json::array();
  std::vector<std::string> depends_on;
  // Variables in the order written; each multiplies the job by its values.
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> matrix;
  std::map<std::string, std::string> labels;
  std::vector<std::string> tags;  // Nodes must carry all of them.
  bool cacheable = false;
  // Keeps a cache of its own on the node (an IREE compile): `--force` of its
  // stage must reach the job too, as params.force.
  bool node_cached = false;

  Mark mark;
  Mark depends_on_mark;
};

// `runner:`: a team's own stack driving some of a model's stages through the
// runner contract (docs/runner-contract.md) instead of the built-in backend.
struct RunnerSpec {
  std::string name;                     // Empty: the built-in backend.
  std::string command;                  // With {placeholders}; run by sh -c.
  std::string launcher = "none";        // none | mpirun | torchrun, for tp > 1.
  std::vector<std::string> stages = {"compile", "run", "benchmark"};
  std::map<std::string, std::string> env;
  // `results:` its stages' jobs parse, as an exec job's (docs/results.md).
  nlohmann::json results = nlohmann::json::array();

  bool present() const { return !name.empty(); }
  bool Takes(const std::string& stage) const {
    return present() && std::find(stages.begin(), stages.end(), stage) != stages.end();
  }
};

// One `models:` entry: a model crossed with the dtypes, tensor-parallel sizes
// and attention types to try it with.
struct ModelMatrix {
  std::string variant;                  // Hugging Face id or path.
  std::vector<std::string> dtypes = {"fp16"};
  std::vector<int> tp = {1};
  std::vector<std::string> attention = {"paged"};
  RunnerSpec runner;                    // Its own, or the sweep's `runner:`.
  Mark mark;
};

// A context length the run is compiled for, and what it implies (the seeds'
// VLLM_DT_MAX_CONTEXT_LEN, VLLM_DT_MAX_BATCH_SIZE, VLLM_DT_MAX_BATCH_TKV_LIMIT).
struct ContextLength {
  int max_context = 4096;
  int max_batch = 4;
  int64_t batch_tkv_limit = 524288;
};

struct ProgramsSpec {
  bool present = false;
  std::string criteria_source;          // File name, or "<inline>".
  std::string criteria_json;            // The criteria file's content.
  std::vector<std::string> select;      // Selector strings, validated.
  bool enforce_homogeneous_prompt_programs = false;
  bool prioritize_large_batch_sizes = false;
  bool allow_empty = false;
  Mark select_mark;
};

struct DatasetSpec {
  std::string type = "sharegpt";        // sharegpt | rag_factoid
  std::string path;                     // Read by the worker on the node.
};

struct TestSpec {
  std::string type = "metrics";         // tokens | metrics
  double cross_entropy_threshold = 2.5;
  double kl_threshold = 0;              // 0: steps are not judged on it.
  double mean_diff_threshold = 0;       // 0: steps are not judged on it.
  double top1_threshold = 0;            // 0: not judged; else the least share of steps whose argmaxes agree.
  double failure_rate_threshold = 0.1;
  int max_new_tokens = 8;
  int top_k = 20;
};

struct Targets {
  double ttft_ms = 0;                   // 0: no target.
  double itl_ms = 0;
};

// `schedule:`: submitting the spec makes a nightly schedule that fires it
// (coordinator/nightly/), instead of one sweep now.
struct ScheduleSpec {
  bool present = false;
  std::string cron;
  std::string timezone = "UTC";
  std::string catch_up = "latest";
  int max_catch_up = 10;
  std::string concurrency = "allow";
  std::string webhook;                  // notify.webhook
  std::map<std::string, double> min_effect;  // Metric (or "default") -> least relative change reported.
  std::vector<std::string> higher_is_better;
};

// `suite:`: tests kept in another tool's format, and what its marker
// expression selected from them (for `submit --collect-only`).
struct SuiteSelection {
  bool present = false;
  std::string type;     // iree
  std::string markers;  // The expression; "" selects every test.
  std::vector<std::string> selected;    // Test files, as the submitter names them.
  std::vector<std::string> deselected;
};

struct SweepSpec {
  std::string source;                   // File name, for messages.
  std::string name;
  int priority = 0;
  std::vector<JobTemplate> jobs;        // Free-form jobs and kernel suites.

  // The LLM matrix; empty `models` means none of these stages.
  std::vector<ModelMatrix> models;
  std::vector<ContextLength> context_lengths;
  ProgramsSpec programs;
  std::vector<DatasetSpec> datasets;
  TestSpec test;
  Targets targets;
  std::string device_kind;              // resources.device_kind, for model stages.
  std::vector<std::string> tags;        // resources.tags: nodes must carry all.
  int max_attempts = 1;
  std::vector<contract::RetryRule> retry;   // For the model stages, and the default of every job.
  double timeout_s = 0;
  // Stages that may be satisfied from an earlier identical result.
  std::vector<std::string> cache = {"reference", "compile", "autotune"};
  ScheduleSpec schedule;
  SuiteSelection suite;
  // `health_check:`: the job run on a device this sweep's failures took out
  // of service, as YAML (checked here, parsed again when it runs); "": the
  // worker's selftest.
  std::string health_check_yaml;
};

}  // namespace gauntlet::spec
