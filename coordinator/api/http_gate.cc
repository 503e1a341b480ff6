#include "coordinator/api/http_gate.h"

#include "coordinator/api/http_util.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::api {

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    while (pair.starts_with(' ')) pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return "";
}

std::string HttpGate::TokenOf(const httplib::Request& req) {
  if (req.has_header("Authorization")) return rpc::BearerToken(req.get_header_value("Authorization"));
  return CookieValue(req.get_header_value("Cookie"), kTokenCookie);
}

bool HttpGate::Refused(const httplib::Request& req, httplib::Response& res) {
  auto need = auth::HttpRouteRole(req.method, req.path);
  if (!need) return false;
  if (*need == auth::Role::kViewer && board_public_) return false;
  auto admitted = gate_.Admit(TokenOf(req), req.remote_addr, *need, req.method + " " + req.path,
                              /*audited=*/*need != auth::Role::kViewer);
  if (admitted) return false;
  const bool page = !req.path.starts_with("/api/") && req.path != "/metrics";
  if (page && req.method == "GET" && admitted.error().code() == Status::Code::kUnauthenticated) {
    res.set_redirect("/login?next=" + httplib::detail::encode_query_param(req.path), 303);
    return true;
  }
  if (admitted.error().code() == Status::Code::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer");
  if (page) {
    SendErrorPage(res, admitted.error());
  } else {
    SendError(res, admitted.error());
  }
  return true;
}

StatusOr<auth::Principal> HttpGate::Caller(const httplib::Request& req) {
  return jobs_.Authenticate(TokenOf(req), req.remote_addr);
}

void HttpGate::Record(const httplib::Request& req, const auth::Principal& by, std::string_view action,
                      std::string target, const Status& outcome) {
  gate_.Record(by, req.remote_addr, action, std::move(target), outcome);
}

}  // namespace gauntlet::api
