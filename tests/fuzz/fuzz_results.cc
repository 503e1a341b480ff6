// Any bytes, read as any of the four results formats, parse or are refused
// with a message naming the file; parsed cases have names and a status the
// summary can count.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/results/results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto format = gauntlet::results::kFormats[data[0] % gauntlet::results::kFormats.size()];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = gauntlet::results::Parse(format, text, "fuzz.out");
  if (!parsed) {
    if (!parsed.error().message().starts_with("fuzz.out: ")) __builtin_trap();
    return 0;
  }
  (void)gauntlet::results::FailureSummary(parsed->cases);
  for (const auto& test : parsed->cases) {
    if (gauntlet::results::CaseStatusName(test.status).empty()) __builtin_trap();
  }
  return 0;
}
