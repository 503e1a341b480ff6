// The LLM pipeline's stage names, in pipeline order. The spec parser, the
// expander, the coordinator's --force check, the board's column order and the
// worker's llm suite all read this one list.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

namespace gauntlet::contract {

inline constexpr std::array<std::string_view, 5> kLlmStages = {"reference", "compile", "run", "validate",
                                                                "benchmark"};
// Kernel suites (moe, gemm) run as one stage of their own.
inline constexpr std::string_view kKernelStage = "kernel";

inline bool IsLlmStage(std::string_view name) {
  return std::find(kLlmStages.begin(), kLlmStages.end(), name) != kLlmStages.end();
}

// Pipeline position for display: the LLM stages, then kernel, then anything
// else (free-form jobs) last.
inline int StageRank(std::string_view name) {
  auto found = std::find(kLlmStages.begin(), kLlmStages.end(), name);
  if (found != kLlmStages.end()) return static_cast<int>(found - kLlmStages.begin());
  return name == kKernelStage ? static_cast<int>(kLlmStages.size()) : static_cast<int>(kLlmStages.size()) + 1;
}

// "reference, compile, run, validate or benchmark", for error messages.
inline std::string StageList(std::string_view last_joiner = " or ") {
  std::string out;
  for (size_t i = 0; i < kLlmStages.size(); ++i) {
    if (i > 0) out += i + 1 == kLlmStages.size() ? std::string(last_joiner) : std::string(", ");
    out += kLlmStages[i];
  }
  return out;
}

}  // namespace gauntlet::contract
