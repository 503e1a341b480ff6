#include "coordinator/flags.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "coordinator/auth/agent_tokens.h"
#include "coordinator/spec/parser.h"
#include "lib/rpc/credentials.h"
#include "lib/rpc/tls.h"

namespace gauntlet {
namespace {

// Splits "host:port" for the HTTP listener.
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  try {
    size_t used = 0;
    *port = std::stoi(address.substr(colon + 1), &used);
    return used == address.size() - colon - 1 && *port >= 0 && *port < 65536;
  } catch (...) {
    return false;
  }
}

}  // namespace

std::optional<CoordinatorFlags> ParseFlags(int argc, char** argv, int* exit_code) {
  CLI::App app{"gauntlet-coordinator: schedules sweeps onto agents and serves the board"};
  CoordinatorFlags flags;
  CoordinatorOptions& options = flags.options;
  std::string http = "127.0.0.1:8080";
  std::string lease_ttl = "15s";
  app.add_option("--db", options.db_path, "SQLite database file (created if missing)");
  app.add_option("--artifacts", options.artifacts_dir, "Folder for content-addressed artifacts");
  app.add_option("--max-artifact-bytes", options.max_artifact_bytes,
                 "Cap on the artifacts folder; uploads past it wait as on a full disk (0: no cap)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--grpc", options.grpc_address, "gRPC listen address host:port (port 0: any free port)");
  app.add_option("--http", http, "HTTP listen address host:port for the board and JSON API; 'off' disables it");
  app.add_option("--lease-ttl", lease_ttl, "How long an attempt survives without a heartbeat, e.g. 15s");
  app.add_option("--unhealthy-after", options.jobs.unhealthy_after,
                 "Infrastructure failures in a row that take a device out of service until its health check "
                 "passes (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ready-file", flags.ready_file, "Write {\"grpc\":PORT,\"http\":PORT} here once listening");
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn or error");
  // Bounds on what one submitted spec may ask for (coordinator/spec/limits.h).
  spec::Limits& limits = options.jobs.spec_limits;
  const auto positive = CLI::PositiveNumber;
  app.add_option("--max-spec-bytes", limits.max_spec_bytes, "Largest spec accepted, in bytes")->check(positive);
  app.add_option("--max-yaml-nodes", limits.max_yaml_nodes, "Most YAML nodes in a spec, each alias counted once per use")
      ->check(positive);
  app.add_option("--max-yaml-depth", limits.max_yaml_depth, "Deepest YAML nesting in a spec")->check(positive);
  app.add_option("--max-jobs-per-sweep", limits.max_jobs_per_sweep, "Most jobs one sweep may expand to")->check(positive);
  app.add_option("--max-dependency-edges", limits.max_dependency_edges, "Most dependencies one sweep may wire")
      ->check(positive);
  app.add_option("--max-program-search", limits.max_program_search,
                 "Most program shape checks one context length may take")
      ->check(positive);
  app.add_option("--max-command-bytes", limits.max_command_bytes, "Largest exec command (argv bytes together)")
      ->check(positive);
  app.add_option("--max-env-bytes", limits.max_env_bytes, "Largest exec env (names and values together)")->check(positive);
  app.add_option("--max-labels", limits.max_labels, "Most labels per job")->check(positive);
  app.add_option("--max-log-bytes", options.jobs.max_log_bytes_per_attempt, "Log bytes kept per attempt")->check(positive);
  app.add_flag("--insecure", options.insecure_allowed,
               "Listen beyond loopback without TLS, API tokens or agent registration tokens (docs/security.md)");
  app.add_option("--tls-cert", options.tls.cert, "PEM certificate chain served on gRPC and HTTPS (reloaded on SIGHUP)");
  app.add_option("--tls-key", options.tls.key, "PEM private key of --tls-cert (reloaded on SIGHUP)");
  app.add_option("--tls-ca", options.tls.ca,
                 "PEM CA bundle agents' client certificates must chain to: with it, every agent needs one "
                 "(mutual TLS); people's calls still use API tokens");
  std::string agent_tokens;
  app.add_option("--agent-tokens", agent_tokens,
                 "YAML file of registration tokens (their SHA-256) an agent must present, each with the device "
                 "kinds and tags it allows (docs/security.md); without it any agent may join");
  std::string admin_token_file;
  app.add_option("--admin-token-file", admin_token_file,
                 "File (mode 0600) holding an admin API token, 32+ characters (openssl rand -hex 32): API tokens are "
                 "in force from the first start, and this one is the admin 'bootstrap-admin'");
  app.add_flag("--board-public", options.board_public,
               "Anyone who reaches the board may read it (and the JSON API's reads) without a token; changes "
               "still need one");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  }
  *exit_code = 2;
  if (http == "off") {
    options.http_port = -1;
  } else if (!SplitHostPort(http, &options.http_host, &options.http_port)) {
    std::cerr << "--http '" << http << "' must be host:port, e.g. 127.0.0.1:8080, or 'off'\n";
    return std::nullopt;
  }
  auto ttl = spec::ParseDuration(lease_ttl);
  if (!ttl || *ttl <= 0) {
    std::cerr << "--lease-ttl '" << lease_ttl << "' must be a positive duration such as 15s\n";
    return std::nullopt;
  }
  std::string grpc_host;
  int grpc_port = 0;
  if (!SplitHostPort(options.grpc_address, &grpc_host, &grpc_port)) {
    std::cerr << "--grpc '" << options.grpc_address << "' must be host:port, e.g. 127.0.0.1:7070\n";
    return std::nullopt;
  }
  if (!options.tls.ca.empty() && !options.tls.identity()) {
    std::cerr << "--tls-ca verifies agents' certificates over TLS: give --tls-cert and --tls-key too\n";
    return std::nullopt;
  }
  if (options.tls.identity()) {
    // Checked here too, so a wrong path fails before the database is opened.
    if (auto pem = rpc::ReadTlsFiles(options.tls); !pem) {
      std::cerr << pem.error().message() << "\n";
      return std::nullopt;
    }
  }
  if (!agent_tokens.empty()) {
    std::ifstream in(agent_tokens);
    if (!in) {
      std::cerr << "--agent-tokens " << agent_tokens << ": cannot read it\n";
      return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto tokens = auth::ParseAgentTokens(text.str(), agent_tokens);
    if (!tokens) {
      std::cerr << "--agent-tokens: " << tokens.error().message() << "\n";
      return std::nullopt;
    }
    options.jobs.agent_tokens = std::move(*tokens);
  }
  if (!admin_token_file.empty()) {
    auto secret = rpc::ReadSecretFile(admin_token_file);
    if (!secret) {
      std::cerr << "--admin-token-file: " << secret.error().message() << "\n";
      return std::nullopt;
    }
    if (secret->size() < 32) {
      std::cerr << "--admin-token-file: the token is " << secret->size()
                << " characters; give at least 32 (openssl rand -hex 32 > FILE)\n";
      return std::nullopt;
    }
    options.jobs.admin_token_sha256 = rpc::SecretHash(*secret);
  }
  options.jobs.lease_ttl_ms = static_cast<int64_t>(*ttl * 1000);
  options.jobs.agent_timeout_ms = options.jobs.lease_ttl_ms;
  // A test hook, deliberately not a flag: the fault tests kill the
  // coordinator in the middle of a batch commit.
  if (const char* crash = std::getenv("GAUNTLET_TEST_CRASH_BEFORE_BATCH")) options.jobs.crash_before_batch = std::atoi(crash);
  if (std::getenv("GAUNTLET_TEST_CRASH_BEFORE_FIRING_RECORD")) options.jobs.crash_before_recording_firing = true;
  *exit_code = 0;
  return flags;
}

}  // namespace gauntlet
