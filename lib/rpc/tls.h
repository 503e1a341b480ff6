// TLS for the farm's gRPC channels and the board. The coordinator serves a
// certificate and key; the CLI and agents verify it against a CA file; an
// agent may also present its own certificate (mutual TLS). Files are read
// and checked here, once, so a wrong path or a key that does not match its
// certificate is a clear error at start-up and never a handshake failure
// that the other side reports as "connection reset".
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>

#include "common/status.h"

namespace gauntlet::rpc {

struct TlsFiles {
  std::string cert;  // PEM certificate chain: this side's identity.
  std::string key;   // PEM private key of `cert`.
  std::string ca;    // PEM CA bundle the other side's certificate must chain to.

  bool identity() const { return !cert.empty() || !key.empty(); }
  bool any() const { return identity() || !ca.empty(); }
};

// The PEM text of one pair or bundle, read and checked.
struct TlsPem {
  std::string cert;
  std::string key;
  std::string ca;
};

// Reads the files and checks them: each parses, the key is the
// certificate's, and cert and key come together. `flag_prefix` names the
// flags in errors ("--tls"). Fields left empty stay empty.
StatusOr<TlsPem> ReadTlsFiles(const TlsFiles& files, const std::string& flag_prefix = "--tls");

// A client's channel credentials: TLS verified against files.ca (required
// when any file is given), presenting files.cert/key when set; insecure when
// no file is given.
StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const TlsFiles& files);

}  // namespace gauntlet::rpc
