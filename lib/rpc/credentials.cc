#include "lib/rpc/credentials.h"

#include <openssl/rand.h>

#include <sys/stat.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

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

StatusOr<std::string> ReadSecretFile(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return Err(Status::NotFound(path + " does not exist"));
  if ((info.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (info.st_mode & 0777);
    return Err(Status::PermissionDenied(path + " is readable by others (mode " + mode.str() + "); run chmod 600 " +
                                        path));
  }
  std::ifstream in(path);
  std::string secret;
  std::getline(in, secret);
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) secret.pop_back();
  if (secret.empty()) return Err(Status::InvalidArgument(path + " holds no token on its first line"));
  return secret;
}

}  // namespace gauntlet::rpc
