// JUnit XML as pytest --junitxml, ctest --output-junit, gtest
// --gtest_output=xml and Maven Surefire write it.
#pragma once

#include <string>

#include "common/status.h"
#include "lib/results/parsed_results.h"

namespace gauntlet::results {

// Every <testcase> becomes a case. A case listed again after a failure, or
// one carrying <flakyFailure>/<rerunFailure> beside its pass, is flaky.
StatusOr<ParsedResults> ParseJunit(const std::string& text, const std::string& source);

}  // namespace gauntlet::results
