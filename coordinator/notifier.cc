#include "coordinator/notifier.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

namespace gauntlet {
namespace {

constexpr int kTimeoutSeconds = 5;

}  // namespace

Notifier::Notifier(JobManager& jobs, int64_t period_ms)
    : jobs_(jobs), period_ms_(period_ms), thread_([this] { Loop(); }) {}

Notifier::~Notifier() { Stop(); }

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(period_ms_), [this] { return stopping_; });
      if (stopping_) return;
    }
    auto due = jobs_.DueNotifications();
    if (!due) {
      spdlog::warn("cannot read due webhook alerts, will retry: {}", due.error().ToString());
      continue;
    }
    for (const auto& alert : *due) {
      auto [status, error] = Post(alert.notification.url, alert.payload);
      if (Status recorded = jobs_.RecordDelivery(alert, status, error); !recorded.ok()) {
        spdlog::warn("cannot log a webhook delivery, it will be sent again: {}", recorded.ToString());
      }
    }
  }
}

std::pair<int, std::string> Notifier::Post(const std::string& url, const std::string& body) {
  // "scheme://host[:port]" and the path after it.
  const size_t path_at = url.find('/', url.find("://") + 3);
  const std::string origin = path_at == std::string::npos ? url : url.substr(0, path_at);
  const std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  httplib::Client client(origin);
  client.set_connection_timeout(kTimeoutSeconds);
  client.set_read_timeout(kTimeoutSeconds);
  client.set_write_timeout(kTimeoutSeconds);
  auto result = client.Post(path, body, "application/json");
  if (!result) return {0, httplib::to_string(result.error())};
  return {result->status, result->status >= 300 ? result->body.substr(0, 200) : ""};
}

}  // namespace gauntlet
