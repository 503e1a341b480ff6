// How the CLI names the definition files of a `suite:` block when it sends
// them with the spec, so the coordinator finds them without touching the
// submitter's disk: the prefix, then the path under the block's folder.
#pragma once

#include <string_view>

namespace gauntlet::contract {

inline constexpr std::string_view kSuiteTestsPrefix = "suite.tests:";
inline constexpr std::string_view kSuiteModulesPrefix = "suite.modules:";

}  // namespace gauntlet::contract
