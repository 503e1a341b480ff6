// Every job state through every event of the state machine, as one table per
// event: what each state becomes, and what the event refuses.
#include "lib/jobs/state_machine.h"

#include <gtest/gtest.h>

namespace gauntlet::jobs {
namespace {

using v1::JobState;
constexpr JobState kPending = v1::JOB_STATE_PENDING, kReady = v1::JOB_STATE_READY, kLeased = v1::JOB_STATE_LEASED,
                   kRunning = v1::JOB_STATE_RUNNING, kSucceeded = v1::JOB_STATE_SUCCEEDED,
                   kFailed = v1::JOB_STATE_FAILED, kCancelled = v1::JOB_STATE_CANCELLED,
                   kSkipped = v1::JOB_STATE_SKIPPED, kCached = v1::JOB_STATE_CACHED,
                   kSame = v1::JOB_STATE_UNSPECIFIED;
constexpr AttemptState kNone = v1::ATTEMPT_STATE_UNSPECIFIED, kALeased = v1::ATTEMPT_STATE_LEASED,
                       kARunning = v1::ATTEMPT_STATE_RUNNING, kASucceeded = v1::ATTEMPT_STATE_SUCCEEDED,
                       kAFailed = v1::ATTEMPT_STATE_FAILED, kALost = v1::ATTEMPT_STATE_LOST,
                       kACancelled = v1::ATTEMPT_STATE_CANCELLED;
const std::vector<JobState> kEveryJobState = {kPending, kReady,     kLeased,  kRunning, kSucceeded,
                                              kFailed,  kCancelled, kSkipped, kCached};
const std::vector<AttemptState> kEveryAttemptState = {kALeased, kARunning, kASucceeded, kAFailed, kALost, kACancelled};

struct Row {
  JobState from;
  bool accepted;
  JobState to;
  Downstream downstream;
};

void ExpectTable(const char* event, const std::vector<Row>& table, const std::function<Decision(JobState)>& apply) {
  ASSERT_EQ(table.size(), kEveryJobState.size()) << event << ": the table must list every state";
  for (const Row& row : table) {
    Decision decision = apply(row.from);
    SCOPED_TRACE(std::string(event) + " from " + JobStateName(row.from));
    EXPECT_EQ(decision.accepted, row.accepted);
    EXPECT_EQ(decision.job, row.to);
    EXPECT_EQ(decision.downstream, row.downstream);
    if (!decision.accepted) EXPECT_FALSE(decision.reason.empty()) << "a refusal says why";
  }
}

TEST(StateMachine, Submitted) {
  EXPECT_EQ(OnSubmitted(true, {}).job, kCached);
  EXPECT_EQ(OnSubmitted(true, {}).downstream, Downstream::kPromote);
  EXPECT_EQ(OnSubmitted(false, {}).job, kReady);
  EXPECT_EQ(OnSubmitted(false, {.total = 2, .succeeded = 1}).job, kPending);
  EXPECT_EQ(OnSubmitted(false, {.total = 2, .succeeded = 2}).job, kReady) << "cached upstream counts as succeeded";
  EXPECT_EQ(OnSubmitted(false, {.total = 2, .succeeded = 1, .failed = 1}).job, kSkipped);
  EXPECT_EQ(OnSubmitted(true, {.total = 1, .failed = 1}).job, kCached) << "a cache hit needs no upstream";
}

TEST(StateMachine, UpstreamSettledEveryState) {
  const UpstreamFacts all_done{.total = 2, .succeeded = 2};
  ExpectTable("upstream succeeded",
              {{kPending, true, kReady, Downstream::kNone},
               {kReady, false, kSame, Downstream::kNone},
               {kLeased, false, kSame, Downstream::kNone},
               {kRunning, false, kSame, Downstream::kNone},
               {kSucceeded, false, kSame, Downstream::kNone},
               {kFailed, false, kSame, Downstream::kNone},
               {kCancelled, false, kSame, Downstream::kNone},
               {kSkipped, false, kSame, Downstream::kNone},
               {kCached, false, kSame, Downstream::kNone}},
              [&](JobState s) { return OnUpstreamSettled(s, all_done); });
  EXPECT_EQ(OnUpstreamSettled(kPending, {.total = 2, .succeeded = 1}).job, kSame) << "still waiting";
  Decision skipped = OnUpstreamSettled(kPending, {.total = 2, .succeeded = 1, .failed = 1});
  EXPECT_EQ(skipped.job, kSkipped);
  EXPECT_EQ(skipped.downstream, Downstream::kSkip) << "a skip travels down the DAG";
}

TEST(StateMachine, LeasedEveryState) {
  std::vector<Row> table;
  for (JobState s : kEveryJobState) table.push_back({s, s == kReady, s == kReady ? kLeased : kSame, Downstream::kNone});
  ExpectTable("leased", table, [](JobState s) { return OnLeased(s); });
  EXPECT_EQ(OnLeased(kReady).attempt, kALeased);
}

TEST(StateMachine, StartedEveryAttemptState) {
  for (AttemptState a : kEveryAttemptState) {
    Decision d = OnStarted(kLeased, a);
    SCOPED_TRACE(AttemptStateName(a));
    EXPECT_EQ(d.attempt, a == kALeased ? kARunning : kNone);
    EXPECT_EQ(d.job, a == kALeased ? kRunning : kSame);
    EXPECT_EQ(d.duplicate, a == kARunning);
    EXPECT_EQ(d.stale, a != kALeased && a != kARunning) << "a start report for an ended attempt is stale";
  }
  EXPECT_TRUE(OnStarted(kCancelled, kALeased).stop_attempt) << "the job was cancelled before the start arrived";
  EXPECT_EQ(OnStarted(kCancelled, kALeased).job, kSame);
}

TEST(StateMachine, ReportedSucceededEveryJobState) {
  for (JobState s : kEveryJobState) {
    Decision d = OnReported({s, kARunning, 1, 3}, kASucceeded, true, "");
    SCOPED_TRACE(JobStateName(s));
    EXPECT_EQ(d.attempt, kASucceeded);
    EXPECT_EQ(d.job, s == kCancelled ? kSame : kSucceeded) << "a cancelled job stays cancelled";
    EXPECT_EQ(d.downstream, s == kCancelled ? Downstream::kNone : Downstream::kPromote);
  }
}

TEST(StateMachine, ReportedFailedRetriesOnlyWhatCanHeal) {
  Decision retried = OnReported({kRunning, kARunning, 1, 3}, kAFailed, true, "killed by signal 9");
  EXPECT_EQ(retried.job, kReady);
  EXPECT_EQ(retried.downstream, Downstream::kNone);
  EXPECT_NE(retried.reason.find("attempt 1 of 3 failed: killed by signal 9; retrying"), std::string::npos)
      << retried.reason;
  Decision last = OnReported({kRunning, kARunning, 3, 3}, kAFailed, true, "exit 3");
  EXPECT_EQ(last.job, kFailed);
  EXPECT_EQ(last.downstream, Downstream::kSkip);
  Decision verdict = OnReported({kRunning, kARunning, 1, 3}, kAFailed, false, "verdict fail: 3 of 8 steps");
  EXPECT_EQ(verdict.job, kFailed) << "a numerics failure is final at once";
  EXPECT_NE(verdict.reason.find("not retried"), std::string::npos) << verdict.reason;
  Decision cancelled = OnReported({kRunning, kARunning, 1, 3}, kACancelled, true, "cancelled");
  EXPECT_EQ(cancelled.job, kCancelled);
  EXPECT_EQ(cancelled.downstream, Downstream::kSkip);
  EXPECT_FALSE(OnReported({kRunning, kARunning, 1, 3}, kARunning, true, "").accepted);
  EXPECT_FALSE(OnReported({kRunning, kARunning, 1, 3}, kALost, true, "").accepted) << "agents cannot report lost";
}

TEST(StateMachine, ReportAfterTheAttemptEnded) {
  for (AttemptState ended : {kASucceeded, kAFailed, kALost, kACancelled}) {
    for (AttemptState reported : {kASucceeded, kAFailed, kACancelled}) {
      Decision d = OnReported({kReady, ended, 1, 3}, reported, true, "");
      SCOPED_TRACE(AttemptStateName(ended) + " then " + AttemptStateName(reported));
      EXPECT_EQ(d.job, kSame);
      EXPECT_EQ(d.attempt, kNone);
      EXPECT_EQ(d.duplicate, ended == reported);
      EXPECT_EQ(d.stale, ended != reported) << "report-after-lost is stale: the job runs elsewhere";
    }
  }
}

TEST(StateMachine, LeaseExpiredAndAgentLost) {
  Decision lost = OnLeaseExpired({kRunning, kARunning, 1, 2}, "lease expired");
  EXPECT_EQ(lost.attempt, kALost);
  EXPECT_EQ(lost.job, kReady) << "losing an agent is always retried while attempts remain";
  EXPECT_EQ(OnLeaseExpired({kLeased, kALeased, 2, 2}, "lease expired").job, kFailed);
  EXPECT_EQ(OnLeaseExpired({kCancelled, kARunning, 1, 2}, "x").job, kSame);
  EXPECT_EQ(OnLeaseExpired({kCancelled, kARunning, 1, 2}, "x").attempt, kALost);
  for (AttemptState ended : {kASucceeded, kAFailed, kALost, kACancelled}) {
    EXPECT_FALSE(OnLeaseExpired({kReady, ended, 1, 2}, "x").accepted);
  }
  EXPECT_EQ(OnAgentLostAttempt({kRunning, kARunning, 1, 2}, "agent restarted without it").job, kReady);
  EXPECT_FALSE(OnAgentLostAttempt({kLeased, kALeased, 1, 2}, "x").accepted) << "a leased attempt is sent again";
}

TEST(StateMachine, CancelledEveryState) {
  ExpectTable("cancelled",
              {{kPending, true, kCancelled, Downstream::kSkip},
               {kReady, true, kCancelled, Downstream::kSkip},
               {kLeased, true, kCancelled, Downstream::kSkip},
               {kRunning, true, kCancelled, Downstream::kSkip},
               {kSucceeded, false, kSame, Downstream::kNone},
               {kFailed, false, kSame, Downstream::kNone},
               {kCancelled, false, kSame, Downstream::kNone},
               {kSkipped, false, kSame, Downstream::kNone},
               {kCached, false, kSame, Downstream::kNone}},
              [](JobState s) { return OnCancelled(s, kNone); });
  EXPECT_EQ(OnCancelled(kLeased, kALeased).attempt, kACancelled) << "not started: ends now";
  EXPECT_TRUE(OnCancelled(kRunning, kARunning).stop_attempt) << "running: its agent stops it";
  EXPECT_EQ(OnCancelled(kRunning, kARunning).attempt, kNone);
  EXPECT_NE(OnCancelled(kCached, kNone).reason.find("already cached"), std::string::npos);
}

TEST(StateMachine, RetriedEveryState) {
  const UpstreamFacts done{.total = 1, .succeeded = 1};
  ExpectTable("retried",
              {{kPending, false, kSame, Downstream::kNone},
               {kReady, false, kSame, Downstream::kNone},
               {kLeased, false, kSame, Downstream::kNone},
               {kRunning, false, kSame, Downstream::kNone},
               {kSucceeded, false, kSame, Downstream::kNone},
               {kFailed, true, kReady, Downstream::kUnskip},
               {kCancelled, true, kReady, Downstream::kUnskip},
               {kSkipped, true, kReady, Downstream::kUnskip},
               {kCached, false, kSame, Downstream::kNone}},
              [&](JobState s) { return OnRetried(s, done); });
  Decision blocked = OnRetried(kSkipped, {.total = 1, .failed = 1});
  EXPECT_FALSE(blocked.accepted) << "retry-of-skipped waits for its upstream's retry";
  EXPECT_NE(blocked.reason.find("retry it first"), std::string::npos);
  EXPECT_EQ(OnRetried(kCancelled, {.total = 2, .succeeded = 1}).job, kPending);
}

TEST(StateMachine, TerminalAndNames) {
  for (JobState s : kEveryJobState) EXPECT_EQ(IsTerminal(s), !IsUnfinished(s)) << JobStateName(s);
  EXPECT_TRUE(IsTerminal(kCached));
  EXPECT_EQ(JobStateName(kRunning), "running");
  EXPECT_EQ(ParseJobState("cached"), kCached);
  EXPECT_EQ(ParseJobState("nonsense"), v1::JOB_STATE_UNSPECIFIED);
  EXPECT_EQ(AttemptStateName(kALost), "lost");
}

}  // namespace
}  // namespace gauntlet::jobs
