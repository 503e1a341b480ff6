#include "coordinator/core/logs.h"

#include <spdlog/spdlog.h>

namespace gauntlet::core {

using jobs::IsTerminal;

StatusOr<int64_t> LogManager::LogAttempt(int64_t job_id, int64_t attempt_id) {
  if (attempt_id != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(attempt_id));
    if (!attempt || (job_id != 0 && attempt->job_id != job_id)) {
      return Err(Status::NotFound("no attempt " + std::to_string(attempt_id) + " of job " + std::to_string(job_id)));
    }
    return attempt_id;
  }
  GAUNTLET_ASSIGN_OR_RETURN(auto state, farm_.store.JobStateOf(job_id));
  if (!state) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  return farm_.store.LatestAttemptId(job_id);
}

StatusOr<std::string> LogManager::ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes) {
  return farm_.store.ReadLog(attempt_id, offset, max_bytes);
}

StatusOr<bool> LogManager::AttemptFinished(int64_t attempt_id) {
  GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(attempt_id));
  return !attempt || IsTerminal(attempt->state);
}

StatusOr<int64_t> LogManager::AppendLog(const v1::LogChunk& chunk) {
  GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(chunk.attempt_id()));
  if (!attempt) return Err(Status::NotFound("no attempt " + std::to_string(chunk.attempt_id())));
  return farm_.store.AppendLog(chunk.attempt_id(), chunk.offset(), chunk.data(), farm_.options.max_log_bytes_per_attempt);
}

Status LogManager::CheckUploader(int64_t attempt_id, const Uploader& uploader) {
  if (uploader.agent.empty()) return Status::Ok();
  GAUNTLET_ASSIGN_OR_RETURN(auto attempt, farm_.store.GetAttempt(attempt_id));
  const std::string name = "attempt " + std::to_string(attempt_id);
  if (!attempt) return Status::NotFound("no " + name);
  if (attempt->agent != uploader.agent) {
    spdlog::warn("refused agent {}'s upload for {}, leased to agent {}", uploader.agent, name, attempt->agent);
    return Status::PermissionDenied(name + " is not leased to agent " + uploader.agent);
  }
  if (!farm_.job_tokens.Matches(attempt_id, uploader.job_token)) {
    spdlog::warn("refused agent {}'s upload for {}: {} job token", uploader.agent, name,
                 uploader.job_token.empty() ? "no" : "another attempt's or a wrong");
    return Status::PermissionDenied("the job token sent is not " + name +
                                    "'s: an upload carries the token of the assignment it belongs to");
  }
  if (IsTerminal(attempt->state)) {
    return Status::PermissionDenied(name + " has ended (" + std::string(jobs::AttemptStateName(attempt->state)) +
                                    "); its job token no longer works");
  }
  return Status::Ok();
}

void LogManager::NoteStorageTrouble(int64_t attempt_id, const std::string& message) {
  const int64_t now = farm_.clock.NowMs();
  ++farm_.stats.storage_errors;
  ++errors_unlogged_;
  trouble_ = {message, now};
  // Once a minute, not once per retry: a full disk must not also fill the log.
  if (logged_at_ms_ == 0 || now - logged_at_ms_ >= constants::kStorageLogIntervalMs) {
    spdlog::error("storage failing ({} failed writes since the last report): {}", errors_unlogged_, message);
    logged_at_ms_ = now;
    errors_unlogged_ = 0;
  }
  if (attempt_id <= 0) return;
  auto attempt = farm_.store.GetAttempt(attempt_id);
  if (!attempt || !*attempt) return;
  const std::string reason = "waiting for storage: " + message + " (the agent retries the upload)";
  Status status = batch_.Run([&] { return farm_.store.SetUnfinishedJobReason((*attempt)->job_id, reason); });
  if (status.ok()) status = batch_.Durable();
  // The store may be what is failing; the log line above already says so.
  if (!status.ok()) spdlog::warn("job {}: cannot record the storage failure: {}", (*attempt)->job_id, status.message());
}

std::optional<StorageTrouble> LogManager::RecentStorageTrouble() {
  if (trouble_.at_ms == 0 || farm_.clock.NowMs() - trouble_.at_ms > constants::kStorageTroubleShownMs) {
    return std::nullopt;
  }
  return trouble_;
}

Status LogManager::RecordArtifact(const std::string& sha256, int64_t size) {
  // Durable before the agent is told: its report names the artifact next.
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&] { return farm_.store.RecordArtifact(sha256, size, farm_.clock.NowMs()); }));
  return batch_.Durable();
}

}  // namespace gauntlet::core
