// What the agent proves itself with: the registration token it joins with
// (from --token-file or GAUNTLET_AGENT_TOKEN, never a flag that `ps`
// shows), and the session credential the coordinator hands back, kept in
// <workdir>/session (mode 0600) so a restarted agent takes its own name
// back instead of being refused as an impostor. Shared by the session and
// every attempt's runner; no job ever sees either.
#pragma once

#include <mutex>
#include <string>

#include <grpcpp/client_context.h>

namespace gauntlet::agent {

class AgentCredential {
 public:
  // Reads a session saved by an earlier run from `session_file`, if any.
  AgentCredential(std::string registration_token, std::string session_file);

  // The session credential on `context`; the registration token too when `registering`.
  void Attach(grpc::ClientContext* context, bool registering = false) const;
  // Keeps the coordinator's answer to Register, and saves it.
  void SetSession(const std::string& session);

 private:
  const std::string registration_token_;
  const std::string session_file_;
  mutable std::mutex mu_;
  std::string session_;
};

}  // namespace gauntlet::agent
