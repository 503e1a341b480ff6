// Logging setup. Every process logs through spdlog with its component name
// ("coordinator", "agent", "worker", "cli") so interleaved logs read clearly.
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace gauntlet {

// Makes a stderr logger named `component` the default one. `level` is an
// spdlog level name ("info", "debug", ...); an unknown name keeps "info".
void SetupLogging(const std::string& component, const std::string& level = "info");

}  // namespace gauntlet
