#include "coordinator/api/access_gate.h"

#include <spdlog/spdlog.h>

namespace gauntlet::api {

std::string PeerHost(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.starts_with(scheme)) peer.remove_prefix(scheme.size());
  }
  if (peer.starts_with('[')) {
    const size_t close = peer.find(']');
    return std::string(peer.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const size_t colon = peer.rfind(':');
  // Two colons or more and no brackets: an IPv6 address without a port.
  if (colon == std::string_view::npos || peer.find(':') != colon) return std::string(peer);
  return std::string(peer.substr(0, colon));
}

StatusOr<auth::Principal> AccessGate::Admit(std::string_view token, const std::string& peer, auth::Role need,
                                            std::string_view action, bool audited) {
  auto principal = jobs_.Authenticate(token, peer);
  if (!principal) {
    spdlog::warn("refused {} from {}: {}", action, peer, principal.error().message());
    return principal;
  }
  if (auth::Allows(principal->role, need)) return principal;
  Status denied = Status::PermissionDenied(std::string(action) + " needs a " + std::string(auth::RoleName(need)) +
                                           " token; '" + principal->name + "' is a " +
                                           std::string(auth::RoleName(principal->role)));
  spdlog::warn("refused {} from {} ({}): {}", action, principal->name, peer, denied.message());
  if (audited) Record(*principal, peer, action, "", denied);
  return Err(denied);
}

void AccessGate::Record(const auth::Principal& by, const std::string& peer, std::string_view action,
                        std::string target, const Status& outcome) {
  v1::AuditEvent event;
  event.set_actor(by.name);
  event.set_role(std::string(auth::RoleName(by.role)));
  event.set_action(std::string(action));
  event.set_target(std::move(target));
  event.set_outcome(outcome.ok() ? "ok" : outcome.ToString());
  event.set_peer(peer);
  // The action has happened (or been refused) either way; a trail that
  // cannot be written is the operator's to see, not the caller's to retry.
  if (Status stored = jobs_.Audit(event); !stored.ok()) {
    spdlog::error("audit event for {} by {} not stored: {}", action, by.name, stored.ToString());
  }
}

}  // namespace gauntlet::api
