#include "coordinator/auth/job_tokens.h"

#include <cassert>

#include "lib/rpc/credentials.h"

namespace gauntlet::auth {

std::string JobTokens::For(int64_t attempt_id) const {
  // A token under an empty key would be anyone's to compute.
  assert(!key_.empty());
  return rpc::HmacSha256Hex(key_, "attempt:" + std::to_string(attempt_id));
}

bool JobTokens::Matches(int64_t attempt_id, std::string_view token) const {
  return !token.empty() && rpc::SecretsEqual(For(attempt_id), token);
}

}  // namespace gauntlet::auth
