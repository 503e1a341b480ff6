// Webhook alerts: which nights' summaries are due, what they say, and the
// log of each attempt. The sending itself (network I/O) is the Notifier's,
// outside the manager's lock (coordinator/notifier.h).
#pragma once

#include <string>
#include <vector>

#include "coordinator/core/batch.h"
#include "coordinator/core/comparisons.h"
#include "coordinator/core/farm.h"

namespace gauntlet::core {

class NotificationManager {
 public:
  NotificationManager(Farm& farm, Batch& batch, ComparisonQueries& comparisons)
      : farm_(farm), batch_(batch), comparisons_(comparisons) {}

  // A summary to send now: its night finished with regressions.
  struct Due {
    store::Notification notification;
    std::string payload;  // JSON.
    int regressions = 0;
  };
  // Nights that finished without a regression are marked quiet here: there
  // is nothing to alert about.
  StatusOr<std::vector<Due>> TakeDue();
  // Logs one attempt and schedules the next, or ends it.
  Status RecordAttempt(const Due& due, int http_status, const std::string& error);

 private:
  Farm& farm_;
  Batch& batch_;
  ComparisonQueries& comparisons_;
};

}  // namespace gauntlet::core
