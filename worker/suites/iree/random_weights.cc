#include "worker/suites/iree/random_weights.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "common/sha256.h"
#include "lib/contract/runner_contract.h"
#include "worker/runner/run_command.h"
#include "worker/suites/iree/node_files.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::iree_embedded {
const std::vector<std::pair<std::string_view, std::string_view>>& Files();
}  // namespace gauntlet::worker::iree_embedded

namespace gauntlet::worker::iree {
namespace {

namespace fs = std::filesystem;

// The generator as this worker carries it, written beside the cache once
// per content.
std::string GeneratorScript() {
  std::string_view text;
  for (const auto& [name, content] : iree_embedded::Files()) {
    if (name == "random_weights.py") text = content;
  }
  const fs::path path = fs::path(CacheDir()) / "iree" / ("random_weights-" + Sha256Hex(text).substr(0, 16) + ".py");
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    fs::create_directories(path.parent_path(), ec);
    const fs::path partial = path.string() + ".partial-" + std::to_string(::getpid());
    std::ofstream(partial, std::ios::binary) << text;
    fs::rename(partial, path, ec);
    if (ec) throw RunnerFailed("cannot write " + path.string() + ": " + ec.message());
  }
  return path.string();
}

}  // namespace

std::string RandomWeights(const std::string& mlir_path, int64_t seed, const nlohmann::json& tools,
                          const std::string& log_dir) {
  auto mlir_sha = Sha256File(mlir_path);
  if (!mlir_sha) throw RunnerFailed("cannot read " + mlir_path + ": " + mlir_sha.error().message());
  const std::string key = Sha256Hex(*mlir_sha + '\0' + std::to_string(seed));
  const fs::path folder = fs::path(CacheDir()) / "iree" / "random_weights" / key;
  const fs::path archive = folder / ("param_" + std::to_string(seed) + ".irpa");
  std::error_code ec;
  if (fs::is_regular_file(archive, ec)) {
    spdlog::info("iree: random weights for {} seed {} already in {}", mlir_path, seed, archive.string());
    return archive.string();
  }
  fs::create_directories(folder, ec);
  if (ec) throw RunnerFailed("cannot create " + folder.string() + ": " + ec.message());
  const std::string python = FindTool(tools, "python3");
  const fs::path partial = folder / (".partial-" + std::to_string(::getpid()));
  const std::string line = contract::ShellQuote(python) + " " + contract::ShellQuote(GeneratorScript()) + " --mlir " +
                           contract::ShellQuote(mlir_path) + " --seed " + std::to_string(seed) + " --output " +
                           contract::ShellQuote(partial.string());
  auto exit = RunCommand(line, {}, "", log_dir + "/random-weights.log");
  if (!exit) throw RunnerFailed(exit.error().message());
  if (exit->exit_code == 2) throw BadParams("weights: type random: " + exit->tail);
  if (exit->exit_code != 0) throw RunnerFailed("random weights " + exit->description + ": " + exit->tail);
  fs::rename(partial, archive, ec);
  if (ec) throw RunnerFailed("cannot keep " + archive.string() + ": " + ec.message());
  return archive.string();
}

}  // namespace gauntlet::worker::iree
