#include "coordinator/exposure.h"

namespace gauntlet {

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

std::string ExposureProblem(std::string_view grpc_host, std::string_view http_host, bool insecure_allowed) {
  if (insecure_allowed) return "";
  for (auto [flag, host] : {std::pair{"--grpc", grpc_host}, std::pair{"--http", http_host}}) {
    if (host.empty() || IsLoopbackHost(host)) continue;
    return std::string(flag) + " " + std::string(host) +
           " is reachable from other machines, and this coordinator has no TLS or API tokens yet: anyone who "
           "reaches it can run commands on every agent. Bind it to 127.0.0.1, or give --insecure on a network "
           "only the farm's nodes and operators reach (docs/security.md)";
  }
  return "";
}

}  // namespace gauntlet
