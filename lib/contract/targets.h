// A job's `targets:`, judged against the metrics its result.json reports.
// Pure, shared by the agent (which judges) and its tests.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace gauntlet::contract {

// `targets` maps a metric to {"max": N} or {"min": N}. Returns why the first
// missed target is missed ("itl_ms 31.2 is over the target 25"), or "" when
// every one is met. A metric the result does not report misses its target:
// a benchmark that stopped reporting must not pass silently.
std::string MissedTarget(const nlohmann::json& targets, const std::map<std::string, double>& metrics);

}  // namespace gauntlet::contract
