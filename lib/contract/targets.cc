#include "lib/contract/targets.h"

#include "common/format.h"

namespace gauntlet::contract {

std::string MissedTarget(const nlohmann::json& targets, const std::map<std::string, double>& metrics) {
  if (!targets.is_object()) return "";
  for (const auto& [metric, bound] : targets.items()) {
    if (!bound.is_object() || bound.empty()) continue;
    const bool is_max = bound.contains("max");
    const nlohmann::json& limit = is_max ? bound["max"] : bound["min"];
    if (!limit.is_number()) continue;
    const double target = limit.get<double>();
    auto found = metrics.find(metric);
    if (found == metrics.end()) {
      return metric + " has a target of " + (is_max ? "at most " : "at least ") + FormatNumber(target) +
             " but the result reports no " + metric;
    }
    if (is_max ? found->second > target : found->second < target) {
      return metric + " " + FormatNumber(found->second) + (is_max ? " is over the target " : " is under the target ") +
             FormatNumber(target);
    }
  }
  return "";
}

}  // namespace gauntlet::contract
