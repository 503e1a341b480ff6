// Persistence, decisions first: every operation runs as a savepoint of one
// open transaction and applies its decision to memory at once; one commit
// makes a window's decisions durable together, and only then are the calls
// that wait on them answered. A failed commit refuses them all and rebuilds
// memory from the store.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "common/status.h"
#include "coordinator/core/farm.h"

namespace gauntlet::core {

class Batch {
 public:
  explicit Batch(Farm& farm) : farm_(farm) {}

  // What a transaction changes in memory, applied only once it committed:
  // a rolled-back transaction leaves memory as it was.
  struct PendingMemory {
    std::vector<sched::ReadyJob> became_ready;
    std::vector<int64_t> left_ready;
    std::vector<int64_t> ended_attempts;
    std::vector<store::DeviceHealthRow> device_health;
  };

  // Runs `body` as one operation of the open batch (a savepoint), opening
  // one if needed; applies what it recorded in pending() to memory at once,
  // or forgets it when the body fails. Durable only after Commit().
  template <typename Fn>
  Status Run(Fn&& body) {
    if (!farm_.store.InBatch()) {
      GAUNTLET_RETURN_IF_ERROR(farm_.store.BeginBatch());
      ++seq_;
    }
    pending_ = {};
    Status status = farm_.store.Transaction(std::forward<Fn>(body));
    if (status.ok()) {
      ApplyPending();
    } else {
      pending_ = {};
    }
    return status;
  }
  // Makes the open batch durable and answers who waits on it.
  Status Commit();
  // Makes what the caller just did durable before it answers. User
  // operations and artifacts are rare: they commit at once, taking the open
  // batch's reports with them.
  Status Durable() { return Commit(); }
  // Calls `finish` (with the commit's outcome) once the open batch commits.
  void AfterCommit(std::function<void(const Status&)> finish);
  // Answers every waiting call: with the outcome of its batch, or as
  // shutting down.
  void AnswerWaiting();
  // The open batch holds a report that must be durable before its answer.
  void NoteReport() {
    has_reports_ = true;
    ++reports_;
  }

  // Inside Run: records that a job is ready now.
  Status RecordReady(int64_t job_id);
  PendingMemory& pending() { return pending_; }
  // Rebuilds the scheduler's memory from the store (after a failed commit).
  Status ReloadMemory();

 private:
  struct Waiting {
    uint64_t batch = 0;
    std::function<void(const Status&)> finish;
  };

  void ApplyPending();

  Farm& farm_;
  PendingMemory pending_;
  // The open batch's number, the last committed and the last failed.
  uint64_t seq_ = 0;
  uint64_t committed_seq_ = 0;
  uint64_t failed_seq_ = 0;
  Status last_error_;
  bool has_reports_ = false;
  int64_t reports_ = 0;
  int report_batches_ = 0;  // Batches with reports, for the crash test hook.
  std::vector<Waiting> waiting_;
};

}  // namespace gauntlet::core
