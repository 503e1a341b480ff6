#include "coordinator/spec/iree/iree_suite.h"

#include <filesystem>
#include <set>

#include "coordinator/spec/iree/definitions.h"
#include "coordinator/spec/iree/marker_expression.h"
#include "coordinator/spec/parser_sections.h"
#include "lib/contract/suite_files.h"

namespace gauntlet::spec::iree {
namespace {

using internal::CheckKeys;
using internal::ErrorContext;
using internal::ParseString;
using internal::Quote;

constexpr double kDefaultTolerance = 0.03;
constexpr int kDefaultRepetitions = 10;

struct TargetPlacement {
  std::string device_kind;
  std::vector<std::string> tags;
};

struct SuiteOptions {
  std::string tests, modules, external;
  std::string markers;
  double tolerance = kDefaultTolerance;
  int repetitions = kDefaultRepetitions;
  nlohmann::json tools = nlohmann::json::object();
  std::map<std::string, TargetPlacement> targets;
};

std::string Normal(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().generic_string();
}

std::string Display(const std::string& folder, const std::string& relative) {
  return folder.ends_with('/') ? folder + relative : folder + "/" + relative;
}

// A path made a job name: '/' becomes '.', anything else outside the name
// set '_'.
std::string JobName(const std::string& path) {
  std::string out;
  for (char c : path) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    out += c == '/' ? '.' : allowed ? c : '_';
  }
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(out.begin());
  if (out.size() > 120) out.resize(120);
  return out.empty() ? "test" : out;
}

std::string Stem(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Short names where they are unique, the whole path where two collide.
std::map<std::string, std::string> UniqueNames(const std::vector<std::string>& paths, const std::string& prefix) {
  std::map<std::string, int> stems;
  for (const auto& path : paths) ++stems[Stem(path)];
  std::map<std::string, std::string> names;
  for (const auto& path : paths) names[path] = prefix + JobName(stems[Stem(path)] > 1 ? path : Stem(path));
  return names;
}

const std::map<std::string, std::string>& DeviceKinds() {
  static const std::map<std::string, std::string> kinds = {
      {"hip", "gpu"}, {"cuda", "gpu"}, {"vulkan", "gpu"}, {"llvm-cpu", "cpu"}, {"local", "cpu"}, {"vmvx", "cpu"}};
  return kinds;
}

Status ParseOptions(const ErrorContext& ctx, const YAML::Node& node, SuiteOptions* options) {
  for (const char* field : {"tests", "modules", "external"}) {
    if (!node[field]) {
      return ctx.At(node, std::string("suite.") + field,
                    std::string("missing; pytest-iree's --") +
                        (std::string(field) == "tests" ? "test-file" : std::string(field) == "modules" ? "module" : "external-file") +
                        "-directory, e.g. " + field + ": ./examples");
    }
  }
  GAUNTLET_ASSIGN_OR_RETURN(options->tests, ParseString(ctx, node["tests"], "suite.tests"));
  GAUNTLET_ASSIGN_OR_RETURN(options->modules, ParseString(ctx, node["modules"], "suite.modules"));
  GAUNTLET_ASSIGN_OR_RETURN(options->external, ParseString(ctx, node["external"], "suite.external"));
  if (!options->external.starts_with('/')) {
    return ctx.At(node["external"], "suite.external",
                  "'" + options->external + "' must be an absolute path on the nodes: every IREE command runs there, "
                  "and relative paths in the definitions resolve against it");
  }
  if (node["markers"]) {
    GAUNTLET_ASSIGN_OR_RETURN(options->markers, ParseString(ctx, node["markers"], "suite.markers"));
  }
  if (node["tolerance"]) {
    GAUNTLET_ASSIGN_OR_RETURN(options->tolerance, internal::ParseNumber(ctx, node["tolerance"], "suite.tolerance", 0, 1));
  }
  if (node["repetitions"]) {
    GAUNTLET_ASSIGN_OR_RETURN(options->repetitions,
                              internal::ParseInt(ctx, node["repetitions"], "suite.repetitions", 1, 1000));
  }
  if (const YAML::Node& tools = node["tools"]) {
    if (!tools.IsMap()) return ctx.At(tools, "suite.tools", Quote(tools) + " must be a mapping of tool name to path");
    GAUNTLET_RETURN_IF_ERROR(
        CheckKeys(ctx, tools, "suite.tools", {"iree-compile", "iree-run-module", "iree-benchmark-module", "python3"}));
    for (const auto& tool : tools) {
      const std::string at = "suite.tools." + tool.first.Scalar();
      GAUNTLET_ASSIGN_OR_RETURN(std::string path, ParseString(ctx, tool.second, at));
      if (!path.starts_with('/')) {
        return ctx.At(tool.second, at, "'" + path + "' must be an absolute path on the nodes");
      }
      options->tools[tool.first.Scalar()] = path;
    }
  }
  if (const YAML::Node& targets = node["targets"]) {
    if (!targets.IsMap()) {
      return ctx.At(targets, "suite.targets", Quote(targets) + " must map targets (\"hip:gfx942\") to {device_kind, tags}");
    }
    for (const auto& entry : targets) {
      const std::string at = "suite.targets." + entry.first.Scalar();
      if (!entry.second.IsMap()) return ctx.At(entry.second, at, Quote(entry.second) + " must be {device_kind, tags}");
      GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry.second, at, {"device_kind", "tags"}));
      TargetPlacement placement;
      if (entry.second["device_kind"]) {
        GAUNTLET_ASSIGN_OR_RETURN(placement.device_kind, ParseString(ctx, entry.second["device_kind"], at + ".device_kind"));
        static const std::set<std::string> kinds = {"cpu", "sim", "gpu", "aiu"};
        if (!kinds.contains(placement.device_kind)) {
          return ctx.At(entry.second["device_kind"], at + ".device_kind",
                        "'" + placement.device_kind + "' is not a device kind; use cpu, sim, gpu or aiu");
        }
      }
      if (entry.second["tags"]) {
        GAUNTLET_ASSIGN_OR_RETURN(placement.tags, internal::ParseStringList(ctx, entry.second["tags"], at + ".tags"));
      }
      options->targets[entry.first.Scalar()] = std::move(placement);
    }
  }
  return Status::Ok();
}

StatusOr<TargetPlacement> PlacementOf(const ModuleDefinition& module, const SuiteOptions& options) {
  TargetPlacement placement;
  for (const std::string& name : {module.target.Name(), module.target.device}) {
    auto found = options.targets.find(name);
    if (found != options.targets.end()) {
      placement = found->second;
      break;
    }
  }
  if (placement.device_kind.empty()) {
    auto kind = DeviceKinds().find(module.target.device);
    if (kind == DeviceKinds().end()) {
      return Err(Status::InvalidArgument(
          module.file + ": compiler_flags: target device '" + module.target.device +
          "' has no known device kind; say where it runs with suite.targets: {\"" + module.target.Name() +
          "\": {device_kind: gpu}}"));
    }
    placement.device_kind = kind->second;
  }
  return placement;
}

JobTemplate BaseJob(const SweepSpec& spec, const std::string& name, const std::string& stage) {
  JobTemplate job;
  job.name = name;
  job.kind = JobKind::kWorker;
  job.suite = "iree";
  job.priority = spec.priority;
  job.max_attempts = spec.max_attempts;
  job.retry = spec.retry;
  job.timeout_s = spec.timeout_s;
  job.tags = spec.tags;
  job.labels["stage"] = stage;
  return job;
}

void AddTags(const std::vector<std::string>& extra, std::vector<std::string>* tags) {
  for (const auto& tag : extra) {
    if (std::find(tags->begin(), tags->end(), tag) == tags->end()) tags->push_back(tag);
  }
}

nlohmann::json ArgList(const std::vector<ArgSpec>& args) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& arg : args) out.push_back(ToJson(arg));
  return out;
}

std::string Joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

}  // namespace

Status ParseIreeSuite(const ErrorContext& ctx, const YAML::Node& node, const std::map<std::string, std::string>& files,
                      SweepSpec* spec) {
  if (!node.IsMap()) return ctx.At(node, "suite", Quote(node) + " must be a mapping such as {type: iree, tests: ...}");
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, node, "suite", {"type", "tests", "modules", "external", "markers", "tolerance",
                                                          "repetitions", "tools", "targets"}));
  if (!node["type"]) return ctx.At(node, "suite.type", "missing; the only suite type is iree");
  GAUNTLET_ASSIGN_OR_RETURN(std::string type, ParseString(ctx, node["type"], "suite.type"));
  if (type != "iree") return ctx.At(node["type"], "suite.type", "'" + type + "' is not a suite type; use iree");
  SuiteOptions options;
  GAUNTLET_RETURN_IF_ERROR(ParseOptions(ctx, node, &options));
  auto expression = MarkerExpression::Parse(options.markers);
  if (!expression) {
    return ctx.At(node["markers"], "suite.markers",
                  "'" + options.markers + "' " + expression.error().message() +
                      "; write pytest's -m syntax, e.g. \"hip and (benchmark or quality) and not slow\"");
  }

  // The tests, in file order (the map's), as pytest collects them sorted.
  std::vector<TestDefinition> tests;
  size_t test_files = 0;
  for (const auto& [key, text] : files) {
    if (!key.starts_with(contract::kSuiteTestsPrefix)) continue;
    ++test_files;
    const std::string relative = key.substr(contract::kSuiteTestsPrefix.size());
    std::string id = relative.ends_with(".json") ? relative.substr(0, relative.size() - 5) : relative;
    GAUNTLET_ASSIGN_OR_RETURN(auto test, ParseTestDefinition(text, Display(options.tests, relative), id));
    if (test) tests.push_back(std::move(*test));
  }
  if (test_files == 0) {
    return ctx.At(node["tests"], "suite.tests",
                  "no JSON files came from '" + options.tests +
                      "' (read relative to the spec's folder by gauntlet submit); check the folder holds *.json tests");
  }
  if (tests.empty()) {
    return ctx.At(node["tests"], "suite.tests",
                  "none of the " + std::to_string(test_files) + " JSON files under '" + options.tests +
                      "' is a test (a test has \"type\": quality, benchmark or compstat)");
  }
  spec->suite.present = true;
  spec->suite.type = type;
  spec->suite.markers = options.markers;
  std::vector<const TestDefinition*> selected;
  std::set<std::string> all_markers;
  for (const auto& test : tests) {
    std::set<std::string> markers(test.markers.begin(), test.markers.end());
    markers.insert(test.type);
    all_markers.insert(markers.begin(), markers.end());
    const bool chosen = expression->Matches(markers);
    (chosen ? spec->suite.selected : spec->suite.deselected).push_back(test.file);
    if (chosen) selected.push_back(&test);
  }
  if (selected.empty()) {
    return ctx.At(node["markers"], "suite.markers",
                  "'" + options.markers + "' selects none of the " + std::to_string(tests.size()) +
                      " tests; their markers are " + Joined({all_markers.begin(), all_markers.end()}, ", "));
  }

  // The modules the selected tests use (and random weights generate for), in
  // order of first use.
  std::vector<std::string> module_order;
  std::map<std::string, ModuleDefinition> modules;
  auto need_module = [&](const TestDefinition& test, const std::string& name, const char* field) -> Status {
    const std::string normal = Normal(name);
    if (modules.contains(normal)) return Status::Ok();
    // A module's name becomes a folder of the compile job's artifacts.
    if (normal.empty() || normal.starts_with('/') || normal == ".." || normal.starts_with("../")) {
      return Status::InvalidArgument(test.modules_at + ": " + field + ": '" + name +
                                     "' must be a path under suite.modules '" + options.modules + "'");
    }
    auto found = files.find(std::string(contract::kSuiteModulesPrefix) + normal + ".json");
    if (found == files.end()) {
      return Status::InvalidArgument(test.modules_at + ": " + field + ": '" + name +
                                     "' has no definition: no " + Display(options.modules, normal + ".json") +
                                     " under suite.modules '" + options.modules + "'");
    }
    GAUNTLET_ASSIGN_OR_RETURN(ModuleDefinition module, ParseModuleDefinition(found->second,
                                                                             Display(options.modules, normal + ".json"), normal));
    modules.emplace(normal, std::move(module));
    module_order.push_back(normal);
    return Status::Ok();
  };
  for (const TestDefinition* test : selected) {
    for (const auto& name : test->modules) {
      GAUNTLET_RETURN_IF_ERROR(need_module(*test, name, test->type == "compstat" ? "module" : "modules"));
    }
    for (const auto& weight : test->weights) {
      if (weight.type == "random") GAUNTLET_RETURN_IF_ERROR(need_module(*test, weight.module, "weights.module"));
    }
  }

  const auto compile_names = UniqueNames(module_order, "compile.");
  std::map<std::string, TargetPlacement> placements;
  for (const auto& name : module_order) {
    const ModuleDefinition& module = modules.at(name);
    GAUNTLET_ASSIGN_OR_RETURN(placements[name], PlacementOf(module, options));
    JobTemplate job = BaseJob(*spec, compile_names.at(name), "compile");
    job.device_kind = placements[name].device_kind;
    AddTags(placements[name].tags, &job.tags);
    job.node_cached = true;
    job.params = {{"stage", "compile"},   {"module", name},
                  {"mlir", module.mlir},  {"container", module.container},
                  {"compiler_flags", module.compiler_flags}, {"target", module.target.Name()},
                  {"external", options.external},           {"tools", options.tools}};
    job.labels["model"] = Stem(name);
    job.labels["target"] = module.target.Name();
    spec->jobs.push_back(std::move(job));
  }

  std::vector<std::string> test_ids;
  for (const TestDefinition* test : selected) test_ids.push_back(test->id);
  const auto test_names = UniqueNames(test_ids, "");
  for (const TestDefinition* test : selected) {
    JobTemplate job = BaseJob(*spec, test_names.at(test->id), test->type);
    nlohmann::json module_list = nlohmann::json::array();
    std::string device_kind, target;
    for (const auto& name : test->modules) {
      const std::string normal = Normal(name);
      const ModuleDefinition& module = modules.at(normal);
      module_list.push_back(normal);
      job.depends_on.push_back(compile_names.at(normal));
      AddTags(placements.at(normal).tags, &job.tags);
      if (!device_kind.empty() && device_kind != placements.at(normal).device_kind) {
        return Status::InvalidArgument(test->modules_at + ": modules: they compile for different device kinds (" + target + " and " +
                                       module.target.Name() + "); one test runs on one device");
      }
      device_kind = placements.at(normal).device_kind;
      target = module.target.Name();
    }
    // Compile statistics are files: any node can read them.
    job.device_kind = test->type == "compstat" ? "" : device_kind;
    job.params = {{"stage", test->type}, {"test", test->id}, {"file", test->file}, {"modules", module_list},
                  {"external", options.external}, {"tools", options.tools}};
    if (test->type == "compstat") {
      if (test->golden_dispatch_count) job.params["golden_dispatch_count"] = *test->golden_dispatch_count;
      if (test->golden_binary_size) job.params["golden_binary_size"] = *test->golden_binary_size;
    } else {
      nlohmann::json weights = nlohmann::json::array();
      for (const auto& weight : test->weights) {
        nlohmann::json entry = ToJson(weight);
        if (weight.type == "random") entry["mlir"] = modules.at(Normal(weight.module)).mlir;
        weights.push_back(std::move(entry));
      }
      job.params["weights"] = std::move(weights);
      job.params["inputs"] = ArgList(test->inputs);
      job.params["outputs"] = ArgList(test->outputs);
      job.params["run_args"] = test->run_args;
      if (test->type == "quality") job.params["expected_outputs"] = ArgList(test->expected_outputs);
      if (test->type == "benchmark") {
        if (test->golden_time_ms) job.params["golden_time_ms"] = *test->golden_time_ms;
        job.params["tolerance"] = options.tolerance;
        job.params["repetitions"] = options.repetitions;
      }
    }
    job.labels["model"] = Stem(test->modules.front());
    job.labels["target"] = target;
    job.labels["test_file"] = test->file.substr(0, 256);
    job.labels["markers"] = Joined(test->markers, ",").substr(0, 256);
    spec->jobs.push_back(std::move(job));
  }
  return Status::Ok();
}

}  // namespace gauntlet::spec::iree
