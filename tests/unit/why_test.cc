// `gauntlet why`: one case per reason a job waits, against the scheduler's
// own snapshot.
#include <gtest/gtest.h>

#include "coordinator/sched/why.h"

namespace gauntlet::sched {
namespace {

Node MakeNode(const std::string& name, int devices, int busy, const std::string& kind = "cpu",
              std::vector<std::string> tags = {}, bool schedulable = true) {
  Node node{name, {}, schedulable, std::move(tags)};
  for (int i = 0; i < devices; ++i) node.devices.push_back({i, kind, i >= busy});
  return node;
}

WaitFacts Ready(ReadyJob job, std::vector<Node> nodes, std::vector<ReadyJob> ahead = {}) {
  WaitFacts facts;
  facts.state = v1::JOB_STATE_READY;
  facts.job = job;
  facts.ready = std::move(ahead);
  facts.ready.push_back(job);
  facts.nodes = std::move(nodes);
  return facts;
}

std::string First(const WaitFacts& facts) {
  auto reasons = ExplainWait(facts);
  return reasons.empty() ? "" : reasons.front();
}

TEST(WhyTest, PendingNamesItsUnfinishedUpstreamJobs) {
  WaitFacts facts;
  facts.state = v1::JOB_STATE_PENDING;
  facts.unfinished_upstream = {{12, "compile[dtype=bf16]", v1::JOB_STATE_RUNNING}, {13, "reference", v1::JOB_STATE_READY}};
  EXPECT_EQ(First(facts), "waiting on 2 upstream jobs: 12 'compile[dtype=bf16]' (running), 13 'reference' (ready)");
}

TEST(WhyTest, NoAgentOrNoKindOrNoTags) {
  EXPECT_EQ(First(Ready({1, 1, "gpu", 0, 1, {}}, {})), "no agent has registered yet; start one with gauntlet-agent");
  EXPECT_EQ(First(Ready({1, 1, "gpu", 0, 1, {}}, {MakeNode("a", 4, 0)})),
            "no agent offers device kind 'gpu' (agents offer: cpu); start an agent with such devices");
  EXPECT_EQ(First(Ready({1, 1, "", 0, 1, {"mi300x"}}, {MakeNode("a", 4, 0, "cpu", {"h200"})})),
            "no agent with devices of kind any carries the tags [mi300x]; start one with gauntlet-agent --tags mi300x");
}

TEST(WhyTest, AGangWiderThanAnyNode) {
  EXPECT_EQ(First(Ready({1, 8, "", 0, 1, {}}, {MakeNode("a", 4, 0), MakeNode("b", 2, 0)})),
            "needs 8 devices on one node, but the largest node that could hold it, a, has 4; add a wider node or "
            "lower the job's devices");
}

TEST(WhyTest, AGangWiderThanTheFreeDevicesNamesTheWidestFreeGang) {
  auto reasons = ExplainWait(Ready({1, 4, "", 0, 1, {}}, {MakeNode("a", 4, 3), MakeNode("b", 4, 2)}));
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons[0], "needs a gang of 4 devices on one node; the widest free gang now is 2 (b); it starts when "
                        "running jobs there finish");
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_EQ(reasons[1], "node b is reserved for it and drains: 2 of the 4 devices it needs are free; jobs behind it "
                        "may not take them");
}

TEST(WhyTest, ANodeReservedForAWiderJobAhead) {
  // Job 5 (older) needs all of node a; job 9 would fit a's free device but may not take it.
  ReadyJob wide{5, 2, "", 0, 5, {}};
  auto reasons = ExplainWait(Ready({9, 1, "", 0, 9, {}}, {MakeNode("a", 2, 1)}, {wide}));
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "node a has the devices free but is reserved for job 5, which is ahead in the queue and needs "
                        "a whole node");
}

TEST(WhyTest, DrainedOrOfflineAgents) {
  WaitFacts facts = Ready({1, 2, "", 0, 1, {}}, {MakeNode("a", 4, 0, "cpu", {}, false), MakeNode("b", 4, 0, "cpu", {}, false)});
  facts.unschedulable = {{"a", "drained"}, {"b", "offline"}};
  EXPECT_EQ(First(facts), "every agent that could hold it is drained or offline: a (drained), b (offline); undrain one "
                          "(gauntlet drain --undo NAME) or restart it");
}

TEST(WhyTest, FreeDevicesMeanTheNextPassStartsIt) {
  EXPECT_EQ(First(Ready({1, 2, "", 0, 1, {}}, {MakeNode("a", 4, 1)})),
            "devices are free on a; it starts at the next scheduling pass");
}

TEST(WhyTest, NotWaitingHasNoReasons) {
  WaitFacts facts;
  facts.state = v1::JOB_STATE_RUNNING;
  EXPECT_TRUE(ExplainWait(facts).empty());
}

TEST(WhyTest, DevicesOutOfServiceAreNamedWithTheWayBack) {
  Node node = MakeNode("a", 1, 0);
  node.devices[0].healthy = false;
  EXPECT_EQ(First(Ready({1, 1, "cpu", 0, 1, {}}, {node})),
            "every device of kind 'cpu' that could hold it is out of service: a device 0; they return when their "
            "health check passes, or when an admin runs gauntlet agents heal NAME");
  Node pair = MakeNode("b", 2, 0);
  pair.devices[1].healthy = false;
  EXPECT_EQ(First(Ready({1, 2, "cpu", 0, 1, {}}, {pair})),
            "needs 2 'cpu' devices on one node, but the largest node that could hold it, b, has 1 in service; out of "
            "service: b device 1; they return when their health check passes, or when an admin runs gauntlet agents "
            "heal NAME");
}

TEST(WhyTest, AHealthCheckWaitsForItsOwnDevice) {
  ReadyJob check{1, 1, "cpu", 1000, 1, {}};
  check.pin_node = "a";
  check.pin_devices = {0};
  EXPECT_EQ(First(Ready(check, {MakeNode("a", 1, 1)})),
            "a health check pinned to a device 0; it starts as soon as the job running there ends");
  WaitFacts offline = Ready(check, {MakeNode("a", 1, 0, "cpu", {}, /*schedulable=*/false)});
  offline.unschedulable["a"] = "offline";
  EXPECT_EQ(First(offline), "a health check pinned to a device 0; that agent is offline, so it runs when the agent is back");
}

}  // namespace
}  // namespace gauntlet::sched
