// Expansion of a validated sweep spec into its job DAG. Pure: no I/O, no
// clock, no store, so the same spec always yields the same plan.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "coordinator/spec/limits.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::expand {

struct PlannedJob {
  std::string name;           // "train" or "train[size=1024,dtype=bf16]".
  std::string template_name;  // The spec entry it came from.
  spec::JobKind kind = spec::JobKind::kExec;
  // Worker: {"suite", "params", "backend", "env"}. Exec: {"argv", "env",
  // "workdir"}. Serialised once: it is hashed and stored as is.
  std::string spec_json;
  int devices = 1;
  std::string device_kind;
  int priority = 0;
  int max_attempts = 1;
  std::vector<contract::RetryRule> retry;        // Not in the content key: how often a job runs is not what it computes.
  double timeout_s = 0;
  std::vector<size_t> depends_on;            // Indices into SweepPlan::jobs.
  std::map<std::string, std::string> labels; // Matrix values and spec labels.
  std::vector<std::string> tags;             // Nodes must carry all of them.
  std::string stage;                         // reference, compile, run, validate, benchmark, kernel or "".
  bool cacheable = false;                    // May be satisfied by an earlier identical result.
  bool node_cached = false;                  // Keeps its own cache on the node: a --force reaches it as params.force.
  std::string content_key;                   // sha256 of kind and inputs.
  // A health check's device: placed there or nowhere (never from a spec).
  std::string pin_node;
  std::vector<int> pin_devices;

  nlohmann::json spec() const { return nlohmann::json::parse(spec_json); }
};

// Jobs appear in dependency order: every job comes after the jobs it needs.
struct SweepPlan {
  std::string name;
  int priority = 0;
  std::string health_check_yaml;  // The spec's `health_check:` job; "" for the default.
  std::vector<PlannedJob> jobs;
};

// Multiplies each template by its matrix and wires dependencies: an instance
// depends on those instances of the named template that agree with it on
// every matrix variable the two share (so run[size=1] waits for build[size=1]
// only, and a template without a matrix waits for all of them).
//
// The model matrix becomes, for each model and context length, one CPU
// reference job per selected program shape (shared by every dtype, TP size
// and attention type), and for each dtype × TP × attention a compile job, and
// per selected program a run, a validate (run against reference) and a
// benchmark job. Identical generated jobs (same content key) appear once.
// Fails when a program selector matches nothing and allow_empty is off, and
// when the plan would exceed `limits` (checked before the jobs are made).
StatusOr<SweepPlan> Expand(const spec::SweepSpec& spec, const spec::Limits& limits = {});

// Computes a job's content key from its kind and spec.
std::string ContentKey(const PlannedJob& job);

// Devices of one kind that a single node offers.
struct NodeCapacity {
  std::string node;
  std::string device_kind;
  int devices = 0;
  std::vector<std::string> tags;
};

// Refuses a plan with a job that no node could ever hold (gang allocation
// needs all of a job's devices on one node). With no nodes known yet every
// plan fits: the jobs wait for agents to join.
Status CheckFits(const SweepPlan& plan, const std::vector<NodeCapacity>& nodes);

}  // namespace gauntlet::expand
