// Numbers as the CLI and the board print them, so both say the same.
#pragma once

#include <cstdio>
#include <string>

namespace gauntlet {

// "+19.9%" for 0.199.
inline std::string FormatSignedPercent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof(text), "%+.1f%%", 100 * fraction);
  return text;
}

// Four significant digits: "10.04", "3.082e-09".
inline std::string FormatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
  return text;
}

}  // namespace gauntlet
