// The iree suite's stages, one job each (coordinator/spec/iree/): compile a
// module through the node's compile cache, then quality, benchmark and
// compstat tests on what it made. Rank 0 of a one-device job runs them.
#pragma once

#include "worker/suites/suite.h"

namespace gauntlet::worker::iree {

SuiteResult Compile(const SuiteContext& ctx);
SuiteResult Quality(const SuiteContext& ctx);
SuiteResult Benchmark(const SuiteContext& ctx);
SuiteResult CompileStatistics(const SuiteContext& ctx);

// Where a compile job leaves a module in its out folder, and so where its
// dependents find it under their inputs' compile/ folder.
std::string ModuleFolder(const std::string& module_name);

}  // namespace gauntlet::worker::iree
