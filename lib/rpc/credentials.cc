#include "lib/rpc/credentials.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "common/sha256.h"

namespace gauntlet::rpc {

std::string NewSecret() {
  unsigned char bytes[32];
  // A credential from a failed generator would be guessable: stop instead.
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string secret;
  secret.reserve(2 * sizeof(bytes));
  for (unsigned char byte : bytes) {
    secret.push_back(kHex[byte >> 4]);
    secret.push_back(kHex[byte & 0xf]);
  }
  return secret;
}

std::string SecretHash(std::string_view secret) { return Sha256Hex(secret); }

std::string BearerHeader(std::string_view token) { return "Bearer " + std::string(token); }

std::string BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "Bearer ";
  if (!header.starts_with(kScheme)) return "";
  return std::string(header.substr(kScheme.size()));
}

}  // namespace gauntlet::rpc
