#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "lib/programs/criteria.h"
#include "lib/programs/prompts.h"
#include "lib/programs/selector.h"

namespace gauntlet::cli {

int Programs(const Globals& globals, const ProgramsOptions& options) {
  std::ifstream in(options.criteria);
  if (!in) {
    std::cerr << "error: --criteria: cannot read " << options.criteria << "\n";
    return kExitUsage;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto criteria = programs::ParseCriteria(text, options.criteria);
  if (!criteria) {
    std::cerr << "error: " << criteria.error().message() << "\n";
    return kExitUsage;
  }
  std::vector<programs::Selector> selectors;
  for (const auto& expression : options.select) {
    auto selector = programs::ParseSelector(expression);
    if (!selector) {
      std::cerr << "error: --select " << selector.error().message() << "\n";
      return kExitUsage;
    }
    selectors.push_back(*selector);
  }
  std::vector<std::string> prompts;
  if (!options.dataset.empty()) {
    std::ifstream data(options.dataset, std::ios::binary);
    if (!data) {
      std::cerr << "error: --dataset: cannot read " << options.dataset << "\n";
      return kExitUsage;
    }
    std::string content((std::istreambuf_iterator<char>(data)), std::istreambuf_iterator<char>());
    auto parsed = programs::ParseDataset(content, options.dataset_type, options.dataset);
    if (!parsed) {
      std::cerr << "error: " << parsed.error().message() << "\n";
      return kExitUsage;
    }
    prompts = std::move(*parsed);
  }

  programs::ProgramLimits limits;
  limits.max_batch = options.max_batch;
  limits.max_tkv = options.context;
  limits.batch_tkv_limit = options.batch_tkv_limit;
  limits.max_new_tokens = options.max_new_tokens;
  limits.prioritize_large_batch_sizes = options.prioritize_large_batch_sizes;
  if (int64_t cost = programs::ProgramSearchCost(*criteria, limits); cost > options.max_search) {
    std::cerr << "error: --context " << options.context << " with --max-batch " << options.max_batch << " means "
              << cost << " shape checks, over the limit of " << options.max_search
              << "; lower them or raise --max-search\n";
    return kExitUsage;
  }
  std::vector<std::string> unmatched;
  auto selected =
      programs::SelectPrograms(programs::BuildProgramMap(*criteria, limits), *criteria, selectors, &unmatched);
  for (const auto& text : unmatched) std::cerr << "warning: --select " << text << " matches no program\n";

  const bool truncation = options.dataset_type == "sharegpt";
  nlohmann::json out = nlohmann::json::array();
  Table table({"PROGRAM", "BATCH", "PROMPT LEN", "SELECTOR", "PROMPT SIZES", "DATASET PROMPTS"});
  for (const auto& program : selected) {
    auto sizes = programs::EnforcedPromptSizes(program.shape, options.homogeneous);
    std::string size_text, candidates_text;
    nlohmann::json candidates = nlohmann::json::array();
    for (int size : sizes) size_text += (size_text.empty() ? "" : ",") + std::to_string(size);
    if (!options.dataset.empty()) {
      for (int size : std::set<int>(sizes.begin(), sizes.end())) {
        auto fits = programs::PromptsForSize(prompts, size, truncation);
        candidates.push_back({{"size", size}, {"prompts", fits.size()}});
        candidates_text += (candidates_text.empty() ? "" : " ") + std::to_string(size) + ":" + std::to_string(fits.size());
      }
    }
    table.Add({std::to_string(program.program_id), std::to_string(program.shape.batch),
               std::to_string(program.shape.prompt_len), program.selector, size_text, candidates_text});
    // lowerCamelCase, as the protobuf JSON mapping every other command prints.
    out.push_back({{"program", program.program_id},
                   {"batch", program.shape.batch},
                   {"promptLen", program.shape.prompt_len},
                   {"selector", program.selector},
                   {"promptSizes", sizes},
                   {"datasetPrompts", candidates}});
  }
  if (globals.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    table.Print(std::cout);
  }
  if (selected.empty()) {
    std::cerr << "no program matches at context " << options.context << " with max batch " << options.max_batch << "\n";
    return kExitFailed;
  }
  return 0;
}

}  // namespace gauntlet::cli
