// Why a job is not running: the answer to `gauntlet why JOB` and the job
// page's "why it waits". Pure: it sees the job, its unfinished upstream jobs
// and the scheduler's own snapshot, and replays the scheduler's pass (the
// oracle, Schedule) to say what that pass would do with it. Each reason
// names what to change, where squeue's REASON names only a code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "coordinator/sched/scheduler.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::sched {

struct UpstreamJob {
  int64_t id = 0;
  std::string name;
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
};

struct WaitFacts {
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  ReadyJob job;                             // Its resources (and queue key when ready).
  std::vector<UpstreamJob> unfinished_upstream;
  std::vector<ReadyJob> ready;              // The whole ready queue.
  std::vector<Node> nodes;                  // Every known node, schedulable or not.
  std::map<std::string, std::string> unschedulable;  // Node → "drained" or "offline".
};

// One line per reason, most decisive first; empty when the job is not
// waiting (running, leased or finished).
std::vector<std::string> ExplainWait(const WaitFacts& facts);

}  // namespace gauntlet::sched
