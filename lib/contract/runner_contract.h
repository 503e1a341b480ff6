// The runner contract (docs/runner-contract.md): how the llm suite's stages
// hand a team's own stack (a vLLM build, an IREE program, a torchrun script)
// the stage's inputs and what it must write back. The spec parser checks a
// runner's command against these placeholders; the worker fills them in.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gauntlet::contract {

inline constexpr int kRunnerContractVersion = 1;

// `{name}` in a runner's command becomes the stage's value, shell-quoted.
inline constexpr std::array<std::string_view, 15> kRunnerPlaceholders = {
    "stage", "mode",  "model", "dtype", "tp",  "attention", "context", "batch",
    "prompt_len", "max_new_tokens", "in", "out", "request", "devices", "program"};

// The stages a runner may take over; validate always stays the farm's.
inline constexpr std::array<std::string_view, 4> kRunnerStages = {"reference", "compile", "run", "benchmark"};

// How a runner with tp > 1 is started: by itself (it starts its own
// processes), under mpirun -np tp, or under torchrun --nproc-per-node tp.
inline constexpr std::array<std::string_view, 3> kRunnerLaunchers = {"none", "mpirun", "torchrun"};

// The `{name}`s in `command`, in order. `${...}` (a shell or matrix
// variable) and `{}` are not placeholders.
std::vector<std::string> RunnerPlaceholders(std::string_view command);

// "" when `name` is a placeholder; else what to write instead.
std::string PlaceholderProblem(std::string_view name);

// Single-quotes `value` for sh, so a path with spaces stays one argument.
std::string ShellQuote(std::string_view value);

// `command` with every placeholder replaced by its shell-quoted value.
StatusOr<std::string> ExpandRunnerCommand(std::string_view command, const std::map<std::string, std::string>& values);

// The command line the worker starts for a runner with `tp` ranks.
std::string LaunchLine(std::string_view launcher, int tp, const std::string& command);

}  // namespace gauntlet::contract
