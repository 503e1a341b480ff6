#include "tests/integration/farm.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gauntlet::testing {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

namespace {

std::unique_ptr<grpc::ClientContext> Context(const std::string& api_token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!api_token.empty()) context->AddMetadata("authorization", "Bearer " + api_token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}
}  // namespace

std::string Farm::BinDir() { return GAUNTLET_BIN_DIR; }

Farm::Farm(const std::string& name) {
  dir_ = std::string(GAUNTLET_TEST_TMP) + "/" + name + "-" + std::to_string(getpid());
  fs::remove_all(dir_);
  fs::create_directories(dir_);
}

Farm::~Farm() {
  for (auto& [name, process] : agents_) {
    process.Signal(SIGKILL);
    while (!process.Poll()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  KillCoordinator();
}

void Farm::StartCoordinator(const std::string& lease_ttl) { StartCoordinatorWithFileLimitKb(lease_ttl, 0); }

bool Farm::CoordinatorExited() {
  if (!coordinator_) return true;
  if (!coordinator_->Poll()) return false;
  coordinator_.reset();
  return true;
}

void Farm::StartCoordinatorWithFileLimitKb(const std::string& lease_ttl, int limit_kb,
                                           const std::map<std::string, std::string>& env) {
  std::string ready = dir_ + "/coordinator.ready";
  fs::remove(ready);
  std::string grpc = "127.0.0.1:" + std::to_string(grpc_port_);
  std::string http = "127.0.0.1:" + std::to_string(http_port_);
  std::vector<std::string> argv = {BinDir() + "/gauntlet-coordinator", "--db", dir_ + "/gauntlet.db",
                                   "--artifacts", dir_ + "/artifacts", "--grpc", grpc, "--http", http,
                                   "--lease-ttl", lease_ttl, "--ready-file", ready};
  argv.insert(argv.end(), coordinator_flags_.begin(), coordinator_flags_.end());
  if (limit_kb > 0) {
    // bash's ulimit -f counts 1024-byte blocks.
    std::string command = "ulimit -f " + std::to_string(limit_kb) + " && exec";
    for (const auto& arg : argv) command += " '" + arg + "'";
    argv = {"bash", "-c", command};
  }
  auto process = agent::Process::Start({argv, env, dir_, dir_ + "/coordinator.log"});
  ASSERT_TRUE(process.has_value()) << process.error().ToString();
  coordinator_.emplace(*process);
  for (int i = 0; i < 200 && !fs::exists(ready); ++i) {
    ASSERT_FALSE(coordinator_->Poll().has_value()) << "coordinator exited: " << ReadFile(dir_ + "/coordinator.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(ready)) << ReadFile(dir_ + "/coordinator.log");
  auto ports = nlohmann::json::parse(ReadFile(ready));
  grpc_port_ = ports["grpc"];
  http_port_ = ports["http"];
  auto credentials = grpc::InsecureChannelCredentials();
  if (!tls_ca_.empty()) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFile(tls_ca_);
    credentials = grpc::SslCredentials(tls);
  }
  control_ = v1::ControlService::NewStub(grpc::CreateChannel(address(), credentials));
}

void Farm::KillCoordinator() {
  if (!coordinator_) return;
  coordinator_->Signal(SIGKILL);
  while (!coordinator_->Poll()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  coordinator_.reset();
}

bool Farm::WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

int Farm::FinishedAttempts(const std::string& agent) const {
  std::error_code ec;
  int finished = 0;
  for (auto it = std::filesystem::directory_iterator(dir_ + "/agent-" + agent + "/attempts", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (std::filesystem::exists(it->path() / "out" / "result.json")) ++finished;
  }
  return finished;
}

std::string Farm::AgentLog(const std::string& agent) const {
  std::ifstream in(dir_ + "/agent-" + agent + ".log");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void Farm::StartAgent(const std::string& name, const std::string& devices, const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {BinDir() + "/gauntlet-agent", "--coordinator", address(), "--name", name,
                                   "--devices", devices, "--kill-grace-ms", "500"};
  if (std::find(flags.begin(), flags.end(), "--workdir") == flags.end()) {
    argv.insert(argv.end(), {"--workdir", dir_ + "/agent-" + name});
  }
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto process = agent::Process::Start({argv,
                                        {},
                                        dir_,
                                        dir_ + "/agent-" + name + ".log"});
  ASSERT_TRUE(process.has_value()) << process.error().ToString();
  agents_.insert_or_assign(name, *process);
}

void Farm::KillAgent(const std::string& name) {
  auto found = agents_.find(name);
  ASSERT_NE(found, agents_.end());
  found->second.Signal(SIGKILL);
  while (!found->second.Poll()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  agents_.erase(found);
}

int64_t Farm::Submit(const std::string& spec_yaml) {
  v1::SubmitSweepRequest request;
  request.set_spec_text(spec_yaml);
  request.set_source("test.yaml");
  v1::SubmitSweepResponse reply;
  grpc::Status status = control_->SubmitSweep(Context(api_token_).get(), request, &reply);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return reply.sweep().id();
}

v1::Sweep Farm::WaitForSweep(int64_t sweep_id, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  v1::Sweep sweep;
  while (std::chrono::steady_clock::now() < deadline) {
    v1::GetSweepRequest request;
    request.set_id(sweep_id);
    if (control_->GetSweep(Context(api_token_).get(), request, &sweep).ok() && sweep.finished()) return sweep;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "sweep " << sweep_id << " did not finish in " << timeout.count() << " s; coordinator log:\n"
                << ReadFile(dir_ + "/coordinator.log");
  return sweep;
}

v1::Job Farm::WaitForJob(int64_t job_id, const std::function<bool(const v1::Job&)>& predicate,
                         std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  v1::Job job;
  while (std::chrono::steady_clock::now() < deadline) {
    job = Job(job_id);
    if (predicate(job)) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "job " << job_id << " never reached the expected state; last: " << job.ShortDebugString();
  return job;
}

std::vector<v1::Job> Farm::Jobs(int64_t sweep_id) {
  v1::ListJobsRequest request;
  request.set_sweep_id(sweep_id);
  std::vector<v1::Job> jobs;
  do {
    v1::ListJobsResponse reply;
    grpc::Status status = control_->ListJobs(Context(api_token_).get(), request, &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    jobs.insert(jobs.end(), reply.jobs().begin(), reply.jobs().end());
    request.set_page_token(reply.next_page_token());
  } while (!request.page_token().empty());
  return jobs;
}

v1::Job Farm::Job(int64_t job_id) {
  v1::GetJobRequest request;
  request.set_id(job_id);
  v1::Job reply;
  control_->GetJob(Context(api_token_).get(), request, &reply);
  return reply;
}

CliResult Farm::Run(const std::vector<std::string>& argv, const std::string& log_path) {
  fs::remove(log_path);
  auto process = agent::Process::Start({argv, {}, "", log_path});
  if (!process) return {-1, process.error().ToString()};
  for (int i = 0; i < 1200; ++i) {
    if (auto exit = process->Poll()) return {exit->signal ? 128 + exit->signal : exit->exit_code, ReadFile(log_path)};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  process->Signal(SIGKILL);
  return {-1, "timed out: " + ReadFile(log_path)};
}

CliResult Farm::Cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinDir() + "/gauntlet", "--coordinator", address()};
  if (!tls_ca_.empty()) argv.insert(argv.end(), {"--tls-ca", tls_ca_});
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, dir_ + "/cli-" + std::to_string(cli_runs_++) + ".log");
}

}  // namespace gauntlet::testing
