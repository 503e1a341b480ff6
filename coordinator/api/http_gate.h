// AccessGate for HTTP: the token from an `Authorization: Bearer` header
// (scripts) or the board's sign-in cookie (browsers), each route's role from
// auth/roles.h, checked before any route runs. A board page asked for
// without a token goes to the sign-in page; the JSON API answers 401.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

#include "coordinator/api/access_gate.h"

namespace gauntlet::api {

// The board's sign-in cookie: HttpOnly (no script reads it) and
// SameSite=Strict (no other site's form or link carries it).
inline constexpr char kTokenCookie[] = "gauntlet_token";

class HttpGate {
 public:
  HttpGate(JobManager& jobs, bool board_public, bool https)
      : jobs_(jobs), gate_(jobs), board_public_(board_public), https_(https) {}

  // Before routing: true when the request was refused (and answered).
  bool Refused(const httplib::Request& req, httplib::Response& res);
  // The caller of a request the gate let in, for the routes that record it.
  StatusOr<auth::Principal> Caller(const httplib::Request& req);
  void Record(const httplib::Request& req, const auth::Principal& by, std::string_view action, std::string target,
              const Status& outcome);
  // Served over TLS: the cookie is marked Secure.
  bool https() const { return https_; }

  static std::string TokenOf(const httplib::Request& req);

 private:
  JobManager& jobs_;
  AccessGate gate_;
  const bool board_public_;
  const bool https_;
};

// The value of cookie `name` in a Cookie header; "" when absent.
std::string CookieValue(std::string_view header, std::string_view name);

}  // namespace gauntlet::api
