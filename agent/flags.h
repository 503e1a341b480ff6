// The agent's command line: every flag, its default and its check. Reads
// like coordinator/flags.h.
#pragma once

#include <optional>
#include <string>

#include "agent/agent_config.h"

namespace gauntlet::agent {

struct AgentFlags {
  AgentConfig config;
  std::string log_level = "info";
};

// Parses and checks argv (devices resolved, the thread share computed). On
// --help or a bad flag returns nothing and sets *exit_code (0 or 2); the
// message has been printed.
std::optional<AgentFlags> ParseFlags(int argc, char** argv, int* exit_code);

}  // namespace gauntlet::agent
