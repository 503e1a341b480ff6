// The scheduler's view of the farm, kept in memory between passes: ready
// jobs in priority order and every node's devices, with free counts indexed
// so a pass costs what it places, not the size of the queue or the farm.
//
// Place() returns exactly what Schedule() (scheduler.h, the full pass, kept
// as the oracle) would return for the same jobs and nodes; a randomized test
// holds the two together. Pure: no SQL, threads or clock. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "coordinator/sched/scheduler.h"

namespace gauntlet::sched {

class ClusterState {
 public:
  // Replaces a node's devices, tags and schedulability; a device it held
  // before stays held (its attempt still runs) if its index still exists.
  void SetNode(const Node& node);
  void SetSchedulable(const std::string& node, bool schedulable);
  // Takes a device out of service (no job but one pinned to it may take it) or back.
  void SetHealthy(const std::string& node, int device_index, bool healthy);
  bool HasNode(const std::string& node) const { return node_index_.contains(node); }
  std::vector<std::string> NodeNames() const;

  void AddReady(const ReadyJob& job);
  void RemoveReady(int64_t job_id);
  bool IsReady(int64_t job_id) const { return ready_.contains(job_id) || pinned_.contains(job_id); }
  size_t ReadyCount() const { return ready_.size() + pinned_.size(); }

  // Marks devices held (an attempt was placed or recovered) or free again.
  void Hold(const std::string& node, const std::vector<int>& device_indices) { SetFree(node, device_indices, false); }
  void Release(const std::string& node, const std::vector<int>& device_indices) { SetFree(node, device_indices, true); }

  // What a pass would place now. Changes nothing: the caller stores the
  // placements and then calls Commit() with them.
  std::vector<Placement> Place() const;
  // Applies stored placements: their jobs leave the queue, their devices are held.
  void Commit(const std::vector<Placement>& placements);

  // A snapshot in Schedule()'s terms, for the oracle test and diagnostics.
  std::vector<ReadyJob> ReadyJobs() const;
  std::vector<Node> Nodes() const;

 private:
  struct QueueKey {
    int priority;
    int64_t order;
    int64_t id;
    bool operator<(const QueueKey& other) const {
      if (priority != other.priority) return priority > other.priority;
      if (order != other.order) return order < other.order;
      return id < other.id;
    }
  };
  struct NodeState {
    Node node;
    std::map<std::string, int> total_by_kind;  // "" counts every device.
    std::map<std::string, int> free_by_kind;
  };

  void SetFree(const std::string& node, const std::vector<int>& device_indices, bool free);
  void Reindex();
  void Count(NodeState& state) const;
  int Free(const NodeState& state, const std::string& kind) const;
  int Total(const NodeState& state, const std::string& kind) const;
  void IndexNode(size_t index, bool add);

  // Pinned jobs wait for their devices, outside the queue (oldest first).
  std::vector<Placement> PlacePinned(std::vector<std::vector<bool>>& taken) const;

  std::unordered_map<int64_t, ReadyJob> ready_;
  std::map<int64_t, ReadyJob> pinned_;
  std::set<QueueKey> queue_;
  // Nodes sorted by name, as the oracle visits them.
  std::vector<NodeState> nodes_;
  std::unordered_map<std::string, size_t> node_index_;
  // kind → (free devices of that kind, node index), over schedulable nodes
  // with at least one such free device: best fit is a lower_bound.
  std::map<std::string, std::set<std::pair<int, size_t>>> by_free_;
};

}  // namespace gauntlet::sched
