// `gauntlet schedules`: nightly schedules and the history of their slots.
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/table.h"
#include "common/format.h"

namespace gauntlet::cli {
namespace {

std::string LastNight(const v1::Schedule& schedule) {
  if (!schedule.has_last_firing()) return "-";
  const auto& last = schedule.last_firing();
  return last.nominal_date() + " " + last.kind() + (last.sweep_id() ? " (sweep " + std::to_string(last.sweep_id()) + ")" : "");
}

void PrintOne(const v1::Schedule& schedule) {
  const auto& policy = schedule.policy();
  std::cout << "schedule " << schedule.name() << (schedule.paused() ? " (paused)" : "") << "\n"
            << "  cron         " << policy.cron() << " in " << policy.timezone() << "\n"
            << "  catch_up     " << policy.catch_up() << " (at most " << policy.max_catch_up() << ")\n"
            << "  concurrency  " << policy.concurrency() << "\n"
            << "  next firing  " << (schedule.paused() ? "- (paused)" : schedule.next_local()) << "\n"
            << "  last night   " << LastNight(schedule) << "\n"
            << "  spec         " << schedule.source() << "\n";
  if (!policy.webhook().empty()) std::cout << "  webhook      " << policy.webhook() << "\n";
  for (const auto& delivery : schedule.deliveries()) {
    std::cout << "    " << FormatUtc(delivery.at_ms()) << "  sweep " << delivery.sweep_id() << " attempt "
              << delivery.attempt() << ": "
              << (delivery.http_status() ? "HTTP " + std::to_string(delivery.http_status()) : "no answer")
              << (delivery.error().empty() ? "" : " (" + delivery.error() + ")") << ", " << delivery.regressions()
              << " regressions\n";
  }
}

// A night's verdicts, the unchanged ones left out: "bench_regression itl_ms +19.9%".
std::string Verdicts(const v1::TestNight& night) {
  std::string out;
  for (const auto& finding : night.findings()) {
    if (finding.kind() == "unchanged" || finding.kind() == "untested") continue;
    out += (out.empty() ? "" : ", ") + finding.kind();
    if (!finding.metric().empty()) out += " " + finding.metric() + " " + FormatSignedPercent(finding.effect());
  }
  return out.empty() && night.findings_size() > 0 ? "unchanged" : out;
}

int TestHistory(const Globals& globals, const SchedulesOptions& options) {
  auto stub = Connect(globals);
  v1::TestHistoryRequest request;
  request.set_schedule(options.name);
  request.set_job(options.job);
  request.set_limit(options.limit);
  v1::TestHistoryResponse reply;
  grpc::Status status = stub->TestHistory(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  std::set<std::string> metrics;
  for (const auto& night : reply.nights()) {
    for (const auto& [metric, value] : night.values()) metrics.insert(metric);
  }
  std::vector<std::string> header = {"NIGHT", "SWEEP", "OUTCOME"};
  for (const auto& metric : metrics) header.push_back(metric);
  header.push_back("VERDICT");
  Table table(header);
  for (const auto& night : reply.nights()) {
    std::vector<std::string> row = {night.nominal_date(), std::to_string(night.sweep_id()), night.outcome()};
    for (const auto& metric : metrics) {
      auto found = night.values().find(metric);
      row.push_back(found == night.values().end() ? "" : FormatNumber(found->second));
    }
    row.push_back(Verdicts(night));
    table.Add(row);
  }
  std::cout << "job " << reply.job() << " of schedule " << reply.schedule() << ", newest night first\n\n";
  table.Print(std::cout);
  return 0;
}

std::string FiringState(const v1::Firing& firing) {
  if (firing.sweep_id() == 0) return "-";
  return SweepStatus(firing.sweep()) + " " + Counts(firing.sweep());
}

}  // namespace

int Schedules(const Globals& globals, const SchedulesOptions& options) {
  auto stub = Connect(globals);
  const std::string& action = options.action;
  v1::ScheduleRef ref;
  ref.set_name(options.name);
  if (action == "list") {
    v1::ListSchedulesResponse reply;
    grpc::Status status = stub->ListSchedules(Context().get(), v1::ListSchedulesRequest(), &reply);
    if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
    Table table({"SCHEDULE", "CRON", "TIMEZONE", "NEXT FIRING", "LAST NIGHT"});
    for (const auto& schedule : reply.schedules()) {
      table.Add({schedule.name(), schedule.policy().cron(), schedule.policy().timezone(),
                 schedule.paused() ? "paused" : schedule.next_local(), LastNight(schedule)});
    }
    table.Print(std::cout);
    return 0;
  }
  if (action == "history" && !options.job.empty()) return TestHistory(globals, options);
  if (action == "history") {
    v1::ScheduleHistoryRequest request;
    request.set_name(options.name);
    request.set_limit(options.limit);
    v1::ScheduleHistoryResponse reply;
    grpc::Status status = stub->ScheduleHistory(Context().get(), request, &reply);
    if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
    Table table({"NIGHT", "SLOT", "WHAT", "SWEEP", "STATE", "DETAIL"});
    for (const auto& firing : reply.firings()) {
      table.Add({firing.nominal_date(), firing.local_time(), firing.kind(),
                 firing.sweep_id() ? std::to_string(firing.sweep_id()) : "-", FiringState(firing), firing.detail()});
    }
    table.Print(std::cout);
    return 0;
  }
  if (action == "run-now") {
    v1::Firing reply;
    grpc::Status status = stub->RunScheduleNow(Context().get(), ref, &reply);
    if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
    if (reply.sweep_id() == 0) {
      std::cerr << "error: schedule " << options.name << ": the farm refused its sweep: " << reply.detail() << "\n";
      return kExitFailed;
    }
    std::cout << "schedule " << options.name << " fired: sweep " << reply.sweep_id() << " for "
              << reply.nominal_date() << (reply.detail().empty() ? "" : " (" + reply.detail() + ")") << "\n";
    return 0;
  }
  v1::Schedule reply;
  grpc::Status status;
  if (action == "add") {
    v1::AddScheduleRequest request;
    request.set_name(options.name);
    *request.mutable_policy() = options.policy;
    request.set_replace(options.replace);
    if (!ReadSpecRequest(options.spec_path, request.mutable_sweep())) return kExitUsage;
    status = stub->AddSchedule(Context().get(), request, &reply);
  } else if (action == "show") {
    status = stub->GetSchedule(Context().get(), ref, &reply);
  } else if (action == "pause" || action == "resume") {
    v1::PauseScheduleRequest request;
    request.set_name(options.name);
    request.set_resume(action == "resume");
    status = stub->PauseSchedule(Context().get(), request, &reply);
  } else if (action == "delete") {
    status = stub->DeleteSchedule(Context().get(), ref, &reply);
  } else {
    std::cerr << "error: schedules: unknown action '" << action << "'\n";
    return kExitUsage;
  }
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  if (action == "delete") {
    std::cout << "schedule " << reply.name() << " deleted; its sweeps stay\n";
    return 0;
  }
  PrintOne(reply);
  return 0;
}

}  // namespace gauntlet::cli
