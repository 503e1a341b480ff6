// Maps Gauntlet Status to gRPC status and HTTP codes, one place for both.
#pragma once

#include <grpcpp/grpcpp.h>

#include "common/status.h"

namespace gauntlet::api {

grpc::Status ToGrpc(const Status& status);
int ToHttpCode(const Status& status);

}  // namespace gauntlet::api
