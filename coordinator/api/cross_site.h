// The board's defence against cross-site requests (CSRF): a state-changing
// request a browser sends on behalf of another site's page carries that
// site's Origin, or Sec-Fetch-Site: cross-site; such a request is refused
// before any route runs. Same-origin forms (the board's own buttons) and
// non-browser clients (curl, scripts; they send neither) pass. GET never
// changes state, so only other methods are judged. Pure.
#pragma once

#include <string_view>

namespace gauntlet::api {

// Why a request must be refused; "" when it may run. `origin` is
// "scheme://host[:port]" or "" (absent), `host` the Host header.
std::string_view CrossSiteProblem(std::string_view method, std::string_view origin, std::string_view host,
                                  std::string_view sec_fetch_site);

}  // namespace gauntlet::api
