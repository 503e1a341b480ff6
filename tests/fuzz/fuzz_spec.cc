// Any text given to the sweep spec parser either parses (and then expands)
// or is refused with a message naming the source; it never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "coordinator/expand/expand.h"
#include "coordinator/spec/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::map<std::string, std::string> files = {
      {"c.json", R"({"programs": [{"max_batch": 2, "max_tkv": 512, "batch_granularity": 1, "tkv_granularity": 64}]})"}};
  auto spec = gauntlet::spec::ParseSweepSpec(text, "fuzz.yaml", files);
  if (!spec) {
    if (spec.error().message().rfind("fuzz.yaml", 0) != 0) __builtin_trap();
    return 0;
  }
  // Keep expansion small: a fuzzed matrix could ask for billions of jobs.
  size_t jobs = 1;
  for (const auto& job : spec->jobs) {
    for (const auto& [name, values] : job.matrix) jobs *= values.size();
  }
  if (jobs > 4096 || spec->models.size() * spec->context_lengths.size() > 64) return 0;
  auto plan = gauntlet::expand::Expand(*spec);
  (void)plan;
  return 0;
}
