// What the llm suite's stages share: JSON files in and out, the model
// folder, and the batch's prompts. Used by the built-in backends
// (suites/llm.cc) and the runner backend (suites/llm_runner.cc).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "worker/model/tokenizer.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker {

// A user's error (a missing input, a bad parameter) becomes BadParams.
template <typename T>
T Require(StatusOr<T> value) {
  if (!value) throw BadParams(value.error().message());
  return std::move(*value);
}

nlohmann::json ReadJson(const std::string& path);
void WriteJson(const std::string& path, const nlohmann::json& value);

// params.model, checked to be a folder on this node.
std::string ModelDir(const nlohmann::json& params);

// The batch's prompts: the enforced sizes hit the program; the rest are any
// prompts that fit (truncated when the dataset allows it).
std::vector<std::vector<int>> PickPrompts(const nlohmann::json& params, const Tokenizer& tokenizer);

std::vector<std::vector<int>> TokensFrom(const nlohmann::json& value);

}  // namespace gauntlet::worker
