// When a webhook delivery that failed is tried again: doubling from 2 s up
// to 5 minutes, six attempts in all (about 10 minutes), then given up and
// logged as failed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace gauntlet::nightly {

constexpr int kMaxDeliveryAttempts = 6;

// After `attempts` failed attempts: the wait before the next, or -1 when
// there is none.
constexpr int64_t RetryDelayMs(int attempts) {
  if (attempts >= kMaxDeliveryAttempts) return -1;
  return std::min<int64_t>(int64_t{1000} << std::min(attempts, 20), 5 * 60 * 1000);
}

// Webhooks are plain http(s) POSTs: any other scheme (file:, ftp:) is refused
// where a schedule is set.
constexpr bool IsWebhookUrl(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

// A 2xx answer delivered it; anything else, or none, is tried again.
constexpr bool Delivered(int http_status) { return http_status >= 200 && http_status < 300; }

}  // namespace gauntlet::nightly
