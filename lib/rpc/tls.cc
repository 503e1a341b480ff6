#include "lib/rpc/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

namespace gauntlet::rpc {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

StatusOr<std::string> ReadPem(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound(flag + " " + path + ": cannot read it"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Bio MemoryBio(const std::string& pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no PEM block found";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

StatusOr<Cert> ParseCert(const std::string& pem, const std::string& what) {
  Bio bio = MemoryBio(pem);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Err(Status::InvalidArgument(what + " is not a PEM certificate (" + OpenSslError() + ")"));
  return cert;
}

}  // namespace

StatusOr<TlsPem> ReadTlsFiles(const TlsFiles& files, const std::string& flag_prefix) {
  const std::string cert_flag = flag_prefix + "-cert";
  const std::string key_flag = flag_prefix + "-key";
  const std::string ca_flag = flag_prefix + "-ca";
  if (files.cert.empty() != files.key.empty()) {
    return Err(Status::InvalidArgument(cert_flag + " and " + key_flag + " come together: give both or neither"));
  }
  TlsPem pem;
  if (!files.cert.empty()) {
    GAUNTLET_ASSIGN_OR_RETURN(pem.cert, ReadPem(files.cert, cert_flag));
    GAUNTLET_ASSIGN_OR_RETURN(pem.key, ReadPem(files.key, key_flag));
    GAUNTLET_ASSIGN_OR_RETURN(Cert cert, ParseCert(pem.cert, cert_flag + " " + files.cert));
    Bio bio = MemoryBio(pem.key);
    Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
      return Err(Status::InvalidArgument(key_flag + " " + files.key + " is not an unencrypted PEM private key (" +
                                         OpenSslError() + ")"));
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      ERR_clear_error();
      return Err(Status::InvalidArgument(key_flag + " " + files.key + " is not the key of " + cert_flag + " " +
                                         files.cert + "; give the key the certificate was issued for"));
    }
  }
  if (!files.ca.empty()) {
    GAUNTLET_ASSIGN_OR_RETURN(pem.ca, ReadPem(files.ca, ca_flag));
    if (auto ca = ParseCert(pem.ca, ca_flag + " " + files.ca); !ca) return Err(ca.error());
  }
  return pem;
}

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const TlsFiles& files) {
  if (!files.any()) return grpc::InsecureChannelCredentials();
  if (files.ca.empty()) {
    return Err(Status::InvalidArgument(
        "--tls-ca is needed to verify the coordinator's certificate when --tls-cert/--tls-key are given"));
  }
  GAUNTLET_ASSIGN_OR_RETURN(TlsPem pem, ReadTlsFiles(files));
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem.ca;
  options.pem_cert_chain = pem.cert;
  options.pem_private_key = pem.key;
  return grpc::SslCredentials(options);
}

}  // namespace gauntlet::rpc
