#include "agent/launcher.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

namespace gauntlet::agent {
namespace {

std::string TempLog(const std::string& name) {
  auto path = std::filesystem::temp_directory_path() / ("gauntlet-launcher-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove(path);
  return path.string();
}

ExitInfo WaitFor(Process& process) {
  for (int i = 0; i < 200; ++i) {
    if (auto exit = process.Poll()) return *exit;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ADD_FAILURE() << "process did not end";
  process.Signal(SIGKILL);
  return {};
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(LauncherTest, CapturesOutputEnvAndExitCode) {
  std::string log = TempLog("out");
  auto process = Process::Start({{"sh", "-c", "echo out; echo err >&2; echo $GREETING; exit 3"},
                                 {{"GREETING", "hi"}}, "/tmp", log});
  ASSERT_TRUE(process.has_value()) << process.error().ToString();
  ExitInfo exit = WaitFor(*process);
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.Describe(), "exited with code 3");
  EXPECT_EQ(Read(log), "out\nerr\nhi\n");
}

TEST(LauncherTest, AMissingProgramIsAClearError) {
  auto process = Process::Start({{"no-such-program-gauntlet"}, {}, "", TempLog("missing")});
  ASSERT_FALSE(process.has_value());
  EXPECT_NE(process.error().message().find("cannot run 'no-such-program-gauntlet'"), std::string::npos);
}

TEST(LauncherTest, SignalStopsTheWholeGroup) {
  std::string log = TempLog("group");
  std::string marker = TempLog("marker");
  // The grandchild would write the marker after 2 s if it survived.
  auto process = Process::Start({{"sh", "-c", "(sleep 2; touch " + marker + ") & sleep 30"}, {}, "", log});
  ASSERT_TRUE(process.has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  process->Signal(SIGKILL);
  ExitInfo exit = WaitFor(*process);
  EXPECT_EQ(exit.signal, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the grandchild outlived the kill";
}

}  // namespace
}  // namespace gauntlet::agent
