#include "cli/access_command.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/table.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::cli {
namespace {

std::string StateOf(const v1::ApiToken& token) {
  if (token.revoked_at_ms()) return "revoked " + FormatUtc(token.revoked_at_ms());
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  if (token.expires_at_ms() && token.expires_at_ms() <= now) return "expired";
  return token.expires_at_ms() ? "live until " + FormatUtc(token.expires_at_ms()) : "live";
}

// Creates `path` with mode 0600 before the secret goes in, so it is never
// readable by others, not even for a moment.
bool SaveToken(const std::string& path, const std::string& secret) {
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  const mode_t old_mask = umask(077);
  std::ofstream out(path, std::ios::trunc);
  umask(old_mask);
  if (out) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 error);
  }
  out << secret << "\n";
  if (!out || error) {
    std::cerr << "error: cannot write the token to " << path << "; copy it from above instead\n";
    return false;
  }
  return true;
}

int CreateToken(const Globals& globals, const AccessCommands& commands) {
  auto stub = Connect(globals);
  v1::CreateTokenRequest request;
  request.set_name(commands.name);
  request.set_role(commands.role);
  request.set_expires(commands.expires);
  v1::CreateTokenResponse reply;
  grpc::Status status = stub->CreateToken(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  std::cout << reply.secret() << "\n";
  std::cerr << "token '" << reply.token().name() << "' (" << reply.token().role() << ", " << StateOf(reply.token())
            << "): shown once; the coordinator keeps only its hash\n";
  if (!commands.save) return 0;
  const std::string path = commands.save_to.empty() ? DefaultTokenFile() : commands.save_to;
  if (!SaveToken(path, reply.secret())) return kExitFailed;
  std::cerr << "saved to " << path << " (mode 0600)\n";
  return 0;
}

int ListTokens(const Globals& globals) {
  auto stub = Connect(globals);
  v1::ListTokensResponse reply;
  grpc::Status status = stub->ListTokens(Context().get(), v1::ListTokensRequest(), &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  Table table({"NAME", "ROLE", "STATE", "CREATED", "BY"});
  for (const auto& token : reply.tokens()) {
    table.Add({token.name(), token.role(), StateOf(token), FormatUtc(token.created_at_ms()), token.created_by()});
  }
  table.Print(std::cout);
  return 0;
}

int RevokeToken(const Globals& globals, const std::string& name) {
  auto stub = Connect(globals);
  v1::RevokeTokenRequest request;
  request.set_name(name);
  v1::ApiToken reply;
  grpc::Status status = stub->RevokeToken(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  std::cout << "token '" << reply.name() << "' revoked: every call with it is refused from now on\n";
  return 0;
}

int Events(const Globals& globals, const AccessCommands& commands) {
  auto stub = Connect(globals);
  v1::ListAuditEventsRequest request;
  request.set_actor(commands.actor);
  request.set_limit(commands.limit);
  v1::ListAuditEventsResponse reply;
  grpc::Status status = stub->ListAuditEvents(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  Table table({"WHEN", "WHO", "ROLE", "ACTION", "TARGET", "OUTCOME", "FROM"});
  for (const auto& event : reply.events()) {
    table.Add({FormatUtc(event.at_ms()), event.actor(), event.role(), event.action(), event.target(), event.outcome(),
               event.peer()});
  }
  table.Print(std::cout);
  return 0;
}

int WhoAmI(const Globals& globals) {
  auto stub = Connect(globals);
  v1::ApiToken reply;
  grpc::Status status = stub->WhoAmI(Context().get(), v1::WhoAmIRequest(), &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  if (reply.anonymous()) {
    std::cout << "no token needed: this coordinator has no API tokens yet, so every caller is its admin; "
                 "`gauntlet tokens create --name NAME --role admin --save` starts using them\n";
  } else {
    std::cout << reply.name() << " (" << reply.role() << ")\n";
  }
  return 0;
}

}  // namespace

std::string DefaultTokenFile() {
  if (const char* config = std::getenv("XDG_CONFIG_HOME"); config && *config) {
    return std::string(config) + "/gauntlet/token";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.config/gauntlet/token";
}

bool LoadToken(const std::string& token_file, std::string* token) {
  if (const char* from_env = std::getenv("GAUNTLET_TOKEN"); from_env && *from_env && token_file.empty()) {
    *token = from_env;
    return true;
  }
  const std::string path = token_file.empty() ? DefaultTokenFile() : token_file;
  auto secret = rpc::ReadSecretFile(path);
  if (secret) {
    *token = std::move(*secret);
    return true;
  }
  // No default file: fine on a farm without tokens.
  if (token_file.empty() && secret.error().code() == Status::Code::kNotFound) return true;
  std::cerr << "error: token file: " << secret.error().message() << "\n";
  return false;
}

void AddAccessCommands(CLI::App& app, AccessCommands* commands) {
  commands->tokens = app.add_subcommand("tokens", "API tokens: create (admin), list, revoke");
  commands->tokens->require_subcommand(1);
  commands->create = commands->tokens->add_subcommand("create", "Make a token; it is shown once");
  commands->create->add_option("--name", commands->name, "Its name, for the audit trail (never reused)")->required();
  commands->create->add_option("--role", commands->role, "viewer, submitter or admin")->required();
  commands->create->add_option("--expires", commands->expires, "Lifetime such as 30d, 12h or 2w (default: never)");
  commands->create->add_flag("--save", commands->save, "Also write it to ~/.config/gauntlet/token (mode 0600)");
  commands->create->add_option("--save-to", commands->save_to, "With --save: write it here instead");
  commands->list = commands->tokens->add_subcommand("list", "Tokens with role, state and who made them");
  commands->revoke = commands->tokens->add_subcommand("revoke", "Refuse a token's calls from now on");
  commands->revoke->add_option("name", commands->name, "Token name")->required();
  commands->events = app.add_subcommand("events", "The audit trail: every call that changed the farm, newest first");
  commands->events->add_option("--actor", commands->actor, "Only this token's events");
  commands->events->add_option("--limit", commands->limit, "Events shown (default 50)");
  commands->whoami = app.add_subcommand("whoami", "The token this shell uses: its name and role");
}

std::optional<int> RunAccessCommands(const Globals& globals, const AccessCommands& commands) {
  if (commands.create->parsed()) return CreateToken(globals, commands);
  if (commands.list->parsed()) return ListTokens(globals);
  if (commands.revoke->parsed()) return RevokeToken(globals, commands.name);
  if (commands.events->parsed()) return Events(globals, commands);
  if (commands.whoami->parsed()) return WhoAmI(globals);
  return std::nullopt;
}

}  // namespace gauntlet::cli
