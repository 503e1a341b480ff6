// What a stage must leave in its out folder, held to every backend alike:
// the built-in CPU and GPU ones and a team's runner (docs/runner-contract.md).
#pragma once

#include <map>
#include <string>

namespace gauntlet::worker {

struct StageOutputs {
  int batch = 0;       // Sequences: the reference's prompts.
  int steps = 0;       // max_new_tokens.
  int vocab = 0;       // 0: not known, not checked.
  bool tokens = false;   // tokens.json: {"tokens": [batch][steps] ids}.
  bool logits = false;   // logits.npy: [batch, steps, vocab], finite.
  bool timings = false;  // ttft_ms and itl_ms among the metrics.
};

// "" when `out_dir` holds what `want` asks; else the first problem, naming
// the file and what is wrong with it ("logits.npy: NaN at [1, 3, 17]").
std::string CheckStageOutputs(const std::string& out_dir, const StageOutputs& want,
                              const std::map<std::string, double>& metrics);

}  // namespace gauntlet::worker
