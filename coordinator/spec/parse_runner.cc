#include "coordinator/spec/parse_runner.h"

#include <regex>

#include "coordinator/spec/parse_results.h"
#include "lib/contract/runner_contract.h"
#include "lib/names/names.h"

namespace gauntlet::spec::internal {
namespace {

template <size_t N>
std::string Choices(const std::array<std::string_view, N>& choices) {
  std::string out;
  for (size_t i = 0; i < N; ++i) out += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(choices[i]);
  return out;
}

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& choices, const std::string& value) {
  return std::find(choices.begin(), choices.end(), value) != choices.end();
}

}  // namespace

StatusOr<RunnerSpec> ParseRunner(const ErrorContext& ctx, const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    return Err(ctx.At(node, path, Quote(node) + " must be a mapping {name, command, launcher, stages, env}"));
  }
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, node, path, {"name", "command", "launcher", "stages", "env", "results"}));
  RunnerSpec runner;
  if (!node["name"]) return Err(ctx.At(node, path + ".name", "missing; name the stack, e.g. name: vllm"));
  GAUNTLET_ASSIGN_OR_RETURN(runner.name, ParseString(ctx, node["name"], path + ".name"));
  if (std::string problem = names::NameProblem(runner.name); !problem.empty()) {
    return Err(ctx.At(node["name"], path + ".name", "the runner name " + problem));
  }
  if (!node["command"]) {
    return Err(ctx.At(node, path + ".command",
                      "missing; e.g. command: \"python3 my_runner.py --request {request}\""));
  }
  GAUNTLET_ASSIGN_OR_RETURN(runner.command, ParseString(ctx, node["command"], path + ".command"));
  for (const auto& placeholder : contract::RunnerPlaceholders(runner.command)) {
    if (std::string problem = contract::PlaceholderProblem(placeholder); !problem.empty()) {
      return Err(ctx.At(node["command"], path + ".command", problem));
    }
  }
  if (node["launcher"]) {
    GAUNTLET_ASSIGN_OR_RETURN(runner.launcher, ParseString(ctx, node["launcher"], path + ".launcher"));
    if (!OneOf(contract::kRunnerLaunchers, runner.launcher)) {
      return Err(ctx.At(node["launcher"], path + ".launcher",
                        "'" + runner.launcher + "' is not a launcher; use " + Choices(contract::kRunnerLaunchers)));
    }
  }
  if (node["stages"]) {
    GAUNTLET_ASSIGN_OR_RETURN(runner.stages, ParseStringList(ctx, node["stages"], path + ".stages"));
    if (runner.stages.empty()) return Err(ctx.At(node["stages"], path + ".stages", "must name at least one stage"));
    for (const auto& stage : runner.stages) {
      if (!OneOf(contract::kRunnerStages, stage)) {
        return Err(ctx.At(node["stages"], path + ".stages",
                          "'" + stage + "' is not a stage a runner can take; use " +
                              Choices(contract::kRunnerStages) + " (validate is always the farm's)"));
      }
    }
  }
  if (node["env"]) {
    const YAML::Node& env = node["env"];
    if (!env.IsMap()) return Err(ctx.At(env, path + ".env", Quote(env) + " must map names to values"));
    static const std::regex variable_name("[A-Za-z_][A-Za-z0-9_]*");
    for (const auto& entry : env) {
      const std::string key = entry.first.Scalar();
      if (!std::regex_match(key, variable_name)) {
        return Err(ctx.At(entry.first, path + ".env." + key,
                          "'" + key + "' is not an environment variable name; use letters, digits and '_'"));
      }
      GAUNTLET_ASSIGN_OR_RETURN(runner.env[key], ParseString(ctx, entry.second, path + ".env." + key));
    }
  }
  if (node["results"]) {
    JobTemplate stages;  // A runner's stages have no matrix variables.
    stages.name = "runner " + runner.name;
    GAUNTLET_ASSIGN_OR_RETURN(runner.results, ParseResults(ctx, node["results"], path + ".results", stages));
  }
  return runner;
}

}  // namespace gauntlet::spec::internal
