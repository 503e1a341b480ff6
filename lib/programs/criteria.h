// Program criteria: the compiled (batch, context) shapes a device runtime
// offers, in the JSON format drive_paged_programs.py reads
// (--program_criteria_json_path):
//
//   {"programs": [{"max_batch": 4, "max_tkv": 4096, "batch_granularity": 4,
//                  "tkv_granularity": 64}, ...]}
//
// A program's id is its index in the list. Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gauntlet::programs {

struct ProgramCriteria {
  int id = 0;
  int max_batch = 0;
  int max_tkv = 0;
  int batch_granularity = 1;
  int tkv_granularity = 1;

  // Whether a batch of `batch` sequences at context `tkv` fits this program.
  bool IsPossible(int batch, int tkv, int64_t batch_tkv_limit) const;
  // Padding, in batch × tkv cells, the program adds to run that shape.
  int64_t Padding(int batch, int tkv) const;
};

// Parses the criteria JSON; errors name the source, the program index and the field.
StatusOr<std::vector<ProgramCriteria>> ParseCriteria(std::string_view json_text, const std::string& source);

// The shape of one batch of prompts: how many, and the prompt length (tokens).
struct PromptShape {
  int batch = 0;
  int prompt_len = 0;
  bool operator==(const PromptShape&) const = default;
};

// What the run is compiled for (the seeds' VLLM_DT_* environment).
struct ProgramLimits {
  int max_batch = 4;                  // VLLM_DT_MAX_BATCH_SIZE
  int max_tkv = 4096;                 // VLLM_DT_MAX_CONTEXT_LEN
  int64_t batch_tkv_limit = 524288;   // VLLM_DT_MAX_BATCH_TKV_LIMIT
  int max_new_tokens = 8;
  int multiple = 64;                  // Prompt lengths are multiples of this (the page size).
  bool prioritize_large_batch_sizes = false;
};

// For every prompt shape, the programs it runs through: the prefill program
// first, then one per possible program switch while decoding. Groups shapes
// by that sequence of program ids, in the order each sequence first appears
// (batch ascending, then prompt length), as aiu-fms-testing-utils'
// get_programs_prompts does. Within a group, shapes are ordered by batch
// (largest first when prioritised, else smallest), then by prompt length,
// longest first: deterministic where the script shuffles.
struct ProgramGroup {
  std::vector<int> programs;
  std::vector<PromptShape> shapes;
};
using ProgramMap = std::vector<ProgramGroup>;
ProgramMap BuildProgramMap(const std::vector<ProgramCriteria>& criteria, const ProgramLimits& limits);

// How many (shape, decode step, program) checks BuildProgramMap makes: its
// whole cost, known before it starts. Callers refuse searches above a limit
// (about a second of work at the default) instead of running for minutes.
int64_t ProgramSearchCost(const std::vector<ProgramCriteria>& criteria, const ProgramLimits& limits);
inline constexpr int64_t kDefaultMaxProgramSearch = 4'000'000;

}  // namespace gauntlet::programs
