#include "coordinator/core/api_tokens.h"

#include "coordinator/constants.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::core {

ApiTokens::ApiTokens() : failures_(constants::kMaxFailedAuthPerWindow, constants::kFailedAuthWindowMs) {}

StatusOr<auth::Principal> ApiTokens::Authenticate(std::string_view token, const std::string& peer, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (int64_t wait_ms = failures_.BlockedFor(peer, now_ms)) {
    return Err(Status::ResourceExhausted("too many failed authentications from " + peer + "; try again in " +
                                         std::to_string((wait_ms + 999) / 1000) + " s"));
  }
  if (token.empty()) {
    if (!enforced_) return auth::LocalAdmin();
    return Err(Status::Unauthenticated(
        "this coordinator needs an API token: set GAUNTLET_TOKEN, or put it in ~/.config/gauntlet/token (mode "
        "0600); an admin makes one with `gauntlet tokens create`"));
  }
  auto found = by_hash_.find(rpc::SecretHash(token));
  const bool live = found != by_hash_.end() && found->second.revoked_at_ms == 0 &&
                    (found->second.expires_at_ms == 0 || found->second.expires_at_ms > now_ms);
  if (!live) {
    failures_.Failed(peer, now_ms);
    return Err(Status::Unauthenticated("the API token is unknown, expired or revoked; ask an admin for a new one"));
  }
  return auth::Principal{found->second.name, found->second.role, false};
}

void ApiTokens::Put(const std::string& token_sha256, ApiTokenRecord record) {
  std::lock_guard lock(mu_);
  by_hash_[token_sha256] = std::move(record);
  enforced_ = true;
}

void ApiTokens::SetRevoked(const std::string& name, int64_t revoked_at_ms) {
  std::lock_guard lock(mu_);
  for (auto& [hash, record] : by_hash_) {
    if (record.name == name) record.revoked_at_ms = revoked_at_ms;
  }
}

void ApiTokens::Enforce() {
  std::lock_guard lock(mu_);
  enforced_ = true;
}

bool ApiTokens::enforced() const {
  std::lock_guard lock(mu_);
  return enforced_;
}

int ApiTokens::LiveAdmins(const std::string& except, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  int live = 0;
  for (const auto& [hash, record] : by_hash_) {
    if (record.name != except && record.role == auth::Role::kAdmin && record.revoked_at_ms == 0 &&
        (record.expires_at_ms == 0 || record.expires_at_ms > now_ms)) {
      ++live;
    }
  }
  return live;
}

}  // namespace gauntlet::core
