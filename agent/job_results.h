// A job's `results:` (docs/results.md): the files it wrote, read into test
// cases, metrics and samples for its attempt's report.
#pragma once

#include <string>

#include "lib/results/parsed_results.h"
#include "gauntlet/v1/agent.pb.h"

namespace gauntlet::agent {

// Reads every file `results_json` ([{format, path}]) names, a relative path
// being under `out_dir`. On the first bad file: its problem, and `parsed`
// left empty, so no half of the job's results is stored.
std::string ReadDeclaredResults(const std::string& results_json, const std::string& out_dir,
                                results::ParsedResults* parsed);

// Adds `parsed` to the report: its cases, its metrics where result.json did
// not give the same one, and its samples to result_json (made if the job
// wrote none), where nightly change detection reads them.
void AddToReport(const results::ParsedResults& parsed, v1::AttemptReport* report);

}  // namespace gauntlet::agent
