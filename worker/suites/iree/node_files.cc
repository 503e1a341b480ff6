#include "worker/suites/iree/node_files.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/sha256.h"
#include "lib/contract/runner_contract.h"
#include "worker/runner/run_command.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::iree {
namespace {

namespace fs = std::filesystem;

std::string OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path ? path : "");
  for (std::string folder; std::getline(folders, folder, ':');) {
    if (folder.empty()) continue;
    const fs::path candidate = fs::path(folder) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate.string();
  }
  return "";
}

std::string FileName(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  const size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.empty() || name == "." || name == ".." ? "download" : name;
}

}  // namespace

bool IsUrl(const std::string& text) {
  return text.starts_with("http://") || text.starts_with("https://") || text.starts_with("file://");
}

std::string FindTool(const nlohmann::json& tools, const std::string& name) {
  auto given = tools.is_object() ? tools.find(name) : tools.end();
  if (given != tools.end() && given->is_string()) {
    const std::string path = given->get<std::string>();
    if (::access(path.c_str(), X_OK) != 0) {
      throw BadParams("suite.tools." + name + ": '" + path + "' is not an executable file on this node; install IREE "
                      "there or correct the path");
    }
    return path;
  }
  std::string found = OnPath(name);
  if (found.empty()) {
    throw BadParams(name + " is not installed on this node (not on the agent's PATH); install IREE here, point "
                    "suite.tools." + name + " at it, or tag the nodes that have it (gauntlet-agent --tags iree) "
                    "and require the tag (resources.tags: [iree])");
  }
  return found;
}

std::string CacheDir() {
  if (const char* cache = std::getenv("GAUNTLET_CACHE"); cache && *cache) return cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/gauntlet";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/gauntlet";
}

std::string LocalFile(const std::string& url_or_path, const std::string& external, const std::string& log_dir) {
  if (!IsUrl(url_or_path)) {
    fs::path path = fs::path(url_or_path).is_absolute() ? fs::path(url_or_path) : fs::path(external) / url_or_path;
    if (!fs::is_regular_file(path)) {
      throw BadParams("'" + url_or_path + "' is not a file on this node (looked for " + path.string() +
                      "; relative paths resolve against suite.external)");
    }
    return path.string();
  }
  const fs::path folder = fs::path(CacheDir()) / "iree" / "downloads" / Sha256Hex(url_or_path);
  const fs::path file = folder / FileName(url_or_path);
  std::error_code ec;
  const bool cached = fs::is_regular_file(file, ec);
  fs::create_directories(folder, ec);
  if (ec) throw RunnerFailed("cannot create " + folder.string() + ": " + ec.message());
  // Into a name of its own first: a download cut short never looks complete.
  // With a copy kept, only a newer one is fetched (If-Modified-Since, and the
  // ETag where the server gives one), so a file changed behind the same URL
  // is fetched again and an unchanged one is not.
  const fs::path partial = folder / (".partial-" + std::to_string(::getpid()));
  fs::remove(partial, ec);
  std::string line = "curl --fail --location --silent --show-error --retry 2 -o " + contract::ShellQuote(partial.string());
  if (cached) {
    line += " -z " + contract::ShellQuote(file.string());
    if (!url_or_path.starts_with("file://")) {
      const std::string etag = contract::ShellQuote((folder / "etag").string());
      line += " --etag-compare " + etag + " --etag-save " + etag;
    }
  } else if (!url_or_path.starts_with("file://")) {
    line += " --etag-save " + contract::ShellQuote((folder / "etag").string());
  }
  line += " " + contract::ShellQuote(url_or_path);
  auto exit = RunCommand(line, {}, "", log_dir + "/download.log");
  if (!exit) throw RunnerFailed(exit.error().message());
  if (exit->exit_code == 127) {
    throw RunnerFailed("cannot fetch " + url_or_path + ": curl is not installed on this node (apt install curl), "
                       "or put the file under suite.external and name its relative path");
  }
  const bool unreachable = exit->exit_code == 6 || exit->exit_code == 7 || exit->exit_code == 28;
  if (exit->exit_code != 0) {
    fs::remove(partial, ec);
    if (cached && unreachable) {
      spdlog::warn("iree: cannot reach {} ({}); using the copy fetched earlier, {}", url_or_path, exit->tail,
                   file.string());
      return file.string();
    }
    throw RunnerFailed("cannot fetch " + url_or_path + ": curl " + exit->description + ": " + exit->tail +
                       (unreachable ? " (no network from this node? put the file under suite.external and name its "
                                      "relative path, or place it in the cache at " + file.string() + ")"
                                    : ""));
  }
  if (!fs::exists(partial, ec)) {
    spdlog::info("iree: {} unchanged since fetched to {}", url_or_path, file.string());
    return file.string();
  }
  fs::rename(partial, file, ec);
  if (ec) throw RunnerFailed("cannot keep " + file.string() + ": " + ec.message());
  spdlog::info("iree: fetched {} to {}", url_or_path, file.string());
  return file.string();
}

}  // namespace gauntlet::worker::iree
