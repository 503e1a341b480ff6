#include "agent/inventory.h"

#include <gtest/gtest.h>

namespace gauntlet::agent {
namespace {

TEST(InventoryTest, CountsAndLists) {
  auto cpu = ParseDeviceSpec("cpu:4");
  ASSERT_TRUE(cpu.has_value());
  ASSERT_EQ(cpu->size(), 4u);
  EXPECT_EQ((*cpu)[3].index(), 3);
  EXPECT_EQ((*cpu)[3].kind(), "cpu");
  auto gpu = ParseDeviceSpec("gpu:0,2,5");
  ASSERT_TRUE(gpu.has_value());
  ASSERT_EQ(gpu->size(), 3u);
  EXPECT_EQ((*gpu)[2].index(), 5);
  EXPECT_EQ(ParseDeviceSpec("sim:8")->size(), 8u);
  EXPECT_FALSE(ParseDeviceSpec("auto")->empty());
}

TEST(InventoryTest, RefusesBadValuesWithTheFix) {
  for (const char* bad : {"cpu", "tpu:4", "cpu:0", "cpu:x", "gpu:0,0", "gpu:1,,2", "cpu:-1"}) {
    auto parsed = ParseDeviceSpec(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_NE(parsed.error().message().find(std::string("--devices '") + bad + "'"), std::string::npos)
        << parsed.error().message();
  }
}

TEST(InventoryTest, EachDeviceGetsAnEvenShareOfTheCores) {
  EXPECT_EQ(ThreadsPerDevice(128, 8), 16);
  EXPECT_EQ(ThreadsPerDevice(16, 8), 2);
  EXPECT_EQ(ThreadsPerDevice(15, 8), 1) << "rounds down: never more threads than cores";
  EXPECT_EQ(ThreadsPerDevice(2, 4), 1) << "at least one";
  EXPECT_GE(UsableCores(), 1);
}

}  // namespace
}  // namespace gauntlet::agent

namespace gauntlet::agent {
namespace {

std::vector<v1::Device> Gpus(std::initializer_list<int> indices) {
  std::vector<v1::Device> devices;
  for (int index : indices) {
    v1::Device device;
    device.set_index(index);
    device.set_kind("gpu");
    devices.push_back(device);
  }
  return devices;
}

TEST(InventoryTest, OfferingMoreGpusThanTheNodeHasIsRefusedWithTheCountFound) {
  EXPECT_TRUE(CheckGpusPresent(Gpus({0, 1}), Gpus({0, 1, 2})).ok());
  const Status eight = CheckGpusPresent(*ParseDeviceSpec("gpu:8"), Gpus({0, 1}));
  ASSERT_FALSE(eight.ok());
  EXPECT_NE(eight.message().find("GPU 2 is offered but this node has 2 GPU(s) (0,1); offer gpu:0,1 or fewer"),
            std::string::npos) << eight.message();
  const Status none = CheckGpusPresent(Gpus({0}), {});
  EXPECT_NE(none.message().find("this node has 0 GPU(s); offer cpu or sim devices instead"), std::string::npos)
      << none.message();
  EXPECT_TRUE(CheckGpusPresent(*ParseDeviceSpec("cpu:4"), {}).ok()) << "only GPUs are checked";
}

}  // namespace
}  // namespace gauntlet::agent
