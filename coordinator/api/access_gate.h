// The door every ControlService call and HTTP request passes: who the
// caller is (its API token), whether its role may do this, and, for calls
// that change something, an audit event of what happened. The gRPC service
// and the HTTP server differ only in where they find the token and peer.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "coordinator/auth/roles.h"
#include "coordinator/job_manager.h"

namespace gauntlet::api {

class AccessGate {
 public:
  explicit AccessGate(JobManager& jobs) : jobs_(jobs) {}

  // The caller, if `token` is known and its role reaches `need`. A refusal
  // is logged (never with the token); one of a known caller for an audited
  // action is also an audit event.
  StatusOr<auth::Principal> Admit(std::string_view token, const std::string& peer, auth::Role need,
                                  std::string_view action, bool audited);
  // An audited action's outcome: "ok", or the refusal's code and message.
  void Record(const auth::Principal& by, const std::string& peer, std::string_view action, std::string target,
              const Status& outcome);

  // Passes `result` through, recording its outcome.
  template <typename T>
  StatusOr<T> Recorded(const auth::Principal& by, const std::string& peer, std::string_view action,
                       std::string target, StatusOr<T> result) {
    Record(by, peer, action, std::move(target), result ? Status::Ok() : result.error());
    return result;
  }

 private:
  JobManager& jobs_;
};

// "ipv4:10.0.0.5:51234" (gRPC), "ipv6:[::1]:51234" → "10.0.0.5", "::1": a
// caller's address without its port, as HTTP's remote_addr gives it, so
// the limit on failed authentications counts a host's gRPC and HTTP tries together.
std::string PeerHost(std::string_view peer);

}  // namespace gauntlet::api
