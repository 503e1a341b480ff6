#include "worker/runner/stage_outputs.h"

#include <cmath>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "worker/metrics/npy.h"

namespace gauntlet::worker {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string CheckTokens(const std::string& path, const StageOutputs& want) {
  std::ifstream in(path);
  if (!in) return "tokens.json: missing; write {\"tokens\": [[ids...] per sequence]} there";
  const auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded()) return "tokens.json: not JSON";
  if (!json.is_object() || !json.contains("tokens") || !json["tokens"].is_array()) {
    return "tokens.json: needs a \"tokens\" list, one list of ids per sequence";
  }
  const auto& tokens = json["tokens"];
  if (static_cast<int>(tokens.size()) != want.batch) {
    return "tokens.json: " + std::to_string(tokens.size()) + " sequences, but the batch has " +
           std::to_string(want.batch) + " prompts";
  }
  for (size_t b = 0; b < tokens.size(); ++b) {
    const auto& sequence = tokens[b];
    if (!sequence.is_array() || static_cast<int>(sequence.size()) != want.steps) {
      return "tokens.json: sequence " + std::to_string(b) + " has " +
             (sequence.is_array() ? std::to_string(sequence.size()) : std::string("no list of")) +
             " tokens, but max_new_tokens is " + std::to_string(want.steps);
    }
    for (size_t s = 0; s < sequence.size(); ++s) {
      const auto& id = sequence[s];
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || (want.vocab > 0 && id.get<int64_t>() >= want.vocab)) {
        return "tokens.json: token [" + std::to_string(b) + ", " + std::to_string(s) + "] is " + id.dump() +
               ", not an id below the vocabulary's " + std::to_string(want.vocab);
      }
    }
  }
  return "";
}

std::string CheckLogits(const std::string& path, const StageOutputs& want) {
  std::vector<int64_t> shape;
  auto logits = ReadNpy(path, &shape);
  if (!logits) {
    std::string message = logits.error().message();
    // ReadNpy names the whole path; the reason names the file.
    if (message.starts_with(path)) message = "logits.npy" + message.substr(path.size());
    if (message == "logits.npy: missing") message += "; write [batch, steps, vocab] logits there";
    return message;
  }
  std::vector<int64_t> expected = {want.batch, want.steps, want.vocab > 0 ? want.vocab : (shape.size() == 3 ? shape[2] : 0)};
  if (shape != expected) {
    return "logits.npy: shape " + ShapeText(shape) + " but the contract needs " + ShapeText(expected) +
           " (batch, max_new_tokens, vocab)";
  }
  const int64_t vocab = expected[2];
  for (size_t i = 0; i < logits->size(); ++i) {
    const float value = (*logits)[i];
    if (std::isfinite(value)) continue;
    const int64_t index = static_cast<int64_t>(i);
    return std::string("logits.npy: ") + (std::isnan(value) ? "NaN" : "infinity") + " at [" +
           std::to_string(index / (want.steps * vocab)) + ", " + std::to_string(index / vocab % want.steps) + ", " +
           std::to_string(index % vocab) + "]";
  }
  return "";
}

}  // namespace

std::string CheckStageOutputs(const std::string& out_dir, const StageOutputs& want,
                              const std::map<std::string, double>& metrics) {
  if (want.tokens) {
    if (std::string problem = CheckTokens(out_dir + "/tokens.json", want); !problem.empty()) return problem;
  }
  if (want.logits) {
    if (std::string problem = CheckLogits(out_dir + "/logits.npy", want); !problem.empty()) return problem;
  }
  if (want.timings) {
    for (const char* metric : {"ttft_ms", "itl_ms"}) {
      auto found = metrics.find(metric);
      if (found == metrics.end()) {
        return std::string("result.json: metrics has no ") + metric + "; the stage must time itself";
      }
      if (!std::isfinite(found->second) || found->second < 0) {
        return std::string("result.json: metrics.") + metric + " is " + std::to_string(found->second) +
               ", not a time in milliseconds";
      }
    }
  }
  return "";
}

}  // namespace gauntlet::worker
