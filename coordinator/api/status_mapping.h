// Maps Gauntlet Status to gRPC status and HTTP codes, one place for both.
#pragma once

#include <grpcpp/grpcpp.h>

#include "common/status.h"

namespace gauntlet::api {

grpc::Status ToGrpc(const Status& status);
int ToHttpCode(const Status& status);

// Moves a result into a gRPC reply, or maps its error: the whole body of most handlers.
template <typename T, typename Reply>
grpc::Status Answer(StatusOr<T> result, Reply* reply) {
  if (!result) return ToGrpc(result.error());
  *reply = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace gauntlet::api
