// `gauntlet compare` and `gauntlet baseline`: a night against its baseline.
#include <iostream>

#include "cli/commands.h"
#include "cli/table.h"
#include "common/format.h"

namespace gauntlet::cli {

int Compare(const Globals& globals, const CompareOptions& options) {
  auto stub = Connect(globals);
  v1::CompareRequest request;
  request.set_base_sweep_id(options.base_sweep);
  request.set_sweep_id(options.schedule.empty() ? options.sweep : options.night);
  request.set_schedule(options.schedule);
  request.set_last(options.last);
  v1::CompareResponse reply;
  grpc::Status status = stub->Compare(Context().get(), request, &reply);
  if (!status.ok()) return Fail(globals, status);
  if (globals.json) {
    PrintJson(reply);
  } else {
    std::cout << reply.label() << " (sweep " << reply.sweep_id() << ") against " << reply.base_label() << " (sweep "
              << reply.base_sweep_id() << ")";
    if (reply.history_nights() > 0) std::cout << ", with " << reply.history_nights() << " earlier nights";
    std::cout << "\n\n";
    Table table({"KIND", "JOB", "METRIC", "BEFORE", "AFTER", "EFFECT", "95% CI", "P", "NOISE", "FLAKY", "DETAIL"});
    for (const auto& finding : reply.findings()) {
      // Passing jobs with no benchmark say nothing; they are in the counts.
      if (finding.kind() == "unchanged" && finding.metric().empty()) continue;
      const bool measured = !finding.metric().empty() && finding.before() != 0;
      table.Add({finding.kind(), finding.job(), finding.metric(), measured ? FormatNumber(finding.before()) : "",
                 measured ? FormatNumber(finding.after()) : "", measured ? FormatSignedPercent(finding.effect()) : "",
                 measured && finding.effect_low() != finding.effect_high()
                     ? FormatSignedPercent(finding.effect_low()) + ".." + FormatSignedPercent(finding.effect_high())
                     : "",
                 measured && finding.p_value() < 1 ? FormatNumber(finding.p_value()) : "",
                 measured ? FormatSignedPercent(finding.noise_cv()).substr(1) : "",
                 finding.flaky_count() > 0 ? std::to_string(finding.flaky_count()) : "",
                 !finding.detail().empty() ? finding.detail() : finding.test()});
    }
    table.Print(std::cout);
    std::cout << "\n";
    for (const auto& [kind, count] : std::map<std::string, int>(reply.counts().begin(), reply.counts().end())) {
      std::cout << kind << "=" << count << " ";
    }
    std::cout << "\n";
  }
  // A CI step can gate on it.
  return reply.has_regressions() ? kExitRegressed : 0;
}

int Baseline(const Globals& globals, const std::string& schedule, int64_t sweep_id) {
  auto stub = Connect(globals);
  v1::PinBaselineRequest request;
  request.set_schedule(schedule);
  request.set_sweep_id(sweep_id);
  v1::Schedule reply;
  grpc::Status status = stub->PinBaseline(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  if (sweep_id == 0) {
    std::cout << "schedule " << schedule << ": each night is compared with the night before it again\n";
  } else {
    std::cout << "schedule " << schedule << ": each night is compared with sweep " << sweep_id << "\n";
  }
  return 0;
}

}  // namespace gauntlet::cli
