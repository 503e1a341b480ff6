// Logs and artifacts as agents upload them, and what a failing store (a
// full disk) looks like to the people waiting: the job's reason, the
// coordinator's log once a minute, /metrics.
#pragma once

#include <optional>
#include <string>

#include "coordinator/core/batch.h"
#include "coordinator/core/farm.h"
#include "gauntlet/v1/agent.pb.h"

namespace gauntlet::core {

// Who sends an upload: the agent of the call's session and the job token
// the call carries.
struct Uploader {
  std::string agent;
  std::string job_token;
};

class LogManager {
 public:
  LogManager(Farm& farm, Batch& batch) : farm_(farm), batch_(batch) {}

  // Resolves attempt 0 to the job's latest attempt.
  StatusOr<int64_t> LogAttempt(int64_t job_id, int64_t attempt_id);
  StatusOr<std::string> ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes);
  StatusOr<bool> AttemptFinished(int64_t attempt_id);
  StatusOr<int64_t> AppendLog(const v1::LogChunk& chunk);
  // PERMISSION_DENIED (and logged) unless the attempt is leased to the
  // uploader's agent, the job token is the attempt's and the attempt has
  // not ended: what an agent uploads must be for its own live attempts.
  // An uploader with no agent is trusted (in-process tools and tests).
  Status CheckUploader(int64_t attempt_id, const Uploader& uploader);
  // An upload for `attempt_id` failed in the store; attempt_id 0: no job to name.
  void NoteStorageTrouble(int64_t attempt_id, const std::string& message);
  // The latest storage failure if it is recent (within 5 minutes).
  std::optional<StorageTrouble> RecentStorageTrouble();
  // Durable before it answers: the agent's report names the artifact next.
  Status RecordArtifact(const std::string& sha256, int64_t size);

 private:
  Farm& farm_;
  Batch& batch_;
  StorageTrouble trouble_;
  int64_t logged_at_ms_ = 0;
  int64_t errors_unlogged_ = 0;
};

}  // namespace gauntlet::core
