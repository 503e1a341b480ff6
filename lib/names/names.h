// The character sets of the names users and agents choose: agent names, node
// tags and label keys. One rule, checked where each enters the farm (agent
// flags, Register, the spec parser), so no later query, URL or table has to
// cope with spaces, slashes or quotes. Documented in docs/sweep-spec.md.
#pragma once

#include <string>
#include <string_view>

namespace gauntlet::names {

inline constexpr size_t kMaxNameLength = 63;
inline constexpr size_t kMaxLabelValueLength = 256;

// A letter or digit, then letters, digits, '_', '.' and '-'; 1 to 63 bytes
// (a DNS label with '_' and '.' allowed, so host names fit as they are).
bool IsValidName(std::string_view name);

// Why `name` is not valid, for an error message naming the field; empty if it is.
std::string NameProblem(std::string_view name);

// The problem of the first invalid name in `list` (tags, suites); empty if all are valid.
template <typename List>
std::string FirstNameProblem(const List& list) {
  for (const auto& name : list) {
    if (std::string problem = NameProblem(name); !problem.empty()) return problem;
  }
  return "";
}

// Label values are free text up to 256 bytes, without control characters.
std::string LabelValueProblem(std::string_view value);

}  // namespace gauntlet::names
