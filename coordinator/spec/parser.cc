#include "coordinator/spec/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_results.h"
#include "coordinator/spec/iree/iree_suite.h"
#include "coordinator/spec/parse_runner.h"
#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/parser_sections.h"
#include "coordinator/spec/yaml_guard.h"
#include "coordinator/spec/yaml_json.h"
#include "lib/names/names.h"

namespace gauntlet::spec {
namespace {

using namespace internal;

struct Defaults {
  int devices = 1;
  std::string device_kind;
  int max_attempts = 1;
  std::vector<contract::RetryRule> retry;
  double timeout_s = 0;
  int priority = 0;
};

Status ParseTimeout(const ErrorContext& ctx, const YAML::Node& node, const std::string& path, double* out) {
  auto seconds = node.IsScalar() ? ParseDuration(node.Scalar()) : Err(Status::InvalidArgument(""));
  if (!seconds) {
    return ctx.At(node, path, Quote(node) + " must be a duration such as 90, 90s, 5m or 1h30m");
  }
  *out = *seconds;
  return Status::Ok();
}

Status ParseDefaults(const ErrorContext& ctx, const YAML::Node& node, Defaults* defaults) {
  if (!node.IsMap()) return ctx.At(node, "defaults", Quote(node) + " must be a mapping");
  GAUNTLET_RETURN_IF_ERROR(
      CheckKeys(ctx, node, "defaults", {"devices", "device_kind", "max_attempts", "retry", "timeout", "priority"}));
  if (node["retry"]) {
    auto rules = ParseRetryRules(ctx, node["retry"], "defaults.retry");
    if (!rules) return rules.error();
    defaults->retry = std::move(*rules);
  }
  if (node["devices"]) {
    auto v = ParseInt(ctx, node["devices"], "defaults.devices", 1, 1024);
    if (!v) return v.error();
    defaults->devices = *v;
  }
  if (node["device_kind"]) {
    auto v = ParseString(ctx, node["device_kind"], "defaults.device_kind");
    if (!v) return v.error();
    defaults->device_kind = *v;
  }
  if (node["max_attempts"]) {
    auto v = ParseInt(ctx, node["max_attempts"], "defaults.max_attempts", 1, 100);
    if (!v) return v.error();
    defaults->max_attempts = *v;
  }
  if (node["priority"]) {
    auto v = ParseInt(ctx, node["priority"], "defaults.priority", -1000, 1000);
    if (!v) return v.error();
    defaults->priority = *v;
  }
  if (node["timeout"]) GAUNTLET_RETURN_IF_ERROR(ParseTimeout(ctx, node["timeout"], "defaults.timeout", &defaults->timeout_s));
  return Status::Ok();
}

StatusOr<JobTemplate> ParseJob(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                               const Defaults& defaults, const Limits& limits, const char* default_kind);

// The variable's name when `node` is exactly "${var}"; "" otherwise.
std::string WholeVariable(const YAML::Node& node) {
  static const std::regex whole("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");
  std::smatch match;
  if (!node.IsScalar() || !std::regex_match(node.Scalar(), match, whole)) return "";
  return match[1];
}

// A number field that holds "${a}x" or "${a}${b}" would have no one value.
Status WithVariableHint(const Status& status, const YAML::Node& node) {
  if (!node.IsScalar() || node.Scalar().find("${") == std::string::npos) return status;
  return Status::InvalidArgument(status.message() + ", or exactly one matrix variable such as ${tp}");
}

// A field written as "${var}" takes each of the variable's values in turn;
// every value must be one the field accepts, found now rather than when the
// instance is made. `problem` says what is wrong with a value, or "".
Status CheckMatrixValues(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                         const JobTemplate& job, const std::string& variable,
                         const std::function<std::string(const std::string&)>& problem) {
  auto found = std::find_if(job.matrix.begin(), job.matrix.end(), [&](const auto& entry) { return entry.first == variable; });
  if (found == job.matrix.end()) {
    return ctx.At(node, path, "'${" + variable + "}' is not a matrix variable of job '" + job.name +
                                  "'; add it under matrix: or write the value");
  }
  for (const auto& value : found->second) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (std::string wrong = problem(text); !wrong.empty()) {
      return ctx.At(node, path, "'${" + variable + "}' takes the matrix value '" + text + "', which " + wrong +
                                    "; fix that value under matrix." + variable);
    }
  }
  return Status::Ok();
}

// `targets:` of a job: metric -> upper bound (a number, or {max: N}) or
// lower bound ({min: N}); either may be "${var}".
Status ParseJobTargets(const ErrorContext& ctx, const YAML::Node& node, const std::string& path, JobTemplate* job) {
  if (!node.IsMap() || node.size() == 0) {
    return ctx.At(node, path, Quote(node) + " must map metric names to bounds, e.g. {itl_ms: 25, tokens_per_s: {min: 100}}");
  }
  // Benchmark names carry '/' and ':' ("BM_Gemv/4096.real_time_ms").
  static const std::regex metric_name("[A-Za-z_][A-Za-z0-9_.:/-]{0,255}");
  for (const auto& entry : node) {
    const std::string metric = entry.first.Scalar();
    const std::string at = path + "." + metric;
    if (!std::regex_match(metric, metric_name)) {
      return ctx.At(entry.first, at, "'" + metric + "' is not a metric name; use letters, digits and _ . : / -");
    }
    YAML::Node bound = entry.second;
    std::string side = "max";
    if (bound.IsMap()) {
      GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, bound, at, {"max", "min"}));
      if (bound.size() != 1) return ctx.At(bound, at, "give one of max or min");
      side = bound["max"] ? "max" : "min";
      bound = bound[side];
    }
    const std::string variable = WholeVariable(bound);
    if (!variable.empty()) {
      GAUNTLET_RETURN_IF_ERROR(CheckMatrixValues(ctx, bound, at, *job, variable, [](const std::string& text) {
        nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
        return value.is_number() ? std::string() : std::string("is not a number");
      }));
      job->targets[metric] = {{side, "${" + variable + "}"}};
      continue;
    }
    nlohmann::json value = bound.IsScalar() ? YamlToJson(bound) : nlohmann::json();
    if (!value.is_number()) {
      return WithVariableHint(ctx.At(bound, at, Quote(bound) + " must be a number, {max: N} or {min: N}"), bound);
    }
    job->targets[metric] = {{side, value}};
  }
  return Status::Ok();
}

// `health_check:` is one job, run alone on a device this sweep's failures
// took out of service: no matrix, no upstream jobs, one device.
Status ParseHealthCheck(const ErrorContext& ctx, const YAML::Node& node, const Limits& limits, SweepSpec* spec) {
  if (!node.IsMap()) {
    return ctx.At(node, "health_check", Quote(node) + " must be a job mapping, e.g. {kind: worker, suite: selftest}");
  }
  for (const char* field : {"matrix", "depends_on", "devices", "device_kind"}) {
    if (node[field]) {
      return ctx.At(node[field], std::string("health_check.") + field,
                    "does not apply: a health check runs alone on the one device it checks; remove it");
    }
  }
  YAML::Node job = YAML::Clone(node);
  if (!job["name"]) job["name"] = "health-check";
  auto parsed = ParseJob(ctx, job, "health_check", Defaults{}, limits, nullptr);
  if (!parsed) return parsed.error();
  YAML::Emitter out;
  out << job;
  spec->health_check_yaml = out.c_str();
  return Status::Ok();
}

// `default_kind` is the kind of entries that do not name one (exec: lists).
StatusOr<JobTemplate> ParseJob(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                               const Defaults& defaults, const Limits& limits, const char* default_kind) {
  if (!node.IsMap()) return Err(ctx.At(node, path, Quote(node) + " must be a mapping with at least name and kind"));
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, node, path,
                                     {"name", "kind", "suite", "params", "backend", "command", "env", "workdir",
                                      "devices", "device_kind", "priority", "max_attempts", "retry", "timeout",
                                      "depends_on", "matrix", "labels", "targets", "results"}));
  JobTemplate job;
  job.mark = {node.Mark().line + 1, node.Mark().column + 1};
  job.devices = defaults.devices;
  job.device_kind = defaults.device_kind;
  job.max_attempts = defaults.max_attempts;
  job.retry = defaults.retry;
  job.timeout_s = defaults.timeout_s;
  job.priority = defaults.priority;

  if (!node["name"]) return Err(ctx.At(node, path + ".name", "missing; every job needs a unique name"));
  auto name = ParseString(ctx, node["name"], path + ".name");
  if (!name) return Err(name.error());
  if (!std::regex_match(*name, NamePattern())) {
    return Err(ctx.At(node["name"], path + ".name",
                      "'" + *name + "' must start with a letter or digit and use only letters, digits, '_', '.' and '-'"));
  }
  job.name = *name;

  if (!node["kind"] && !default_kind) return Err(ctx.At(node, path + ".kind", "missing; use 'worker' or 'exec'"));
  auto kind = node["kind"] ? ParseString(ctx, node["kind"], path + ".kind") : StatusOr<std::string>(default_kind);
  if (!kind) return Err(kind.error());
  if (default_kind && *kind != default_kind) {
    return Err(ctx.At(node["kind"], path + ".kind", "entries of exec: are exec jobs; move this one to jobs:"));
  }
  if (*kind == "worker") {
    job.kind = JobKind::kWorker;
  } else if (*kind == "exec") {
    job.kind = JobKind::kExec;
  } else {
    return Err(ctx.At(node["kind"], path + ".kind", "'" + *kind + "' is not a job kind; use 'worker' or 'exec'"));
  }

  // Fields of the other kind are refused rather than ignored.
  const std::vector<std::string> worker_only = {"suite", "params", "backend"};
  const std::vector<std::string> exec_only = {"command", "env", "workdir"};
  for (const auto& field : job.kind == JobKind::kWorker ? exec_only : worker_only) {
    if (node[field]) {
      return Err(ctx.At(node[field], path + "." + field,
                        "applies to kind " + std::string(job.kind == JobKind::kWorker ? "exec" : "worker") +
                            " only; remove it or change kind"));
    }
  }

  if (node["matrix"]) {
    const YAML::Node& matrix = node["matrix"];
    if (!matrix.IsMap()) return Err(ctx.At(matrix, path + ".matrix", Quote(matrix) + " must map variable names to lists of values"));
    for (const auto& entry : matrix) {
      std::string variable = entry.first.Scalar();
      std::string var_path = path + ".matrix." + variable;
      static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
      if (!std::regex_match(variable, identifier)) {
        return Err(ctx.At(entry.first, var_path, "variable names use letters, digits and '_' and start with a letter"));
      }
      const YAML::Node& values = entry.second;
      if (!values.IsSequence() || values.size() == 0) {
        return Err(ctx.At(values, var_path, Quote(values) + " must be a non-empty list of values"));
      }
      std::vector<nlohmann::json> parsed;
      for (size_t i = 0; i < values.size(); ++i) {
        if (!values[i].IsScalar()) {
          return Err(ctx.At(values[i], var_path + "[" + std::to_string(i) + "]", "matrix values must be scalars"));
        }
        parsed.push_back(YamlToJson(values[i]));
      }
      job.matrix.emplace_back(variable, std::move(parsed));
    }
  }

  if (job.kind == JobKind::kWorker) {
    if (!node["suite"]) return Err(ctx.At(node, path + ".suite", "missing; a worker job names its suite, e.g. suite: selftest"));
    auto suite = ParseString(ctx, node["suite"], path + ".suite");
    if (!suite) return Err(suite.error());
    job.suite = *suite;
    if (node["params"]) {
      if (!node["params"].IsMap()) return Err(ctx.At(node["params"], path + ".params", Quote(node["params"]) + " must be a mapping"));
      job.params = YamlToJson(node["params"]);
      GAUNTLET_RETURN_IF_ERROR(CheckVariablesInJson(ctx, node["params"], path + ".params", job.params, job));
    }
    if (node["backend"]) {
      auto backend = ParseString(ctx, node["backend"], path + ".backend");
      if (!backend) return Err(backend.error());
      if (*backend != "cpu" && *backend != "gpu") {
        return Err(ctx.At(node["backend"], path + ".backend", "'" + *backend + "' is not a backend; use 'cpu' or 'gpu'"));
      }
      job.backend = *backend;
    }
  } else {
    if (!node["command"]) return Err(ctx.At(node, path + ".command", "missing; an exec job needs a command (a string run by sh -c, or an argv list)"));
    const YAML::Node& command = node["command"];
    if (command.IsScalar()) {
      job.command = {"sh", "-c", command.Scalar()};
    } else {
      auto argv = ParseStringList(ctx, command, path + ".command");
      if (!argv) return Err(argv.error());
      if (argv->empty()) return Err(ctx.At(command, path + ".command", "must not be empty"));
      job.command = *argv;
    }
    int64_t command_bytes = 0;
    for (size_t i = 0; i < job.command.size(); ++i) {
      GAUNTLET_RETURN_IF_ERROR(CheckVariables(ctx, command, path + ".command", job.command[i], job));
      command_bytes += static_cast<int64_t>(job.command[i].size());
    }
    if (command_bytes > limits.max_command_bytes) {
      return Err(ctx.At(command, path + ".command",
                        "is " + std::to_string(command_bytes) + " bytes, " +
                            OverLimit(limits.max_command_bytes, "--max-command-bytes") +
                            "; put long scripts in a file and run that"));
    }
    if (node["env"]) {
      const YAML::Node& env = node["env"];
      if (!env.IsMap()) return Err(ctx.At(env, path + ".env", Quote(env) + " must map names to values"));
      static const std::regex variable_name("[A-Za-z_][A-Za-z0-9_]*");
      int64_t env_bytes = 0;
      for (const auto& entry : env) {
        std::string key = entry.first.Scalar();
        if (!std::regex_match(key, variable_name)) {
          return Err(ctx.At(entry.first, path + ".env." + key,
                            "'" + key + "' is not an environment variable name; use letters, digits and '_'"));
        }
        auto value = ParseString(ctx, entry.second, path + ".env." + key);
        if (!value) return Err(value.error());
        GAUNTLET_RETURN_IF_ERROR(CheckVariables(ctx, entry.second, path + ".env." + key, *value, job));
        env_bytes += static_cast<int64_t>(key.size() + value->size());
        job.env[key] = *value;
      }
      if (env_bytes > limits.max_env_bytes) {
        return Err(ctx.At(env, path + ".env",
                          "holds " + std::to_string(env_bytes) + " bytes, " +
                              OverLimit(limits.max_env_bytes, "--max-env-bytes") + "; pass large values in a file"));
      }
    }
    if (node["workdir"]) {
      auto workdir = ParseString(ctx, node["workdir"], path + ".workdir");
      if (!workdir) return Err(workdir.error());
      job.workdir = *workdir;
    }
  }

  if (node["devices"]) {
    const std::string variable = WholeVariable(node["devices"]);
    if (!variable.empty()) {
      GAUNTLET_RETURN_IF_ERROR(CheckMatrixValues(ctx, node["devices"], path + ".devices", job, variable,
                                                 [](const std::string& text) {
                                                   int value = 0;
                                                   auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
                                                   bool ok = ec == std::errc() && end == text.data() + text.size() &&
                                                             value >= 1 && value <= 1024;
                                                   return ok ? std::string() : std::string("is not an integer from 1 to 1024");
                                                 }));
      job.devices_variable = variable;
    } else {
      auto v = ParseInt(ctx, node["devices"], path + ".devices", 1, 1024);
      if (!v) return Err(WithVariableHint(v.error(), node["devices"]));
      job.devices = *v;
    }
  }
  if (node["device_kind"]) {
    auto v = ParseString(ctx, node["device_kind"], path + ".device_kind");
    if (!v) return Err(v.error());
    GAUNTLET_RETURN_IF_ERROR(CheckVariables(ctx, node["device_kind"], path + ".device_kind", *v, job));
    job.device_kind = *v;
  }
  if (node["priority"]) {
    auto v = ParseInt(ctx, node["priority"], path + ".priority", -1000, 1000);
    if (!v) return Err(v.error());
    job.priority = *v;
  }
  if (node["max_attempts"]) {
    auto v = ParseInt(ctx, node["max_attempts"], path + ".max_attempts", 1, 100);
    if (!v) return Err(v.error());
    job.max_attempts = *v;
  }
  if (node["retry"]) {
    auto rules = ParseRetryRules(ctx, node["retry"], path + ".retry");
    if (!rules) return Err(rules.error());
    job.retry = std::move(*rules);
  }
  if (node["timeout"]) {
    const std::string variable = WholeVariable(node["timeout"]);
    if (!variable.empty()) {
      GAUNTLET_RETURN_IF_ERROR(CheckMatrixValues(ctx, node["timeout"], path + ".timeout", job, variable,
                                                 [](const std::string& text) {
                                                   return ParseDuration(text) ? std::string()
                                                                              : std::string("is not a duration such as 90, 90s, 5m or 1h30m");
                                                 }));
      job.timeout_variable = variable;
    } else {
      Status parsed = ParseTimeout(ctx, node["timeout"], path + ".timeout", &job.timeout_s);
      if (!parsed.ok()) return Err(WithVariableHint(parsed, node["timeout"]));
    }
  }
  if (node["targets"]) GAUNTLET_RETURN_IF_ERROR(ParseJobTargets(ctx, node["targets"], path + ".targets", &job));
  if (node["results"]) {
    GAUNTLET_ASSIGN_OR_RETURN(job.results, ParseResults(ctx, node["results"], path + ".results", job));
  }
  if (node["depends_on"]) {
    auto deps = ParseStringList(ctx, node["depends_on"], path + ".depends_on");
    if (!deps) return Err(deps.error());
    job.depends_on = *deps;
    job.depends_on_mark = {node["depends_on"].Mark().line + 1, node["depends_on"].Mark().column + 1};
  }
  if (node["labels"]) {
    const YAML::Node& labels = node["labels"];
    if (!labels.IsMap()) return Err(ctx.At(labels, path + ".labels", Quote(labels) + " must map names to values"));
    if (static_cast<int>(labels.size()) > limits.max_labels) {
      return Err(ctx.At(labels, path + ".labels",
                        std::to_string(labels.size()) + " labels, " + OverLimit(limits.max_labels, "--max-labels")));
    }
    for (const auto& entry : labels) {
      const std::string key = entry.first.Scalar();
      if (std::string problem = names::NameProblem(key); !problem.empty()) {
        return Err(ctx.At(entry.first, path + ".labels", "label name " + problem));
      }
      auto value = ParseString(ctx, entry.second, path + ".labels." + key);
      if (!value) return Err(value.error());
      if (std::string problem = names::LabelValueProblem(*value); !problem.empty()) {
        return Err(ctx.At(entry.second, path + ".labels." + key, "the value " + problem));
      }
      GAUNTLET_RETURN_IF_ERROR(CheckVariables(ctx, entry.second, path + ".labels." + key, *value, job));
      job.labels[key] = *value;
    }
  }
  return job;
}

// Refuses unknown dependencies and cycles, naming the edge to remove.
Status CheckDependencies(const std::string& source, const std::vector<JobTemplate>& jobs) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < jobs.size(); ++i) index[jobs[i].name] = i;
  auto where = [&](const JobTemplate& job) {
    return source + ":" + std::to_string(job.depends_on_mark.line) + ":" + std::to_string(job.depends_on_mark.column);
  };
  for (size_t i = 0; i < jobs.size(); ++i) {
    for (const auto& dep : jobs[i].depends_on) {
      if (!index.contains(dep)) {
        return Status::InvalidArgument(where(jobs[i]) + ": jobs[" + std::to_string(i) + "].depends_on: '" + dep +
                                       "' is not the name of a job in this sweep");
      }
      if (dep == jobs[i].name) {
        return Status::InvalidArgument(where(jobs[i]) + ": jobs[" + std::to_string(i) + "].depends_on: job '" + dep +
                                       "' depends on itself; remove it from its own depends_on");
      }
    }
  }
  // Depth-first search with colours; the stack gives the cycle's path.
  enum Colour { kWhite, kGrey, kBlack };
  std::vector<Colour> colour(jobs.size(), kWhite);
  std::vector<size_t> stack;
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    colour[i] = kGrey;
    stack.push_back(i);
    for (const auto& dep : jobs[i].depends_on) {
      size_t j = index[dep];
      if (colour[j] == kGrey) {
        std::string cycle;
        auto start = std::find(stack.begin(), stack.end(), j);
        for (auto it = start; it != stack.end(); ++it) cycle += jobs[*it].name + " -> ";
        cycle += jobs[j].name;
        return Status::InvalidArgument(where(jobs[i]) + ": jobs[" + std::to_string(i) + "].depends_on: cycle " +
                                       cycle + "; remove one of these dependencies");
      }
      if (colour[j] == kWhite) GAUNTLET_RETURN_IF_ERROR(visit(j));
    }
    stack.pop_back();
    colour[i] = kBlack;
    return Status::Ok();
  };
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (colour[i] == kWhite) GAUNTLET_RETURN_IF_ERROR(visit(i));
  }
  return Status::Ok();
}

bool IsUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// Escapes such as "\xA0" decode to bytes that are not UTF-8 even in a valid
// file, so every scalar is checked after decoding as well.
Status CheckScalarsUtf8(const ErrorContext& ctx, const YAML::Node& node, const std::string& path = "") {
  const std::string field = path.empty() ? "value" : path;
  if (node.IsScalar()) {
    if (!IsUtf8(node.Scalar())) return ctx.At(node, field, "decodes to bytes that are not UTF-8; use a \\u escape");
    // Commands, env values and names are C strings on the agent's side.
    if (node.Scalar().find('\0') != std::string::npos) {
      return ctx.At(node, field, "decodes to a NUL byte, which no command, name or value can hold; remove the \\0 escape");
    }
    return Status::Ok();
  }
  size_t index = 0;
  for (const auto& child : node) {
    if (node.IsMap()) {
      const std::string key = child.first.IsScalar() ? child.first.Scalar() : "?";
      GAUNTLET_RETURN_IF_ERROR(CheckScalarsUtf8(ctx, child.first, path));
      GAUNTLET_RETURN_IF_ERROR(CheckScalarsUtf8(ctx, child.second, path.empty() ? key : path + "." + key));
    } else {
      GAUNTLET_RETURN_IF_ERROR(CheckScalarsUtf8(ctx, child, path + "[" + std::to_string(index) + "]"));
    }
    ++index;
  }
  return Status::Ok();
}

}  // namespace

StatusOr<double> ParseDuration(std::string_view text) {
  static const std::regex pattern("^\\s*(?:(\\d+(?:\\.\\d+)?)h)?(?:(\\d+(?:\\.\\d+)?)m)?(?:(\\d+(?:\\.\\d+)?)s?)?\\s*$");
  std::string owned(text);
  std::smatch match;
  if (owned.empty() || !std::regex_match(owned, match, pattern) ||
      (!match[1].matched && !match[2].matched && !match[3].matched)) {
    return Err(Status::InvalidArgument("'" + owned + "' is not a duration"));
  }
  double seconds = 0;
  if (match[1].matched) seconds += std::stod(match[1]) * 3600;
  if (match[2].matched) seconds += std::stod(match[2]) * 60;
  if (match[3].matched) seconds += std::stod(match[3]);
  return seconds;
}

StatusOr<SweepSpec> ParseSweepSpec(std::string_view text, const std::string& source,
                                   const std::map<std::string, std::string>& files, const Limits& limits) {
  ErrorContext ctx(source);
  GAUNTLET_RETURN_IF_ERROR(CheckSpecText(text, source, limits));
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return Err(Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                       std::to_string(e.mark.column + 1) + ": not valid YAML or JSON: " + e.msg));
  }
  if (!root.IsMap()) {
    return Err(Status::InvalidArgument(source + ": the spec must be a mapping with at least 'name' and 'jobs' or 'models'"));
  }
  GAUNTLET_RETURN_IF_ERROR(CheckScalarsUtf8(ctx, root));
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, root, "",
                                     {"name", "priority", "max_attempts", "retry", "timeout", "resources", "defaults", "jobs",
                                      "models", "context_lengths", "programs", "datasets", "test", "targets", "cache",
                                      "kernels", "exec", "schedule", "health_check", "runner", "suite"}));

  SweepSpec spec;
  spec.source = source;
  if (!root["name"]) return Err(ctx.At(root, "name", "missing; give the sweep a name, e.g. name: nightly-llama"));
  auto name = ParseString(ctx, root["name"], "name");
  if (!name) return Err(name.error());
  if (!std::regex_match(*name, NamePattern())) {
    return Err(ctx.At(root["name"], "name", "'" + *name + "' must use only letters, digits, '_', '.' and '-'"));
  }
  spec.name = *name;
  if (root["priority"]) {
    auto v = ParseInt(ctx, root["priority"], "priority", -1000, 1000);
    if (!v) return Err(v.error());
    spec.priority = *v;
  }
  if (root["max_attempts"]) {
    auto v = ParseInt(ctx, root["max_attempts"], "max_attempts", 1, 100);
    if (!v) return Err(v.error());
    spec.max_attempts = *v;
  }
  if (root["retry"]) {
    auto rules = ParseRetryRules(ctx, root["retry"], "retry");
    if (!rules) return Err(rules.error());
    spec.retry = std::move(*rules);
  }
  if (root["timeout"]) GAUNTLET_RETURN_IF_ERROR(ParseTimeout(ctx, root["timeout"], "timeout", &spec.timeout_s));
  if (root["resources"]) GAUNTLET_RETURN_IF_ERROR(ParseResources(ctx, root["resources"], &spec));

  Defaults defaults;
  defaults.priority = spec.priority;
  defaults.max_attempts = spec.max_attempts;
  defaults.retry = spec.retry;
  defaults.timeout_s = spec.timeout_s;
  defaults.device_kind = spec.device_kind;
  if (root["defaults"]) GAUNTLET_RETURN_IF_ERROR(ParseDefaults(ctx, root["defaults"], &defaults));

  RunnerSpec default_runner;
  if (root["runner"]) {
    GAUNTLET_ASSIGN_OR_RETURN(default_runner, ParseRunner(ctx, root["runner"], "runner"));
  }
  if (root["models"]) GAUNTLET_RETURN_IF_ERROR(ParseModels(ctx, root["models"], default_runner, &spec));
  for (const char* section : {"context_lengths", "programs", "datasets", "test", "targets", "runner"}) {
    if (root[section] && spec.models.empty()) {
      return Err(ctx.At(root[section], section, "applies to the model matrix; add models: or remove it"));
    }
  }
  if (!spec.models.empty()) {
    if (!root["context_lengths"]) {
      return Err(ctx.At(root, "context_lengths", "missing; list the context lengths to compile for, e.g. [4096, 8192]"));
    }
    GAUNTLET_RETURN_IF_ERROR(ParseContextLengths(ctx, root["context_lengths"], &spec));
    if (!root["programs"]) {
      return Err(ctx.At(root, "programs", "missing; name the program criteria file and selectors"));
    }
    GAUNTLET_RETURN_IF_ERROR(ParsePrograms(ctx, root["programs"], files, &spec));
    if (!root["datasets"]) return Err(ctx.At(root, "datasets", "missing; e.g. datasets: [{type: sharegpt, path: ...}]"));
    GAUNTLET_RETURN_IF_ERROR(ParseDatasets(ctx, root["datasets"], &spec));
    if (root["test"]) GAUNTLET_RETURN_IF_ERROR(ParseTest(ctx, root["test"], &spec));
    if (root["targets"]) GAUNTLET_RETURN_IF_ERROR(ParseTargets(ctx, root["targets"], &spec));
  }
  if (root["cache"]) GAUNTLET_RETURN_IF_ERROR(ParseCache(ctx, root["cache"], &spec));
  if (root["schedule"]) GAUNTLET_RETURN_IF_ERROR(ParseSchedule(ctx, root["schedule"], &spec));
  if (root["kernels"]) GAUNTLET_RETURN_IF_ERROR(ParseKernels(ctx, root["kernels"], files, &spec));
  if (root["suite"]) GAUNTLET_RETURN_IF_ERROR(iree::ParseIreeSuite(ctx, root["suite"], files, &spec));
  if (root["health_check"]) GAUNTLET_RETURN_IF_ERROR(ParseHealthCheck(ctx, root["health_check"], limits, &spec));

  if (!root["jobs"] && !root["exec"] && spec.models.empty() && spec.jobs.empty()) {
    return Err(ctx.At(root, "jobs", "missing; a sweep needs jobs:, exec:, models:, kernels: or suite:"));
  }
  std::set<std::string> names;
  for (const auto& job : spec.jobs) names.insert(job.name);
  // jobs: takes both kinds; exec: is the seeds' list of free-form commands.
  for (const char* section : {"jobs", "exec"}) {
    const YAML::Node& jobs = root[section];
    if (!jobs) continue;
    if (!jobs.IsSequence() || jobs.size() == 0) {
      return Err(ctx.At(jobs, section, Quote(jobs) + " must be a non-empty list of jobs"));
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      std::string path = std::string(section) + "[" + std::to_string(i) + "]";
      auto job = ParseJob(ctx, jobs[i], path, defaults, limits, std::string(section) == "exec" ? "exec" : nullptr);
      if (!job) return Err(job.error());
      if (!names.insert(job->name).second) {
        return Err(ctx.At(jobs[i]["name"], path + ".name", "'" + job->name + "' is used by an earlier job; names must be unique"));
      }
      job->tags = spec.tags;
      spec.jobs.push_back(std::move(*job));
    }
  }
  GAUNTLET_RETURN_IF_ERROR(CheckDependencies(source, spec.jobs));
  return spec;
}

}  // namespace gauntlet::spec
