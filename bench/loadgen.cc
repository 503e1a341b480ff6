// gauntlet_bench_loadgen: N simulated agents (8 devices each) against a real
// gauntlet-coordinator binary over the real AgentService, with an exec sweep
// of tiny distinct jobs submitted through the real CLI. Each agent reports
// every job it is given succeeded at once, so what is measured is the
// coordinator: jobs/s, the latency from a device freeing to its next
// assignment reaching the agent, CPU per job, threads, memory, and how many
// jobs were lost to lease expiry. The agents run on gRPC's callback API:
// the generator's own CPU is reported beside the coordinator's.
//
//   gauntlet_bench_loadgen --coordinator build/bin/gauntlet-coordinator
//       --cli build/bin/gauntlet --agents 100 --jobs 10000 [--label after]
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "gauntlet/v1/agent.grpc.pb.h"
#include "lib/rpc/message_policy.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
constexpr int kDevicesPerAgent = 8;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// "Threads:" and "VmRSS:" of a process.
std::pair<int, double> ThreadsAndRssMiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  int threads = 0;
  double rss = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("Threads:")) threads = std::stoi(line.substr(8));
    if (line.starts_with("VmRSS:")) rss = std::stod(line.substr(6)) / 1024.0;
  }
  return {threads, rss};
}

struct Shared {
  std::mutex mu;
  std::condition_variable done_cv;
  std::vector<double> latencies_ms;  // Device freed (report acknowledged) → next assignment received.
  std::atomic<int64_t> reported{0};
  std::atomic<int64_t> failed_rpcs{0};
  int64_t target = 0;
  std::atomic<bool> stop{false};
};

// One simulated agent: heartbeat (long poll) → report each assignment
// succeeded → heartbeat again. Runs entirely on gRPC's callback threads.
// With `carry_reports` the reports ride on the next heartbeat instead of a
// ReportAttempt call each (HeartbeatRequest.reports).
class Agent {
 public:
  Agent(gauntlet::v1::AgentService::Stub& stub, std::string name, Shared& shared, bool carry_reports)
      : stub_(stub), name_(std::move(name)), shared_(shared), carry_reports_(carry_reports) {}

  bool Register() {
    gauntlet::v1::RegisterRequest request;
    request.set_name(name_);
    for (int i = 0; i < kDevicesPerAgent; ++i) {
      auto* device = request.add_devices();
      device->set_index(i);
      device->set_kind("sim");
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    gauntlet::v1::RegisterResponse reply;
    if (!stub_.Register(&context, request, &reply).ok()) return false;
    session_ = "Bearer " + reply.session();
    return true;
  }

  void Start() {
    freed_at_ = SteadyClock::now();
    Heartbeat();
  }

 private:
  void Heartbeat() {
    if (shared_.stop) return;
    auto context = std::make_shared<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    context->AddMetadata("authorization", session_);
    auto request = std::make_shared<gauntlet::v1::HeartbeatRequest>();
    request->set_name(name_);
    request->set_wait_ms(2000);
    for (int64_t attempt_id : finished_) {
      auto* report = request->add_reports();
      report->set_attempt_id(attempt_id);
      report->set_state(gauntlet::v1::ATTEMPT_STATE_SUCCEEDED);
    }
    auto reply = std::make_shared<gauntlet::v1::HeartbeatResponse>();
    stub_.async()->Heartbeat(context.get(), request.get(), reply.get(),
                             [this, context, request, reply](grpc::Status status) {
                               if (!status.ok()) {
                                 ++shared_.failed_rpcs;
                                 std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                 return Heartbeat();
                               }
                               OnAssignments(*reply);
                             });
  }

  void OnAssignments(const gauntlet::v1::HeartbeatResponse& reply) {
    if (carry_reports_) return OnCarriedAcks(reply);
    if (reply.assignments_size() == 0) return Heartbeat();
    const double waited_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - freed_at_).count();
    {
      std::lock_guard lock(shared_.mu);
      shared_.latencies_ms.push_back(waited_ms);
    }
    pending_ = reply.assignments_size();
    for (const auto& assignment : reply.assignments()) Report(assignment.attempt_id());
  }

  void Report(int64_t attempt_id) {
    auto context = std::make_shared<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    context->AddMetadata("authorization", session_);
    auto report = std::make_shared<gauntlet::v1::AttemptReport>();
    report->set_attempt_id(attempt_id);
    report->set_state(gauntlet::v1::ATTEMPT_STATE_SUCCEEDED);
    auto reply = std::make_shared<gauntlet::v1::ReportAttemptResponse>();
    stub_.async()->ReportAttempt(context.get(), report.get(), reply.get(),
                                 [this, context, report, reply, attempt_id](grpc::Status status) {
                                   if (!status.ok()) {
                                     ++shared_.failed_rpcs;
                                     if (!shared_.stop) return Report(attempt_id);
                                     return;
                                   }
                                   if (shared_.reported.fetch_add(1) + 1 >= shared_.target) {
                                     shared_.done_cv.notify_all();
                                   }
                                   if (--pending_ == 0) {
                                     freed_at_ = SteadyClock::now();
                                     Heartbeat();
                                   }
                                 });
  }

  // Every assignment finishes at once; its report goes with the next call.
  // The device counts as free from the moment that call is sent.
  void OnCarriedAcks(const gauntlet::v1::HeartbeatResponse& reply) {
    int64_t stored = 0;
    for (const auto& ack : reply.acks()) stored += ack.error_code() == 0 ? 1 : 0;
    if (stored != static_cast<int64_t>(finished_.size())) ++shared_.failed_rpcs;
    finished_.clear();
    if (stored > 0 && shared_.reported.fetch_add(stored) + stored >= shared_.target) shared_.done_cv.notify_all();
    if (reply.assignments_size() > 0) {
      const double waited_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - freed_at_).count();
      {
        std::lock_guard lock(shared_.mu);
        shared_.latencies_ms.push_back(waited_ms);
      }
      for (const auto& assignment : reply.assignments()) finished_.push_back(assignment.attempt_id());
      freed_at_ = SteadyClock::now();
    }
    Heartbeat();
  }

  gauntlet::v1::AgentService::Stub& stub_;
  const std::string name_;
  Shared& shared_;
  const bool carry_reports_;
  std::string session_;  // "Bearer <session credential>" from Register.
  std::vector<int64_t> finished_;  // Reports the next heartbeat carries.
  std::atomic<int> pending_{0};
  SteadyClock::time_point freed_at_;
};

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gauntlet_bench_loadgen: simulated agents against a real coordinator"};
  std::string coordinator_bin, cli_bin, label = "run", dir = "/tmp/gauntlet-loadgen";
  int agents = 100;
  int64_t jobs = 10000;
  double timeout_s = 600;
  app.add_option("--coordinator", coordinator_bin, "gauntlet-coordinator binary")->required();
  app.add_option("--cli", cli_bin, "gauntlet CLI binary")->required();
  app.add_option("--agents", agents, "Simulated agents, 8 devices each");
  app.add_option("--jobs", jobs, "Exec jobs in the sweep");
  app.add_option("--label", label, "Name of this run in the output");
  app.add_option("--dir", dir, "Scratch folder");
  app.add_option("--timeout", timeout_s, "Give up after this many seconds");
  std::string metrics_out;
  app.add_option("--metrics-out", metrics_out, "Write the coordinator's /metrics at the end of the run here");
  bool carry_reports = false;
  app.add_flag("--carry-reports", carry_reports,
               "Reports ride on heartbeats (HeartbeatRequest.reports) instead of a ReportAttempt call each");
  CLI11_PARSE(app, argc, argv);

  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string ready = dir + "/ready.json";
  pid_t coordinator = fork();
  if (coordinator == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(coordinator_bin.c_str(), coordinator_bin.c_str(), "--db", (dir + "/db.sqlite").c_str(), "--artifacts",
          (dir + "/artifacts").c_str(), "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--ready-file",
          ready.c_str(), "--log-level", "warn", nullptr);
    _exit(127);
  }
  nlohmann::json ports;
  for (int i = 0; i < 600 && ports.is_null(); ++i) {
    std::ifstream in(ready);
    if (in) ports = nlohmann::json::parse(in, nullptr, false);
    if (ports.is_discarded()) ports = nullptr;
    if (ports.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (ports.is_null()) {
    std::cerr << "the coordinator did not start\n";
    return 1;
  }
  const std::string address = "127.0.0.1:" + std::to_string(ports["grpc"].get<int>());
  grpc::ChannelArguments args = gauntlet::rpc::ChannelArguments();
  // A few channels, so the agents' calls spread over several connections.
  std::vector<std::unique_ptr<gauntlet::v1::AgentService::Stub>> stubs;
  for (int i = 0; i < 8; ++i) {
    args.SetInt("grpc.channel_id", i);  // Distinct arguments: distinct connections.
    stubs.push_back(gauntlet::v1::AgentService::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args)));
  }

  Shared shared;
  shared.target = jobs;
  std::vector<std::unique_ptr<Agent>> fleet;
  for (int i = 0; i < agents; ++i) {
    fleet.push_back(std::make_unique<Agent>(*stubs[i % stubs.size()], "sim-" + std::to_string(i), shared, carry_reports));
    if (!fleet.back()->Register()) {
      std::cerr << "register failed for agent " << i << "\n";
      return 1;
    }
  }
  for (auto& agent : fleet) agent->Start();

  // The sweep: one exec job per index, all distinct.
  const std::string spec_path = dir + "/sweep.yaml";
  {
    std::ofstream spec(spec_path);
    spec << "name: load\njobs:\n  - {name: t, kind: exec, command: 'true ${i}', device_kind: sim, "
            "matrix: {i: [";
    for (int64_t i = 0; i < jobs; ++i) spec << (i ? "," : "") << i;
    spec << "]}}\n";
  }
  rusage self_before{};
  getrusage(RUSAGE_SELF, &self_before);
  const double coordinator_cpu_before = CpuSeconds(coordinator);
  const auto submit_started = SteadyClock::now();
  const std::string submit = cli_bin + " --coordinator " + address + " submit " + spec_path + " > " + dir +
                             "/submit.txt 2>&1";
  if (std::system(submit.c_str()) != 0) {
    std::ifstream in(dir + "/submit.txt");
    std::cerr << "submit failed: " << in.rdbuf() << "\n";
    return 1;
  }
  const double submit_s = SecondsSince(submit_started);
  const auto run_started = SteadyClock::now();
  int max_threads = 0;
  double max_rss = 0;
  {
    std::unique_lock lock(shared.mu);
    while (shared.reported < jobs && SecondsSince(run_started) < timeout_s) {
      shared.done_cv.wait_for(lock, std::chrono::milliseconds(200));
      auto [threads, rss] = ThreadsAndRssMiB(coordinator);
      max_threads = std::max(max_threads, threads);
      max_rss = std::max(max_rss, rss);
    }
  }
  const double run_s = SecondsSince(run_started);
  const double coordinator_cpu = CpuSeconds(coordinator) - coordinator_cpu_before;
  rusage self_after{};
  getrusage(RUSAGE_SELF, &self_after);
  auto cpu = [](const rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  const double generator_cpu = cpu(self_after) - cpu(self_before);
  shared.stop = true;

  // What the coordinator says happened to the jobs.
  httplib::Client http("127.0.0.1", ports["http"].get<int>());
  http.set_read_timeout(60);
  auto sweep = http.Get("/api/v1/sweeps/1");
  nlohmann::json by_state = nlohmann::json::object();
  if (sweep && sweep->status == 200) by_state = nlohmann::json::parse(sweep->body).value("jobsByState", by_state);
  auto metrics = http.Get("/metrics");
  std::string expired = "n/a";
  // The coordinator's own free → assigned histogram: (bound in s, cumulative count).
  std::vector<std::pair<double, double>> free_buckets;
  double commits = 0, reports_committed = 0;
  if (metrics && metrics->status == 200) {
    if (!metrics_out.empty()) std::ofstream(metrics_out) << metrics->body;
    std::istringstream lines(metrics->body);
    std::string line;
    int64_t total = 0;
    auto value = [&] { return std::stod(line.substr(line.rfind(' '))); };
    while (std::getline(lines, line)) {
      if (line.starts_with("gauntlet_leases_expired_total{")) total += std::llround(value());
      if (line.starts_with("gauntlet_commit_seconds_count")) commits = value();
      if (line.starts_with("gauntlet_reports_committed_total")) reports_committed = value();
      if (line.starts_with("gauntlet_free_to_assigned_seconds_bucket{le=\"")) {
        const std::string bound = line.substr(line.find('"') + 1, line.rfind('"') - line.find('"') - 1);
        free_buckets.emplace_back(bound == "+Inf" ? 1e9 : std::stod(bound), value());
      }
    }
    expired = std::to_string(total);
  }
  // The bucket bound a quantile lies under, in ms.
  auto at_most_ms = [&](double q) {
    if (free_buckets.empty() || free_buckets.back().second == 0) return 0.0;
    for (const auto& [bound, cumulative] : free_buckets) {
      if (cumulative >= q * free_buckets.back().second) return bound * 1000.0;
    }
    return free_buckets.back().first * 1000.0;
  };
  kill(coordinator, SIGTERM);
  waitpid(coordinator, nullptr, 0);

  std::vector<double> latencies;
  {
    std::lock_guard lock(shared.mu);
    latencies = shared.latencies_ms;
  }
  const int64_t done = shared.reported;
  nlohmann::json out = {
      {"label", label},
      {"carry_reports", carry_reports},
      {"agents", agents},
      {"jobs", jobs},
      {"completed", done},
      {"submit_s", submit_s},
      {"run_s", run_s},
      {"jobs_per_s", static_cast<double>(done) / run_s},
      // Seen by the agent: from its report acknowledged (with --carry-reports:
      // from the call carrying it sent) to its next assignment arriving.
      {"free_to_assigned_p50_ms", Percentile(latencies, 0.50)},
      {"free_to_assigned_p99_ms", Percentile(latencies, 0.99)},
      // Measured by the coordinator: from the report applied (device free
      // in its memory) to the next assignment leaving; a histogram bound.
      {"coordinator_free_to_assigned_p50_ms_at_most", at_most_ms(0.50)},
      {"coordinator_free_to_assigned_p99_ms_at_most", at_most_ms(0.99)},
      {"reports_per_commit", commits > 0 ? reports_committed / commits : 0.0},
      {"coordinator_cpu_ms_per_job", 1000.0 * coordinator_cpu / static_cast<double>(std::max<int64_t>(done, 1))},
      {"coordinator_cpu_share", coordinator_cpu / run_s},
      {"generator_cpu_share", generator_cpu / run_s},
      {"coordinator_max_threads", max_threads},
      {"coordinator_max_rss_mib", max_rss},
      {"failed_rpcs", shared.failed_rpcs.load()},
      {"jobs_by_state", by_state},
      {"leases_expired", expired},
  };
  std::cout << out.dump() << std::endl;
  // Callbacks may still be in flight on gRPC's threads; leave without
  // tearing the agents down under them.
  std::_Exit(done >= jobs ? 0 : 1);
}
