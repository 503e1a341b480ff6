#include "lib/programs/criteria.h"

#include <algorithm>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace gauntlet::programs {

bool ProgramCriteria::IsPossible(int batch, int tkv, int64_t batch_tkv_limit) const {
  return static_cast<int64_t>(batch) * tkv <= batch_tkv_limit && batch <= max_batch && tkv <= max_tkv;
}

int64_t ProgramCriteria::Padding(int batch, int tkv) const {
  int64_t min_batch = static_cast<int64_t>((batch - 1) / batch_granularity + 1) * batch_granularity;
  int64_t min_tkv = static_cast<int64_t>((tkv - 1) / tkv_granularity + 1) * tkv_granularity;
  return min_batch * min_tkv - static_cast<int64_t>(batch) * tkv;
}

StatusOr<std::vector<ProgramCriteria>> ParseCriteria(std::string_view json_text, const std::string& source) {
  auto json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Err(Status::InvalidArgument(source + ": not valid JSON"));
  if (!json.is_object() || !json.contains("programs") || !json["programs"].is_array()) {
    return Err(Status::InvalidArgument(source + ": expected {\"programs\": [{\"max_batch\", \"max_tkv\", "
                                                "\"batch_granularity\", \"tkv_granularity\"}, ...]}"));
  }
  std::vector<ProgramCriteria> out;
  const auto& list = json["programs"];
  if (list.empty()) return Err(Status::InvalidArgument(source + ": programs is empty"));
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& entry = list[i];
    std::string where = source + ": programs[" + std::to_string(i) + "]";
    if (!entry.is_object()) return Err(Status::InvalidArgument(where + " must be an object"));
    ProgramCriteria criteria;
    criteria.id = static_cast<int>(i);
    for (auto [field, target] : {std::pair{"max_batch", &criteria.max_batch}, std::pair{"max_tkv", &criteria.max_tkv},
                                 std::pair{"batch_granularity", &criteria.batch_granularity},
                                 std::pair{"tkv_granularity", &criteria.tkv_granularity}}) {
      if (!entry.contains(field) || !entry[field].is_number_integer() || entry[field].get<int64_t>() < 1 ||
          entry[field].get<int64_t>() > (1 << 24)) {
        return Err(Status::InvalidArgument(where + "." + field + ": must be a positive integer"));
      }
      *target = entry[field].get<int>();
    }
    out.push_back(criteria);
  }
  return out;
}

int64_t ProgramSearchCost(const std::vector<ProgramCriteria>& criteria, const ProgramLimits& limits) {
  if (limits.multiple <= 0 || limits.max_batch <= 0) return 0;
  const int64_t switches = (limits.max_new_tokens - 1) / limits.multiple + 1;
  const int64_t prompt_lengths = std::max<int64_t>(0, (limits.max_tkv - limits.max_new_tokens) / limits.multiple);
  // In double: hostile shapes must saturate, not wrap into a small number.
  const double cost = static_cast<double>(limits.max_batch) * static_cast<double>(prompt_lengths) *
                      static_cast<double>(switches) * static_cast<double>(std::max<size_t>(1, criteria.size()));
  return cost >= 9.0e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(cost);
}

ProgramMap BuildProgramMap(const std::vector<ProgramCriteria>& criteria, const ProgramLimits& limits) {
  ProgramMap map;
  std::map<std::vector<int>, size_t> group_of;
  const int switches = (limits.max_new_tokens - 1) / limits.multiple + 1;
  for (int batch = 1; batch <= limits.max_batch; ++batch) {
    for (int prompt_len = limits.multiple; prompt_len < limits.max_tkv - limits.max_new_tokens;
         prompt_len += limits.multiple) {
      std::vector<int> resolved(static_cast<size_t>(switches), -1);
      bool complete = true;
      for (int step = 0; step < switches; ++step) {
        const int context = prompt_len + limits.multiple * step + 1;
        std::optional<size_t> best;
        int64_t best_padding = 0;
        for (size_t c = 0; c < criteria.size(); ++c) {
          if (!criteria[c].IsPossible(batch, context, limits.batch_tkv_limit)) continue;
          int64_t padding = criteria[c].Padding(batch, context);
          // Least padding wins; on a tie, the coarser batch granularity.
          if (!best || padding < best_padding ||
              (padding == best_padding && criteria[c].batch_granularity > criteria[*best].batch_granularity)) {
            best = c;
            best_padding = padding;
          }
        }
        if (!best) {
          complete = false;
          break;
        }
        resolved[static_cast<size_t>(step)] = criteria[*best].id;
      }
      if (!complete) continue;
      auto [it, inserted] = group_of.try_emplace(resolved, map.size());
      if (inserted) map.push_back({resolved, {}});
      map[it->second].shapes.push_back({batch, prompt_len});
    }
  }
  for (auto& group : map) {
    std::stable_sort(group.shapes.begin(), group.shapes.end(), [&](const PromptShape& a, const PromptShape& b) {
      if (a.batch != b.batch) return limits.prioritize_large_batch_sizes ? a.batch > b.batch : a.batch < b.batch;
      return a.prompt_len > b.prompt_len;
    });
  }
  return map;
}

}  // namespace gauntlet::programs
