// The in-memory scheduler against the full pass (Schedule, the oracle): on
// random farms and random event sequences they must place the same jobs on
// the same devices, pass after pass.
#include "coordinator/sched/cluster_state.h"

#include <gtest/gtest.h>

#include <random>

namespace gauntlet::sched {
namespace {

std::string Describe(const std::vector<Placement>& placements) {
  std::string out;
  for (const auto& p : placements) {
    out += std::to_string(p.job_id) + "@" + p.node + "[";
    for (int d : p.device_indices) out += std::to_string(d) + ",";
    out += "] ";
  }
  return out;
}

class Farm {
 public:
  // Homogeneous: every node 8 devices of one kind, no tags, as most farms
  // are, where ties between equally free nodes are common.
  Farm(uint32_t seed, bool homogeneous) : random_(seed), homogeneous_(homogeneous) {}

  std::vector<std::string> Tags() {
    std::vector<std::string> tags;
    if (Roll(4) == 0) tags.push_back("mi300x");
    if (Roll(5) == 0) tags.push_back("spx");
    return tags;
  }
  Node RandomNode(const std::string& name) {
    Node node;
    node.name = name;
    if (homogeneous_) {
      for (int i = 0; i < 8; ++i) node.devices.push_back({i, "gpu", true});
      node.schedulable = Roll(10) != 0;
      return node;
    }
    int devices = 1 + Roll(8);
    const char* kinds[] = {"cpu", "gpu", "sim"};
    const char* kind = kinds[Roll(3)];
    for (int i = 0; i < devices; ++i) {
      // Mostly one kind per node, sometimes mixed, indices not always dense.
      node.devices.push_back({i * (Roll(6) == 0 ? 2 : 1) + i, Roll(6) == 0 ? kinds[Roll(3)] : kind, true});
    }
    node.schedulable = Roll(8) != 0;
    node.tags = Tags();
    return node;
  }
  ReadyJob RandomJob() {
    const char* kinds[] = {"", "cpu", "gpu", "sim"};
    ReadyJob job;
    job.id = ++next_job_;
    job.order = job.id;
    if (homogeneous_) {
      job.devices = 1 + (Roll(4) == 0 ? Roll(8) : Roll(2));
      job.priority = Roll(5) == 0 ? 1 : 0;
      return job;
    }
    job.devices = 1 + (Roll(3) == 0 ? Roll(8) : Roll(2));
    job.device_kind = kinds[Roll(4)];
    job.priority = Roll(4) == 0 ? Roll(3) : 0;
    job.tags = Roll(3) == 0 ? Tags() : std::vector<std::string>{};
    return job;
  }
  int Roll(int n) { return static_cast<int>(random_() % static_cast<uint32_t>(n)); }

 private:
  std::mt19937 random_;
  bool homogeneous_;
  int64_t next_job_ = 0;
};

TEST(ClusterState, PlacesExactlyWhatTheFullPassPlaces) {
  int passes_compared = 0, placements_seen = 0;
  for (uint32_t seed = 1; seed <= 600; ++seed) {
    Farm farm(seed, /*homogeneous=*/seed % 2 == 0);
    ClusterState state;
    std::vector<std::string> names;
    for (int n = 0, count = 1 + farm.Roll(12); n < count; ++n) {
      names.push_back("node-" + std::to_string(farm.Roll(1000)));
      state.SetNode(farm.RandomNode(names.back()));
    }
    std::vector<Placement> running;
    for (int step = 0; step < 60; ++step) {
      switch (farm.Roll(7)) {
        case 0:
        case 1:
          for (int j = 0, count = 1 + farm.Roll(6); j < count; ++j) state.AddReady(farm.RandomJob());
          break;
        case 2:
          if (!running.empty()) {  // A job ends: its devices free up.
            size_t which = static_cast<size_t>(farm.Roll(static_cast<int>(running.size())));
            state.Release(running[which].node, running[which].device_indices);
            running.erase(running.begin() + static_cast<long>(which));
          }
          break;
        case 3:  // Drain, undrain, an agent going silent or coming back.
          state.SetSchedulable(names[static_cast<size_t>(farm.Roll(static_cast<int>(names.size())))],
                               farm.Roll(2) == 0);
          break;
        case 4:  // An agent registers again, perhaps with other devices.
          if (farm.Roll(3) == 0) state.SetNode(farm.RandomNode(names[static_cast<size_t>(
                                     farm.Roll(static_cast<int>(names.size())))]));
          break;
        case 5:  // A device leaves service, or returns.
          state.SetHealthy(names[static_cast<size_t>(farm.Roll(static_cast<int>(names.size())))], farm.Roll(8),
                           farm.Roll(3) == 0);
          break;
        default:
          if (!state.ReadyJobs().empty() && farm.Roll(4) == 0) state.RemoveReady(state.ReadyJobs().front().id);
          break;
      }
      std::vector<Placement> expected = Schedule(state.ReadyJobs(), state.Nodes());
      std::vector<Placement> placed = state.Place();
      ASSERT_EQ(Describe(placed), Describe(expected)) << "seed " << seed << " step " << step;
      state.Commit(placed);
      running.insert(running.end(), placed.begin(), placed.end());
      ++passes_compared;
      placements_seen += static_cast<int>(placed.size());
    }
  }
  // The comparison means something only if passes placed jobs.
  EXPECT_GT(placements_seen, 2000) << passes_compared << " passes";
}

TEST(ClusterState, CommitHoldsDevicesAndEmptiesTheQueue) {
  ClusterState state;
  state.SetNode({"a", {{0, "gpu", true}, {1, "gpu", true}}, true, {}});
  state.AddReady({1, 2, "gpu", 0, 1, {}});
  state.AddReady({2, 1, "gpu", 0, 2, {}});
  auto placed = state.Place();
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_EQ(state.Place().size(), 1u) << "Place() changes nothing";
  state.Commit(placed);
  EXPECT_FALSE(state.IsReady(1));
  EXPECT_TRUE(state.Place().empty()) << "both devices are held";
  state.Release("a", {0});
  ASSERT_EQ(state.Place().size(), 1u);
  EXPECT_EQ(state.Place()[0].job_id, 2);
  // A re-registration keeps the held device held.
  state.SetNode({"a", {{0, "gpu", true}, {1, "gpu", true}}, true, {}});
  EXPECT_EQ(state.Place()[0].device_indices, std::vector<int>{0});
}

}  // namespace
}  // namespace gauntlet::sched

namespace gauntlet::sched {
namespace {

TEST(ClusterState, DevicesOutOfServiceTakeNoJobs) {
  ClusterState state;
  state.SetNode({"a", {{0, "gpu", true}, {1, "gpu", true}}, true, {}});
  state.SetHealthy("a", 0, false);
  state.AddReady({1, 2, "gpu", 0, 1, {}});
  state.AddReady({2, 1, "gpu", 0, 2, {}});
  auto placed = state.Place();
  ASSERT_EQ(placed.size(), 1u) << "the pair no longer fits; the single takes the healthy device";
  EXPECT_EQ(placed[0].job_id, 2);
  EXPECT_EQ(placed[0].device_indices, std::vector<int>{1});
  EXPECT_EQ(Describe(placed), Describe(Schedule(state.ReadyJobs(), state.Nodes())));
  state.SetHealthy("a", 0, true);
  EXPECT_EQ(state.Place()[0].job_id, 1) << "back in service: the older pair goes first";
}

TEST(ClusterState, APinnedJobTakesItsDeviceOutOfServiceOrWaits) {
  ClusterState state;
  state.SetNode({"a", {{0, "gpu", true}, {1, "gpu", true}}, true, {}});
  state.SetNode({"b", {{0, "gpu", true}}, true, {}});
  state.SetHealthy("a", 1, false);
  ReadyJob check{7, 1, "gpu", 1000, 7, {}};
  check.pin_node = "a";
  check.pin_devices = {1};
  state.AddReady(check);
  state.AddReady({8, 1, "gpu", 0, 8, {}});
  state.AddReady({9, 1, "gpu", 0, 9, {}});
  auto placed = state.Place();
  EXPECT_EQ(Describe(placed), "7@a[1,] 8@a[0,] 9@b[0,] ") << "the out-of-service device counts for nothing in best fit";
  EXPECT_EQ(Describe(placed), Describe(Schedule(state.ReadyJobs(), state.Nodes())));
  state.Commit(placed);
  // The device is held (an earlier job still runs there): the check waits.
  ReadyJob again = check;
  again.id = again.order = 10;
  state.AddReady(again);
  EXPECT_TRUE(state.Place().empty());
  EXPECT_TRUE(state.IsReady(10));
  EXPECT_EQ(state.ReadyCount(), 1u);
  state.Release("a", {1});
  EXPECT_EQ(Describe(state.Place()), "10@a[1,] ");
  state.SetSchedulable("a", false);
  EXPECT_TRUE(state.Place().empty()) << "its agent is gone: nowhere else will do";
}

}  // namespace
}  // namespace gauntlet::sched
