#include "coordinator/sched/scheduler.h"

#include <gtest/gtest.h>

namespace gauntlet::sched {
namespace {

Node MakeNode(const std::string& name, int devices, int busy = 0, const std::string& kind = "cpu") {
  Node node{name, {}, true};
  for (int i = 0; i < devices; ++i) node.devices.push_back({i, kind, i >= busy});
  return node;
}

TEST(SchedulerTest, GangAllocatesOnOneNode) {
  auto placements = Schedule({{1, 3, "", 0, 1}}, {MakeNode("a", 2), MakeNode("b", 4)});
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].node, "b");
  EXPECT_EQ(placements[0].device_indices, (std::vector<int>{0, 1, 2}));
}

TEST(SchedulerTest, NeverSplitsAJobAcrossNodes) {
  // Four free devices in total, but no node has three.
  auto placements = Schedule({{1, 3, "", 0, 1}}, {MakeNode("a", 2), MakeNode("b", 2)});
  EXPECT_TRUE(placements.empty());
}

TEST(SchedulerTest, BestFitKeepsWholeNodesForWideJobs) {
  // The 1-device job goes to the node with the fewest free devices, so the
  // 4-device job still finds a whole node.
  auto placements = Schedule({{1, 1, "", 0, 1}, {2, 4, "", 0, 2}}, {MakeNode("a", 4), MakeNode("b", 2)});
  ASSERT_EQ(placements.size(), 2u);
  EXPECT_EQ(placements[0].node, "b");
  EXPECT_EQ(placements[1].node, "a");
}

TEST(SchedulerTest, PriorityThenAge) {
  auto placements = Schedule({{1, 1, "", 0, 1}, {2, 1, "", 5, 2}, {3, 1, "", 5, 3}}, {MakeNode("a", 2)});
  ASSERT_EQ(placements.size(), 2u);
  EXPECT_EQ(placements[0].job_id, 2);
  EXPECT_EQ(placements[1].job_id, 3);
}

TEST(SchedulerTest, WideJobReservesANodeSoItIsNotStarved) {
  // Node a has 2 of 4 devices busy. The wide job (older) cannot start; the
  // narrow jobs behind it must not take a's last free devices.
  auto placements = Schedule({{1, 4, "", 0, 1}, {2, 1, "", 0, 2}, {3, 1, "", 0, 3}}, {MakeNode("a", 4, 2)});
  EXPECT_TRUE(placements.empty());
}

TEST(SchedulerTest, ReservationLeavesOtherNodesUsable) {
  auto placements = Schedule({{1, 4, "", 0, 1}, {2, 1, "", 0, 2}}, {MakeNode("a", 4, 2), MakeNode("b", 1)});
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].job_id, 2);
  EXPECT_EQ(placements[0].node, "b");
}

TEST(SchedulerTest, ImpossibleJobReservesNothing) {
  // A job larger than any node must not block the farm.
  auto placements = Schedule({{1, 16, "", 9, 1}, {2, 1, "", 0, 2}}, {MakeNode("a", 4)});
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].job_id, 2);
}

TEST(SchedulerTest, MatchesDeviceKindAndSkipsUnschedulableNodes) {
  Node drained = MakeNode("a", 8, 0, "gpu");
  drained.schedulable = false;
  auto placements = Schedule({{1, 2, "gpu", 0, 1}}, {drained, MakeNode("b", 8, 0, "cpu"), MakeNode("c", 2, 0, "gpu")});
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].node, "c");
}

TEST(SchedulerTest, UsesOnlyFreeDevices) {
  auto placements = Schedule({{1, 2, "", 0, 1}}, {MakeNode("a", 4, 2)});
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].device_indices, (std::vector<int>{2, 3}));
}

TEST(SchedulerTest, TaggedJobsRunOnlyOnNodesWithEveryTag) {
  Node plain = MakeNode("a", 4);
  Node tagged = MakeNode("b", 4);
  tagged.tags = {"mi300x", "spx"};
  ReadyJob job{1, 1, "", 0, 1, {"mi300x", "spx"}};
  auto placements = Schedule({job}, {plain, tagged});
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].node, "b");
  job.tags.push_back("cpx");
  EXPECT_TRUE(Schedule({job}, {plain, tagged}).empty());
}

}  // namespace
}  // namespace gauntlet::sched
