#include "coordinator/spec/check_suites.h"

namespace gauntlet::spec {
namespace {

std::string List(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

Status CheckSuites(const SweepSpec& spec, const std::set<std::string>& offered) {
  if (offered.empty()) return Status::Ok();
  const std::string fix = " is not built into any agent's worker (they offer: " + List(offered) +
                          "); check the name, or start an agent whose gauntlet-worker has it";
  if (!spec.models.empty() && !offered.contains("llm")) {
    return Status::InvalidArgument(spec.source + ": models: the model matrix runs suite 'llm', which" + fix);
  }
  for (size_t i = 0; i < spec.jobs.size(); ++i) {
    const JobTemplate& job = spec.jobs[i];
    if (job.kind != JobKind::kWorker || offered.contains(job.suite)) continue;
    return Status::InvalidArgument(spec.source + ":" + std::to_string(job.mark.line) + ":" +
                                   std::to_string(job.mark.column) + ": job '" + job.name + "': suite '" + job.suite +
                                   "'" + fix);
  }
  return Status::Ok();
}

}  // namespace gauntlet::spec
