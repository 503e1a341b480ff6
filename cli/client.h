// What every CLI command shares: the coordinator connection, error printing
// and output helpers.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "gauntlet/v1/control.grpc.pb.h"
#include "lib/rpc/tls.h"

namespace gauntlet::cli {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRegressed = 3;  // `compare` found regressions.

struct Globals {
  std::string coordinator = "127.0.0.1:7070";
  bool json = false;
  std::string token;  // API token sent on every call; "" on a farm without tokens.
  // TLS to the coordinator: ca verifies it; cert and key present a client
  // certificate (optional). Insecure when none is given.
  rpc::TlsFiles tls;
  std::shared_ptr<grpc::ChannelCredentials> credentials;  // Made from tls by LoadCredentials.
};

// Reads and checks the TLS files into globals->credentials; prints the
// problem and returns false when they are wrong.
bool LoadCredentials(Globals* globals);

// Also makes globals.token the one every later Context() carries.
std::unique_ptr<v1::ControlService::Stub> Connect(const Globals& globals);
// seconds 0: no deadline.
std::unique_ptr<grpc::ClientContext> Context(int seconds = 30);
// Prints a failed call and returns the exit code for it.
int Fail(const Globals& globals, const grpc::Status& status);
void PrintJson(const google::protobuf::Message& message);
// "succeeded=3 failed=1" in a fixed order.
std::string Counts(const v1::Sweep& sweep);
std::string SweepStatus(const v1::Sweep& sweep);

// "2026-12-02 04:21 UTC"; "" for 0.
std::string FormatUtc(int64_t ms);

// Ends a command that printed its answer: the exit code when the call
// failed (said on stderr) or --json printed `reply`; nullopt when the caller
// prints the table.
inline std::optional<int> FailedOrPrintedJson(const Globals& globals, const grpc::Status& status,
                                              const google::protobuf::Message& reply) {
  if (!status.ok()) return Fail(globals, status);
  if (!globals.json) return std::nullopt;
  PrintJson(reply);
  return 0;
}

}  // namespace gauntlet::cli
