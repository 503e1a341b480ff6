#include "common/sha256.h"

#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <openssl/evp.h>

namespace gauntlet {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

namespace {
// OpenSSL 3 looks an algorithm up (under a lock) each time EVP_sha256() is
// used to initialise a context; fetching it once keeps hashing lock-free.
const EVP_MD* Sha256Algorithm() {
  static EVP_MD* algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm;
}
}  // namespace

Sha256::Sha256() : impl_(new Impl) {
  impl_->ctx = EVP_MD_CTX_new();
  [[maybe_unused]] int ok = EVP_DigestInit_ex(impl_->ctx, Sha256Algorithm(), nullptr);
  assert(ok == 1);
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
  delete impl_;
}

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::string Sha256::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->ctx, digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return hasher.FinishHex();
}

StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot open " + path + ": " + std::strerror(errno)));
  Sha256 hasher;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    hasher.Update(std::string_view(buffer, static_cast<size_t>(in.gcount())));
  }
  return hasher.FinishHex();
}

}  // namespace gauntlet
