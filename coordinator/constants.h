// The coordinator's tunable numbers in one place. Flags override the ones
// marked "default" (coordinator/flags.h); the rest are design choices.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gauntlet::constants {

// An attempt whose agent has not renewed it for this long is lost (default of --lease-ttl).
inline constexpr int64_t kDefaultLeaseTtlMs = 15'000;
// Infrastructure failures in a row that take a device out of service.
inline constexpr int kDefaultUnhealthyAfter = 3;
// The longest a heartbeat may block waiting for news.
inline constexpr int64_t kMaxPollMs = 10'000;
// How often the scheduler loop runs when nothing asks for a pass sooner.
inline constexpr int64_t kSchedulerIdleMs = 200;
// Agents' calls one loop window runs before its pass and commit, counted in
// reports: small enough that a freed device waits one short window for its
// next job, large enough that a commit serves many reports.
inline constexpr int kLoopWindowCalls = 128;
// Leases are checked for expiry at most this often.
inline constexpr int64_t kLeaseScanMs = 100;
// Last-seen times are written to the database this often (for the board).
inline constexpr int64_t kLastSeenFlushMs = 5'000;
// A scheduler loop that ran this much later than planned means the
// coordinator itself is behind: leases are extended by the delay rather than
// expired for the coordinator's own lag.
inline constexpr int64_t kLagThresholdMs = 1'000;
// A failing store is logged at most this often, with the count in between.
inline constexpr int64_t kStorageLogIntervalMs = 60'000;
// The board shows a storage failure this long after the latest one.
inline constexpr int64_t kStorageTroubleShownMs = 5 * 60'000;
// Log bytes kept per attempt (default of --max-log-bytes); a worker that
// prints forever cannot fill the database.
inline constexpr int64_t kDefaultMaxLogBytesPerAttempt = 64 << 20;
// Log bytes one ReadLog/StreamLogs call returns at most.
inline constexpr int64_t kLogChunkBytes = 64 * 1024;
// Threads the gRPC server may use for calls at once. Long-polling heartbeats
// each hold one while they wait, so this bounds agents served concurrently;
// calls past it wait in gRPC's queue.
inline constexpr int kMaxGrpcThreads = 2048;
// The largest HTTP request body read: the board and the JSON API take only
// small forms (drain, undrain); a bigger body is refused (413) unread.
inline constexpr size_t kMaxHttpBodyBytes = 64 * 1024;
// Failed authentications one peer may make per window before its further
// attempts are refused unchecked until the window ends: enough for typos,
// far too few to guess a 256-bit token.
inline constexpr int kMaxFailedAuthPerWindow = 20;
inline constexpr int64_t kFailedAuthWindowMs = 60'000;
// How long the board's sign-in cookie lasts (the token's own expiry still holds).
inline constexpr int64_t kBoardSessionSeconds = 12 * 3600;
// Typical run time assumed for a job whose stage has no history, for the
// dry run's device-hours estimate.
inline constexpr double kDefaultJobSeconds = 60;

// How often the Notifier looks for webhook alerts due (nights finished,
// retries come round).
constexpr int64_t kNotifierPeriodMs = 1000;

}  // namespace gauntlet::constants
