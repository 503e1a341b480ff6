// `gauntlet tokens`, `gauntlet events` and `gauntlet whoami`: API tokens,
// the audit trail, and which token this shell uses.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/client.h"

namespace gauntlet::cli {

struct AccessCommands {
  CLI::App* tokens = nullptr;
  CLI::App* create = nullptr;
  CLI::App* list = nullptr;
  CLI::App* revoke = nullptr;
  CLI::App* events = nullptr;
  CLI::App* whoami = nullptr;
  std::string name;
  std::string role;
  std::string expires;
  std::string save_to;  // create --save: write the token to this file (mode 0600).
  bool save = false;
  std::string actor;
  int limit = 50;
};

// Adds the commands to `app`; the returned struct is filled by parsing.
void AddAccessCommands(CLI::App& app, AccessCommands* commands);
// The exit code when one of them was given; nullopt otherwise.
std::optional<int> RunAccessCommands(const Globals& globals, const AccessCommands& commands);

// The API token for calls: GAUNTLET_TOKEN, else --token-file (else
// ~/.config/gauntlet/token), which must not be readable by group or others.
// "" without one; false (said on stderr) when the file is unsafe or unreadable.
bool LoadToken(const std::string& token_file, std::string* token);
// ~/.config/gauntlet/token ($XDG_CONFIG_HOME when set).
std::string DefaultTokenFile();

}  // namespace gauntlet::cli
