// What an IREE job finds on its node: the tools, the node's cache folder,
// and the files definitions name (URLs fetched once, paths under the
// external folder).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace gauntlet::worker::iree {

// suite.tools' path for `name`, else the first on PATH. A missing tool is a
// configuration error (BadParams) that names it and both ways to provide it.
std::string FindTool(const nlohmann::json& tools, const std::string& name);

// GAUNTLET_CACHE (the agent's --cache-dir), else ~/.cache/gauntlet; kept
// across attempts, sweeps and nights.
std::string CacheDir();

// A definition's `url` (http, https or file) fetched with curl into the
// cache, and again only when the source is newer (or its ETag changed); or a
// path, relative ones under `external`. A failed download throws
// RunnerFailed naming the URL and curl's words (an unreachable host with a
// copy kept uses the copy); a missing path throws BadParams.
std::string LocalFile(const std::string& url_or_path, const std::string& external, const std::string& log_dir);

bool IsUrl(const std::string& text);

}  // namespace gauntlet::worker::iree
