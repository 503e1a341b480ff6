// Status and StatusOr: how errors a user can cause travel through Gauntlet.
//
// Modelled on LevelDB's Status: named factories, ok(), ToString(). A success
// carries no message and costs one enum. Programming errors are asserts, not
// Statuses.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace gauntlet {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,   // The caller sent something malformed; the message says what to fix.
    kNotFound,
    kAlreadyExists,
    kFailedPrecondition,// The request is well-formed but the system is in the wrong state for it.
    kUnavailable,       // Try again later (peer down, disk full).
    kInternal,
    kUnauthenticated,   // No credential, or one the farm does not know (missing, wrong, revoked).
    kPermissionDenied,  // Known caller, not allowed this (another agent's attempt, a viewer submitting).
    kResourceExhausted, // Over a rate limit: the same call succeeds once the caller waits.
  };

  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {Code::kFailedPrecondition, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {Code::kUnauthenticated, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {Code::kPermissionDenied, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {Code::kResourceExhausted, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;
  // The code's number in google.rpc.Code (as gRPC's StatusCode), for
  // answers that carry a status inside a message.
  int RpcCode() const;

  // Prefixes the message with context, e.g. the file being read.
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
using StatusOr = std::expected<T, Status>;

// Lets `return Status::NotFound(...)` work in functions returning StatusOr<T>.
inline std::unexpected<Status> Err(Status s) { return std::unexpected<Status>(std::move(s)); }

namespace internal {
// Converts to Status or to any StatusOr<T>, so one macro serves both kinds of
// function.
struct ErrorReturn {
  Status status;
  operator Status() const { return status; }
  template <typename T>
  operator StatusOr<T>() const { return std::unexpected<Status>(status); }
};
}  // namespace internal

}  // namespace gauntlet

// Returns early from the enclosing function (returning Status or StatusOr<T>)
// when `expr` is not ok.
#define GAUNTLET_RETURN_IF_ERROR(expr)                                              \
  do {                                                                              \
    ::gauntlet::Status _gauntlet_status = (expr);                                   \
    if (!_gauntlet_status.ok()) return ::gauntlet::internal::ErrorReturn{_gauntlet_status}; \
  } while (0)

// `lhs = *expr` for a StatusOr expression, returning early when it holds an
// error. `lhs` may declare a variable: GAUNTLET_ASSIGN_OR_RETURN(int n, Count());
#define GAUNTLET_ASSIGN_OR_RETURN(lhs, expr) \
  GAUNTLET_ASSIGN_OR_RETURN_IMPL(GAUNTLET_STATUS_CONCAT(_gauntlet_or_, __LINE__), lhs, expr)
#define GAUNTLET_ASSIGN_OR_RETURN_IMPL(temporary, lhs, expr)                      \
  auto temporary = (expr);                                                        \
  if (!temporary) return ::gauntlet::internal::ErrorReturn{temporary.error()};    \
  lhs = std::move(*temporary)
#define GAUNTLET_STATUS_CONCAT(a, b) GAUNTLET_STATUS_CONCAT_INNER(a, b)
#define GAUNTLET_STATUS_CONCAT_INNER(a, b) a##b
