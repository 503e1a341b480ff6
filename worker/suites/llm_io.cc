#include "worker/suites/llm_io.h"

#include <filesystem>
#include <fstream>

#include "lib/programs/prompts.h"

namespace gauntlet::worker {

namespace fs = std::filesystem;
using nlohmann::json;

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw BadParams("missing input " + path + "; does the job depend on that stage?");
  json value = json::parse(in, nullptr, false);
  if (value.is_discarded()) throw BadParams(path + " is not JSON");
  return value;
}

void WriteJson(const std::string& path, const json& value) {
  std::ofstream(path) << value.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
}

std::string ModelDir(const json& params) {
  std::string model = params.value("model", "");
  if (model.empty() || !fs::is_directory(model)) {
    throw BadParams("params.model: '" + model + "' is not a model folder on this node; put the Hugging Face "
                    "files there, or make one with gauntlet-worker make-model");
  }
  return model;
}

std::vector<std::vector<int>> PickPrompts(const json& params, const Tokenizer& tokenizer) {
  const json& dataset = params.at("dataset");
  const std::string path = dataset.value("path", ""), type = dataset.value("type", "sharegpt");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadParams("params.dataset.path: cannot read '" + path + "' on this node");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto prompts = Require(programs::ParseDataset(text, type, path));
  const programs::PromptShape shape{params.value("batch", 1), params.value("prompt_len", 64)};
  const bool truncation = type == "sharegpt";
  std::vector<int> sizes = programs::EnforcedPromptSizes(shape, params.value("homogeneous", false));
  while (static_cast<int>(sizes.size()) < shape.batch) sizes.push_back(0);  // 0: any prompt that fits.
  std::vector<bool> used(prompts.size(), false);
  std::vector<std::vector<int>> batch;
  for (int size : sizes) {
    std::vector<size_t> fits;
    if (size > 0) {
      fits = programs::PromptsForSize(prompts, size, truncation);
    } else {
      for (size_t i = 0; i < prompts.size(); ++i) {
        if (truncation || static_cast<int>(prompts[i].size()) <= shape.prompt_len) fits.push_back(i);
      }
    }
    if (fits.empty()) {
      throw BadParams("no prompt in " + path + " supplies " + std::to_string(size) + " tokens for shape " +
                      std::to_string(shape.batch) + "x" + std::to_string(shape.prompt_len));
    }
    size_t pick = fits.front();
    for (size_t candidate : fits) {
      if (!used[candidate]) {
        pick = candidate;
        break;
      }
    }
    used[pick] = true;
    std::vector<int> tokens = tokenizer.Encode(prompts[pick]);
    tokens.resize(std::min<size_t>(tokens.size(), static_cast<size_t>(size > 0 ? size : shape.prompt_len)));
    batch.push_back(std::move(tokens));
  }
  return batch;
}

std::vector<std::vector<int>> TokensFrom(const json& value) { return value.get<std::vector<std::vector<int>>>(); }

}  // namespace gauntlet::worker
