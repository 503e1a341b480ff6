// A job's `results:`: which parser reads which file, within what size.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lib/results/parsed_results.h"

namespace gauntlet::results {

inline constexpr std::array<std::string_view, 4> kFormats = {"junit", "google-benchmark", "vllm-bench",
                                                            "pytest-benchmark"};
// Larger than any report a tool writes; a file this big is a runaway log.
inline constexpr int64_t kMaxFileBytes = int64_t{64} << 20;

bool IsFormat(std::string_view format);

// Reads and parses one file; `source` names it in errors ("results[0]
// (junit, report.xml)"). Over kMaxFileBytes, missing or malformed: an error,
// and nothing of it is kept.
StatusOr<ParsedResults> ParseFile(std::string_view format, const std::string& path, const std::string& source);
StatusOr<ParsedResults> Parse(std::string_view format, const std::string& text, const std::string& source);

// Adds `from`'s cases, metrics and samples to `into`.
void Merge(ParsedResults from, ParsedResults* into);

// One attempt's cases, attempts in the order they ran.
struct AttemptCases {
  int64_t attempt_id = 0;
  std::vector<TestCase> cases;
};

// The last attempt's cases; one that passed there after failing in an
// earlier attempt of the job is marked flaky: the retry hid a failure.
std::vector<TestCase> LatestWithFlaky(const std::vector<AttemptCases>& attempts);

// "2 of 31 tests failed: test_logits (assert 0.8 < 0.5), test_ttft"; "" when
// none did.
std::string FailureSummary(const std::vector<TestCase>& cases);

}  // namespace gauntlet::results
