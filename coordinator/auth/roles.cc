#include "coordinator/auth/roles.h"

#include <charconv>
#include <unordered_map>

namespace gauntlet::auth {

StatusOr<Role> ParseRole(std::string_view text) {
  if (text == "viewer") return Role::kViewer;
  if (text == "submitter") return Role::kSubmitter;
  if (text == "admin") return Role::kAdmin;
  return Err(Status::InvalidArgument("role '" + std::string(text) +
                                     "' is not one of viewer (read), submitter (submit, cancel, retry) or admin "
                                     "(drain, schedules, tokens, revoke)"));
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kSubmitter: return "submitter";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

std::optional<MethodPolicy> ControlMethodPolicy(std::string_view method) {
  constexpr MethodPolicy kRead{Role::kViewer, false};
  constexpr MethodPolicy kSubmit{Role::kSubmitter, true};
  constexpr MethodPolicy kAdminister{Role::kAdmin, true};
  static const std::unordered_map<std::string_view, MethodPolicy> kPolicy = {
      {"GetSweep", kRead},        {"ListSweeps", kRead},        {"ListJobs", kRead},
      {"GetJob", kRead},          {"Why", kRead},               {"TailLogs", kRead},
      {"GetArtifact", kRead},
      {"ListAgents", kRead},      {"ListSchedules", kRead},     {"GetSchedule", kRead},
      {"ScheduleHistory", kRead}, {"Compare", kRead},           {"TestHistory", kRead},
      {"WhoAmI", kRead},          {"ListAuditEvents", kRead},
      {"SubmitSweep", kSubmit},   {"Cancel", kSubmit},          {"Retry", kSubmit},
      {"RetrySweep", kSubmit},    {"Annotate", kSubmit},
      {"DrainAgent", kAdminister}, {"SetDeviceHealth", kAdminister},   {"RevokeAgent", kAdminister},    {"AddSchedule", kAdminister},
      {"PauseSchedule", kAdminister}, {"RunScheduleNow", kAdminister}, {"DeleteSchedule", kAdminister},
      {"PinBaseline", kAdminister},  {"CreateToken", kAdminister},    {"RevokeToken", kAdminister},
      // Names and roles only, but who holds which power is the admins' to know.
      {"ListTokens", {Role::kAdmin, false}},
  };
  auto found = kPolicy.find(method);
  if (found == kPolicy.end()) return std::nullopt;
  return found->second;
}

std::optional<Role> HttpRouteRole(std::string_view method, std::string_view path) {
  if (path == "/healthz" || path == "/login" || path == "/logout" || path.starts_with("/static/")) {
    return std::nullopt;
  }
  if (method == "GET" || method == "HEAD") return Role::kViewer;
  // Drain and undrain, on the board and in the JSON API, are an admin's;
  // so is anything not listed here.
  return Role::kAdmin;
}

StatusOr<int64_t> ParseTokenLifetime(std::string_view text) {
  if (text.empty()) return 0;
  int64_t count = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  const std::string_view unit(end, text.data() + text.size() - end);
  static const std::unordered_map<std::string_view, int64_t> kUnitMs = {
      {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}, {"w", 7 * 86'400'000LL}};
  auto scale = kUnitMs.find(unit);
  if (error != std::errc() || count <= 0 || count > 100'000 || scale == kUnitMs.end()) {
    return Err(Status::InvalidArgument("expires '" + std::string(text) +
                                       "' must be a count and a unit, such as 90m, 12h, 30d or 2w"));
  }
  return count * scale->second;
}

}  // namespace gauntlet::auth
