// The coordinator's TLS identity (certificate and key) and the CA that
// agents' client certificates must chain to, reloadable while it serves.
//
// gRPC reads them through its file watcher, but never the operator's files
// directly: Reload (at start and on SIGHUP) reads and checks those, then
// publishes them as one generation in a private folder by swapping a
// symlink, so gRPC sees either the old pair or the new one, never a new
// certificate with the old key, and a bad file is refused with the old pair
// still serving. Connections already open (agents' long polls, running
// jobs' reports) keep the pair they shook hands with. HTTPS takes the pair
// at each handshake from the same generation.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "common/status.h"
#include "lib/rpc/tls.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace gauntlet {

class ServingCertificates {
 public:
  // files.cert and files.key are required; files.ca turns on client
  // certificates (requested of every caller, verified when given).
  // `stage_dir` is created with mode 0700.
  static StatusOr<std::unique_ptr<ServingCertificates>> Create(rpc::TlsFiles files, std::string stage_dir);
  ~ServingCertificates();

  // Reads the operator's files again and publishes them; on any error the
  // pair in use stays and the error says which file and why.
  Status Reload();

  std::shared_ptr<grpc::ServerCredentials> GrpcCredentials() const;
  // For httplib::SSLServer's setup callback.
  bool SetUpHttps(SSL_CTX& context);
  bool verifies_clients() const { return !files_.ca.empty(); }
  int generation() const;

 private:
  struct Identity;
  ServingCertificates(rpc::TlsFiles files, std::string stage_dir);
  Status Publish(const rpc::TlsPem& pem);
  static int SelectCertificate(SSL* ssl, void* self);

  const rpc::TlsFiles files_;
  const std::string stage_dir_;
  mutable std::mutex mu_;
  int generation_ = 0;
  std::shared_ptr<const Identity> identity_;  // Guarded by mu_.
};

}  // namespace gauntlet
