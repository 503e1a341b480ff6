#include "coordinator/api/cross_site.h"

namespace gauntlet::api {

std::string_view CrossSiteProblem(std::string_view method, std::string_view origin, std::string_view host,
                                  std::string_view sec_fetch_site) {
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return "";
  if (sec_fetch_site == "cross-site" || sec_fetch_site == "same-site") {
    return "refused: a page of another site asked for this change (Sec-Fetch-Site)";
  }
  if (origin.empty()) return "";
  // "null" is what sandboxed frames and some redirects send: not ours either.
  const size_t scheme_end = origin.find("://");
  const std::string_view origin_host = scheme_end == std::string_view::npos ? "" : origin.substr(scheme_end + 3);
  if (origin_host.empty() || origin_host != host) {
    return "refused: a page of another origin asked for this change (Origin does not match Host)";
  }
  return "";
}

}  // namespace gauntlet::api
