// What the coordinator's domain managers share: the store, the clock, and
// the state kept in memory (agents' mailboxes, leases, the scheduler's
// view), which a restarted coordinator rebuilds from the store.
//
// Thread safety: none here. JobManager holds its one lock around every call
// into a manager, and the managers touch the Farm only then.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "coordinator/auth/agent_tokens.h"
#include "coordinator/auth/job_tokens.h"
#include "coordinator/constants.h"
#include "coordinator/core/agent_sessions.h"
#include "coordinator/core/api_tokens.h"
#include "coordinator/latency_histogram.h"
#include "coordinator/sched/cluster_state.h"
#include "coordinator/sched/device_health.h"
#include "coordinator/spec/limits.h"
#include "coordinator/store/store.h"
#include "gauntlet/v1/agent.pb.h"

namespace gauntlet {

struct JobManagerOptions {
  // An attempt whose agent has not renewed it for this long is lost.
  int64_t lease_ttl_ms = constants::kDefaultLeaseTtlMs;
  // An agent not heard from for this long gets no new work.
  int64_t agent_timeout_ms = constants::kDefaultLeaseTtlMs;
  // Upper bound on how long a heartbeat may block.
  int64_t max_poll_ms = constants::kMaxPollMs;
  // Group commit: reports (ReportAttemptAsync) join one open transaction
  // that the scheduler loop commits with its next pass, and are answered once
  // it is durable. Off, each report commits on its own. Other operations
  // always commit before they answer.
  bool group_commit = false;
  // What one spec may ask for; each refusal names its flag.
  spec::Limits spec_limits;
  // Log bytes kept per attempt; the rest is dropped with a marker line.
  int64_t max_log_bytes_per_attempt = constants::kDefaultMaxLogBytesPerAttempt;
  // Test hook: the process kills itself just before its Nth commit of a batch
  // holding reports (0: never), to prove acknowledged reports survive.
  int crash_before_batch = 0;
  // Test hook: the process kills itself after a schedule's sweep is stored
  // and before its firing is recorded, to prove the slot still fires once.
  bool crash_before_recording_firing = false;
  // Registration tokens an agent must present; empty: any agent may join
  // (a loopback farm). Sessions and lease binding hold either way.
  std::vector<auth::AgentToken> agent_tokens;
  // SHA-256 of the admin token file's token (--admin-token-file): an admin
  // from the first start, and API tokens in force. Empty: none.
  std::string admin_token_sha256;
  // Infrastructure failures in a row that take a device out of service
  // until its health check passes (--unhealthy-after); 0: never.
  int unhealthy_after = constants::kDefaultUnhealthyAfter;
};

// Counters for /metrics, read under the manager's lock.
struct JobManagerStats {
  int64_t scheduling_passes = 0;
  int64_t jobs_placed = 0;
  int64_t heartbeats = 0;
  int64_t reports = 0;
  std::map<std::string, int64_t> leases_expired_by_cause;
  int64_t lease_extensions_for_lag = 0;
  int64_t ready_jobs = 0;
  double last_pass_ms = 0;
  int64_t max_lag_ms = 0;
  int64_t storage_errors = 0;  // Artifact or log writes that failed (full or failing disk).
  // From a device freed in memory (its attempt's report applied) to the next
  // attempt on it leaving in a heartbeat's answer: the scheduler's own delay.
  LatencyHistogram free_to_assigned;
  // Batch commits, and the reports each made durable.
  LatencyHistogram commit;
  // An agent's call waiting in the loop's queue: how far behind the loop is.
  LatencyHistogram inbox_wait;
  int64_t commits = 0;
  int64_t reports_committed = 0;
};

// The latest storage failure, for the board's banner.
struct StorageTrouble {
  std::string message;
  int64_t at_ms = 0;
};

namespace core {

using HeartbeatDone = std::function<void(StatusOr<v1::HeartbeatResponse>)>;

// A long poll waiting for news for its agent.
struct ParkedPoll {
  v1::HeartbeatRequest request;
  int64_t deadline_ms = 0;  // On the injected clock.
  HeartbeatDone done;
};

// One per known agent: only news for that agent wakes its polls.
struct Mailbox {
  std::condition_variable changed;  // The blocking Heartbeat() waits here.
  std::vector<ParkedPoll> parked;   // Async heartbeats waiting for news.
  uint64_t generation = 0;
  int64_t last_seen_ms = 0;
  bool last_seen_flushed = true;
  bool drained = false;
  // Device index → when it was freed, until its next assignment leaves.
  std::unordered_map<int, std::chrono::steady_clock::time_point> freed_at;
};

// An active attempt's lease: when it ends, who holds it, on which devices.
struct Lease {
  int64_t expires_ms = 0;
  std::string agent;
  std::vector<int> devices;
};

struct Farm {
  Farm(store::Store& store, const Clock& clock, JobManagerOptions options)
      : store(store), clock(clock), options(std::move(options)) {}

  Mailbox& MailboxOf(const std::string& agent) {
    auto& slot = mailboxes[agent];
    if (!slot) slot = std::make_unique<Mailbox>();
    return *slot;
  }
  // Heard from within the agent timeout (the in-memory last-seen time).
  bool Alive(const std::string& agent) const {
    auto found = mailboxes.find(agent);
    return found != mailboxes.end() && found->second->last_seen_ms > clock.NowMs() - options.agent_timeout_ms;
  }
  // Asks the scheduler loop for a pass.
  void WantPass() const { want_pass(); }

  store::Store& store;
  const Clock& clock;
  const JobManagerOptions options;
  std::map<std::string, std::unique_ptr<Mailbox>> mailboxes;
  std::unordered_map<int64_t, Lease> leases;  // Active attempt → its lease.
  sched::ClusterState cluster;                // Ready jobs and every node's devices.
  AgentSessions sessions;                     // Session credential → agent, read without the manager's lock.
  ApiTokens api_tokens;                       // API token → principal, read without the manager's lock.
  auth::JobTokens job_tokens;                 // Keyed at Recover.
  // (agent, device index) → its health, for devices with a stored row.
  std::map<std::pair<std::string, int>, sched::DeviceHealth> device_health;
  JobManagerStats stats;
  bool shutting_down = false;
  std::function<void()> want_pass;
};

}  // namespace core
}  // namespace gauntlet
