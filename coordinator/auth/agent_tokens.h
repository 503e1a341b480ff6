// Registration tokens: which agents may join the farm, and what each may
// claim. The coordinator reads them from a file (--agent-tokens) that holds
// only their SHA-256, so the file leaks nothing; the devices' kinds and the
// tags an agent offers are checked against its token's (Swarming's trusted
// dimensions), so an agent whose token allows `cpu` cannot offer `gpu`.
//
//   - name: lab-gpu                 # shown in logs, events and `gauntlet agents`
//     token_sha256: 4f2a...         # printf %s TOKEN | sha256sum
//     device_kinds: [gpu, cpu]      # may offer (absent: any)
//     tags: [mi300x, spx]           # may claim (absent: any)
//
// Pure: text in, tokens or a line-numbered error out.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace gauntlet::auth {

struct AgentToken {
  std::string name;
  std::string token_sha256;               // 64 lower-case hex digits.
  std::vector<std::string> device_kinds;  // Empty: any.
  std::vector<std::string> tags;          // Empty: any.
};

StatusOr<std::vector<AgentToken>> ParseAgentTokens(const std::string& text, const std::string& source);

// The token whose hash is `presented_sha256`; nullptr when none.
const AgentToken* FindAgentToken(const std::vector<AgentToken>& tokens, const std::string& presented_sha256);

// Whether an agent admitted by `token` may offer devices of these kinds and
// claim these tags: PermissionDenied naming the first that it may not.
Status CheckAdmission(const AgentToken& token, const std::vector<std::string>& device_kinds,
                      const std::vector<std::string>& tags);

}  // namespace gauntlet::auth
