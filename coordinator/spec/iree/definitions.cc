#include "coordinator/spec/iree/definitions.h"

#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/parser_sections.h"

namespace gauntlet::spec::iree {
namespace {

using internal::CheckKeys;
using internal::ErrorContext;
using internal::ParseString;
using internal::Quote;

StatusOr<YAML::Node> LoadJson(const std::string& text, const std::string& file) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return Err(Status::InvalidArgument(file + ": must be a JSON object"));
    return root;
  } catch (const YAML::ParserException& e) {
    return Err(Status::InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                                       std::to_string(e.mark.column + 1) + ": not valid JSON: " + e.msg));
  }
}

// A list of strings, and only that: a bare string where pytest-iree iterates
// a list would be split into characters there.
StatusOr<std::vector<std::string>> StringList(const ErrorContext& ctx, const YAML::Node& node,
                                              const std::string& path) {
  if (!node.IsSequence()) return Err(ctx.At(node, path, Quote(node) + " must be a list of strings"));
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    GAUNTLET_ASSIGN_OR_RETURN(std::string item, ParseString(ctx, node[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(item));
  }
  return out;
}

StatusOr<std::vector<ArgSpec>> ArgSpecs(const ErrorContext& ctx, const YAML::Node& node, const std::string& path) {
  if (!node.IsSequence()) return Err(ctx.At(node, path, Quote(node) + " must be a list of argspecs {url, value}"));
  std::vector<ArgSpec> out;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!entry.IsMap()) return Err(ctx.At(entry, at, Quote(entry) + " must be an argspec {url, value}"));
    GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, at, {"url", "value"}));
    ArgSpec arg;
    if (entry["value"]) {
      GAUNTLET_ASSIGN_OR_RETURN(arg.value, ParseString(ctx, entry["value"], at + ".value"));
    }
    if (entry["url"]) {
      GAUNTLET_ASSIGN_OR_RETURN(arg.url, ParseString(ctx, entry["url"], at + ".url"));
    }
    if (!entry["value"] && !entry["url"]) {
      return Err(ctx.At(entry, at, "has neither url nor value; give at least one, e.g. {\"value\": \"1x64xi64\"}"));
    }
    out.push_back(std::move(arg));
  }
  return out;
}

StatusOr<std::vector<WeightSpec>> WeightSpecs(const ErrorContext& ctx, const YAML::Node& node,
                                              const std::string& path) {
  if (!node.IsSequence()) return Err(ctx.At(node, path, Quote(node) + " must be a list of weightspecs"));
  std::vector<WeightSpec> out;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!entry.IsMap()) return Err(ctx.At(entry, at, Quote(entry) + " must be a weightspec {type, scope, ...}"));
    GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, at, {"type", "scope", "url", "module", "seed"}));
    WeightSpec weight;
    if (!entry["type"]) return Err(ctx.At(entry, at + ".type", "missing; url or random"));
    GAUNTLET_ASSIGN_OR_RETURN(weight.type, ParseString(ctx, entry["type"], at + ".type"));
    if (!entry["scope"]) return Err(ctx.At(entry, at + ".scope", "missing; the parameter scope, e.g. \"model\""));
    GAUNTLET_ASSIGN_OR_RETURN(weight.scope, ParseString(ctx, entry["scope"], at + ".scope"));
    if (weight.type == "url") {
      if (!entry["url"]) return Err(ctx.At(entry, at + ".url", "missing; a url weight needs the file's url"));
      GAUNTLET_ASSIGN_OR_RETURN(weight.url, ParseString(ctx, entry["url"], at + ".url"));
      for (const char* other : {"module", "seed"}) {
        if (entry[other]) return Err(ctx.At(entry[other], at + "." + other, "applies to type random only"));
      }
    } else if (weight.type == "random") {
      if (!entry["module"]) return Err(ctx.At(entry, at + ".module", "missing; the module whose parameters to generate"));
      GAUNTLET_ASSIGN_OR_RETURN(weight.module, ParseString(ctx, entry["module"], at + ".module"));
      if (!entry["seed"]) return Err(ctx.At(entry, at + ".seed", "missing; an integer seed, e.g. 42"));
      GAUNTLET_ASSIGN_OR_RETURN(double seed, internal::ParseNumber(ctx, entry["seed"], at + ".seed", 0, 4294967295.0));
      if (seed != static_cast<double>(static_cast<int64_t>(seed))) {
        return Err(ctx.At(entry["seed"], at + ".seed", Quote(entry["seed"]) + " must be an integer"));
      }
      weight.seed = static_cast<int64_t>(seed);
      if (entry["url"]) return Err(ctx.At(entry["url"], at + ".url", "applies to type url only"));
    } else {
      return Err(ctx.At(entry["type"], at + ".type", "'" + weight.type + "' is not a weight type; use url or random"));
    }
    out.push_back(std::move(weight));
  }
  return out;
}

StatusOr<std::optional<double>> Golden(const ErrorContext& ctx, const YAML::Node& root, const char* field) {
  if (!root[field]) return std::optional<double>();
  GAUNTLET_ASSIGN_OR_RETURN(double value, internal::ParseNumber(ctx, root[field], field, 0, 1e18));
  return std::optional<double>(value);
}

// The value of `--flag=value` among the flags, "" when absent.
std::string FlagValue(const std::vector<std::string>& flags, const std::string& name) {
  const std::string prefix = name + "=";
  for (const auto& flag : flags) {
    if (flag.starts_with(prefix)) return flag.substr(prefix.size());
  }
  return "";
}

std::string Position(const std::string& file, const YAML::Node& node) {
  return file + ":" + std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
}

}  // namespace

std::optional<Target> TargetOf(const std::vector<std::string>& compiler_flags) {
  Target target;
  target.device = FlagValue(compiler_flags, "--iree-hal-target-device");
  if (target.device.empty()) {
    std::string backends = FlagValue(compiler_flags, "--iree-hal-target-backends");
    target.device = backends.substr(0, backends.find(','));
  }
  // `hip[0]` or `hip://0`: the device, not its ordinal.
  target.device = target.device.substr(0, target.device.find_first_of("[:"));
  if (target.device == "rocm") target.device = "hip";
  if (target.device.starts_with("vulkan")) target.device = "vulkan";
  if (target.device.empty()) return std::nullopt;
  for (const char* chip_flag : {"--iree-hip-target", "--iree-rocm-target", "--iree-rocm-target-chip",
                                "--iree-cuda-target", "--iree-llvmcpu-target-cpu"}) {
    target.chip = FlagValue(compiler_flags, chip_flag);
    if (!target.chip.empty()) break;
  }
  return target;
}

StatusOr<std::optional<TestDefinition>> ParseTestDefinition(const std::string& text, const std::string& file,
                                                            const std::string& id) {
  GAUNTLET_ASSIGN_OR_RETURN(YAML::Node root, LoadJson(text, file));
  ErrorContext ctx(file);
  if (!root["type"] || root["mlir"]) return std::optional<TestDefinition>();
  TestDefinition test;
  test.id = id;
  test.file = file;
  GAUNTLET_ASSIGN_OR_RETURN(test.type, ParseString(ctx, root["type"], "type"));
  std::vector<std::string> allowed = {"type", "markers", "modules", "weights", "inputs", "outputs", "run_args"};
  if (test.type == "quality") {
    allowed.push_back("expected_outputs");
  } else if (test.type == "benchmark") {
    allowed.push_back("golden_time_ms");
  } else if (test.type == "compstat") {
    allowed = {"type", "markers", "module", "golden_dispatch_count", "golden_binary_size"};
  } else {
    return Err(ctx.At(root["type"], "type", "'" + test.type + "' is not a test type; use quality, benchmark or compstat"));
  }
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, root, "", allowed));
  if (!root["markers"]) return Err(ctx.At(root, "markers", "missing; a list of pytest markers, e.g. [\"hip\", \"gfx942\"]"));
  GAUNTLET_ASSIGN_OR_RETURN(test.markers, StringList(ctx, root["markers"], "markers"));
  if (test.type == "compstat") {
    if (!root["module"]) return Err(ctx.At(root, "module", "missing; the module whose compile statistics to check"));
    GAUNTLET_ASSIGN_OR_RETURN(std::string module, ParseString(ctx, root["module"], "module"));
    test.modules.push_back(std::move(module));
    test.modules_at = Position(file, root["module"]);
    GAUNTLET_ASSIGN_OR_RETURN(test.golden_dispatch_count, Golden(ctx, root, "golden_dispatch_count"));
    GAUNTLET_ASSIGN_OR_RETURN(test.golden_binary_size, Golden(ctx, root, "golden_binary_size"));
    return std::optional<TestDefinition>(std::move(test));
  }
  if (!root["modules"]) return Err(ctx.At(root, "modules", "missing; the modules the test runs, e.g. [\"modules/unet\"]"));
  GAUNTLET_ASSIGN_OR_RETURN(test.modules, StringList(ctx, root["modules"], "modules"));
  if (test.modules.empty()) return Err(ctx.At(root["modules"], "modules", "is empty; name at least one module"));
  test.modules_at = Position(file, root["modules"]);
  if (root["weights"]) {
    GAUNTLET_ASSIGN_OR_RETURN(test.weights, WeightSpecs(ctx, root["weights"], "weights"));
  }
  if (!root["inputs"]) return Err(ctx.At(root, "inputs", "missing; a list of argspecs, e.g. [{\"value\": \"1x64xi64\"}]"));
  GAUNTLET_ASSIGN_OR_RETURN(test.inputs, ArgSpecs(ctx, root["inputs"], "inputs"));
  if (root["outputs"]) {
    GAUNTLET_ASSIGN_OR_RETURN(test.outputs, ArgSpecs(ctx, root["outputs"], "outputs"));
  }
  if (test.type == "quality") {
    if (!root["expected_outputs"]) {
      return Err(ctx.At(root, "expected_outputs", "missing; a quality test compares against expected outputs"));
    }
    GAUNTLET_ASSIGN_OR_RETURN(test.expected_outputs, ArgSpecs(ctx, root["expected_outputs"], "expected_outputs"));
  }
  if (root["run_args"]) {
    GAUNTLET_ASSIGN_OR_RETURN(test.run_args, StringList(ctx, root["run_args"], "run_args"));
  }
  if (test.type == "benchmark") {
    GAUNTLET_ASSIGN_OR_RETURN(test.golden_time_ms, Golden(ctx, root, "golden_time_ms"));
  }
  return std::optional<TestDefinition>(std::move(test));
}

StatusOr<ModuleDefinition> ParseModuleDefinition(const std::string& text, const std::string& file,
                                                 const std::string& name) {
  GAUNTLET_ASSIGN_OR_RETURN(YAML::Node root, LoadJson(text, file));
  ErrorContext ctx(file);
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, root, "", {"mlir", "compiler_flags", "type"}));
  ModuleDefinition module;
  module.name = name;
  module.file = file;
  if (!root["mlir"]) return Err(ctx.At(root, "mlir", "missing; the MLIR's URL, or its path under the external folder"));
  GAUNTLET_ASSIGN_OR_RETURN(module.mlir, ParseString(ctx, root["mlir"], "mlir"));
  if (module.mlir.empty()) return Err(ctx.At(root["mlir"], "mlir", "is empty; give the MLIR's URL or path"));
  if (root["type"]) {
    GAUNTLET_ASSIGN_OR_RETURN(module.container, ParseString(ctx, root["type"], "type"));
  }
  if (!root["compiler_flags"]) return Err(ctx.At(root, "compiler_flags", "missing; the iree-compile flags, a list"));
  GAUNTLET_ASSIGN_OR_RETURN(module.compiler_flags, StringList(ctx, root["compiler_flags"], "compiler_flags"));
  auto target = TargetOf(module.compiler_flags);
  if (!target) {
    return Err(ctx.At(root["compiler_flags"], "compiler_flags",
                      "names no target; add --iree-hal-target-device=hip (or llvm-cpu, cuda, ...) so the farm knows "
                      "which devices compile and run it"));
  }
  module.target = *target;
  return module;
}

nlohmann::json ToJson(const ArgSpec& arg) {
  nlohmann::json out = nlohmann::json::object();
  if (!arg.value.empty()) out["value"] = arg.value;
  if (!arg.url.empty()) out["url"] = arg.url;
  return out;
}

nlohmann::json ToJson(const WeightSpec& weight) {
  nlohmann::json out = {{"type", weight.type}, {"scope", weight.scope}};
  if (weight.type == "url") out["url"] = weight.url;
  if (weight.type == "random") out["module"] = weight.module, out["seed"] = weight.seed;
  return out;
}

}  // namespace gauntlet::spec::iree
