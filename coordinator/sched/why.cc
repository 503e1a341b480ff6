#include "coordinator/sched/why.h"

#include <algorithm>

#include "lib/jobs/job_state.h"

namespace gauntlet::sched {
namespace {

int Count(const Node& node, const std::string& kind, bool free_only) { return CountMatching(node, kind, free_only); }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// "2 devices" or "2 'gpu' devices".
std::string Devices(const ReadyJob& job) {
  return std::to_string(job.devices) + (job.device_kind.empty() ? "" : " '" + job.device_kind + "'") +
         (job.devices == 1 ? " device" : " devices");
}

std::string Kind(const ReadyJob& job) { return job.device_kind.empty() ? "any" : "'" + job.device_kind + "'"; }

// "node-a device 3, node-b device 0": devices of the job's kind, on nodes
// carrying its tags, that are out of service.
std::vector<std::string> OutOfService(const WaitFacts& facts) {
  std::vector<std::string> out;
  for (const auto& node : facts.nodes) {
    if (!HasTags(node, facts.job.tags)) continue;
    for (const auto& device : node.devices) {
      if (!device.healthy && (facts.job.device_kind.empty() || device.kind == facts.job.device_kind)) {
        out.push_back(node.name + " device " + std::to_string(device.index));
      }
    }
  }
  return out;
}

constexpr const char* kHealHint =
    "; they return when their health check passes, or when an admin runs gauntlet agents heal NAME";

std::vector<std::string> ExplainPinned(const WaitFacts& facts) {
  const ReadyJob& job = facts.job;
  std::string devices;
  for (int index : job.pin_devices) devices += (devices.empty() ? "" : ",") + std::to_string(index);
  auto node = std::find_if(facts.nodes.begin(), facts.nodes.end(), [&](const Node& n) { return n.name == job.pin_node; });
  const std::string what = "a health check pinned to " + job.pin_node + " device " + devices;
  if (node == facts.nodes.end()) return {what + ", an agent the farm no longer knows"};
  if (!node->schedulable) {
    auto why = facts.unschedulable.find(node->name);
    return {what + "; that agent is " + (why == facts.unschedulable.end() ? "unavailable" : why->second) +
            ", so it runs when the agent is back"};
  }
  return {what + "; it starts as soon as the job running there ends"};
}

std::vector<std::string> ExplainReady(const WaitFacts& facts) {
  const ReadyJob& job = facts.job;
  if (facts.nodes.empty()) return {"no agent has registered yet; start one with gauntlet-agent"};
  if (job.pinned()) return ExplainPinned(facts);
  const std::vector<std::string> out_of_service = OutOfService(facts);
  std::vector<const Node*> of_kind, matching;
  std::vector<std::string> kinds_offered;
  for (const auto& node : facts.nodes) {
    for (const auto& device : node.devices) {
      if (std::find(kinds_offered.begin(), kinds_offered.end(), device.kind) == kinds_offered.end()) {
        kinds_offered.push_back(device.kind);
      }
    }
    if (Count(node, job.device_kind, false) == 0) continue;
    of_kind.push_back(&node);
    if (HasTags(node, job.tags)) matching.push_back(&node);
  }
  if (of_kind.empty() && !out_of_service.empty()) {
    return {"every device of kind " + Kind(job) + " that could hold it is out of service: " + Join(out_of_service) +
            kHealHint};
  }
  if (of_kind.empty()) {
    return {"no agent offers device kind " + Kind(job) + " (agents offer: " + Join(kinds_offered) +
            "); start an agent with such devices"};
  }
  if (matching.empty()) {
    return {"no agent with devices of kind " + Kind(job) + " carries the tags [" + Join(job.tags) +
            "]; start one with gauntlet-agent --tags " + Join(job.tags)};
  }
  const Node* largest = *std::max_element(matching.begin(), matching.end(), [&](const Node* a, const Node* b) {
    return Count(*a, job.device_kind, false) < Count(*b, job.device_kind, false);
  });
  if (Count(*largest, job.device_kind, false) < job.devices) {
    std::string text = "needs " + Devices(job) + " on one node, but the largest node that could hold it, " +
                       largest->name + ", has " + std::to_string(Count(*largest, job.device_kind, false)) +
                       (out_of_service.empty() ? "" : " in service");
    if (!out_of_service.empty()) return {text + "; out of service: " + Join(out_of_service) + kHealHint};
    return {text + "; add a wider node or lower the job's devices"};
  }
  std::vector<std::string> out;
  std::vector<std::string> down;
  std::vector<const Node*> usable;
  for (const Node* node : matching) {
    if (Count(*node, job.device_kind, false) < job.devices) continue;
    if (!node->schedulable) {
      auto why = facts.unschedulable.find(node->name);
      down.push_back(node->name + " (" + (why == facts.unschedulable.end() ? "unavailable" : why->second) + ")");
    } else {
      usable.push_back(node);
    }
  }
  if (usable.empty()) {
    return {"every agent that could hold it is drained or offline: " + Join(down) +
            "; undrain one (gauntlet drain --undo NAME) or restart it"};
  }
  // Replay the scheduler's pass to see what it does with this job now.
  std::map<std::string, int64_t> reserved_by;
  std::vector<Placement> placements = Schedule(facts.ready, facts.nodes, &reserved_by);
  for (const auto& placement : placements) {
    if (placement.job_id == job.id) return {"devices are free on " + placement.node + "; it starts at the next scheduling pass"};
  }
  const Node* widest = *std::max_element(usable.begin(), usable.end(), [&](const Node* a, const Node* b) {
    return Count(*a, job.device_kind, true) < Count(*b, job.device_kind, true);
  });
  const int widest_free = Count(*widest, job.device_kind, true);
  for (const Node* node : usable) {
    auto holder = reserved_by.find(node->name);
    if (holder == reserved_by.end()) continue;
    if (holder->second == job.id) {
      out.push_back("node " + node->name + " is reserved for it and drains: " +
                    std::to_string(Count(*node, job.device_kind, true)) + " of the " + std::to_string(job.devices) +
                    " devices it needs are free; jobs behind it may not take them");
    } else if (Count(*node, job.device_kind, true) >= job.devices) {
      out.push_back("node " + node->name + " has the devices free but is reserved for job " +
                    std::to_string(holder->second) + ", which is ahead in the queue and needs a whole node");
    }
  }
  if (widest_free < job.devices) {
    out.insert(out.begin(), "needs a gang of " + Devices(job) + " on one node; the widest free gang now is " +
                                std::to_string(widest_free) +
                                " (" + widest->name + "); it starts when running jobs there finish");
  }
  if (!down.empty()) out.push_back("also able to hold it, but drained or offline: " + Join(down));
  if (!out_of_service.empty()) out.push_back("out of service, taking no new work: " + Join(out_of_service) + kHealHint);
  if (out.empty()) out.push_back("jobs ahead of it in the queue take the free devices first");
  return out;
}

}  // namespace

std::vector<std::string> ExplainWait(const WaitFacts& facts) {
  if (facts.state == v1::JOB_STATE_PENDING) {
    std::vector<std::string> waiting;
    for (const auto& upstream : facts.unfinished_upstream) {
      waiting.push_back(std::to_string(upstream.id) + " '" + upstream.name + "' (" + jobs::JobStateName(upstream.state) +
                        ")");
    }
    if (waiting.empty()) return {"its upstream jobs have settled; it becomes ready at the next pass"};
    return {"waiting on " + std::to_string(waiting.size()) + " upstream job" + (waiting.size() == 1 ? "" : "s") + ": " +
            Join(waiting)};
  }
  if (facts.state == v1::JOB_STATE_READY) return ExplainReady(facts);
  return {};
}

}  // namespace gauntlet::sched
