#include "coordinator/sched/scheduler.h"

#include <algorithm>
#include <optional>

namespace gauntlet::sched {
namespace {

bool Matches(const NodeDevice& device, const std::string& kind) {
  return kind.empty() || device.kind == kind;
}

}  // namespace

int CountMatching(const Node& node, const std::string& kind, bool free_only) {
  int count = 0;
  for (const auto& device : node.devices) {
    if (device.healthy && Matches(device, kind) && (!free_only || device.free)) ++count;
  }
  return count;
}

bool HasTags(const Node& node, const std::vector<std::string>& tags) {
  return std::all_of(tags.begin(), tags.end(), [&](const std::string& tag) {
    return std::find(node.tags.begin(), node.tags.end(), tag) != node.tags.end();
  });
}

std::vector<Placement> Schedule(std::vector<ReadyJob> jobs, std::vector<Node> nodes,
                                std::map<std::string, int64_t>* reserved_by) {
  std::stable_sort(jobs.begin(), jobs.end(), [](const ReadyJob& a, const ReadyJob& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.order < b.order;
  });
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  std::vector<bool> reserved(nodes.size(), false);

  std::vector<Placement> placements;
  std::vector<const ReadyJob*> pinned;
  for (const auto& job : jobs) {
    if (job.pinned()) pinned.push_back(&job);
  }
  std::sort(pinned.begin(), pinned.end(), [](const ReadyJob* a, const ReadyJob* b) { return a->id < b->id; });
  for (const ReadyJob* job : pinned) {
    auto node = std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.name == job->pin_node; });
    if (node == nodes.end() || !node->schedulable) continue;
    std::vector<NodeDevice*> wanted;
    for (auto& device : node->devices) {
      if (device.free && std::find(job->pin_devices.begin(), job->pin_devices.end(), device.index) !=
                             job->pin_devices.end()) {
        wanted.push_back(&device);
      }
    }
    if (wanted.size() != job->pin_devices.size()) continue;
    Placement placement{job->id, node->name, {}};
    for (NodeDevice* device : wanted) {
      device->free = false;
      placement.device_indices.push_back(device->index);
    }
    std::sort(placement.device_indices.begin(), placement.device_indices.end());
    placements.push_back(std::move(placement));
  }
  for (const auto& job : jobs) {
    if (job.pinned()) continue;
    std::optional<size_t> best;
    int best_free = 0;
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (!nodes[n].schedulable || reserved[n] || !HasTags(nodes[n], job.tags)) continue;
      int free = CountMatching(nodes[n], job.device_kind, /*free_only=*/true);
      if (free >= job.devices && (!best || free < best_free)) best = n, best_free = free;
    }
    if (best) {
      Placement placement{job.id, nodes[*best].name, {}};
      for (auto& device : nodes[*best].devices) {
        if (static_cast<int>(placement.device_indices.size()) == job.devices) break;
        if (device.free && device.healthy && Matches(device, job.device_kind)) {
          device.free = false;
          placement.device_indices.push_back(device.index);
        }
      }
      std::sort(placement.device_indices.begin(), placement.device_indices.end());
      placements.push_back(std::move(placement));
      continue;
    }
    // Reserve the node nearest to holding this job, among those big enough.
    std::optional<size_t> nearest;
    int nearest_free = -1;
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (!nodes[n].schedulable || reserved[n] || !HasTags(nodes[n], job.tags)) continue;
      if (CountMatching(nodes[n], job.device_kind, /*free_only=*/false) < job.devices) continue;
      int free = CountMatching(nodes[n], job.device_kind, /*free_only=*/true);
      if (free > nearest_free) nearest = n, nearest_free = free;
    }
    if (nearest) {
      reserved[*nearest] = true;
      if (reserved_by) (*reserved_by)[nodes[*nearest].name] = job.id;
    }
  }
  return placements;
}

}  // namespace gauntlet::sched
