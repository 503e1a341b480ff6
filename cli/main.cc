// gauntlet: the command line for submitting sweeps and reading results.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "cli/table.h"
#include "common/logging.h"
#include "coordinator/sched/job_state.h"
#include "gauntlet/v1/control.grpc.pb.h"

namespace {

using gauntlet::cli::Table;
namespace v1 = gauntlet::v1;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Globals {
  std::string coordinator = "127.0.0.1:7070";
  bool json = false;
};

std::unique_ptr<v1::ControlService::Stub> Connect(const Globals& globals) {
  return v1::ControlService::NewStub(grpc::CreateChannel(globals.coordinator, grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> Context(int seconds = 30) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

// Prints a failed call and returns the exit code for it.
int Fail(const Globals& globals, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::cerr << "error: cannot reach the coordinator at " << globals.coordinator << " (" << status.error_message()
              << "); start it, or point --coordinator / GAUNTLET_COORDINATOR at it\n";
    return kExitFailed;
  }
  std::cerr << "error: " << status.error_message() << "\n";
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFailed;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  std::cout << out;
}

std::string Devices(const v1::Job& job) {
  std::string out;
  for (int index : job.device_indices()) out += (out.empty() ? "" : ",") + std::to_string(index);
  return out;
}

std::string Duration(const v1::Job& job) {
  if (job.started_at_ms() == 0) return "";
  int64_t end = job.finished_at_ms() ? job.finished_at_ms()
                                     : std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count();
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << (end - job.started_at_ms()) / 1000.0 << "s";
  return out.str();
}

std::string Counts(const v1::Sweep& sweep) {
  std::string out;
  for (const char* name : {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_RUNNING", "JOB_STATE_LEASED",
                           "JOB_STATE_READY", "JOB_STATE_PENDING", "JOB_STATE_SKIPPED", "JOB_STATE_CANCELLED"}) {
    auto found = sweep.jobs_by_state().find(name);
    if (found == sweep.jobs_by_state().end() || found->second == 0) continue;
    v1::JobState state;
    v1::JobState_Parse(name, &state);
    out += (out.empty() ? "" : " ") + gauntlet::sched::JobStateName(state) + "=" + std::to_string(found->second);
  }
  return out;
}

std::string SweepStatus(const v1::Sweep& sweep) {
  return !sweep.finished() ? "running" : sweep.succeeded() ? "succeeded" : "failed";
}

void PrintResults(const std::vector<v1::Job>& jobs) {
  Table table({"JOB", "NAME", "STATE", "NODE", "DEVICES", "DURATION", "VERDICT", "REASON"});
  for (const auto& job : jobs) {
    table.Add({std::to_string(job.id()), job.name(), gauntlet::sched::JobStateName(job.state()), job.agent(),
               Devices(job), Duration(job), job.verdict(), job.reason()});
  }
  table.Print(std::cout);
}

int ListJobsOf(const Globals& globals, v1::ControlService::Stub& stub, int64_t sweep_id, v1::JobState state) {
  v1::ListJobsRequest request;
  request.set_sweep_id(sweep_id);
  request.set_state(state);
  v1::ListJobsResponse reply;
  grpc::Status status = stub.ListJobs(Context().get(), request, &reply);
  if (!status.ok()) return Fail(globals, status);
  if (globals.json) {
    PrintJson(reply);
  } else {
    PrintResults({reply.jobs().begin(), reply.jobs().end()});
  }
  return 0;
}

int Submit(const Globals& globals, const std::string& path, bool wait, bool dry_run) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "error: cannot read " << path << "\n";
    return kExitUsage;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto stub = Connect(globals);
  v1::SubmitSweepRequest request;
  request.set_spec_text(text);
  request.set_source(path);
  request.set_dry_run(dry_run);
  v1::SubmitSweepResponse reply;
  grpc::Status status = stub->SubmitSweep(Context().get(), request, &reply);
  if (!status.ok()) return Fail(globals, status);
  if (dry_run) {
    if (globals.json) {
      PrintJson(reply);
      return 0;
    }
    std::cout << "sweep " << reply.sweep().name() << ": " << reply.jobs_size() << " jobs (dry run, nothing stored)\n";
    Table table({"#", "NAME", "KIND", "DEVICES", "DEPENDS ON", "CONTENT KEY"});
    for (int i = 0; i < reply.jobs_size(); ++i) {
      const auto& job = reply.jobs(i);
      std::string deps;
      for (int64_t dep : job.depends_on()) deps += (deps.empty() ? "" : ",") + std::to_string(dep);
      table.Add({std::to_string(i), job.name(), job.kind() == v1::JOB_KIND_WORKER ? "worker" : "exec",
                 std::to_string(job.devices()), deps, job.content_key().substr(0, 12)});
    }
    table.Print(std::cout);
    return 0;
  }
  int64_t sweep_id = reply.sweep().id();
  if (!wait) {
    if (globals.json) {
      PrintJson(reply.sweep());
    } else {
      std::cout << "submitted sweep " << sweep_id << " (" << reply.sweep().name() << ", "
                << reply.sweep().total_jobs() << " jobs)\n";
    }
    return 0;
  }
  std::cerr << "submitted sweep " << sweep_id << " (" << reply.sweep().name() << ", " << reply.sweep().total_jobs()
            << " jobs); waiting\n";
  std::string last;
  v1::Sweep sweep;
  while (true) {
    v1::GetSweepRequest get;
    get.set_id(sweep_id);
    grpc::Status got = stub->GetSweep(Context().get(), get, &sweep);
    if (!got.ok()) {
      // The coordinator may be restarting; keep waiting.
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    std::string counts = Counts(sweep);
    if (counts != last) std::cerr << "  " << counts << "\n";
    last = counts;
    if (sweep.finished()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  int rc = ListJobsOf(globals, *stub, sweep_id, v1::JOB_STATE_UNSPECIFIED);
  if (rc != 0) return rc;
  std::cout << "sweep " << sweep_id << " " << SweepStatus(sweep) << ": " << Counts(sweep) << "\n";
  return sweep.succeeded() ? 0 : kExitFailed;
}

int Status(const Globals& globals, int64_t sweep_id) {
  auto stub = Connect(globals);
  if (sweep_id != 0) {
    v1::GetSweepRequest request;
    request.set_id(sweep_id);
    v1::Sweep sweep;
    grpc::Status status = stub->GetSweep(Context().get(), request, &sweep);
    if (!status.ok()) return Fail(globals, status);
    if (globals.json) {
      PrintJson(sweep);
      return 0;
    }
    std::cout << "sweep " << sweep.id() << " " << sweep.name() << ": " << SweepStatus(sweep) << ", "
              << sweep.total_jobs() << " jobs: " << Counts(sweep) << "\n";
    return 0;
  }
  v1::ListSweepsRequest request;
  request.set_limit(50);
  v1::ListSweepsResponse reply;
  grpc::Status status = stub->ListSweeps(Context().get(), request, &reply);
  if (!status.ok()) return Fail(globals, status);
  if (globals.json) {
    PrintJson(reply);
    return 0;
  }
  Table table({"SWEEP", "NAME", "STATUS", "JOBS", "STATES"});
  for (const auto& sweep : reply.sweeps()) {
    table.Add({std::to_string(sweep.id()), sweep.name(), SweepStatus(sweep), std::to_string(sweep.total_jobs()),
               Counts(sweep)});
  }
  table.Print(std::cout);
  return 0;
}

int Logs(const Globals& globals, int64_t job_id, int64_t attempt_id, bool follow) {
  auto stub = Connect(globals);
  v1::TailLogsRequest request;
  request.set_job_id(job_id);
  request.set_attempt_id(attempt_id);
  request.set_follow(follow);
  grpc::ClientContext context;
  auto reader = stub->TailLogs(&context, request);
  v1::LogChunk chunk;
  while (reader->Read(&chunk)) std::cout << chunk.data() << std::flush;
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : Fail(globals, status);
}

int Agents(const Globals& globals) {
  auto stub = Connect(globals);
  v1::ListAgentsResponse reply;
  grpc::Status status = stub->ListAgents(Context().get(), v1::ListAgentsRequest(), &reply);
  if (!status.ok()) return Fail(globals, status);
  if (globals.json) {
    PrintJson(reply);
    return 0;
  }
  Table table({"AGENT", "STATE", "DEVICES", "BUSY", "LAST HEARTBEAT"});
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& agent : reply.agents()) {
    int busy = 0;
    std::string kinds;
    for (const auto& device : agent.devices()) {
      busy += device.held_by_attempt() != 0;
      if (kinds.find(device.kind()) == std::string::npos) kinds += (kinds.empty() ? "" : ",") + device.kind();
    }
    std::string state = !agent.alive() ? "down" : agent.drained() ? "drained" : "up";
    table.Add({agent.name(), state, std::to_string(agent.devices_size()) + " " + kinds, std::to_string(busy),
               std::to_string((now - agent.last_heartbeat_ms()) / 1000) + "s ago"});
  }
  table.Print(std::cout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gauntlet::SetupLogging("cli", "warn");
  CLI::App app{"gauntlet: submit sweeps to a Gauntlet farm and read their results"};
  app.require_subcommand(1);
  Globals globals;
  app.add_option("--coordinator", globals.coordinator, "Coordinator gRPC address host:port")
      ->envname("GAUNTLET_COORDINATOR");
  app.add_flag("--json", globals.json, "Print JSON (protobuf JSON mapping) instead of tables");

  std::string spec_path;
  bool wait = false, dry_run = false;
  auto* submit = app.add_subcommand("submit", "Validate, expand and submit a sweep spec");
  submit->add_option("file", spec_path, "Sweep spec (YAML or JSON)")->required();
  submit->add_flag("--wait", wait, "Wait for the sweep to finish and print its results; exit 1 if it failed");
  submit->add_flag("--dry-run", dry_run, "Show the expansion without storing anything");

  int64_t sweep_id = 0;
  auto* status = app.add_subcommand("status", "List sweeps, or show one");
  status->add_option("sweep", sweep_id, "Sweep id");

  std::string state_name;
  auto* jobs = app.add_subcommand("jobs", "List jobs");
  jobs->add_option("--sweep", sweep_id, "Only this sweep's jobs");
  jobs->add_option("--state", state_name, "Only jobs in this state (pending, ready, running, failed, ...)");

  auto* results = app.add_subcommand("results", "A sweep's results table");
  results->add_option("sweep", sweep_id, "Sweep id")->required();

  int64_t job_id = 0, attempt_id = 0;
  bool follow = false;
  auto* logs = app.add_subcommand("logs", "Print a job's log");
  logs->add_option("job", job_id, "Job id")->required();
  logs->add_option("--attempt", attempt_id, "Attempt id (default: the latest)");
  logs->add_flag("-f,--follow", follow, "Keep printing until the attempt ends");

  bool cancel_sweep = false;
  int64_t cancel_id = 0;
  auto* cancel = app.add_subcommand("cancel", "Cancel a job, or with --sweep a whole sweep");
  cancel->add_option("id", cancel_id, "Job id (sweep id with --sweep)")->required();
  cancel->add_flag("--sweep", cancel_sweep, "The id is a sweep's");

  auto* retry = app.add_subcommand("retry", "Run a failed, cancelled or skipped job again");
  retry->add_option("job", job_id, "Job id")->required();

  auto* agents = app.add_subcommand("agents", "List agents and their devices");

  std::string agent_name;
  bool undrain = false;
  auto* drain = app.add_subcommand("drain", "Stop giving an agent new jobs");
  drain->add_option("agent", agent_name, "Agent name")->required();
  drain->add_flag("--undo", undrain, "Take jobs again");

  CLI11_PARSE(app, argc, argv);

  if (submit->parsed()) return Submit(globals, spec_path, wait, dry_run);
  if (status->parsed()) return Status(globals, sweep_id);
  if (jobs->parsed() || results->parsed()) {
    v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
    if (!state_name.empty()) {
      state = gauntlet::sched::ParseJobState(state_name);
      if (state == v1::JOB_STATE_UNSPECIFIED) {
        std::cerr << "error: --state '" << state_name
                  << "' is not a job state; use pending, ready, leased, running, succeeded, failed, cancelled or skipped\n";
        return kExitUsage;
      }
    }
    auto stub = Connect(globals);
    return ListJobsOf(globals, *stub, sweep_id, state);
  }
  if (logs->parsed()) return Logs(globals, job_id, attempt_id, follow);
  if (cancel->parsed()) {
    auto stub = Connect(globals);
    v1::CancelRequest request;
    if (cancel_sweep) {
      request.set_sweep_id(cancel_id);
    } else {
      request.set_job_id(cancel_id);
    }
    v1::CancelResponse reply;
    grpc::Status rpc = stub->Cancel(Context().get(), request, &reply);
    if (!rpc.ok()) return Fail(globals, rpc);
    std::cout << "cancelled " << reply.cancelled() << " jobs\n";
    return 0;
  }
  if (retry->parsed()) {
    auto stub = Connect(globals);
    v1::RetryRequest request;
    request.set_job_id(job_id);
    v1::Job reply;
    grpc::Status rpc = stub->Retry(Context().get(), request, &reply);
    if (!rpc.ok()) return Fail(globals, rpc);
    std::cout << "job " << reply.id() << " is " << gauntlet::sched::JobStateName(reply.state()) << " again\n";
    return 0;
  }
  if (agents->parsed()) return Agents(globals);
  if (drain->parsed()) {
    auto stub = Connect(globals);
    v1::DrainAgentRequest request;
    request.set_name(agent_name);
    request.set_undrain(undrain);
    v1::Agent reply;
    grpc::Status rpc = stub->DrainAgent(Context().get(), request, &reply);
    if (!rpc.ok()) return Fail(globals, rpc);
    std::cout << "agent " << reply.name() << (reply.drained() ? " drained" : " takes jobs") << "\n";
    return 0;
  }
  return kExitUsage;
}
