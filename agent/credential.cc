#include "agent/credential.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "lib/rpc/credentials.h"

namespace gauntlet::agent {

AgentCredential::AgentCredential(std::string registration_token, std::string session_file)
    : registration_token_(std::move(registration_token)), session_file_(std::move(session_file)) {
  std::ifstream in(session_file_);
  std::getline(in, session_);
}

void AgentCredential::Attach(grpc::ClientContext* context, bool registering) const {
  std::lock_guard lock(mu_);
  if (!session_.empty()) context->AddMetadata(rpc::kAuthorizationKey, rpc::BearerHeader(session_));
  if (registering && !registration_token_.empty()) {
    context->AddMetadata(rpc::kRegistrationTokenKey, registration_token_);
  }
}

void AgentCredential::SetSession(const std::string& session) {
  {
    std::lock_guard lock(mu_);
    if (session == session_) return;
    session_ = session;
  }
  if (session_file_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(session_file_).parent_path(), ec);
  // Written whole under a temporary name, readable by this user only.
  const std::string temporary = session_file_ + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool written = fd >= 0 && ::write(fd, session.data(), session.size()) == static_cast<ssize_t>(session.size()) &&
                       ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!written || std::rename(temporary.c_str(), session_file_.c_str()) != 0) {
    // The session still works; only a restart would need to register anew.
    spdlog::warn("cannot save the session credential to {}; a restart registers as a new session", session_file_);
  }
}

}  // namespace gauntlet::agent
