#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "common/sha256.h"
#include "lib/contract/runner_contract.h"
#include "worker/runner/run_command.h"
#include "worker/suites/iree/node_files.h"
#include "worker/suites/iree/stages.h"
#include "worker/suites/iree/verdicts.h"
#include "worker/suites/llm_io.h"

namespace gauntlet::worker::iree {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kModuleFile = "module.vmfb";
constexpr const char* kStatisticsFile = "compilation_info.json";
constexpr const char* kRecordFile = "compile.json";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool NonEmpty(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && fs::file_size(path, ec) > 0;
}

std::vector<std::string> Strings(const json& value, const char* field) {
  if (!value.is_array()) throw BadParams(std::string("params.") + field + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.is_string()) throw BadParams(std::string("params.") + field + " must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string Text(const json& params, const char* field) {
  auto found = params.find(field);
  if (found == params.end() || !found->is_string()) throw BadParams(std::string("params.") + field + " must be a string");
  return found->get<std::string>();
}

// The compiler's own words on what it is; its build changes its output.
std::string CompilerVersion(const std::string& tool, const std::string& log_dir) {
  const std::string log = log_dir + "/iree-compile-version.log";
  auto exit = RunCommand(contract::ShellQuote(tool) + " --version", {}, "", log);
  if (!exit) throw RunnerFailed(exit.error().message());
  if (exit->exit_code != 0) throw RunnerFailed(tool + " --version " + exit->description + ": " + exit->tail);
  return ReadAll(log);
}

bool HasFlag(const std::vector<std::string>& flags, const std::string& name) {
  for (const auto& flag : flags) {
    if (flag == name || flag.starts_with(name + "=")) return true;
  }
  return false;
}

void CopyInto(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  for (const char* name : {kModuleFile, kStatisticsFile, kRecordFile}) {
    if (!fs::exists(from / name)) continue;
    fs::copy_file(from / name, to / name, fs::copy_options::overwrite_existing, ec);
    if (ec) throw RunnerFailed("cannot copy " + (from / name).string() + " to " + to.string() + ": " + ec.message());
  }
}

}  // namespace

std::string ModuleFolder(const std::string& module_name) { return "modules/" + module_name; }

SuiteResult Compile(const SuiteContext& ctx) {
  const json& params = ctx.params;
  const std::string module = Text(params, "module");
  const std::string external = Text(params, "external");
  const std::string target = Text(params, "target");
  const std::vector<std::string> flags = Strings(params.value("compiler_flags", json::array()), "compiler_flags");
  const bool force = params.value("force", false);
  const json tools = params.value("tools", json::object());
  const std::string compiler = FindTool(tools, "iree-compile");
  const std::string mlir = LocalFile(Text(params, "mlir"), external, ctx.out_dir);
  auto mlir_sha = Sha256File(mlir);
  if (!mlir_sha) throw RunnerFailed("cannot read " + mlir + ": " + mlir_sha.error().message());
  const std::string version = CompilerVersion(compiler, ctx.out_dir);
  const std::string key = CompileKey(*mlir_sha, flags, target, version);
  const fs::path entry = fs::path(CacheDir()) / "iree" / "modules" / key;
  const fs::path out = fs::path(ctx.out_dir) / ModuleFolder(module);

  SuiteResult result;
  result.details = {{"module", module}, {"key", key}, {"mlir", mlir}, {"mlir_sha256", *mlir_sha},
                    {"compiler", compiler}, {"compiler_version", version}, {"cache_entry", entry.string()}};
  const bool hit = !force && NonEmpty(entry / kModuleFile) && NonEmpty(entry / kStatisticsFile);
  if (hit) {
    spdlog::info("iree: {} unchanged (key {}): reusing {}", module, key.substr(0, 12), entry.string());
  } else {
    // A private folder first, renamed into place whole: a compile killed
    // half way, or two nodes' jobs sharing the cache, never leave a
    // half-written entry that looks complete.
    const fs::path building = entry.string() + ".building-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(building, ec);
    fs::create_directories(building, ec);
    if (ec) throw RunnerFailed("cannot create " + building.string() + ": " + ec.message());
    std::vector<std::string> argv = {compiler, mlir, "-o", (building / kModuleFile).string()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("--iree-scheduling-dump-statistics-file=" + (building / kStatisticsFile).string());
    if (!HasFlag(flags, "--iree-scheduling-dump-statistics-format")) {
      argv.push_back("--iree-scheduling-dump-statistics-format=json");
    }
    std::string line;
    for (const auto& arg : argv) line += (line.empty() ? "" : " ") + contract::ShellQuote(arg);
    spdlog::info("iree: compiling {} {}: {}", module, force ? "(forced)" : "(not in the cache)", line);
    const auto started = std::chrono::steady_clock::now();
    auto exit = RunCommand(line, {}, external, ctx.out_dir + "/iree-compile.log");
    if (!exit) throw RunnerFailed(exit.error().message());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (exit->signal != 0) throw RunnerFailed("iree-compile " + exit->description + ": " + exit->tail);
    if (exit->exit_code != 0) {
      fs::remove_all(building, ec);
      result.pass = false;
      result.reason = "iree-compile " + exit->description + " on " + module + ": " + exit->tail;
      return result;
    }
    if (!NonEmpty(building / kModuleFile)) {
      throw RunnerFailed("iree-compile exited 0 but wrote no " + std::string(kModuleFile));
    }
    WriteJson((building / kRecordFile).string(),
              {{"key", key}, {"module", module}, {"mlir_sha256", *mlir_sha}, {"compiler_flags", flags},
               {"target", target}, {"compiler_version", version}, {"compile_s", seconds}});
    fs::remove_all(entry, ec);
    fs::rename(building, entry, ec);
    if (ec) throw RunnerFailed("cannot move " + building.string() + " to " + entry.string() + ": " + ec.message());
    result.metrics["compile_s"] = seconds;
  }
  CopyInto(entry, out);
  result.pass = true;
  result.metrics["cache_hit"] = hit ? 1 : 0;
  std::error_code ec;
  result.metrics["binary_size_bytes"] = static_cast<double>(fs::file_size(out / kModuleFile, ec));
  return result;
}

}  // namespace gauntlet::worker::iree
