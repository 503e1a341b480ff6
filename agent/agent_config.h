// Settings of one agent process, from its flags.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/constants.h"
#include "agent/credential.h"
#include "agent/job_user.h"
#include "lib/rpc/tls.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::agent {

struct AgentConfig {
  std::string name;
  std::string coordinator = "127.0.0.1:7070";
  std::string workdir = "gauntlet-data/agent";
  // Kept across attempts, sweeps and nights for jobs' own caches (an IREE
  // compile's modules, downloads); jobs see it as GAUNTLET_CACHE. "": under workdir.
  std::string cache_dir;
  std::string worker_path;             // gauntlet-worker; default: beside this binary.
  std::string mpirun_path = "mpirun";
  std::vector<v1::Device> devices;
  int threads_per_device = 0;          // OMP_NUM_THREADS per device held; 0 leaves it alone.
  std::vector<std::string> tags;       // Jobs with resources.tags need all of theirs here.
  std::vector<std::string> suites;     // Built into the worker; reported at Register.
  std::vector<std::string> model_roots;    // --models: folders of model folders, reported at Register.
  std::vector<std::string> dataset_roots;  // --datasets: folders of dataset files.
  int64_t kill_grace_ms = constants::kDefaultKillGraceMs;  // SIGTERM to SIGKILL on timeout or cancel.
  int64_t poll_ms = constants::kDefaultPollMs;              // Longest heartbeat wait.
  std::string version = "0.1.0";
  // Shared by every copy of the config: the session and its runners. Null
  // sends no credential (tests with a fake coordinator).
  std::shared_ptr<AgentCredential> credential;
  rpc::TlsFiles tls;
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;  // Null: insecure.
  std::optional<JobUser> run_as;  // Jobs run as this user (--run-as).
};

}  // namespace gauntlet::agent
