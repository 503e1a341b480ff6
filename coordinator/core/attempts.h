// Attempts and leases: placing ready jobs on free devices, delivering the
// assignments through agents' heartbeats (long polls parked per agent),
// taking their reports, and losing attempts whose leases expire. What a
// report decides is the pure state machine's (lib/jobs/state_machine.h);
// this stores it and carries it downstream.
#pragma once

#include <functional>
#include <string>

#include "coordinator/core/batch.h"
#include "coordinator/core/farm.h"
#include "gauntlet/v1/agent.pb.h"
#include "lib/jobs/state_machine.h"

namespace gauntlet::core {

class AttemptManager {
 public:
  using ReportDone = std::function<void(StatusOr<v1::ReportAttemptResponse>)>;

  AttemptManager(Farm& farm, Batch& batch) : farm_(farm), batch_(batch) {}

  // The scheduling pass: places ready jobs, then commits the open batch
  // (its placements and every report since the last pass) before any agent
  // hears of them.
  Status Schedule();
  // Loses attempts whose leases ended, unless `heartbeat_queued(agent)`: the
  // agent's heartbeat waits in the loop's queue, so it is alive.
  Status ExpireLeases(const std::function<bool(const std::string&)>& heartbeat_queued);

  // A heartbeat, run by the loop: answered at once with news, parked in the
  // agent's mailbox until news or its wait's end, or (carrying reports)
  // answered once they are durable.
  void Heartbeat(const v1::HeartbeatRequest& request, HeartbeatDone done);
  // A report, answered once durable.
  // `caller`: the authenticated agent; a report for an attempt leased to
  // another is refused (PERMISSION_DENIED). "" trusts the caller (in-process tools and tests).
  void ReportAsync(const v1::AttemptReport& report, const std::string& caller, ReportDone done);
  // The body of a report, short of waiting for durability; *must_persist
  // says whether it changed anything that must be durable before the answer.
  StatusOr<v1::ReportAttemptResponse> Report(const v1::AttemptReport& report, const std::string& caller,
                                             bool* must_persist);
  // Report() for one carried on a heartbeat: its answer or refusal.
  v1::ReportAck CarriedReport(const v1::AttemptReport& report, const std::string& caller, bool* must_persist);
  // What a heartbeat returns now; renews the leases it reports.
  StatusOr<v1::HeartbeatResponse> Poll(const v1::HeartbeatRequest& request);

  // Stores what the state machine decided for one of a job's attempts; a
  // report's `outcome` goes with the job's new state in one write.
  Status ApplyAttemptDecision(const store::AttemptRow& attempt, const jobs::Decision& decision,
                              const std::string& attempt_reason, int exit_code,
                              v1::FailureClass failure_class = v1::FAILURE_CLASS_UNSPECIFIED,
                              const store::JobOutcome* outcome = nullptr);
  // Carries a decision's consequences downstream of `job_id`, transitively.
  Status ApplyDownstream(int64_t job_id, jobs::Downstream downstream, v1::JobState settled);

  // News for `agent`: its parked polls are answered if they now have some.
  void Notify(const std::string& agent);
  // Answers the mailbox's parked polls that have news (re-polled when
  // `news_possible`), whose wait has ended, or all while shutting down.
  void WakeParked(Mailbox& mailbox, bool news_possible);
  void WakeAllParked();

 private:
  Farm& farm_;
  Batch& batch_;
  int64_t last_expiry_scan_ms_ = 0;
};

}  // namespace gauntlet::core
