#include "coordinator/sched/cluster_state.h"

#include <algorithm>
#include <cassert>
#include <optional>

namespace gauntlet::sched {
namespace {

bool Matches(const NodeDevice& device, const std::string& kind) { return kind.empty() || device.kind == kind; }

// A job's shape: what decides where it can go.
struct Shape {
  std::string kind;
  int devices;
  std::vector<std::string> tags;
  bool operator<(const Shape& other) const {
    return std::tie(kind, devices, tags) < std::tie(other.kind, other.devices, other.tags);
  }
};

}  // namespace

void ClusterState::Count(NodeState& state) const {
  state.total_by_kind.clear();
  state.free_by_kind.clear();
  for (const auto& device : state.node.devices) {
    if (!device.healthy) continue;
    ++state.total_by_kind[""];
    if (device.free) ++state.free_by_kind[""];
    if (device.kind.empty()) continue;
    ++state.total_by_kind[device.kind];
    if (device.free) ++state.free_by_kind[device.kind];
  }
}

int ClusterState::Free(const NodeState& state, const std::string& kind) const {
  auto found = state.free_by_kind.find(kind);
  return found == state.free_by_kind.end() ? 0 : found->second;
}

int ClusterState::Total(const NodeState& state, const std::string& kind) const {
  auto found = state.total_by_kind.find(kind);
  return found == state.total_by_kind.end() ? 0 : found->second;
}

void ClusterState::IndexNode(size_t index, bool add) {
  const NodeState& state = nodes_[index];
  if (!state.node.schedulable) return;
  for (const auto& [kind, free] : state.free_by_kind) {
    if (free <= 0) continue;
    if (add) {
      by_free_[kind].insert({free, index});
    } else {
      by_free_[kind].erase({free, index});
    }
  }
}

void ClusterState::Reindex() {
  std::sort(nodes_.begin(), nodes_.end(),
            [](const NodeState& a, const NodeState& b) { return a.node.name < b.node.name; });
  node_index_.clear();
  by_free_.clear();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    node_index_[nodes_[i].node.name] = i;
    IndexNode(i, true);
  }
}

void ClusterState::SetNode(const Node& node) {
  NodeState state;
  state.node = node;
  auto existing = node_index_.find(node.name);
  if (existing != node_index_.end()) {
    const Node& before = nodes_[existing->second].node;
    for (auto& device : state.node.devices) {
      for (const auto& old : before.devices) {
        if (old.index == device.index && !old.free) device.free = false;
      }
    }
    Count(state);
    IndexNode(existing->second, false);
    nodes_[existing->second] = std::move(state);
    IndexNode(existing->second, true);
    return;
  }
  Count(state);
  nodes_.push_back(std::move(state));
  Reindex();
}

void ClusterState::SetHealthy(const std::string& node, int device_index, bool healthy) {
  auto found = node_index_.find(node);
  if (found == node_index_.end()) return;
  IndexNode(found->second, false);
  NodeState& state = nodes_[found->second];
  for (auto& device : state.node.devices) {
    if (device.index == device_index) device.healthy = healthy;
  }
  Count(state);
  IndexNode(found->second, true);
}

void ClusterState::SetSchedulable(const std::string& node, bool schedulable) {
  auto found = node_index_.find(node);
  if (found == node_index_.end() || nodes_[found->second].node.schedulable == schedulable) return;
  IndexNode(found->second, false);
  nodes_[found->second].node.schedulable = schedulable;
  IndexNode(found->second, true);
}

std::vector<std::string> ClusterState::NodeNames() const {
  std::vector<std::string> names;
  for (const auto& state : nodes_) names.push_back(state.node.name);
  return names;
}

void ClusterState::AddReady(const ReadyJob& job) {
  assert(job.devices >= 1 && "the spec parser refuses jobs of no devices");
  if (IsReady(job.id)) return;
  if (job.pinned()) {
    pinned_[job.id] = job;
    return;
  }
  ready_[job.id] = job;
  queue_.insert({job.priority, job.order, job.id});
}

void ClusterState::RemoveReady(int64_t job_id) {
  pinned_.erase(job_id);
  auto found = ready_.find(job_id);
  if (found == ready_.end()) return;
  queue_.erase({found->second.priority, found->second.order, job_id});
  ready_.erase(found);
}

void ClusterState::SetFree(const std::string& node, const std::vector<int>& device_indices, bool free) {
  auto found = node_index_.find(node);
  if (found == node_index_.end()) return;
  IndexNode(found->second, false);
  NodeState& state = nodes_[found->second];
  for (auto& device : state.node.devices) {
    if (std::find(device_indices.begin(), device_indices.end(), device.index) != device_indices.end()) {
      device.free = free;
    }
  }
  Count(state);
  IndexNode(found->second, true);
}

std::vector<Placement> ClusterState::PlacePinned(std::vector<std::vector<bool>>& taken) const {
  std::vector<Placement> placements;
  for (const auto& [id, job] : pinned_) {
    auto found = node_index_.find(job.pin_node);
    if (found == node_index_.end() || !nodes_[found->second].node.schedulable) continue;
    const size_t n = found->second;
    const Node& node = nodes_[n].node;
    std::vector<size_t> slots;
    for (int index : job.pin_devices) {
      for (size_t d = 0; d < node.devices.size(); ++d) {
        if (node.devices[d].index == index && node.devices[d].free && !taken[n][d]) slots.push_back(d);
      }
    }
    if (slots.size() != job.pin_devices.size()) continue;
    Placement placement{id, node.name, {}};
    for (size_t d : slots) {
      taken[n][d] = true;
      placement.device_indices.push_back(node.devices[d].index);
    }
    std::sort(placement.device_indices.begin(), placement.device_indices.end());
    placements.push_back(std::move(placement));
  }
  return placements;
}

std::vector<Placement> ClusterState::Place() const {
  std::vector<Placement> placements;
  if ((queue_.empty() && pinned_.empty()) || nodes_.empty()) return placements;
  // The pass's own copy of what it changes: free devices and reservations.
  std::vector<std::map<std::string, int>> free(nodes_.size());
  std::vector<std::vector<bool>> taken(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) taken[i].assign(nodes_[i].node.devices.size(), false);
  // Pinned jobs first: they take only the devices named, which in practice
  // are out of service and so invisible to every other job.
  placements = PlacePinned(taken);
  std::vector<bool> reserved(nodes_.size(), false);
  std::map<std::string, std::set<std::pair<int, size_t>>> by_free = by_free_;
  for (size_t i = 0; i < nodes_.size(); ++i) free[i] = nodes_[i].free_by_kind;
  auto unindex = [&](size_t n) {
    for (const auto& [kind, count] : free[n]) {
      if (count > 0) by_free[kind].erase({count, n});
    }
  };
  auto reindex = [&](size_t n) {
    for (const auto& [kind, count] : free[n]) {
      if (count > 0) by_free[kind].insert({count, n});
    }
  };
  // A healthy device a pinned job took is held for the queue too.
  for (const auto& placement : placements) {
    const size_t n = node_index_.at(placement.node);
    for (const auto& device : nodes_[n].node.devices) {
      const auto& taken_here = placement.device_indices;
      if (!device.healthy || std::find(taken_here.begin(), taken_here.end(), device.index) == taken_here.end()) continue;
      unindex(n);
      --free[n][""];
      --free[n][device.kind];
      reindex(n);
    }
  }
  size_t open_nodes = by_free.count("") ? by_free.at("").size() : 0;  // Schedulable, unreserved, some device free.
  // Within one pass free devices only shrink and reservations only grow, so
  // a shape that could not be placed once cannot be placed later in it.
  std::set<Shape> unplaceable, unreservable;

  for (const QueueKey& key : queue_) {
    // Nothing is left that any job could take: the oracle places no more.
    if (open_nodes == 0) break;
    const ReadyJob& job = ready_.at(key.id);
    Shape shape{job.device_kind, job.devices, job.tags};
    if (!unplaceable.contains(shape)) {
      std::optional<size_t> best;
      auto index = by_free.find(job.device_kind);
      if (index != by_free.end()) {
        // Fewest free matching devices first, then the oracle's name order.
        for (auto it = index->second.lower_bound({job.devices, 0}); it != index->second.end(); ++it) {
          size_t n = it->second;
          if (reserved[n] || !HasTags(nodes_[n].node, job.tags)) continue;
          best = n;
          break;
        }
      }
      if (best) {
        const size_t n = *best;
        const Node& node = nodes_[n].node;
        Placement placement{job.id, node.name, {}};
        unindex(n);
        bool had_free = free[n][""] > 0;
        for (size_t d = 0; d < node.devices.size(); ++d) {
          if (static_cast<int>(placement.device_indices.size()) == job.devices) break;
          const NodeDevice& device = node.devices[d];
          if (device.free && device.healthy && !taken[n][d] && Matches(device, job.device_kind)) {
            taken[n][d] = true;
            placement.device_indices.push_back(device.index);
            --free[n][""];
            --free[n][device.kind];
          }
        }
        reindex(n);
        if (had_free && free[n][""] == 0) --open_nodes;
        std::sort(placement.device_indices.begin(), placement.device_indices.end());
        placements.push_back(std::move(placement));
        continue;
      }
      unplaceable.insert(shape);
    }
    if (unreservable.contains(shape)) continue;
    // Reserve the node nearest to holding this job, among those big enough.
    std::optional<size_t> nearest;
    int nearest_free = -1;
    for (size_t n = 0; n < nodes_.size(); ++n) {
      if (!nodes_[n].node.schedulable || reserved[n] || !HasTags(nodes_[n].node, job.tags)) continue;
      if (Total(nodes_[n], job.device_kind) < job.devices) continue;
      auto found = free[n].find(job.device_kind);
      int count = found == free[n].end() ? 0 : found->second;
      if (count > nearest_free) nearest = n, nearest_free = count;
    }
    if (!nearest) {
      unreservable.insert(shape);
      continue;
    }
    reserved[*nearest] = true;
    if (free[*nearest][""] > 0) --open_nodes;
    unindex(*nearest);
  }
  return placements;
}

void ClusterState::Commit(const std::vector<Placement>& placements) {
  for (const auto& placement : placements) {
    RemoveReady(placement.job_id);
    Hold(placement.node, placement.device_indices);
  }
}

std::vector<ReadyJob> ClusterState::ReadyJobs() const {
  std::vector<ReadyJob> jobs;
  jobs.reserve(ready_.size());
  for (const QueueKey& key : queue_) jobs.push_back(ready_.at(key.id));
  for (const auto& [id, job] : pinned_) jobs.push_back(job);
  return jobs;
}

std::vector<Node> ClusterState::Nodes() const {
  std::vector<Node> nodes;
  for (const auto& state : nodes_) nodes.push_back(state.node);
  return nodes;
}

}  // namespace gauntlet::sched
