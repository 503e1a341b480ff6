// Safe defaults for where the coordinator listens. On loopback (make demo,
// a laptop) it may run without TLS or tokens, and says so once. Bound to any
// other address it would hand a shell on every agent to whoever can reach
// the port, so it refuses to start there without all of: TLS (--tls-cert
// and --tls-key), API tokens in force (--admin-token-file, or tokens already
// made) and agent registration tokens (--agent-tokens), unless --insecure is
// given; then it warns every hour. Pure.
#pragma once

#include <string>
#include <string_view>

namespace gauntlet {

bool IsLoopbackHost(std::string_view host);

struct Exposure {
  std::string grpc_host;
  std::string http_host;  // "": HTTP is off.
  bool tls = false;
  bool api_tokens = false;
  bool agent_tokens = false;
  bool insecure_allowed = false;  // --insecure
};

bool BeyondLoopback(const Exposure& exposure);
// What protection is missing for a listener beyond loopback ("" when none).
std::string MissingProtection(const Exposure& exposure);
// Why the coordinator may not start so ("" when it may).
std::string ExposureProblem(const Exposure& exposure);

}  // namespace gauntlet
