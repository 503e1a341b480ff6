// The API tokens the coordinator knows, by hash, and whom each call comes
// from. Read on every ControlService call and HTTP request, so it has its
// own lock instead of the manager's; written at start-up, create and
// revoke. Holds only the tokens' hashes.
//
// Tokens are in force once the farm has ever had one (or an admin token
// file was given): revoking the last token does not open the farm again.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "coordinator/auth/failure_limiter.h"
#include "coordinator/auth/roles.h"

namespace gauntlet::core {

struct ApiTokenRecord {
  std::string name;
  auth::Role role = auth::Role::kViewer;
  int64_t expires_at_ms = 0;  // 0: never.
  int64_t revoked_at_ms = 0;
};

class ApiTokens {
 public:
  ApiTokens();

  // The principal `token` names; the anonymous local admin when no tokens
  // are in force and none is presented. UNAUTHENTICATED for a missing token
  // where tokens are in force, and for an unknown, expired or revoked one;
  // RESOURCE_EXHAUSTED while `peer` has failed too often.
  StatusOr<auth::Principal> Authenticate(std::string_view token, const std::string& peer, int64_t now_ms);

  void Put(const std::string& token_sha256, ApiTokenRecord record);
  void SetRevoked(const std::string& name, int64_t revoked_at_ms);
  // From now on calls need a token (the first one created, or an admin file).
  void Enforce();
  bool enforced() const;
  // Live admin tokens other than `except` (a name): revoking the last one
  // would lock every admin out.
  int LiveAdmins(const std::string& except, int64_t now_ms) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, ApiTokenRecord> by_hash_;
  bool enforced_ = false;
  auth::FailureLimiter failures_;
};

}  // namespace gauntlet::core
