#include "lib/names/names.h"

#include <cctype>

namespace gauntlet::names {
namespace {

bool IsAsciiAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string NameProblem(std::string_view name) {
  const std::string rule = "; use 1 to 63 letters, digits, '_', '.' and '-', starting with a letter or digit";
  if (name.empty()) return "is empty" + rule;
  if (name.size() > kMaxNameLength) return "is " + std::to_string(name.size()) + " bytes long" + rule;
  if (!IsAsciiAlnum(name.front())) return "'" + std::string(name) + "' starts with '" + name.front() + "'" + rule;
  for (char c : name) {
    if (IsAsciiAlnum(c) || c == '_' || c == '.' || c == '-') continue;
    const bool printable = static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
    return "'" + std::string(name) + "' contains " + (printable ? "'" + std::string(1, c) + "'" : "a byte that is not ASCII") +
           rule;
  }
  return "";
}

bool IsValidName(std::string_view name) { return NameProblem(name).empty(); }

std::string LabelValueProblem(std::string_view value) {
  if (value.size() > kMaxLabelValueLength) {
    return "is " + std::to_string(value.size()) + " bytes long; label values are at most 256 bytes";
  }
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return "contains a control character; label values are one line of text";
  }
  return "";
}

}  // namespace gauntlet::names
