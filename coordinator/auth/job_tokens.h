// Job tokens: each attempt's own credential for uploading its log and
// artifacts (as Buildkite's per-job BUILDKITE_AGENT_ACCESS_TOKEN). A token
// is the HMAC of the attempt id under the coordinator's key, so none is
// stored anywhere and one handed out before a coordinator restart still
// verifies after it. Whether the attempt is still live is the caller's
// check: a token stops working when its attempt ends. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gauntlet::auth {

class JobTokens {
 public:
  JobTokens() = default;
  explicit JobTokens(std::string key) : key_(std::move(key)) {}

  std::string For(int64_t attempt_id) const;
  bool Matches(int64_t attempt_id, std::string_view token) const;

 private:
  std::string key_;
};

}  // namespace gauntlet::auth
