#include "coordinator/serving_certificates.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <filesystem>
#include <fstream>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <spdlog/spdlog.h>

namespace gauntlet {

namespace fs = std::filesystem;

namespace {

// How often gRPC's watcher looks at the published generation; a reload
// takes effect within this.
constexpr unsigned kWatchIntervalSeconds = 1;
constexpr char kCurrent[] = "current";

Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Unavailable("cannot write " + path.string());
  return Status::Ok();
}

}  // namespace

// One published pair, parsed for HTTPS handshakes.
struct ServingCertificates::Identity {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;
  EVP_PKEY* key = nullptr;

  ~Identity() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }

  static std::shared_ptr<const Identity> Parse(const rpc::TlsPem& pem) {
    auto identity = std::make_shared<Identity>();
    BIO* certs = BIO_new_mem_buf(pem.cert.data(), static_cast<int>(pem.cert.size()));
    identity->leaf = PEM_read_bio_X509(certs, nullptr, nullptr, nullptr);
    identity->chain = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(certs, nullptr, nullptr, nullptr)) sk_X509_push(identity->chain, extra);
    BIO_free(certs);
    ERR_clear_error();  // The loop ends on "no more PEM blocks".
    BIO* key = BIO_new_mem_buf(pem.key.data(), static_cast<int>(pem.key.size()));
    identity->key = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    BIO_free(key);
    // rpc::ReadTlsFiles has checked both parse and match.
    assert(identity->leaf && identity->key);
    return identity;
  }
};

ServingCertificates::ServingCertificates(rpc::TlsFiles files, std::string stage_dir)
    : files_(std::move(files)), stage_dir_(std::move(stage_dir)) {}

ServingCertificates::~ServingCertificates() = default;

StatusOr<std::unique_ptr<ServingCertificates>> ServingCertificates::Create(rpc::TlsFiles files, std::string stage_dir) {
  if (files.cert.empty() || files.key.empty()) {
    return Err(Status::InvalidArgument("--tls-cert and --tls-key are both needed to serve TLS"));
  }
  std::error_code ec;
  fs::create_directories(stage_dir, ec);
  if (ec || chmod(stage_dir.c_str(), 0700) != 0) {
    return Err(Status::Unavailable("cannot create " + stage_dir + " for the serving certificates"));
  }
  std::unique_ptr<ServingCertificates> certificates(new ServingCertificates(std::move(files), std::move(stage_dir)));
  GAUNTLET_RETURN_IF_ERROR(certificates->Reload());
  return certificates;
}

Status ServingCertificates::Reload() {
  GAUNTLET_ASSIGN_OR_RETURN(rpc::TlsPem pem, rpc::ReadTlsFiles(files_));
  GAUNTLET_RETURN_IF_ERROR(Publish(pem));
  auto identity = Identity::Parse(pem);
  std::lock_guard lock(mu_);
  identity_ = std::move(identity);
  spdlog::info("serving certificate {} (generation {}){}", files_.cert, generation_,
               verifies_clients() ? ", client certificates verified against " + files_.ca : "");
  return Status::Ok();
}

Status ServingCertificates::Publish(const rpc::TlsPem& pem) {
  std::lock_guard lock(mu_);
  const int next = generation_ + 1;
  const fs::path dir = fs::path(stage_dir_) / std::to_string(next);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directory(dir, ec);
  if (ec) return Status::Unavailable("cannot create " + dir.string() + ": " + ec.message());
  GAUNTLET_RETURN_IF_ERROR(WriteFile(dir / "key.pem", pem.key));
  GAUNTLET_RETURN_IF_ERROR(WriteFile(dir / "cert.pem", pem.cert));
  if (!pem.ca.empty()) GAUNTLET_RETURN_IF_ERROR(WriteFile(dir / "ca.pem", pem.ca));
  // The swap: a new symlink renamed over the old one is atomic.
  const fs::path link = fs::path(stage_dir_) / kCurrent;
  const fs::path staged_link = fs::path(stage_dir_) / "current.next";
  fs::remove(staged_link, ec);
  fs::create_directory_symlink(std::to_string(next), staged_link, ec);
  if (!ec) fs::rename(staged_link, link, ec);
  if (ec) return Status::Unavailable("cannot publish " + dir.string() + ": " + ec.message());
  // The one before stays: the watcher may be reading it.
  if (generation_ > 1) fs::remove_all(fs::path(stage_dir_) / std::to_string(generation_ - 1), ec);
  generation_ = next;
  return Status::Ok();
}

int ServingCertificates::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

std::shared_ptr<grpc::ServerCredentials> ServingCertificates::GrpcCredentials() const {
  const fs::path current = fs::path(stage_dir_) / kCurrent;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (verifies_clients()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        (current / "key.pem").string(), (current / "cert.pem").string(), (current / "ca.pem").string(),
        kWatchIntervalSeconds);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        (current / "key.pem").string(), (current / "cert.pem").string(), kWatchIntervalSeconds);
  }
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (verifies_clients()) {
    options.watch_root_certs();
    // People (the CLI) carry API tokens, not certificates: a certificate is
    // verified when given, and the agent service demands one.
    options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

int ServingCertificates::SelectCertificate(SSL* ssl, void* self) {
  std::shared_ptr<const Identity> identity;
  {
    auto* certificates = static_cast<ServingCertificates*>(self);
    std::lock_guard lock(certificates->mu_);
    identity = certificates->identity_;
  }
  return SSL_use_cert_and_key(ssl, identity->leaf, identity->key, identity->chain, /*override=*/1) == 1 ? 1 : 0;
}

bool ServingCertificates::SetUpHttps(SSL_CTX& context) {
  SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
  SSL_CTX_set_cert_cb(&context, &ServingCertificates::SelectCertificate, this);
  return true;
}

}  // namespace gauntlet
