#include "coordinator/auth/failure_limiter.h"

#include <algorithm>

namespace gauntlet::auth {

int64_t FailureLimiter::BlockedFor(const std::string& caller, int64_t now_ms) const {
  auto found = windows_.find(caller);
  if (found == windows_.end() || found->second.failures < max_failures_) return 0;
  return std::max<int64_t>(0, found->second.started_ms + window_ms_ - now_ms);
}

void FailureLimiter::Failed(const std::string& caller, int64_t now_ms) {
  if (windows_.size() >= max_callers_ && !windows_.contains(caller)) {
    std::erase_if(windows_, [&](const auto& entry) { return entry.second.started_ms + window_ms_ <= now_ms; });
    if (windows_.size() >= max_callers_) {
      auto oldest = std::min_element(windows_.begin(), windows_.end(), [](const auto& a, const auto& b) {
        return a.second.started_ms < b.second.started_ms;
      });
      windows_.erase(oldest);
    }
  }
  Window& window = windows_[caller];
  if (window.failures == 0 || window.started_ms + window_ms_ <= now_ms) window = {now_ms, 0};
  ++window.failures;
}

}  // namespace gauntlet::auth
