// Any byte string given to the selector parser either parses or is refused
// with a message; a parsed selector selects without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/programs/criteria.h"
#include "lib/programs/selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto selector = gauntlet::programs::ParseSelector(text);
  if (!selector) {
    if (selector.error().message().empty()) __builtin_trap();
    return 0;
  }
  static const auto criteria = *gauntlet::programs::ParseCriteria(
      R"({"programs": [{"max_batch": 2, "max_tkv": 512, "batch_granularity": 1, "tkv_granularity": 64},
                       {"max_batch": 4, "max_tkv": 1024, "batch_granularity": 4, "tkv_granularity": 128}]})",
      "fuzz");
  gauntlet::programs::ProgramLimits limits;
  limits.max_batch = 4;
  limits.max_tkv = 1024;
  static const auto map = gauntlet::programs::BuildProgramMap(criteria, limits);
  gauntlet::programs::SelectPrograms(map, criteria, {*selector});
  return 0;
}
