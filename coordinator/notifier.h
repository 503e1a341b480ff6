// Sends the webhook alerts the NotificationManager says are due, on a
// thread of its own: a slow or dead receiver holds up nothing but its own
// delivery.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "coordinator/job_manager.h"

namespace gauntlet {

class Notifier {
 public:
  // Looks for due alerts every `period_ms`.
  Notifier(JobManager& jobs, int64_t period_ms);
  ~Notifier();
  void Stop();

 private:
  void Loop();
  // One POST: the HTTP status (0 without an answer) and what went wrong.
  static std::pair<int, std::string> Post(const std::string& url, const std::string& body);

  JobManager& jobs_;
  const int64_t period_ms_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gauntlet
