#include "coordinator/api/status_mapping.h"

namespace gauntlet::api {

grpc::Status ToGrpc(const Status& status) {
  using Code = Status::Code;
  switch (status.code()) {
    case Code::kOk: return grpc::Status::OK;
    case Code::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, status.message()};
    case Code::kNotFound: return {grpc::StatusCode::NOT_FOUND, status.message()};
    case Code::kAlreadyExists: return {grpc::StatusCode::ALREADY_EXISTS, status.message()};
    case Code::kFailedPrecondition: return {grpc::StatusCode::FAILED_PRECONDITION, status.message()};
    case Code::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, status.message()};
    case Code::kInternal: return {grpc::StatusCode::INTERNAL, status.message()};
  }
  return {grpc::StatusCode::UNKNOWN, status.message()};
}

int ToHttpCode(const Status& status) {
  using Code = Status::Code;
  switch (status.code()) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kFailedPrecondition: return 409;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

}  // namespace gauntlet::api
