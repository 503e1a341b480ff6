#include "worker/suites/moe/tuned_configs.h"

#include <charconv>
#include <cstdlib>
#include <limits>

namespace gauntlet::worker::moe {

std::string ConfigFileName(int experts, int inter, const std::string& device_name, bool fp8) {
  std::string device = device_name;
  for (char& c : device) {
    if (c == ' ') c = '_';
  }
  return "E=" + std::to_string(experts) + ",N=" + std::to_string(inter) + ",device_name=" + device +
         (fp8 ? ",dtype=fp8_w8a8" : "") + ".json";
}

std::optional<nlohmann::json> NearestConfig(const nlohmann::json& file, int tokens, int* chosen_key) {
  if (!file.is_object()) return std::nullopt;
  std::optional<nlohmann::json> best;
  long best_distance = std::numeric_limits<long>::max();
  int best_key = 0;
  for (const auto& [key, value] : file.items()) {
    int parsed = 0;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), parsed);
    if (ec != std::errc() || end != key.data() + key.size() || !value.is_object()) continue;
    const long distance = std::labs(static_cast<long>(parsed) - tokens);
    if (distance < best_distance || (distance == best_distance && parsed < best_key)) {
      best = value, best_distance = distance, best_key = parsed;
    }
  }
  if (best && chosen_key) *chosen_key = best_key;
  return best;
}

nlohmann::json DefaultConfig(int tokens, int experts) {
  if (tokens <= experts) {
    return {{"BLOCK_SIZE_M", 16}, {"BLOCK_SIZE_N", 32}, {"BLOCK_SIZE_K", 64}, {"GROUP_SIZE_M", 1}};
  }
  return {{"BLOCK_SIZE_M", 64}, {"BLOCK_SIZE_N", 64}, {"BLOCK_SIZE_K", 32}, {"GROUP_SIZE_M", 8}};
}

}  // namespace gauntlet::worker::moe
