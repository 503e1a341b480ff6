#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/matrix.h"
#include "cli/table.h"
#include "lib/jobs/job_state.h"

namespace gauntlet::cli {
namespace {

std::string Devices(const v1::Job& job) {
  std::string out;
  for (int index : job.device_indices()) out += (out.empty() ? "" : ",") + std::to_string(index);
  return out;
}

// The time its attempts ran, not the waits between them.
std::string Duration(const v1::Job& job) {
  if (job.started_at_ms() == 0) return "";
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << job.running_ms() / 1000.0 << "s";
  return out.str();
}

// "42s ago", "7m ago", "3h ago".
std::string FormatAgo(int64_t ms) {
  const int64_t seconds = std::max<int64_t>(0, ms / 1000);
  if (seconds < 120) return std::to_string(seconds) + "s ago";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m ago";
  return std::to_string(seconds / 3600) + "h ago";
}

// The metrics a sweep's rows are read by, in the seed's tables' order.
constexpr std::pair<const char*, const char*> kResultColumns[] = {
    {"CE", "mean_cross_entropy"}, {"KL", "mean_kl"}, {"FAIL RATE", "failure_rate"},
    {"TTFT MS", "ttft_ms"},       {"ITL MS", "itl_ms"}};

std::string Metric(const v1::Job& job, const char* name) {
  auto found = job.metrics().find(name);
  if (found == job.metrics().end()) return "";
  std::ostringstream out;
  out.precision(4);
  out << found->second;
  return out.str();
}

}  // namespace

void PrintResults(const std::vector<v1::Job>& jobs, bool with_metrics) {
  std::vector<std::string> header = {"JOB", "NAME", "STATE", "NODE", "DEVICES", "DURATION", "VERDICT"};
  if (with_metrics) {
    for (const auto& [title, _] : kResultColumns) header.push_back(title);
  }
  header.push_back("REASON");
  Table table(header);
  for (const auto& job : jobs) {
    std::vector<std::string> row = {std::to_string(job.id()), job.name(), jobs::JobStateName(job.state()), job.agent(),
                                    Devices(job), Duration(job), job.verdict()};
    if (with_metrics) {
      for (const auto& [_, metric] : kResultColumns) row.push_back(Metric(job, metric));
    }
    row.push_back(job.reason());
    table.Add(row);
  }
  table.Print(std::cout);
}

grpc::Status ListAllJobs(v1::ControlService::Stub& stub, v1::ListJobsRequest request, v1::ListJobsResponse* all) {
  do {
    v1::ListJobsResponse page;
    grpc::Status status = stub.ListJobs(Context().get(), request, &page);
    if (!status.ok()) return status;
    for (auto& job : *page.mutable_jobs()) *all->add_jobs() = std::move(job);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return grpc::Status::OK;
}

int ListJobsOf(const Globals& globals, v1::ControlService::Stub& stub, int64_t sweep_id, v1::JobState state,
               const ListOptions& options) {
  v1::ListJobsRequest request;
  request.set_sweep_id(sweep_id);
  request.set_state(state);
  request.set_with_metrics(options.with_metrics);
  v1::ListJobsResponse reply;
  grpc::Status status;
  if (options.all) {
    status = ListAllJobs(stub, request, &reply);
  } else {
    request.set_limit(options.limit);
    status = stub.ListJobs(Context().get(), request, &reply);
  }
  if (!status.ok()) return Fail(globals, status);
  if (globals.json) {
    PrintJson(reply);  // Its nextPageToken says whether there is more.
    return 0;
  }
  PrintResults({reply.jobs().begin(), reply.jobs().end()}, options.with_metrics);
  if (!reply.next_page_token().empty()) {
    std::cout << "... more jobs: --limit N shows up to N, --all every one\n";
  }
  return 0;
}

int Matrix(const Globals& globals, int64_t sweep_id) {
  auto stub = Connect(globals);
  if (sweep_id == 0) {
    v1::ListSweepsRequest newest;
    newest.set_limit(1);
    v1::ListSweepsResponse sweeps;
    if (grpc::Status status = stub->ListSweeps(Context().get(), newest, &sweeps); !status.ok()) {
      return Fail(globals, status);
    }
    if (sweeps.sweeps().empty()) {
      std::cerr << "error: the farm has no sweeps yet; `gauntlet submit SPEC` makes one\n";
      return kExitFailed;
    }
    sweep_id = sweeps.sweeps(0).id();
  }
  v1::ListJobsRequest request;
  request.set_sweep_id(sweep_id);
  v1::ListJobsResponse reply;
  if (grpc::Status status = ListAllJobs(*stub, request, &reply); !status.ok()) return Fail(globals, status);
  const MatrixView matrix = BuildMatrix({reply.jobs().begin(), reply.jobs().end()});
  if (globals.json) {
    std::cout << nlohmann::json{{"sweepId", std::to_string(sweep_id)}, {"columns", matrix.columns},
                                {"rows", matrix.rows}}
                     .dump(2)
              << "\n";
    return 0;
  }
  if (matrix.rows.empty()) {
    std::cout << "sweep " << sweep_id << " has no model jobs (models: in its spec); `gauntlet results " << sweep_id
              << "` lists its jobs\n";
    return 0;
  }
  std::cout << "sweep " << sweep_id << "\n" << RenderMatrix(matrix);
  return 0;
}

int Why(const Globals& globals, int64_t job_id) {
  auto stub = Connect(globals);
  v1::GetJobRequest request;
  request.set_id(job_id);
  v1::WhyResponse reply;
  grpc::Status status = stub->Why(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  std::cout << "job " << job_id << " is " << jobs::JobStateName(reply.state()) << " since "
            << FormatAgo(now_ms - reply.since_ms()) << "\n";
  if (reply.reasons().empty()) std::cout << "  it is not waiting\n";
  for (const auto& reason : reply.reasons()) std::cout << "  - " << reason << "\n";
  return 0;
}

}  // namespace gauntlet::cli
