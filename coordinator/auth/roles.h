// Who may do what: the three roles of API tokens, and the role each
// ControlService method and HTTP route needs. The tables are the policy: a
// method without an entry is refused (and fails the table-driven test), so a
// new RPC cannot ship open by accident.
//
// Pure: names in, roles out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gauntlet::auth {

// Ordered: each role may do everything the ones below it may.
enum class Role { kViewer = 1, kSubmitter = 2, kAdmin = 3 };

StatusOr<Role> ParseRole(std::string_view text);
std::string_view RoleName(Role role);
inline bool Allows(Role held, Role needed) { return static_cast<int>(held) >= static_cast<int>(needed); }

// Whom a call comes from: a token's name and role. On a farm with no API
// tokens (a loopback demo) every caller is the anonymous local admin.
struct Principal {
  std::string name;
  Role role = Role::kViewer;
  bool anonymous = false;
};
// The caller where no tokens are in force, and in-process callers (tests, tools).
inline Principal LocalAdmin() { return {"local", Role::kAdmin, true}; }

struct MethodPolicy {
  Role role;
  bool audited;  // It changes something: each call is an audit event.
};

// ControlService's methods by their short name ("SubmitSweep").
std::optional<MethodPolicy> ControlMethodPolicy(std::string_view method);

// An HTTP route's need. nullopt: public (health, sign-in, static files);
// kViewer: a read, open to all when the board is public. Methods other than
// GET and HEAD need an admin unless listed, so a new form fails closed.
std::optional<Role> HttpRouteRole(std::string_view method, std::string_view path);

// "30d", "12h", "90m", "2w" → milliseconds; "" → 0 (never expires).
StatusOr<int64_t> ParseTokenLifetime(std::string_view text);

}  // namespace gauntlet::auth
