#include "common/status.h"

namespace gauntlet {

namespace {
std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kAlreadyExists: return "already exists";
    case Status::Code::kFailedPrecondition: return "failed precondition";
    case Status::Code::kUnavailable: return "unavailable";
    case Status::Code::kInternal: return "internal error";
    case Status::Code::kUnauthenticated: return "unauthenticated";
    case Status::Code::kPermissionDenied: return "permission denied";
    case Status::Code::kResourceExhausted: return "resource exhausted";
  }
  return "unknown";
}
}  // namespace

int Status::RpcCode() const {
  switch (code_) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument: return 3;
    case Code::kNotFound: return 5;
    case Code::kAlreadyExists: return 6;
    case Code::kFailedPrecondition: return 9;
    case Code::kInternal: return 13;
    case Code::kUnavailable: return 14;
    case Code::kPermissionDenied: return 7;
    case Code::kResourceExhausted: return 8;
    case Code::kUnauthenticated: return 16;
  }
  return 2;  // UNKNOWN
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

}  // namespace gauntlet
