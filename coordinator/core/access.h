// API tokens and the audit trail: create, list and revoke tokens (the
// registry in Farm answers who a call is from), and record who did what.
#pragma once

#include <string>
#include <vector>

#include "coordinator/auth/roles.h"
#include "coordinator/core/batch.h"
#include "coordinator/core/farm.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

class AccessManager {
 public:
  AccessManager(Farm& farm, Batch& batch) : farm_(farm), batch_(batch) {}

  // Fills the registry from the store; an admin token file (its hash) is
  // added as the admin "bootstrap-admin", in memory only. Keys job tokens.
  Status Load(const std::string& admin_token_sha256);
  // The first token of a farm must be an admin's: once one exists tokens are
  // in force, and without an admin no one could make more.
  StatusOr<v1::CreateTokenResponse> Create(const v1::CreateTokenRequest& request, const auth::Principal& by);
  StatusOr<std::vector<v1::ApiToken>> List();
  // Refused for the last live admin token: revoking it would lock every admin out.
  StatusOr<v1::ApiToken> Revoke(const std::string& name);
  // Committed on its own, at once: the trail holds refused calls too.
  Status Audit(v1::AuditEvent event);
  StatusOr<std::vector<v1::AuditEvent>> AuditEvents(const v1::ListAuditEventsRequest& request);

 private:
  Farm& farm_;
  Batch& batch_;
};

}  // namespace gauntlet::core
