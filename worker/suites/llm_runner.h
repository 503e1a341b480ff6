// The llm suite's stages through the runner contract (docs/runner-contract.md).
#pragma once

#include <string>

#include "worker/suites/suite.h"

namespace gauntlet::worker {

// Runs `stage` on the team's runner named in params.runner: writes the
// request, starts the command (under its launcher when tp > 1) from rank 0,
// and reads back its result.json metrics. The outputs are checked after, by
// HoldToStageContract, as the built-in backends' are.
SuiteResult RunOnRunner(const SuiteContext& ctx, const std::string& stage);

// Fails `result` (rank 0, if it passed) when the stage's out folder misses
// what the contract asks of it: the same check for every backend.
void HoldToStageContract(const SuiteContext& ctx, const std::string& stage, SuiteResult* result);

// A benchmark's TTFT and ITL against params' targets; fails `result` on a miss.
void JudgeBenchmarkTargets(const nlohmann::json& params, SuiteResult* result);

}  // namespace gauntlet::worker
