#include "coordinator/spec/parse_results.h"

#include "lib/results/results.h"

namespace gauntlet::spec::internal {

StatusOr<nlohmann::json> ParseResults(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                                      const JobTemplate& job) {
  std::string formats;
  for (auto format : results::kFormats) formats += (formats.empty() ? "" : ", ") + std::string(format);
  if (!node.IsSequence() || node.size() == 0) {
    return Err(ctx.At(node, path, Quote(node) + " must be a list such as [{format: junit, path: report.xml}]"));
  }
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!entry.IsMap()) return Err(ctx.At(entry, at, Quote(entry) + " must be a mapping {format, path}"));
    GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, at, {"format", "path"}));
    if (!entry["format"]) return Err(ctx.At(entry, at + ".format", "missing; one of " + formats));
    GAUNTLET_ASSIGN_OR_RETURN(std::string format, ParseString(ctx, entry["format"], at + ".format"));
    if (!results::IsFormat(format)) {
      return Err(ctx.At(entry["format"], at + ".format", "'" + format + "' is not a results format; use " + formats));
    }
    if (!entry["path"]) {
      return Err(ctx.At(entry, at + ".path", "missing; the file the tool writes, relative to $GAUNTLET_OUT"));
    }
    GAUNTLET_ASSIGN_OR_RETURN(std::string file, ParseString(ctx, entry["path"], at + ".path"));
    GAUNTLET_RETURN_IF_ERROR(CheckVariables(ctx, entry["path"], at + ".path", file, job));
    out.push_back({{"format", format}, {"path", file}});
  }
  return out;
}

}  // namespace gauntlet::spec::internal
