#include "agent/launcher.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
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

// Whether a process exists and is not a zombie.
bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

// Checks `condition` every 10 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST(LauncherTest, SignalStopsTheWholeGroup) {
  std::string log = TempLog("group");
  std::string pid_file = TempLog("grandchild-pid");
  std::filesystem::remove(pid_file);
  // The grandchild writes its pid, then would sleep 30 s if it survived.
  auto process =
      Process::Start({{"sh", "-c", "sleep 30 & echo $! > " + pid_file + ".tmp; mv " + pid_file + ".tmp " + pid_file +
                                       "; wait"},
                      {},
                      "",
                      log});
  ASSERT_TRUE(process.has_value());
  pid_t grandchild = 0;
  ASSERT_TRUE(Eventually([&] {
    std::ifstream in(pid_file);
    return static_cast<bool>(in >> grandchild) && grandchild > 0;
  }, std::chrono::seconds(10))) << "the grandchild never started";
  ASSERT_TRUE(Alive(grandchild)) << "the grandchild runs before the kill";
  process->Signal(SIGKILL);
  ExitInfo exit = WaitFor(*process);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_TRUE(Eventually([&] { return !Alive(grandchild); }, std::chrono::seconds(10)))
      << "the grandchild " << grandchild << " outlived the kill";
}

}  // namespace
}  // namespace gauntlet::agent
