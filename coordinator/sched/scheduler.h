// The scheduler core: which ready jobs go to which devices now. Pure: it sees
// a snapshot and returns placements; the caller stores them.
//
// Policy:
//  - Jobs are taken by priority (higher first), then by age (lower order first).
//  - Gang allocation: a job needing N devices gets N devices of one node.
//  - Best fit: among nodes that can hold the job, the one with the fewest free
//    matching devices, so wide jobs keep finding whole nodes.
//  - No starvation of wide jobs: a job that fits some node's capacity but no
//    node's free devices reserves the node closest to holding it; jobs after it
//    may not take that node's devices, so it drains and the wide job starts.
//  - Devices out of service (device_health.h) count for nothing; a job
//    pinned to devices (a health check) goes there as soon as they are free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gauntlet::sched {

struct ReadyJob {
  int64_t id = 0;
  int devices = 1;
  std::string device_kind;  // Empty: any kind.
  int priority = 0;
  int64_t order = 0;        // Submission order; lower is older.
  std::vector<std::string> tags;  // The node must carry every one.
  // A health check: these devices of this node or nowhere, whatever their
  // health. Empty: anywhere that fits.
  std::string pin_node;
  std::vector<int> pin_devices;

  bool pinned() const { return !pin_node.empty(); }
};

struct NodeDevice {
  int index = 0;
  std::string kind;
  bool free = true;
  bool healthy = true;  // Out of service: only a job pinned to it may take it.
};

struct Node {
  std::string name;
  std::vector<NodeDevice> devices;
  bool schedulable = true;  // Alive and not drained.
  std::vector<std::string> tags;
};

struct Placement {
  int64_t job_id = 0;
  std::string node;
  std::vector<int> device_indices;  // Ascending.
};

// Healthy devices of `kind` (empty: any) on the node, free ones only if asked.
int CountMatching(const Node& node, const std::string& kind, bool free_only);
// Whether the node carries every one of `tags`.
bool HasTags(const Node& node, const std::vector<std::string>& tags);

// `reserved_by`, when given, receives each reserved node and the job it is
// held for (for `gauntlet why`).
std::vector<Placement> Schedule(std::vector<ReadyJob> jobs, std::vector<Node> nodes,
                                std::map<std::string, int64_t>* reserved_by = nullptr);

}  // namespace gauntlet::sched
