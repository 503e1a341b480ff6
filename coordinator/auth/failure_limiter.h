// A cap on failed authentications per caller (its peer address), so a
// token cannot be guessed at line rate: past `max_failures` within a
// window, the caller's further attempts are refused unchecked until the
// window ends. Honest callers never fail, so never wait.
//
// Pure: the caller passes the time and holds any lock.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace gauntlet::auth {

class FailureLimiter {
 public:
  FailureLimiter(int max_failures, int64_t window_ms, size_t max_callers = 10'000)
      : max_failures_(max_failures), window_ms_(window_ms), max_callers_(max_callers) {}

  // Milliseconds until `caller` may try again; 0 when it may now.
  int64_t BlockedFor(const std::string& caller, int64_t now_ms) const;
  void Failed(const std::string& caller, int64_t now_ms);

 private:
  struct Window {
    int64_t started_ms = 0;
    int failures = 0;
  };
  const int max_failures_;
  const int64_t window_ms_;
  // Beyond this many callers (a scan from many addresses) the oldest
  // windows are dropped, so memory stays bounded.
  const size_t max_callers_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace gauntlet::auth
