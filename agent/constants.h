// The agent's numbers in one place. Flags override the ones marked
// "default" (agent/flags.h); the rest are design choices.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstddef>

namespace gauntlet::agent::constants {

// Retries after a failed call start here and double up to the maximum: fast
// enough to notice a restarted coordinator within seconds, slow enough not
// to hammer one that is down.
inline constexpr int kInitialBackoffMs = 200;
inline constexpr int kMaxBackoffMs = 2000;
// A finished attempt's upload and report are retried from this delay.
inline constexpr int kReportInitialBackoffMs = 250;
// Register waits this long for the coordinator to come up.
inline constexpr auto kRegisterTimeout = std::chrono::seconds(5);
// How often an agent with --models or --datasets looks at its disks again.
inline constexpr auto kInventoryRescan = std::chrono::seconds(30);
// A heartbeat may take its wait plus this long before it counts as failed.
inline constexpr int64_t kHeartbeatGraceMs = 5000;
// Every other call (log chunk, report, artifact) gives up after this long.
inline constexpr auto kRpcTimeout = std::chrono::seconds(10);
// How often the runner checks its process, and sends new log bytes.
inline constexpr auto kProcessPollInterval = std::chrono::milliseconds(50);
inline constexpr auto kLogInterval = std::chrono::milliseconds(300);
inline constexpr size_t kLogChunkBytes = 256 * 1024;
inline constexpr size_t kArtifactChunkBytes = 1 << 20;
// Defaults of --kill-grace-ms and the longest heartbeat wait.
inline constexpr int64_t kDefaultKillGraceMs = 3000;
inline constexpr int64_t kDefaultPollMs = 2000;

}  // namespace gauntlet::agent::constants
