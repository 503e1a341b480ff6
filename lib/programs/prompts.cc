#include "lib/programs/prompts.h"

#include <bit>

#include <nlohmann/json.hpp>

namespace gauntlet::programs {

std::vector<int> EnforcedPromptSizes(const PromptShape& shape, bool homogeneous, int multiple) {
  std::vector<int> sizes = {shape.prompt_len};
  if (!homogeneous || shape.batch <= 1) return sizes;
  const int cutoff = 1 << (std::bit_width(static_cast<unsigned>(shape.prompt_len)) - 1);
  std::vector<int> candidates;
  for (int size = cutoff; size < shape.prompt_len; size += multiple) candidates.push_back(size);
  // Favour lengths close to the program's.
  std::reverse(candidates.begin(), candidates.end());
  if (candidates.empty()) return sizes;  // The others are sampled freely, as the script does.
  for (int i = 0; i < shape.batch - 1; ++i) sizes.push_back(candidates[static_cast<size_t>(i) % candidates.size()]);
  return sizes;
}

StatusOr<std::vector<std::string>> ParseDataset(std::string_view text, const std::string& type,
                                                const std::string& source) {
  std::vector<std::string> prompts;
  if (type == "rag_factoid") {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      if (!line.empty()) prompts.emplace_back(line);
      start = end + 1;
    }
    return prompts;
  }
  if (type != "sharegpt") {
    return Err(Status::InvalidArgument(source + ": dataset type '" + type + "' must be sharegpt or rag_factoid"));
  }
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) {
    return Err(Status::InvalidArgument(source + ": a ShareGPT file is a JSON list of {\"conversations\": [...]}"));
  }
  for (const auto& entry : json) {
    if (!entry.is_object() || !entry.contains("conversations") || !entry["conversations"].is_array()) continue;
    const auto& turns = entry["conversations"];
    // As vLLM's sampler: conversations of at least two turns; the first is the prompt.
    if (turns.size() < 2 || !turns[0].is_object() || !turns[0].contains("value")) continue;
    if (!turns[0]["value"].is_string()) continue;
    prompts.push_back(turns[0]["value"].get<std::string>());
  }
  return prompts;
}

std::vector<size_t> PromptsForSize(const std::vector<std::string>& prompts, int size, bool truncation,
                                   int multiple) {
  std::vector<size_t> out;
  for (size_t i = 0; i < prompts.size(); ++i) {
    int length = static_cast<int>(prompts[i].size());
    int padded = (length + multiple - 1) / multiple * multiple;
    if (padded == size || (truncation && length >= size)) out.push_back(i);
  }
  return out;
}

}  // namespace gauntlet::programs
