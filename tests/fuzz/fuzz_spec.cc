// Any text given to the sweep spec parser either parses (and then expands)
// or is refused with a message naming the source; it never crashes, and the
// spec limits alone keep every input cheap: the fuzzer's per-input timeout
// and memory cap (tests/CMakeLists.txt) fail the run if an input slips past
// them (an alias bomb, a huge matrix, a deep nest, a wide program search).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "coordinator/expand/expand.h"
#include "coordinator/spec/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::map<std::string, std::string> files = {
      {"c.json", R"({"programs": [{"max_batch": 2, "max_tkv": 512, "batch_granularity": 1, "tkv_granularity": 64}]})"}};
  // The coordinator's limits, scaled down so each input stays well under the
  // fuzzer's per-input timeout.
  gauntlet::spec::Limits limits;
  limits.max_jobs_per_sweep = 4096;
  limits.max_dependency_edges = 65536;
  limits.max_program_search = 200'000;
  limits.max_yaml_nodes = 20'000;
  auto spec = gauntlet::spec::ParseSweepSpec(text, "fuzz.yaml", files, limits);
  if (!spec) {
    if (spec.error().message().rfind("fuzz.yaml", 0) != 0) __builtin_trap();
    return 0;
  }
  auto plan = gauntlet::expand::Expand(*spec, limits);
  if (plan && plan->jobs.size() > static_cast<size_t>(limits.max_jobs_per_sweep)) __builtin_trap();
  return 0;
}
