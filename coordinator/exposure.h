// Safe defaults for where the coordinator listens. On loopback (make demo,
// a laptop) it may run without TLS or API tokens, and says so once. Bound
// to any other address it would hand a shell on every agent to whoever can
// reach the port, so without both it refuses to start unless --insecure is
// given, and then warns every hour. This build has neither TLS nor API
// tokens yet (docs/security.md), so every non-loopback bind needs --insecure.
// Pure.
#pragma once

#include <string>
#include <string_view>

namespace gauntlet {

bool IsLoopbackHost(std::string_view host);

// Why the coordinator may not start on these addresses ("" when it may).
// http_host "" means HTTP is off.
std::string ExposureProblem(std::string_view grpc_host, std::string_view http_host, bool insecure_allowed);

}  // namespace gauntlet
