#include "coordinator/exposure.h"

#include <vector>

namespace gauntlet {

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

bool BeyondLoopback(const Exposure& exposure) {
  return !IsLoopbackHost(exposure.grpc_host) || (!exposure.http_host.empty() && !IsLoopbackHost(exposure.http_host));
}

std::string MissingProtection(const Exposure& exposure) {
  std::vector<std::string> missing;
  if (!exposure.tls) missing.push_back("TLS (--tls-cert and --tls-key)");
  if (!exposure.api_tokens) missing.push_back("API tokens (--admin-token-file)");
  if (!exposure.agent_tokens) missing.push_back("agent registration tokens (--agent-tokens)");
  std::string text;
  for (size_t i = 0; i < missing.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
  }
  return text;
}

std::string ExposureProblem(const Exposure& exposure) {
  if (exposure.insecure_allowed || !BeyondLoopback(exposure)) return "";
  const std::string missing = MissingProtection(exposure);
  if (missing.empty()) return "";
  const bool grpc_open = !IsLoopbackHost(exposure.grpc_host);
  return std::string(grpc_open ? "--grpc " : "--http ") + (grpc_open ? exposure.grpc_host : exposure.http_host) +
         " is reachable from other machines, and this coordinator has no " + missing +
         ": anyone who reaches it could run commands on every agent. Give them (docs/security.md), bind it to "
         "127.0.0.1, or give --insecure on a network only the farm's nodes and operators reach";
}

}  // namespace gauntlet
