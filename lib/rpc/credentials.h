// Bearer credentials on gRPC calls. An agent exchanges its registration
// token for a session credential at Register (as Buildkite's agent token
// becomes a session token) and sends it on every later call; the
// coordinator keeps only its hash.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gauntlet::rpc {

// The metadata key (gRPC lower-cases keys): "authorization: Bearer <token>".
inline constexpr char kAuthorizationKey[] = "authorization";
// Register's second header: the registration token that admits a new
// session (the authorization header carries the session it may still hold).
inline constexpr char kRegistrationTokenKey[] = "x-gauntlet-registration-token";

// Upload calls' third header: the job token of the attempt they upload for.
inline constexpr char kJobTokenKey[] = "x-gauntlet-job-token";

// 256 random bits as 64 hex digits.
std::string NewSecret();
// What is stored in place of a secret: its SHA-256, hex.
std::string SecretHash(std::string_view secret);
// HMAC-SHA256 of `data` under `key`, hex.
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Compares in time independent of where they differ.
bool SecretsEqual(std::string_view a, std::string_view b);
std::string BearerHeader(std::string_view token);
// The token of "Bearer <token>"; "" for anything else.
std::string BearerToken(std::string_view header);

// The secret in the first line of `path`, trimmed. Refused when the file is
// readable by group or others (the fix: chmod 600), missing or empty.
StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace gauntlet::rpc
