#include "coordinator/core/access.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "lib/names/names.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::core {
namespace {

constexpr char kBootstrapAdmin[] = "bootstrap-admin";
// Marks a secret for secret scanners (and people): "gnt_" and 64 hex digits.
constexpr char kTokenPrefix[] = "gnt_";
constexpr int kDefaultAuditPage = 100;
constexpr int kMaxAuditPage = 1000;

ApiTokenRecord RecordOf(const v1::ApiToken& token) {
  return {token.name(), auth::ParseRole(token.role()).value_or(auth::Role::kViewer), token.expires_at_ms(),
          token.revoked_at_ms()};
}

}  // namespace

Status AccessManager::Load(const std::string& admin_token_sha256) {
  GAUNTLET_ASSIGN_OR_RETURN(auto rows, farm_.store.ApiTokens());
  for (const auto& row : rows) farm_.api_tokens.Put(row.token_sha256, RecordOf(row.token));
  if (!admin_token_sha256.empty()) {
    farm_.api_tokens.Put(admin_token_sha256, {kBootstrapAdmin, auth::Role::kAdmin, 0, 0});
  }
  // Made once per farm and kept: job tokens handed out before a restart
  // must verify after it.
  std::string key;
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(key, farm_.store.SigningKey("job-tokens", rpc::NewSecret(), farm_.clock.NowMs()));
    return Status::Ok();
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  farm_.job_tokens = auth::JobTokens(std::move(key));
  return Status::Ok();
}

StatusOr<v1::CreateTokenResponse> AccessManager::Create(const v1::CreateTokenRequest& request,
                                                        const auth::Principal& by) {
  if (std::string problem = names::NameProblem(request.name()); !problem.empty()) {
    return Err(Status::InvalidArgument("token name: " + problem));
  }
  if (request.name() == kBootstrapAdmin) {
    return Err(Status::InvalidArgument("token name 'bootstrap-admin' is the admin token file's; pick another"));
  }
  GAUNTLET_ASSIGN_OR_RETURN(auth::Role role, auth::ParseRole(request.role()));
  GAUNTLET_ASSIGN_OR_RETURN(int64_t lifetime_ms, auth::ParseTokenLifetime(request.expires()));
  const int64_t now = farm_.clock.NowMs();
  if (!farm_.api_tokens.enforced() && role != auth::Role::kAdmin) {
    return Err(Status::FailedPrecondition(
        "the first token of a farm must be an admin's (--role admin): once a token exists every call needs one, "
        "and without an admin no one could make more"));
  }
  v1::CreateTokenResponse response;
  response.set_secret(kTokenPrefix + rpc::NewSecret());
  v1::ApiToken& token = *response.mutable_token();
  token.set_name(request.name());
  token.set_role(std::string(auth::RoleName(role)));
  token.set_created_at_ms(now);
  token.set_created_by(by.name);
  token.set_expires_at_ms(lifetime_ms ? now + lifetime_ms : 0);
  const std::string hash = rpc::SecretHash(response.secret());
  Status status = batch_.Run([&] { return farm_.store.InsertApiToken(token, hash); });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  farm_.api_tokens.Put(hash, RecordOf(token));
  spdlog::info("API token '{}' ({}) created by {}", token.name(), token.role(), by.name);
  return response;
}

StatusOr<std::vector<v1::ApiToken>> AccessManager::List() {
  GAUNTLET_ASSIGN_OR_RETURN(auto rows, farm_.store.ApiTokens());
  std::vector<v1::ApiToken> tokens;
  for (auto& row : rows) tokens.push_back(std::move(row.token));
  return tokens;
}

StatusOr<v1::ApiToken> AccessManager::Revoke(const std::string& name) {
  GAUNTLET_ASSIGN_OR_RETURN(auto rows, farm_.store.ApiTokens());
  const store::Store::ApiTokenRow* found = nullptr;
  for (const auto& row : rows) {
    if (row.token.name() == name) found = &row;
  }
  if (found == nullptr) return Err(Status::NotFound("no API token named '" + name + "'; see `gauntlet tokens list`"));
  if (found->token.revoked_at_ms() != 0) {
    return Err(Status::FailedPrecondition("API token '" + name + "' is already revoked"));
  }
  const int64_t now = farm_.clock.NowMs();
  if (found->token.role() == "admin" && farm_.api_tokens.LiveAdmins(name, now) == 0) {
    return Err(Status::FailedPrecondition("'" + name +
                                          "' is the last live admin token: create another admin token first, or "
                                          "no one could manage the farm"));
  }
  v1::ApiToken token = found->token;
  Status status = batch_.Run([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(bool revoked, farm_.store.RevokeApiToken(name, now));
    return revoked ? Status::Ok() : Status::FailedPrecondition("API token '" + name + "' is already revoked");
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  farm_.api_tokens.SetRevoked(name, now);
  token.set_revoked_at_ms(now);
  spdlog::info("API token '{}' revoked", name);
  return token;
}

Status AccessManager::Audit(v1::AuditEvent event) {
  event.set_at_ms(farm_.clock.NowMs());
  Status status = batch_.Run([&] { return farm_.store.AddAuditEvent(event); });
  if (!status.ok()) return status;
  return batch_.Durable();
}

StatusOr<std::vector<v1::AuditEvent>> AccessManager::AuditEvents(const v1::ListAuditEventsRequest& request) {
  int limit = request.limit() <= 0 ? kDefaultAuditPage : std::min(request.limit(), kMaxAuditPage);
  return farm_.store.AuditEvents(request.actor(), request.before_id(), limit);
}

}  // namespace gauntlet::core
