#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "lib/contract/runner_contract.h"
#include "worker/runner/run_command.h"
#include "worker/suites/iree/node_files.h"
#include "worker/suites/iree/random_weights.h"
#include "worker/suites/iree/stages.h"
#include "worker/suites/iree/verdicts.h"
#include "worker/suites/llm_io.h"

namespace gauntlet::worker::iree {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Field(const json& object, const char* name) {
  auto found = object.find(name);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

std::optional<double> Number(const json& params, const char* name) {
  auto found = params.find(name);
  if (found == params.end() || !found->is_number()) return std::nullopt;
  return found->get<double>();
}

// The compiled module a compile job left in this job's inputs.
fs::path ModulePath(const SuiteContext& ctx, const std::string& module, const char* file) {
  const fs::path path = fs::path(ctx.inputs_dir) / "compile" / ModuleFolder(module) / file;
  if (!fs::is_regular_file(path)) {
    throw RunnerFailed("the compile job's " + std::string(file) + " for " + module + " is not in this job's inputs (" +
                       path.string() + ")");
  }
  return path;
}

// pytest-iree's argspec: `<value>=@<downloaded url>`.
std::string ArgString(const json& arg, const std::string& external, const std::string& log_dir) {
  std::string value = Field(arg, "value");
  const std::string url = Field(arg, "url");
  if (!url.empty()) value += (value.empty() ? "@" : "=@") + LocalFile(url, external, log_dir);
  return value;
}

// The arguments pytest-iree passes iree-run-module and iree-benchmark-module,
// in its order.
std::vector<std::string> RunArguments(const SuiteContext& ctx) {
  const json& params = ctx.params;
  const std::string external = Field(params, "external");
  std::vector<std::string> args;
  for (const auto& module : params.value("modules", json::array())) {
    args.push_back("--module=" + ModulePath(ctx, module.get<std::string>(), "module.vmfb").string());
  }
  for (const auto& weight : params.value("weights", json::array())) {
    std::string archive;
    if (Field(weight, "type") == "random") {
      const std::string mlir = LocalFile(Field(weight, "mlir"), external, ctx.out_dir);
      archive = RandomWeights(mlir, weight.value("seed", int64_t{0}), params.value("tools", json::object()), ctx.out_dir);
    } else {
      archive = LocalFile(Field(weight, "url"), external, ctx.out_dir);
    }
    args.push_back("--parameters=" + Field(weight, "scope") + "=" + archive);
  }
  for (const auto& [field, flag] : {std::pair{"inputs", "--input="}, std::pair{"outputs", "--output="},
                                    std::pair{"expected_outputs", "--expected_output="}}) {
    for (const auto& arg : params.value(field, json::array())) args.push_back(flag + ArgString(arg, external, ctx.out_dir));
  }
  for (const auto& arg : params.value("run_args", json::array())) args.push_back(arg.get<std::string>());
  return args;
}

std::string CommandLine(const std::string& tool, const std::vector<std::string>& args) {
  std::string line = contract::ShellQuote(tool);
  for (const auto& arg : args) line += " " + contract::ShellQuote(arg);
  return line;
}

}  // namespace

SuiteResult Quality(const SuiteContext& ctx) {
  const std::string tool = FindTool(ctx.params.value("tools", json::object()), "iree-run-module");
  const std::string line = CommandLine(tool, RunArguments(ctx));
  spdlog::info("iree: {}", line);
  auto exit = RunCommand(line, {}, Field(ctx.params, "external"), ctx.out_dir + "/iree-run-module.log");
  if (!exit) throw RunnerFailed(exit.error().message());
  if (exit->signal != 0) throw RunnerFailed("iree-run-module " + exit->description + ": " + exit->tail);
  SuiteResult result;
  result.details = {{"command", line}};
  result.pass = exit->exit_code == 0;
  // iree-run-module says which output differs, and how; that is the reason.
  if (!result.pass) result.reason = "iree-run-module " + exit->description + ": " + exit->tail;
  return result;
}

SuiteResult Benchmark(const SuiteContext& ctx) {
  const std::string tool = FindTool(ctx.params.value("tools", json::object()), "iree-benchmark-module");
  const int repetitions = ctx.params.value("repetitions", 10);
  const std::string report = ctx.out_dir + "/benchmark.json";
  std::vector<std::string> args = RunArguments(ctx);
  args.push_back("--benchmark_repetitions=" + std::to_string(repetitions));
  args.push_back("--benchmark_out=" + report);
  args.push_back("--benchmark_out_format=json");
  const std::string line = CommandLine(tool, args);
  spdlog::info("iree: {}", line);
  auto exit = RunCommand(line, {}, Field(ctx.params, "external"), ctx.out_dir + "/iree-benchmark-module.log");
  if (!exit) throw RunnerFailed(exit.error().message());
  if (exit->signal != 0) throw RunnerFailed("iree-benchmark-module " + exit->description + ": " + exit->tail);
  SuiteResult result;
  result.details = {{"command", line}};
  if (exit->exit_code != 0) {
    result.pass = false;
    result.reason = "iree-benchmark-module " + exit->description + ": " + exit->tail;
    return result;
  }
  std::ifstream in(report, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto repeats = BenchmarkRepeatsMs(text, "benchmark.json");
  if (!repeats) throw RunnerFailed("iree-benchmark-module exited 0 but " + repeats.error().message());
  Verdict verdict = JudgeBenchmark(*repeats, Number(ctx.params, "golden_time_ms"), ctx.params.value("tolerance", 0.03));
  result.pass = verdict.pass;
  result.reason = verdict.reason;
  result.metrics = std::move(verdict.metrics);
  // Every repeat, so nightly change detection sees the spread.
  result.samples["time_ms"] = *repeats;
  return result;
}

SuiteResult CompileStatistics(const SuiteContext& ctx) {
  const auto modules = ctx.params.value("modules", json::array());
  if (modules.size() != 1 || !modules[0].is_string()) throw BadParams("params.modules must name the one module");
  const std::string module = modules[0].get<std::string>();
  const fs::path statistics_path = ModulePath(ctx, module, "compilation_info.json");
  std::ifstream in(statistics_path);
  const json statistics = json::parse(in, nullptr, false);
  if (statistics.is_discarded()) throw RunnerFailed(statistics_path.string() + " is not JSON");
  std::error_code ec;
  const double size = static_cast<double>(fs::file_size(ModulePath(ctx, module, "module.vmfb"), ec));
  Verdict verdict = JudgeCompileStatistics(DispatchCount(statistics), size, Number(ctx.params, "golden_dispatch_count"),
                                           Number(ctx.params, "golden_binary_size"));
  SuiteResult result;
  result.pass = verdict.pass;
  result.reason = verdict.reason;
  result.metrics = std::move(verdict.metrics);
  return result;
}

}  // namespace gauntlet::worker::iree

namespace gauntlet::worker {

SuiteResult RunIree(const SuiteContext& ctx) {
  if (ctx.size != 1) throw BadParams("the iree suite runs on one device; the job has " + std::to_string(ctx.size));
  const std::string stage = ctx.params.value("stage", "");
  if (stage == "compile") return iree::Compile(ctx);
  if (stage == "quality") return iree::Quality(ctx);
  if (stage == "benchmark") return iree::Benchmark(ctx);
  if (stage == "compstat") return iree::CompileStatistics(ctx);
  throw BadParams("params.stage: '" + stage + "' is not an iree stage; use compile, quality, benchmark or compstat");
}

}  // namespace gauntlet::worker
