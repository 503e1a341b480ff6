#include "agent/flags.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "agent/inventory.h"
#include "lib/names/names.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::agent {
namespace {

std::string DefaultWorkerPath() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "gauntlet-worker" : (self.parent_path() / "gauntlet-worker").string();
}

std::string DefaultName() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return host;
}

}  // namespace

std::optional<AgentFlags> ParseFlags(int argc, char** argv, int* exit_code) {
  CLI::App app{"gauntlet-agent: runs Gauntlet jobs on this node's devices"};
  AgentFlags flags;
  AgentConfig& config = flags.config;
  config.name = DefaultName();
  config.worker_path = DefaultWorkerPath();
  std::string devices = "auto";
  app.add_option("--coordinator", config.coordinator, "Coordinator gRPC address host:port")
      ->envname("GAUNTLET_COORDINATOR");
  app.add_option("--name", config.name, "Agent name, unique in the farm (default: host name)");
  app.add_option("--devices", devices, "cpu:N, sim:N, gpu:N, gpu:0,1,3 or auto");
  app.add_option("--workdir", config.workdir, "Folder for attempt folders and logs");
  app.add_option("--cache-dir", config.cache_dir,
                 "Folder jobs keep caches in across nights (GAUNTLET_CACHE: compiled IREE modules, downloads); "
                 "default: WORKDIR/cache");
  app.add_option("--tags", config.tags, "Node tags jobs can require (resources.tags), e.g. --tags mi300x,spx")
      ->delimiter(',');
  app.add_option("--models", config.model_roots,
                 "Folder of model folders this node holds (repeatable); reported so submits can check model paths")
      ->check(CLI::ExistingDirectory);
  app.add_option("--datasets", config.dataset_roots, "Folder of dataset files this node holds (repeatable)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--worker", config.worker_path, "Path of gauntlet-worker");
  app.add_option("--mpirun", config.mpirun_path, "Path of mpirun");
  app.add_option("--kill-grace-ms", config.kill_grace_ms, "Milliseconds between SIGTERM and SIGKILL");
  app.add_option("--threads-per-device", config.threads_per_device,
                 "OMP_NUM_THREADS per device: each worker rank gets this many, an exec job this many per device "
                 "it holds, unless the job sets it (default: the node's cores over its devices; 0 leaves the "
                 "environment's)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn or error");
  app.add_option("--tls-ca", config.tls.ca, "CA file that verifies the coordinator's TLS certificate");
  app.add_option("--tls-cert", config.tls.cert, "Client certificate for mutual TLS (the coordinator's --tls-ca)");
  app.add_option("--tls-key", config.tls.key, "Key of --tls-cert");
  std::string run_as;
  app.add_option("--run-as", run_as,
                 "Run jobs as this unprivileged user (the agent must be root); the attempt folders become theirs");
  std::string token_file;
  app.add_option("--token-file", token_file,
                 "File holding the registration token the coordinator's --agent-tokens lists (else "
                 "GAUNTLET_AGENT_TOKEN); never give the token itself as a flag");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  }
  auto parsed = ParseDeviceSpec(devices);
  if (!parsed) {
    std::cerr << "--devices: " << parsed.error().message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  config.devices = *parsed;
  if (Status present = CheckGpusPresent(config.devices, DetectGpus()); !present.ok()) {
    std::cerr << "--devices " << devices << ": " << present.message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  // The coordinator refuses these too; saying so here names the flag.
  for (const auto& [flag, problem] : {std::pair{"--name", names::NameProblem(config.name)},
                                      std::pair{"--tags", names::FirstNameProblem(config.tags)}}) {
    if (problem.empty()) continue;
    std::cerr << flag << ": " << problem << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  auto credentials = rpc::ClientCredentials(config.tls);
  if (!credentials) {
    std::cerr << credentials.error().message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  config.channel_credentials = std::move(*credentials);
  if (!run_as.empty()) {
    auto user = LookUpJobUser(run_as, ::geteuid());
    if (!user) {
      std::cerr << "--run-as " << run_as << ": " << user.error().message() << "\n";
      *exit_code = 2;
      return std::nullopt;
    }
    if (Status reachable = CheckReachable(config.workdir, *user); !reachable.ok()) {
      std::cerr << "--run-as " << run_as << ": " << reachable.message() << "\n";
      *exit_code = 2;
      return std::nullopt;
    }
    config.run_as = std::move(*user);
  }
  std::string token;
  if (!token_file.empty()) {
    auto secret = rpc::ReadSecretFile(token_file);
    if (!secret) {
      std::cerr << "--token-file: " << secret.error().message() << "\n";
      *exit_code = 2;
      return std::nullopt;
    }
    token = std::move(*secret);
  } else if (const char* from_env = std::getenv("GAUNTLET_AGENT_TOKEN")) {
    token = from_env;
  }
  // Jobs inherit the agent's environment: the token must not be in it.
  ::unsetenv("GAUNTLET_AGENT_TOKEN");
  config.credential = std::make_shared<AgentCredential>(
      token, (std::filesystem::path(config.workdir) / ("session-" + config.name)).string());
  if (app.count("--threads-per-device") == 0 && !std::getenv("OMP_NUM_THREADS")) {
    config.threads_per_device = ThreadsPerDevice(UsableCores(), static_cast<int>(config.devices.size()));
  }
  return flags;
}

}  // namespace gauntlet::agent
