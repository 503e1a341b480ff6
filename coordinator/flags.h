// The coordinator's command line: every flag, its default and its check.
// Reads like agent/flags.h.
#pragma once

#include <optional>
#include <string>

#include "coordinator/coordinator_server.h"

namespace gauntlet {

struct CoordinatorFlags {
  CoordinatorOptions options;
  std::string ready_file;  // Written once listening: {"grpc": PORT, "http": PORT}.
  std::string log_level = "info";
};

// Parses and checks argv. On --help or a bad flag returns nothing and sets
// *exit_code (0 or 2); the message has been printed.
std::optional<CoordinatorFlags> ParseFlags(int argc, char** argv, int* exit_code);

}  // namespace gauntlet
