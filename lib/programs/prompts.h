// Which prompt lengths a selected program needs, and which dataset prompts
// can supply them. Pure: datasets come in as text.
//
// Token counts here are bytes (the byte-level tokenizer of the tiny test
// models); with a real tokenizer the worker counts tokens the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lib/programs/criteria.h"

namespace gauntlet::programs {

// Prompt lengths to enforce for a batch of `shape`: the largest prompt is
// always exactly shape.prompt_len, so it hits the program. With
// `homogeneous`, every other prompt is forced too, cycling down through the
// multiples of 64 between the power of two below prompt_len and prompt_len,
// so that every sequence hits the same prefill program (drive_paged_programs.py
// --enforce_homogeneous_prompt_programs).
std::vector<int> EnforcedPromptSizes(const PromptShape& shape, bool homogeneous, int multiple = 64);

// Prompts of a dataset file. `type` is "sharegpt" (a JSON list of
// conversations; the first turn is the prompt) or "rag_factoid" (JSON lines;
// each line is one prompt, as aiu-fms-testing-utils reads it).
StatusOr<std::vector<std::string>> ParseDataset(std::string_view text, const std::string& type,
                                                const std::string& source);

// Indices of prompts that can supply a prompt of `size` tokens: those whose
// length rounds up to `size` at `multiple`, or with truncation (ShareGPT) any
// at least that long.
std::vector<size_t> PromptsForSize(const std::vector<std::string>& prompts, int size, bool truncation,
                                   int multiple = 64);

}  // namespace gauntlet::programs
