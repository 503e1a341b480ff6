#include "coordinator/core/notifications.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "coordinator/nightly/delivery_policy.h"

namespace gauntlet::core {
namespace {

bool IsRegression(const std::string& kind) {
  return kind == "regression" || kind == "bench_regression" || kind == "new_failure";
}

// What a receiver (a chat hook, a ticket bot) gets: the night, its base,
// and each regression with the evidence for it.
std::string Payload(const store::Notification& notification, const v1::CompareResponse& compare, int* regressions) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& finding : compare.findings()) {
    if (!IsRegression(finding.kind())) continue;
    findings.push_back({{"job", finding.job()},         {"job_id", finding.job_id()},
                        {"kind", finding.kind()},       {"metric", finding.metric()},
                        {"before", finding.before()},   {"after", finding.after()},
                        {"effect", finding.effect()},   {"effect_low", finding.effect_low()},
                        {"effect_high", finding.effect_high()}, {"p_value", finding.p_value()},
                        {"noise_cv", finding.noise_cv()}, {"test", finding.test()},
                        {"detail", finding.detail()}});
  }
  *regressions = static_cast<int>(findings.size());
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [kind, count] : compare.counts()) counts[kind] = count;
  return nlohmann::json{{"schedule", notification.schedule},
                        {"night", compare.label()},
                        {"sweep_id", compare.sweep_id()},
                        {"base", compare.base_label()},
                        {"base_sweep_id", compare.base_sweep_id()},
                        {"counts", counts},
                        {"regressions", findings}}
      .dump();
}

}  // namespace

StatusOr<std::vector<NotificationManager::Due>> NotificationManager::TakeDue() {
  const int64_t now = farm_.clock.NowMs();
  GAUNTLET_ASSIGN_OR_RETURN(auto open, farm_.store.OpenNotifications(now));
  std::vector<Due> due;
  for (auto& notification : open) {
    GAUNTLET_ASSIGN_OR_RETURN(bool finished, farm_.store.SweepFinished(notification.sweep_id));
    if (!finished) continue;
    v1::CompareRequest request;
    request.set_schedule(notification.schedule);
    auto compare = comparisons_.Compare(request);
    int regressions = 0;
    std::string payload;
    if (compare && compare->sweep_id() == notification.sweep_id) {
      payload = Payload(notification, *compare, &regressions);
    }
    if (regressions == 0) {
      // Finished without a regression, or with no night to compare with:
      // nothing to alert about.
      GAUNTLET_RETURN_IF_ERROR(batch_.Run(
          [&] { return farm_.store.UpdateNotification(notification.sweep_id, "quiet", notification.attempts, 0); }));
      continue;
    }
    due.push_back({std::move(notification), std::move(payload), regressions});
  }
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  return due;
}

Status NotificationManager::RecordAttempt(const Due& due, int http_status, const std::string& error) {
  const int64_t now = farm_.clock.NowMs();
  const int attempt = due.notification.attempts + 1;
  const bool delivered = nightly::Delivered(http_status);
  const int64_t delay = delivered ? 0 : nightly::RetryDelayMs(attempt);
  const std::string state = delivered ? "delivered" : delay < 0 ? "failed" : "retrying";
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    GAUNTLET_RETURN_IF_ERROR(
        farm_.store.AddDelivery(due.notification, attempt, now, http_status, error, due.regressions));
    return farm_.store.UpdateNotification(due.notification.sweep_id, state, attempt,
                                          delay > 0 ? now + delay : 0);
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  if (!delivered) {
    spdlog::warn("webhook for schedule '{}' (sweep {}), attempt {}: {} {}; {}", due.notification.schedule,
                 due.notification.sweep_id, attempt, http_status, error,
                 delay < 0 ? "giving up" : "trying again in " + std::to_string(delay / 1000) + " s");
  }
  return Status::Ok();
}

}  // namespace gauntlet::core
