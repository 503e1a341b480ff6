// The sweep spec as the user wrote it, after parsing and validation but before
// expansion. Parsing never touches the store: a refused spec stores nothing.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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
  std::string device_kind;  // Empty: any.
  int priority = 0;
  int max_attempts = 1;
  double timeout_s = 0;     // 0: no limit.
  std::vector<std::string> depends_on;
  // Variables in the order written; each multiplies the job by its values.
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> matrix;
  std::map<std::string, std::string> labels;

  Mark mark;
  Mark depends_on_mark;
};

struct SweepSpec {
  std::string name;
  int priority = 0;
  std::vector<JobTemplate> jobs;
};

}  // namespace gauntlet::spec
